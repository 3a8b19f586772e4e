"""Samples for `somegrad.ops.special_scipy`: ndtr, log_ndtr, ndtri, erfcx, entr and xlog1py, against
Python's `math.erfc` elementwise (and a bisection on it for ndtri)."""

from __future__ import annotations

import math

import numpy as np

from somegrad.testing.samples.elementwise import _binary, _unary

INF, NAN = math.inf, math.nan


def _elementwise(fn):
    def reference(x):
        return np.vectorize(fn, otypes=[np.float64])(x)

    return reference


def _ndtr_scalar(v):
    return math.erfc(-v / math.sqrt(2)) / 2 if v == v else NAN


def _log_ndtr_scalar(v):
    if v != v:
        return NAN
    value = _ndtr_scalar(v)
    return math.log(value) if value > 0 else -INF


def _ndtri_scalar(p):
    if p != p or p < 0 or p > 1:
        return NAN
    if p in (0.0, 1.0):
        return math.copysign(INF, p - 0.5)
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if _ndtr_scalar(middle) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _erfcx_scalar(v):
    if v != v:
        return NAN
    if v == INF:
        return 0.0
    if v < -26:
        return INF
    if v > 20:  # the product underflows: the asymptotic series instead
        return (1 - 1 / (2 * v * v) + 3 / (4 * v**4)) / (v * math.sqrt(math.pi))
    return math.exp(v * v) * math.erfc(v)


def _entr(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), np.where(x == 0, 0.0, -INF))
    return np.where(np.isnan(x), NAN, out)


def _xlog1py(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a == 0, 0.0, a * np.log1p(np.where(a == 0, 0.0, b)))
    return np.where(np.isnan(b), NAN, out)


_unary("ndtr", _elementwise(_ndtr_scalar), low=-3.0, high=3.0, specials=(-INF, -40.0, -5.0, 0.0, 2.0, 9.0, INF, NAN))
_unary(
    "log_ndtr",
    _elementwise(_log_ndtr_scalar),
    low=-5.0,
    high=3.0,
    specials=(-INF, -35.0, -29.0, -10.0, 0.0, 2.0, 9.0, INF, NAN),
)
_unary(
    "ndtri",
    _elementwise(_ndtri_scalar),
    low=0.05,
    high=0.95,
    specials=(0.0, 1e-300, 1e-10, 0.3, 0.5, 0.999999, 1.0, -1.0, 2.0, NAN),
)
_unary(
    "erfcx",
    _elementwise(_erfcx_scalar),
    low=-2.0,
    high=5.0,
    specials=(-INF, -30.0, -1.0, 0.0, 1.9, 2.1, 10.0, 30.0, 1e10, INF, NAN),
)
_unary("entr", _entr, low=0.05, high=3.0, specials=(-1.0, 0.0, 1e-300, 0.5, 1.0, INF, NAN))
_binary(
    "xlog1py",
    _xlog1py,
    b=(-0.9, 3.0),
    specials=((0.0, -1.0), (0.0, 2.0), (0.0, NAN), (1.0, -1.0), (0.0, INF), (2.0, -2.0), (-1.0, INF)),
)
