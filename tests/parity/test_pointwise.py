"""PyTorch parity of the elementwise math: the trig, hyperbolic and log functions, their aliases,
methods and in-place forms, integer inputs promoting to float, the edge values (-0.0, inf, NaN,
the ends of each domain), the two-input math (copysign, fmod, remainder, atan2, hypot,
logaddexp(2)), the inf and NaN tests, nan_to_num, isclose and allclose."""

from __future__ import annotations

import math

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity

INF, NAN = math.inf, math.nan
INTS = np.array([[-3, -1, 0], [1, 2, 5]])
POSITIVE_INTS = np.array([[1, 2, 3], [4, 7, 10]])
UNIT_INTS = np.array([[-1, 0, 1]])


def _sign(lib, out):
    """+-1 by the sign bit of each element: tells -0.0 from 0.0, which value comparison does not
    (0 for NaN, whose sign bit means nothing)."""
    return lib.where(out.isnan(), 0.0, lib.copysign(lib.ones_like(out), out))


# name, (low, high) of the smooth values, the edge values, integer inputs, aliases, in-place form
UNARY = [
    ("tan", (-1.4, 1.4), [-0.0, 0.0, 1.5, -INF, INF, NAN, 1e4], INTS, ()),
    ("asin", (-0.9, 0.9), [-0.0, 0.0, -1.0, 1.0, 1.5, -2.0, INF, NAN], UNIT_INTS, ("arcsin",)),
    ("acos", (-0.9, 0.9), [-0.0, 0.0, -1.0, 1.0, 1.5, -2.0, INF, NAN], UNIT_INTS, ("arccos",)),
    ("atan", (-3.0, 3.0), [-0.0, 0.0, -INF, INF, NAN, 1e30], INTS, ("arctan",)),
    ("sinh", (-3.0, 3.0), [-0.0, 0.0, -INF, INF, NAN, 100.0, -1000.0], INTS, ()),
    ("cosh", (-3.0, 3.0), [-0.0, 0.0, -INF, INF, NAN, 100.0, -1000.0], INTS, ()),
    ("asinh", (-3.0, 3.0), [-0.0, 0.0, -INF, INF, NAN, 1e30, -1e30], INTS, ("arcsinh",)),
    ("acosh", (1.1, 4.0), [1.0, 0.5, -0.0, 0.0, INF, -INF, NAN], POSITIVE_INTS, ("arccosh",)),
    ("atanh", (-0.9, 0.9), [-0.0, 0.0, -1.0, 1.0, 1.5, -INF, NAN], UNIT_INTS, ("arctanh",)),
    ("log2", (0.1, 4.0), [-0.0, 0.0, -1.0, 1.0, 8.0, INF, -INF, NAN, 1e-30], POSITIVE_INTS, ()),
    ("log10", (0.1, 4.0), [-0.0, 0.0, -1.0, 1.0, 1000.0, INF, -INF, NAN, 1e-30], POSITIVE_INTS, ()),
    ("exp2", (-3.0, 3.0), [-0.0, 0.0, -INF, INF, NAN, 200.0, -200.0, 10.0], INTS, ()),
    ("sinc", (-3.0, 3.0), [-0.0, 0.0, 1e-20, 0.5, 1.0, -2.0, INF, -INF, NAN], INTS, ()),
    ("trunc", (-3.0, 3.0), [-0.0, 0.0, -0.5, 0.5, -2.7, 2.7, INF, -INF, NAN], INTS, ("fix",)),
    ("frac", (-3.0, 3.0), [-0.0, 0.0, -0.5, 0.5, -2.7, 2.7, 1e10, NAN], None, ()),
    # the float math declared before, compared here too
    ("sin", (-4.0, 4.0), [-0.0, 0.0, 1e4, INF, -INF, NAN], INTS, ()),
    ("cos", (-4.0, 4.0), [-0.0, 0.0, 1e4, INF, -INF, NAN], INTS, ()),
    ("tanh", (-3.0, 3.0), [-0.0, 0.0, 20.0, -1000.0, INF, -INF, NAN], INTS, ()),
    ("exp", (-3.0, 3.0), [-0.0, 0.0, 100.0, 1000.0, -1000.0, INF, -INF, NAN], INTS, ()),
    ("log", (0.1, 4.0), [-0.0, 0.0, -1.0, 1.0, 1e-30, INF, -INF, NAN], POSITIVE_INTS, ()),
    ("sqrt", (0.1, 4.0), [-0.0, 0.0, -1.0, 4.0, 1e-30, INF, -INF, NAN], POSITIVE_INTS, ()),
    ("rsqrt", (0.1, 4.0), [-0.0, 0.0, -1.0, 4.0, 1e-30, INF, -INF, NAN], POSITIVE_INTS, ()),
    ("expm1", (-3.0, 3.0), [-0.0, 0.0, 1e-10, 100.0, -100.0, INF, -INF, NAN], INTS, ()),
    ("log1p", (-0.5, 3.0), [-0.0, 0.0, -1.0, -2.0, 1e-10, INF, -INF, NAN], POSITIVE_INTS, ()),
]


# PyTorch has no derivative for these in-place forms
NO_INPLACE_GRAD = ("asinh", "acosh", "atanh")


def _unary_cases():
    for name, (low, high), edges, ints, aliases in UNARY:
        for label in (name, *aliases):
            yield Case(f"{label}", lambda lib, x, n=label: getattr(lib, n)(x), [(3, 4)], low=low, high=high)
            yield Case(f"{label}-method", lambda lib, x, n=label: getattr(x, n)(), [(2, 3)], low=low, high=high)
            yield Case(
                f"{label}-inplace",
                lambda lib, x, n=label: getattr(x.clone(), n + "_")(),
                [(2, 3)],
                low=low,
                high=high,
                grad=name not in NO_INPLACE_GRAD,
            )
        yield Case(f"{name}-0d", lambda lib, x, n=name: getattr(lib, n)(x), [()], low=low, high=high)
        yield Case(
            f"{name}-transposed",
            lambda lib, x, n=name: getattr(lib, n)(x.transpose(0, 1)),
            [(4, 3)],
            low=low,
            high=high,
        )
        edge = np.array(edges)
        yield Case(f"{name}-edges", lambda lib, x, n=name: getattr(lib, n)(x), [edge], grad=False)
        yield Case(f"{name}-edge-signs", lambda lib, x, n=name: _sign(lib, getattr(lib, n)(x)), [edge], grad=False)
        if ints is not None:
            # the result is float32 (the default dtype) whatever the case's dtype
            yield Case(f"{name}-int", lambda lib, x, n=name: getattr(lib, n)(x), [ints], dtypes=("float32",))
            if name != "trunc":
                yield Case(
                    f"{name}-bool",
                    lambda lib, x, n=name: getattr(lib, n)(x),
                    [np.array([True, False])],
                    dtypes=("float32",),
                )


BINARY = [
    # name, second input's range, edge pairs
    ("copysign", (-2.0, 2.0), [(1.0, -0.0), (-1.0, 0.0), (INF, -1.0), (NAN, -1.0), (-0.0, 2.0), (2.0, NAN)]),
    ("fmod", (0.5, 2.0), [(7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-0.0, 1.0), (5.0, INF), (1.0, 0.0), (INF, 1.0)]),
    ("remainder", (0.5, 2.0), [(7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-0.0, 1.0), (5.0, INF), (1.0, 0.0)]),
    ("atan2", (-2.0, 2.0), [(0.0, 0.0), (-0.0, -1.0), (0.0, -1.0), (INF, INF), (-INF, 1.0), (NAN, 1.0)]),
    ("hypot", (-2.0, 2.0), [(0.0, 0.0), (3.0, 4.0), (1e30, 1e30), (INF, NAN), (-INF, 1.0), (NAN, 1.0)]),
    ("logaddexp", (-2.0, 2.0), [(-INF, -INF), (INF, INF), (-INF, 1.0), (1000.0, 1000.0), (NAN, 1.0)]),
    ("logaddexp2", (-2.0, 2.0), [(-INF, -INF), (INF, INF), (-INF, 1.0), (1000.0, 1000.0), (NAN, 1.0)]),
]
BINARY_INPLACE = ("copysign", "fmod", "atan2", "hypot")
SCALAR_OTHER = ("copysign", "fmod", "remainder")  # PyTorch's others take tensors only


def _binary_cases():
    for name, (low, high), edges in BINARY:
        rng = np.random.default_rng(len(name))
        other = rng.uniform(low, high, size=(4,))
        other = np.where(rng.random(4) < 0.5, -other, other) if name in ("fmod", "remainder") else other
        yield Case(name, lambda lib, x, y, n=name: getattr(lib, n)(x, y), [(3, 4), other])
        yield Case(f"{name}-method", lambda lib, x, y, n=name: getattr(x, n)(y), [(3, 4), other])
        if name in SCALAR_OTHER:
            yield Case(f"{name}-scalar", lambda lib, x, n=name: getattr(lib, n)(x, 1.5), [(3, 4)], low=-4.0, high=4.0)
        if name in BINARY_INPLACE:
            yield Case(f"{name}-inplace", lambda lib, x, y, n=name: getattr(x.clone(), n + "_")(y), [(3, 4), other])
        first, second = (np.array(column) for column in zip(*edges))
        yield Case(f"{name}-edges", lambda lib, x, y, n=name: getattr(lib, n)(x, y), [first, second], grad=False)
        yield Case(
            f"{name}-edge-signs",
            lambda lib, x, y, n=name: _sign(lib, getattr(lib, n)(x, y)),
            [first, second],
            grad=False,
        )


INTEGER_BINARY = [
    Case("fmod-int", lambda lib, a, b: lib.fmod(a, b), [np.array([[-7, 7], [5, -5]]), np.array([3, -2])]),
    Case("fmod-int-scalar", lambda lib, a: lib.fmod(a, 3), [np.array([-7, -1, 0, 4, 7])]),
    Case("fmod-int-float-scalar", lambda lib, a: lib.fmod(a, 2.5), [np.array([-7, -1, 0, 4, 7])], dtypes=("float32",)),
    Case("remainder-int", lambda lib, a, b: lib.remainder(a, b), [np.array([[-7, 7], [5, -5]]), np.array([3, -2])]),
    Case("remainder-int-scalar", lambda lib, a: lib.remainder(a, 3), [np.array([-7, -1, 0, 4, 7])]),
    Case(
        "copysign-int",
        lambda lib, a, b: lib.copysign(a, b),
        [np.array([1, -2, 3]), np.array([-1, 0, 1])],
        dtypes=("float32",),
    ),
    Case(
        "atan2-int",
        lambda lib, a, b: lib.atan2(a, b),
        [np.array([1, -2, 3, 0]), np.array([-1, 0, 1, 0])],
        dtypes=("float32",),
    ),
    Case("fmod-int-tensor-float", lambda lib, a, b: lib.fmod(a, b), [np.array([-7, 7, 5]), (3,)], low=0.5, high=2.0),
]


def _edges():
    return np.array([-INF, -1e30, -1.0, -0.0, 0.0, 1.0, 1e30, INF, NAN])


TESTS = [
    Case(
        f"{name}{suffix}",
        (lambda lib, x, n=name: getattr(lib, n)(x)) if suffix == "" else (lambda lib, x, n=name: getattr(x, n)()),
        [inputs],
        grad=False,
    )
    for name in ("isinf", "isposinf", "isneginf", "isfinite", "isnan")
    for suffix, inputs in (
        ("", _edges()),
        ("-method", _edges().reshape(3, 3)),
        ("-int", INTS),
        ("-bool", np.array([True])),
    )
]

NAN_TO_NUM = [
    Case("nan_to_num", lambda lib, x: lib.nan_to_num(x), [_edges()]),
    Case("nan_to_num-values", lambda lib, x: lib.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0), [_edges()]),
    Case("nan_to_num-keyword-posinf", lambda lib, x: lib.nan_to_num(x, posinf=2.0), [_edges()]),
    Case("nan_to_num-method", lambda lib, x: x.nan_to_num(0.5), [_edges()]),
    Case("nan_to_num-inplace", lambda lib, x: x.clone().nan_to_num_(neginf=0.0), [_edges()]),
    Case("nan_to_num-smooth", lambda lib, x: lib.nan_to_num(x), [(3, 4)]),
    Case("nan_to_num-overflow", lambda lib, x: lib.nan_to_num(x, posinf=1e300, neginf=-1e300), [_edges()]),
    Case("nan_to_num-half", lambda lib, x: lib.nan_to_num(x.half(), posinf=1e10).double(), [_edges()]),
    Case("nan_to_num-int", lambda lib, x: lib.nan_to_num(x), [INTS]),
    Case("nan_to_num-bool", lambda lib, x: lib.nan_to_num(x), [np.array([True, False])]),
]


def _near(shape=(3, 4), scale=2e-5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, size=shape)
    return a, a + rng.uniform(-scale, scale, size=shape)


_A, _B = _near()
_SPECIAL_A = np.array([INF, INF, -INF, NAN, NAN, 0.0, 1.0, 1e-9, -0.0])
_SPECIAL_B = np.array([INF, -INF, -INF, NAN, 1.0, -0.0, 1.0 + 1e-6, 0.0, 1e-300])

CLOSE = [
    Case("isclose", lambda lib, a, b: lib.isclose(a, b), [_A, _B], grad=False),
    Case("isclose-loose", lambda lib, a, b: lib.isclose(a, b, rtol=1e-3, atol=1e-4), [_A, _B], grad=False),
    Case("isclose-exact", lambda lib, a, b: lib.isclose(a, b, rtol=0.0, atol=0.0), [_A, _A.copy()], grad=False),
    Case("isclose-method", lambda lib, a, b: a.isclose(b, 1e-4), [_A, _B], grad=False),
    Case("isclose-bcast", lambda lib, a, b: lib.isclose(a, b[:1]), [_A, _B], grad=False),
    Case("isclose-special", lambda lib, a, b: lib.isclose(a, b), [_SPECIAL_A, _SPECIAL_B], grad=False),
    Case(
        "isclose-equal_nan",
        lambda lib, a, b: lib.isclose(a, b, equal_nan=True),
        [_SPECIAL_A, _SPECIAL_B],
        grad=False,
    ),
    Case("isclose-int", lambda lib, a, b: lib.isclose(a, b, atol=1), [INTS, INTS + np.array([0, 1, 2])], grad=False),
    Case(
        "isclose-bool",
        lambda lib, a, b: lib.isclose(a, b),
        [np.array([True, False, True]), np.array([True, True, False])],
        grad=False,
    ),
    Case("allclose", lambda lib, a, b: lib.allclose(a, b), [_A, _B], grad=False),
    Case("allclose-far", lambda lib, a, b: lib.allclose(a, b + 1e-3), [_A, _B], grad=False),
    Case("allclose-method", lambda lib, a, b: a.allclose(b, atol=1e-3), [_A, _B], grad=False),
    Case("allclose-nan", lambda lib, a: lib.allclose(a, a), [np.array([1.0, NAN])], grad=False),
    Case("allclose-equal_nan", lambda lib, a: lib.allclose(a, a, equal_nan=True), [np.array([1.0, NAN])], grad=False),
]

CASES = [*_unary_cases(), *_binary_cases(), *INTEGER_BINARY, *TESTS, *NAN_TO_NUM, *CLOSE]


# remainder(-0.0, 1.0) is -0.0 in PyTorch (C's fmod keeps the sign of zero), +0.0 in NumPy's kernel
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


def test_isclose_bool_results_are_python_bools():
    import somegrad as sg

    assert sg.allclose(sg.tensor([1.0]), sg.tensor([1.0])) is True


ERRORS = [
    ("hypot-int", lambda lib, a: lib.hypot(a, a), [INTS]),
    ("logaddexp-int", lambda lib, a: lib.logaddexp(a, a), [INTS]),
    ("logaddexp2-int", lambda lib, a: lib.logaddexp2(a, a), [INTS]),
    ("frac-int", lambda lib, a: lib.frac(a), [INTS]),
    ("fmod-int-zero", lambda lib, a: lib.fmod(a, 0), [INTS]),
    ("fmod-int-zero-tensor", lambda lib, a, b: lib.fmod(a, b), [INTS, np.array([1, 0, 1])]),
    ("fmod-bool", lambda lib, a: lib.fmod(a, True), [np.array([True, False])]),
    ("remainder-int-zero", lambda lib, a: lib.remainder(a, 0), [INTS]),
    ("trunc-bool", lambda lib, a: lib.trunc(a), [np.array([True])]),
    ("fmod-broadcast", lambda lib, a, b: lib.fmod(a, b), [(3,), (4,)]),
    ("copysign-broadcast", lambda lib, a, b: lib.copysign(a, b), [(2, 3), (3, 2)]),
    ("isclose-dtypes", lambda lib, a: lib.isclose(a, a.double()), [(3,)]),
    ("isclose-int-float", lambda lib, a, b: lib.isclose(a, b), [INTS, (2, 3)]),
    ("isclose-rtol", lambda lib, a: lib.isclose(a, a, rtol=-1.0), [(3,)]),
    ("isclose-atol", lambda lib, a: lib.isclose(a, a, atol=-1.0), [(3,)]),
    ("isclose-broadcast", lambda lib, a, b: lib.isclose(a, b), [(3,), (4,)]),
    ("allclose-dtypes", lambda lib, a: lib.allclose(a, a.double()), [(3,)]),
    ("tan-inplace-int", lambda lib, a: a.tan_(), [INTS]),
    ("asin-inplace-int", lambda lib, a: a.arcsin_(), [UNIT_INTS]),
]


@pytest.mark.parametrize("call,inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(call, inputs):
    check_error(call, inputs)
