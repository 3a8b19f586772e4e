"""The NumPy kernels that take the place of shared Array API ones, or implement composites.

Each is here for a reason named beside it: NumPy has something faster (the ufuncs' own
`reduce`, `np.add.at`, `argwhere`), NumPy needs it spelled differently (0-d views, stable
descending sorts, integer fill values that wrap), or the op is a composite with a fused kernel.
How each kernel runs (float32 for the half types, without warnings) is declared in `table.py`.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from somegrad import dtypes
from somegrad_numpy.special import erf

__all__ = ["KERNELS", "native", "NATIVE"]

NATIVE = {
    dtypes.bool_: np.dtype(np.bool_),
    dtypes.uint8: np.dtype(np.uint8),
    dtypes.int8: np.dtype(np.int8),
    dtypes.int16: np.dtype(np.int16),
    dtypes.int32: np.dtype(np.int32),
    dtypes.int64: np.dtype(np.int64),
    dtypes.float16: np.dtype(np.float16),
    dtypes.bfloat16: np.dtype(ml_dtypes.bfloat16),
    dtypes.float32: np.dtype(np.float32),
    dtypes.float64: np.dtype(np.float64),
    dtypes.complex64: np.dtype(np.complex64),
    dtypes.complex128: np.dtype(np.complex128),
}
HALF = frozenset((NATIVE[dtypes.float16], NATIVE[dtypes.bfloat16]))
F32 = np.dtype(np.float32)


def native(dtype):
    return NATIVE[dtype]


def sigmoid(x):
    # 1 / (1 + exp(-x)) is exact to rounding on both sides (for x << 0 the sum is exp(-x) to
    # full relative precision), in three passes without temporaries. Only where exp(-x)
    # overflows (x < -88 in float32) would it round exp(x) down to 0: then the two-sided form.
    e = np.negative(x, out=np.empty_like(x))  # out=: an array even for 0-d x
    try:
        with np.errstate(over="raise"):
            np.exp(e, out=e)
    except FloatingPointError:
        return _sigmoid_two_sided(x)
    e += 1
    return np.reciprocal(e, out=e)


def _sigmoid_two_sided(x):
    # exp of a negative number only, so nothing overflows for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _zeros_to_broadcast(x):
    """Zeros of x's trailing dimensions, at least a few hundred of them where x has that many.

    `np.maximum(x, 0)` broadcasts a 0-d zero, a path NumPy runs without SIMD (about 3x slower
    here than two arrays); a block of zeros that every row of x meets runs the vector loop.
    Small arrays keep the 0-d zero, which costs less than allocating the block.
    """
    if x.size < 1024:
        return 0
    start, size = x.ndim, 1
    while start > 0 and size < 256:
        start -= 1
        size *= x.shape[start]
    return np.zeros(x.shape[start:], dtype=x.dtype) if size <= 1 << 16 else 0


def relu(x):
    return np.maximum(x, _zeros_to_broadcast(x))


def relu_backward(g, out):
    return np.multiply(g, out > 0)


def silu(x):
    return (x * sigmoid(x)).astype(x.dtype, copy=False)


def softplus(x, beta, threshold):
    bx = x * beta
    stable = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    return np.where(bx > threshold, x, stable).astype(x.dtype, copy=False)


def leaky_relu(x, negative_slope):
    return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


def clamp(x, min, max):
    return np.clip(x, min, max).astype(x.dtype, copy=False)


# `initial=-inf` lets the max of an empty dim be -inf instead of raising (as PyTorch: softmax
# of an empty dim is empty, logsumexp over it is -inf).
def softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def log_softmax(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


def logsumexp(x, dim, keepdim):
    m = x.max(axis=dim, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
    return out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in dim])


def argsort(x, dim, descending, stable):
    if descending:
        # A stable sort of the negated keys keeps equal elements in their original order.
        floating = x.dtype.kind == "f" or x.dtype in HALF  # ml_dtypes' bfloat16 has kind "V"
        key = -x.astype(np.float64 if floating else np.int64)
        return np.argsort(key, axis=dim, kind="stable")
    return np.argsort(x, axis=dim, kind="stable")


def cumsum(x, dim):
    # the shared kernel's cumulative_sum is NumPy 2.1's; this runs on 1.26 too
    return np.cumsum(x, axis=dim, dtype=x.dtype)


def getitem(x, key):
    # The trailing Ellipsis makes NumPy return a 0-d view rather than a scalar copy when every
    # dim gets an int, so that x[0] of a 1-d tensor is a view (writable) as in PyTorch.
    return x[key + (Ellipsis,)]


def index_put(x, values, key, accumulate):
    out = x.copy()
    if not accumulate:
        out[key] = values
    elif all(k is None or isinstance(k, (int, slice)) for k in key):
        out[key] += values  # a basic key names each element once: no repeats to add up
    else:
        np.add.at(out, key, values)
    return out


def scatter_add(x, index, src, dim):
    out = x.copy()
    grid = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
    grid[dim] = index
    np.add.at(out, tuple(grid), src[tuple(slice(0, s) for s in index.shape)])
    return out


def nonzero(x):
    return np.argwhere(x).astype(np.int64, copy=False)


def pad(x, pad, value):
    # a filled array and one slice assignment: several times faster than np.pad on the small
    # arrays a backward pads (the gradients of split, chunk and narrow)
    shape = tuple(s + before + after for s, (before, after) in zip(x.shape, pad))
    zero = value == 0 and not np.signbit(value)  # -0.0 pads with -0.0
    out = np.zeros(shape, x.dtype) if zero else np.full(shape, np.asarray(value).astype(x.dtype))
    out[tuple(slice(before, before + s) for s, (before, _) in zip(x.shape, pad))] = x
    return out


def copy(x):
    return np.ascontiguousarray(x).copy() if not x.flags.c_contiguous else x.copy()


def full(device, shape, dtype, fill_value):
    # Through a 0-d array so that out-of-range ints wrap as in PyTorch (`int8_tensor + 1000`);
    # np.full raises OverflowError for them.
    return np.full(shape, np.asarray(fill_value).astype(NATIVE[dtype]), dtype=NATIVE[dtype])


def arange(device, start, stop, step, dtype):
    count = max(0, math.ceil((stop - start) / step))
    return (start + np.arange(count, dtype=np.float64 if NATIVE[dtype].kind == "f" else np.int64) * step).astype(
        NATIVE[dtype]
    )


def _reduce(fn, float32_accumulate=True):
    def kernel(x, dim, keepdim):
        if float32_accumulate and x.dtype in HALF:
            return np.asarray(fn(x.astype(F32), axis=dim, keepdims=keepdim)).astype(x.dtype)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim))

    return kernel


def _argreduce(fn):
    def kernel(x, dim, keepdim):
        if x.dtype in HALF:
            x = x.astype(F32)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim)).astype(np.int64, copy=False)

    return kernel


KERNELS = {
    "erf": erf,
    "sigmoid": sigmoid,
    "relu": relu,
    "relu_backward": relu_backward,
    "silu": silu,
    "softplus": softplus,
    "leaky_relu": leaky_relu,
    "clamp": clamp,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "argsort": argsort,
    "cumsum": cumsum,
    "getitem": getitem,
    "index_put": index_put,
    "scatter_add": scatter_add,
    "nonzero": nonzero,
    "pad": pad,
    "copy": copy,
    "full": full,
    "arange": arange,
    # the ufuncs' own reduce: np.sum and friends add a Python layer of argument handling
    "sum": _reduce(np.add.reduce),
    "prod": _reduce(np.multiply.reduce),
    "amax": _reduce(np.maximum.reduce, False),
    "amin": _reduce(np.minimum.reduce, False),
    "all": _reduce(np.all, False),
    "any": _reduce(np.any, False),
    "argmax": _argreduce(np.argmax),
    "argmin": _argreduce(np.argmin),
}
