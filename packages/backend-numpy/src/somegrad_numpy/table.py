"""The numpy backend's kernel table, in one place, and how NumPy runs each kernel.

The table starts from the shared Array API kernels (`somegrad.backends.array_api`), which the
numpy backend uses as they are wherever NumPy has nothing faster; `kernels.py`, `nn_kernels.py`
and `inplace_kernels.py` add or replace the rest. Three facts about NumPy then decide how a
kernel is called, all applied by `numpy_kernel`:

* NumPy's float16 math is slow and it has none for bfloat16 (ml_dtypes): the float math in
  `IN_FLOAT32` gets float32 copies of its half inputs and rounds its results back, as PyTorch's
  CPU kernels accumulate in float32;
* NumPy warns on overflow, 0/0 and log(0), where PyTorch returns inf and NaN silently: the
  kernels in `QUIET`, whose results can be inf or NaN from finite or infinite inputs, run
  without warnings;
* NumPy turns 0-d results into scalars: every kernel's result is made an array, but for the
  kernels in `RAW`, which return views, tuples or nothing themselves.
"""

from __future__ import annotations

import numpy as np

from somegrad.backends.array_api import FAMILIES, array_api_kernels
from somegrad_numpy import inplace_kernels, kernels, nn_kernels, spatial_kernels
from somegrad_numpy.kernels import F32, HALF, native

__all__ = ["kernel_table", "numpy_kernel", "IN_FLOAT32", "QUIET", "RAW"]

# the fused composites are float math; embedding gathers
_NN = frozenset(nn_kernels.KERNELS) - {"embedding"} | frozenset(spatial_kernels.KERNELS)

IN_FLOAT32 = _NN | {
    "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "erf", "div", "pow", "remainder",
    "floor_divide", "sigmoid", "silu", "softplus", "softmax", "log_softmax", "logsumexp", "matmul", "cumsum",
}.union(*(f.FLOAT_MATH for f in FAMILIES))  # fmt: skip
QUIET = _NN | {
    "add", "sub", "mul", "div", "pow", "floor_divide", "remainder", "exp", "expm1", "log", "log1p", "sqrt", "sin",
    "cos", "sum", "prod", "cumsum", "matmul", "cast", "sigmoid", "silu", "softplus", "softmax", "log_softmax",
    "logsumexp",
}.union(*(f.QUIET for f in FAMILIES))  # fmt: skip
RAW = frozenset(
    {
        "full",
        "arange",
        "getitem",
        "reshape",
        "permute",
        "expand",
        "linear_backward",
        "attention_probabilities_backward",
        "lstm_cell_backward",
    }
)  # several outputs or views: returned as they are


def _in_float32(kernel):
    """Run `kernel` in float32 when its first input is float16/bfloat16: every positional array
    of that dtype is converted, and each float32 result rounded back."""

    def wrapped(x, *args, **params):
        half = x.dtype
        if half not in HALF:
            return kernel(x, *args, **params)
        args = [a.astype(F32) if isinstance(a, np.ndarray) and a.dtype == half else a for a in args]
        out = kernel(x.astype(F32), *args, **params)
        if isinstance(out, tuple):  # several outputs (linear_backward), None for one not computed
            return tuple(o if o is None or o.dtype != F32 else o.astype(half) for o in out)
        return out.astype(half) if out.dtype == F32 else out

    return wrapped


def numpy_kernel(kernel, *, in_float32=False, quiet=False, raw=False):
    """`kernel` as the backend calls it (see the module docstring)."""
    wrapped = _in_float32(kernel) if in_float32 else kernel
    if quiet:
        wrapped = np.errstate(all="ignore")(wrapped)  # a decorator: thread-safe, cheaper per call than `with`
    if not raw:
        inner = wrapped

        def wrapped(*args, **params):
            return np.asarray(inner(*args, **params))

    wrapped.__name__ = getattr(kernel, "__name__", "kernel")
    return wrapped


def kernel_table(random_kernels):
    """The whole table: {op name: kernel}. `random_kernels` are the backend's generator's
    (`uniform`, `normal`, `randint`, `multinomial`), which return arrays of the right dtype."""
    table = {**array_api_kernels(np, native), **kernels.KERNELS, **nn_kernels.KERNELS, **spatial_kernels.KERNELS}
    table = {
        name: numpy_kernel(kernel, in_float32=name in IN_FLOAT32, quiet=name in QUIET, raw=name in RAW)
        for name, kernel in table.items()
    }
    # in-place and multi-tensor kernels return None or NotImplemented, never arrays
    return {**table, **random_kernels, **inplace_kernels.KERNELS}
