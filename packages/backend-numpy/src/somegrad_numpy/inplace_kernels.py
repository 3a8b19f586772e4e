"""In-place kernels: `x op= y` straight into x's memory with NumPy's `out=`.

The core uses them when no graph is recorded (the optimizers' step): `kernel(x, *operands,
**params)` updates `x` and returns None, or returns NotImplemented to let the core run the
out-of-place op and copy instead (float16/bfloat16, which NumPy computes poorly in place).
Operands are arrays of x's dtype broadcastable to x's shape, or Python numbers.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

_HALF = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


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


KERNELS = {
    "add_": add_,
    "sub_": sub_,
    "mul_": mul_,
    "div_": div_,
    "addcmul_": addcmul_,
    "addcdiv_": addcdiv_,
    "lerp_": lerp_,
}
