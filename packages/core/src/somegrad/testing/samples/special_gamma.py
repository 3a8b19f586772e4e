"""Samples for `somegrad.ops.special_gamma` (polygamma), against the Hurwitz zeta function summed
in Python floats (2000 terms, then the Euler-Maclaurin tail)."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, register_samples, values

F64 = dtypes.float64


def _sg():
    import somegrad

    return somegrad


def _polygamma_scalar(n, x):
    if x <= 0 and x == math.floor(x):
        return math.inf if n % 2 else -math.inf
    s = n + 1
    total = sum((x + k) ** -s for k in range(2000))
    a = x + 2000
    tail = a ** (1 - s) / (s - 1) + a**-s / 2 + s * a ** (-s - 1) / 12 - s * (s + 1) * (s + 2) * a ** (-s - 3) / 720
    return (-1) ** (n + 1) * math.factorial(n) * (total + tail)


def _reference(x, n):
    return np.vectorize(lambda v: _polygamma_scalar(n, v), otypes=[np.float64])(x)


@register_samples("polygamma")
def _polygamma_samples():
    x = values((3, 4), 0.2, 6.0, key="polygamma")
    for n in (1, 2, 3):
        for dtype in FLOATS:
            yield Sample((Input(x),), {"n": n}, _reference, dtype, name=f"n{n}")
    yield Sample((Input(values((3, 4), -2.9, -2.1, key="polygamma-neg")),), {"n": 1}, _reference, F64, name="negative")
    yield Sample((Input(x, layout="transposed"),), {"n": 4}, _reference, F64, name="transposed")
    yield Sample((Input(np.array(0.7)),), {"n": 2}, _reference, F64, name="0d")
    yield Sample((Input(np.zeros((0, 2))),), {"n": 1}, _reference, F64, name="size0")
    yield Sample((Input(np.array([0.0, 1e-3, 50.0, 1e4])),), {"n": 1}, _reference, F64, name="edges", grad=False)
    yield ErrorSample(
        (Input(x),), {}, RuntimeError, "does not support negative n", call=lambda t: _sg().polygamma(-1, t), name="n"
    )
