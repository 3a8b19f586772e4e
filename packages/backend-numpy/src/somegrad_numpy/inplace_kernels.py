"""In-place kernels: `x op= y` straight into x's memory with NumPy's `out=`.

The core uses them when no graph is recorded (the optimizers' step): `kernel(x, *operands,
**params)` updates `x` and returns None, or returns NotImplemented to let the core run the
out-of-place op and copy instead (float16/bfloat16, which NumPy computes poorly in place).
Operands are arrays of x's dtype broadcastable to x's shape, or Python numbers.

A multi-tensor kernel (`foreach_adam_step_`) takes lists instead, parallel to each other: it
updates every parameter of an optimizer's group and their state buffers in one call.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

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
def foreach_adam_step_(
    params, grads, exp_avgs, exp_avg_sqs, *, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, steps
):
    """One Adam/AdamW update of every parameter in `params` (and of its `exp_avg` and
    `exp_avg_sq`), in place, with `steps` the step number of each.

    The same operations, in the same order, as the optimizer's generic path (so the results are
    bit-identical), in one call for the whole group: no dispatch, and one scratch buffer, sized for
    the largest parameter, instead of a temporary per operation. The core passes arrays of one
    dtype, so declining (float16, bfloat16) happens before anything is written.
    """
    if params[0].dtype in _HALF or params[0].dtype.kind != "f":
        return NotImplemented
    buffer = np.empty(max(p.size for p in params), dtype=params[0].dtype)
    for param, grad, exp_avg, exp_avg_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps, strict=True):
        scratch = buffer[: param.size].reshape(param.shape)
        if weight_decay != 0:
            if decoupled_weight_decay:
                param *= 1 - lr * weight_decay
            else:
                grad = np.add(grad, np.multiply(param, weight_decay))
        np.subtract(grad, exp_avg, out=scratch)  # exp_avg.lerp_(grad, 1 - beta1)
        scratch *= 1 - beta1
        exp_avg += scratch
        exp_avg_sq *= beta2  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - beta2
        exp_avg_sq += scratch
        correction2_sqrt = math.sqrt(1 - beta2**step)
        np.sqrt(exp_avg_sq, out=scratch)  # the denominator
        scratch += eps * correction2_sqrt
        np.divide(exp_avg, scratch, out=scratch)
        scratch *= -lr * correction2_sqrt / (1 - beta1**step)
        param += scratch


KERNELS = {
    "add_": add_,
    "sub_": sub_,
    "mul_": mul_,
    "div_": div_,
    "addcmul_": addcmul_,
    "addcdiv_": addcdiv_,
    "lerp_": lerp_,
    "foreach_adam_step_": foreach_adam_step_,
}
