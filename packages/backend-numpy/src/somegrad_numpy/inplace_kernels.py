"""In-place kernels: `x op= y` straight into x's memory with NumPy's `out=`.

The core uses them when no graph is recorded (the optimizers' step): `kernel(x, *operands,
**params)` updates `x` and returns None, or returns NotImplemented to let the core run the
out-of-place op and copy instead (float16/bfloat16, which NumPy computes poorly in place).
Operands are arrays of x's dtype broadcastable to x's shape, or Python numbers.

A multi-tensor kernel (`foreach_adam_step_`, `foreach_sgd_step_`) takes lists instead, parallel
to each other: it updates every parameter of an optimizer's group and their state buffers in one
call, running the op's update rule (written once, in `somegrad.ops.optim`) over the raw arrays
with the kernels above.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from somegrad.ops.optim import InplaceOps, adam_update, sgd_update

_HALF = frozenset((np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)))


def _scaled(y, factor):
    return y if factor == 1 else np.multiply(y, factor)


def add_(x, y, alpha=1):
    if x.dtype in _HALF:
        return NotImplemented
    np.add(x, _scaled(y, alpha), out=x)


def sub_(x, y, alpha=1):
    if x.dtype in _HALF:
        return NotImplemented
    np.subtract(x, _scaled(y, alpha), out=x)


def mul_(x, y):
    if x.dtype in _HALF:
        return NotImplemented
    np.multiply(x, y, out=x)


def div_(x, y):
    if x.dtype in _HALF or x.dtype.kind != "f":
        return NotImplemented
    np.divide(x, y, out=x)


def addcmul_(x, a, b, value=1):
    if x.dtype in _HALF:
        return NotImplemented
    product = np.multiply(a, b)
    if value != 1:
        product *= value
    np.add(x, product, out=x)


def addcdiv_(x, a, b, value=1):
    if x.dtype in _HALF or x.dtype.kind != "f":
        return NotImplemented
    quotient = np.divide(a, b)
    if value != 1:
        quotient *= value
    np.add(x, quotient, out=x)


def lerp_(x, end, weight):
    if x.dtype in _HALF or x.dtype.kind != "f":
        return NotImplemented
    step = np.subtract(end, x)
    step *= weight
    np.add(x, step, out=x)


# --- optimizer steps -----------------------------------------------------------------------------
# `add` and `sqrt` return new arrays; NumPy would turn 0-d results into scalars, which are not writable.
def _add(x, y, alpha=1):
    return np.asarray(np.add(x, _scaled(y, alpha)))


def _sqrt(x):
    return np.sqrt(x, out=np.empty_like(x))


def _maximum_(x, y):
    np.maximum(x, y, out=x)


# The update rules of `somegrad.ops.optim`, run over raw arrays: the same operations, in the same
# order, as the per-tensor path runs through these kernels, so the results are the same bits.
ARRAY_OPS = InplaceOps(
    mul_=mul_,
    add_=add_,
    add=_add,
    lerp_=lerp_,
    addcmul_=addcmul_,
    addcdiv_=addcdiv_,
    sqrt=_sqrt,
    maximum_=_maximum_,
    copy_=np.copyto,
)


def _declines(params):
    # The core passes arrays of one dtype: declining happens before anything is written.
    return params[0].dtype in _HALF or params[0].dtype.kind != "f"


def _scratch_ops(params):
    """`ARRAY_OPS` whose temporaries (lerp's step, addcmul's product, addcdiv's quotient, sqrt's
    result) are views of two buffers sized for the group's largest parameter, allocated once per
    call instead of four arrays per parameter: the same ufuncs on the same values, the same bits."""
    size = max(p.size for p in params)
    first, second = np.empty(size, params[0].dtype), np.empty(size, params[0].dtype)

    def view(buffer, like):
        return buffer[: like.size].reshape(like.shape)

    def lerp(x, end, weight):
        step = np.subtract(end, x, out=view(first, x))
        step *= weight
        np.add(x, step, out=x)

    def addcmul(x, a, b, value=1):
        product = np.multiply(a, b, out=view(first, x))
        if value != 1:
            product *= value
        np.add(x, product, out=x)

    def addcdiv(x, a, b, value=1):
        quotient = np.divide(a, b, out=view(first, x))
        if value != 1:
            quotient *= value
        np.add(x, quotient, out=x)

    def sqrt(x):
        return np.sqrt(x, out=view(second, x))

    return InplaceOps(
        mul_=mul_, add_=add_, add=_add, lerp_=lerp, addcmul_=addcmul, addcdiv_=addcdiv, sqrt=sqrt,
        maximum_=_maximum_, copy_=np.copyto,
    )  # fmt: skip


def foreach_adam_step_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, steps, **hyper):
    """`somegrad.ops.optim.adam_update` for every parameter of a group, in one call."""
    if _declines(params):
        return NotImplemented
    maxima = [None] * len(params) if max_exp_avg_sqs is None else max_exp_avg_sqs
    ops = _scratch_ops(params) if all(p.flags.c_contiguous for p in params) else ARRAY_OPS
    for row in zip(params, grads, exp_avgs, exp_avg_sqs, maxima, steps, strict=True):
        adam_update(ops, *row, **hyper)


def foreach_sgd_step_(params, grads, momentum_buffers, *, fresh, **hyper):
    """`somegrad.ops.optim.sgd_update` for every parameter of a group, in one call."""
    if _declines(params):
        return NotImplemented
    buffers = [None] * len(params) if momentum_buffers is None else momentum_buffers
    for row in zip(params, grads, buffers, fresh, strict=True):
        sgd_update(ARRAY_OPS, *row, **hyper)


KERNELS = {
    "add_": add_,
    "sub_": sub_,
    "mul_": mul_,
    "div_": div_,
    "addcmul_": addcmul_,
    "addcdiv_": addcdiv_,
    "lerp_": lerp_,
    "foreach_adam_step_": foreach_adam_step_,
    "foreach_sgd_step_": foreach_sgd_step_,
}
