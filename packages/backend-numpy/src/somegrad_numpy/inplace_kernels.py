"""In-place kernels: `x op= y` straight into x's memory with NumPy's `out=`.

The core uses them when no graph is recorded (the optimizers' step): `kernel(x, *operands,
**params)` updates `x` and returns None, or returns NotImplemented to let the core run the
out-of-place op and copy instead (float16/bfloat16, which NumPy computes poorly in place).
Operands are arrays of x's dtype broadcastable to x's shape, or Python numbers.

An optimizer-step kernel (`adam_step_`) is the same kind of kernel with more than one array
to write: it updates the parameter and its state buffers in one call.
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
def adam_step_(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, step):
    """One Adam/AdamW update of `param`, `exp_avg` and `exp_avg_sq`, in place.

    The same operations, in the same order, as the optimizer's generic path (so the results are
    bit-identical), with one scratch buffer instead of a temporary per operation and no dispatch.
    """
    if param.dtype in _HALF or param.dtype.kind != "f":
        return NotImplemented
    scratch = np.empty_like(param)
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
    "adam_step_": adam_step_,
}
