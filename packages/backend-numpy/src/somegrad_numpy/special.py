"""erf and erfc without a Python loop over elements: the `erf` kernel and exact GELU share them.

float64 to ~1e-14 (a series and a continued fraction); every other dtype to float32 precision
(one Chebyshev fit of erfc, and the series near 0).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["erf", "erfc32"]

# Numerical Recipes' erfc(a) = t * exp(-a^2 + P(t)), t = 1 / (1 + a/2): relative error < 1.2e-7
# for every a >= 0. Coefficients of P from the highest power down.
_ERFC_FIT = (
    0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
    -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223,
)  # fmt: skip


def erfc32(a, gaussian=False):
    """erfc(a) for a >= 0 (float32, 1-d); with `gaussian`, also exp(-a^2)."""
    t = a * 0.5
    t += 1
    np.reciprocal(t, out=t)
    poly = np.full_like(a, _ERFC_FIT[0])
    for c in _ERFC_FIT[1:]:
        poly *= t
        poly += c
    if not gaussian:
        poly -= np.square(a)
        np.exp(poly, out=poly)
        poly *= t
        return poly
    gauss = np.square(a)
    np.negative(gauss, out=gauss)
    np.exp(gauss, out=gauss)
    np.exp(poly, out=poly)
    poly *= t
    poly *= gauss
    return poly, gauss


def _series(a, terms):
    # erf(a) = 2/sqrt(pi) * sum_n (-1)^n a^(2n+1) / (n! (2n+1)), each term from the last.
    minus_a2 = -a * a
    term, total = a.copy(), a.copy()
    for n in range(1, terms):
        term *= minus_a2
        term *= 1.0 / n
        total += term * (1.0 / (2 * n + 1))
    return total * (2 / math.sqrt(math.pi))


def _erf64(a):
    # Below 2.5 the Taylor series; above, erfc by its continued fraction
    # erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated
    # from a fixed depth inwards. Both agree with math.erf to ~1e-14.
    small, big = np.minimum(a, 2.5), np.maximum(a, 2.5)
    fraction = big.copy()
    for k in range(80, 0, -1):
        np.divide(k / 2, fraction, out=fraction)
        fraction += big
    tail = 1 - np.exp(-big * big) / math.sqrt(math.pi) / fraction
    return np.where(a <= 2.5, _series(small, 60), tail)


def _erf32(a):
    # 1 - erfc would lose the relative precision of small values: the series below 0.5.
    return np.where(a < 0.5, _series(np.minimum(a, 0.5), 9), 1 - erfc32(a))


def erf(x):
    """erf(x), any shape; float64 to ~1e-14, other dtypes to float32 precision."""
    flat = x.reshape(-1)  # 1-d, so that the in-place steps never meet a NumPy scalar
    a = np.abs(flat)
    out = _erf64(a) if x.dtype == np.float64 else _erf32(a.astype(np.float32))
    return np.copysign(out, flat).astype(x.dtype).reshape(x.shape)
