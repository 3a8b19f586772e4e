"""PyTorch parity of the special functions and the rest of the elementwise math: erfc, erfinv, logit,
xlogy, lgamma, digamma, heaviside, fmax/fmin, float_power, deg2rad/rad2deg, signbit,
clamp_min/clamp_max, positive and rsub; their methods and in-place forms, integer inputs, the edge
values (poles, the ends of each domain, inf, NaN) and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_error, check_module

pytestmark = pytest.mark.parity

INF, NAN = math.inf, math.nan
INTS = np.array([[-3, -1, 0], [1, 2, 5]])
POSITIVE_INTS = np.array([[1, 2, 3], [4, 7, 10]])

# name, (low, high) of the smooth values, the edge values, integer inputs
UNARY = [
    ("erfc", (-3.0, 3.0), [-INF, -3.0, -0.0, 0.0, 0.5, 1.9, 2.0, 2.1, 5.0, 10.0, 26.0, 30.0, INF, NAN], INTS),
    ("erfinv", (-0.95, 0.95), [-1.0, -0.999999, -0.5, -0.0, 0.0, 0.3, 0.99, 1 - 1e-10, 1.0, 1.5, -2.0, NAN], None),
    (
        "lgamma",
        (0.1, 6.0),
        [-INF, -3.0, -2.5, -1.2, -0.3, -0.0, 0.0, 1e-8, 0.3, 1.0, 2.0, 3.3, 10.0, 150.0, 1e10, INF, NAN],
        POSITIVE_INTS,
    ),
    (
        "digamma",
        (0.1, 6.0),
        [-INF, -3.5, -2.5, -1.2, -0.3, 0.0, 1e-8, 0.3, 1.0, 2.0, 3.3, 10.0, 150.0, 1e10, INF, NAN],
        POSITIVE_INTS,
    ),
    ("i0", (-20.0, 20.0), [-INF, -30.0, -1.0, -0.0, 0.0, 14.99, 15.0, 50.0, 700.0, 800.0, INF, NAN], INTS),
    ("deg2rad", (-360.0, 360.0), [-INF, -180.0, -0.0, 0.0, 90.0, INF, NAN], INTS),
    ("rad2deg", (-4.0, 4.0), [-INF, -math.pi, -0.0, 0.0, 1.0, INF, NAN], INTS),
]


# PyTorch's trigamma (digamma's derivative) is good to about 1e-9 relative in float64; ours
# (autograd through the series) to 1e-15 (checked against the series summed directly)
# (polygamma(1, x) is that trigamma)
GRAD_RTOL = {"digamma": 1e-8, "polygamma": 1e-8}


def _smooth(name, call, shape, low, high):
    rtol = GRAD_RTOL.get(name.split("-")[0])
    if rtol is None:
        yield Case(name, call, [shape], low=low, high=high)
        return
    yield Case(name, call, [shape], low=low, high=high, rtol=rtol, dtypes=("float64",))
    yield Case(f"{name}-f32", call, [shape], low=low, high=high, dtypes=("float32",))


def _unary_cases():
    for name, (low, high), edges, ints in UNARY:
        yield from _smooth(name, lambda lib, x, n=name: getattr(lib, n)(x), (3, 4), low, high)
        yield from _smooth(f"{name}-method", lambda lib, x, n=name: getattr(x, n)(), (2, 3), low, high)
        yield from _smooth(f"{name}-inplace", lambda lib, x, n=name: getattr(x.clone(), n + "_")(), (2, 3), low, high)
        yield from _smooth(f"{name}-0d", lambda lib, x, n=name: getattr(lib, n)(x), (), low, high)
        yield from _smooth(
            f"{name}-transposed", lambda lib, x, n=name: getattr(lib, n)(x.transpose(0, 1)), (4, 3), low, high
        )
        yield Case(f"{name}-edges", lambda lib, x, n=name: getattr(lib, n)(x), [np.array(edges)], grad=False)
        if ints is not None:
            yield Case(f"{name}-int", lambda lib, x, n=name: getattr(lib, n)(x), [ints], dtypes=("float32",))


SPECIAL = [
    # lgamma's and digamma's negative side (the reflection), with gradients
    Case("lgamma-negative", lambda lib, x: lib.lgamma(x - 2.5), [(3, 4)], low=-0.4, high=0.4),
    *_smooth("digamma-negative", lambda lib, x: lib.digamma(x - 2.5), (3, 4), -0.4, 0.4),
    *_smooth("digamma-large", lambda lib, x: lib.digamma(x * 1e3), (3, 4), 1.0, 5.0),
    Case("lgamma-large", lambda lib, x: lib.lgamma(x * 1e3), [(3, 4)], low=1.0, high=5.0),
    Case("erfc-tail", lambda lib, x: lib.erfc(x), [(3, 4)], low=2.0, high=6.0),
    Case("erfinv-tail", lambda lib, x: lib.erfinv(x), [(3, 4)], low=0.95, high=0.999),
    *_smooth("polygamma-1", lambda lib, x: lib.polygamma(1, x), (3, 4), 0.2, 6.0),
    Case("polygamma-2", lambda lib, x: lib.polygamma(2, x), [(3, 4)], low=0.2, high=6.0),
    Case("polygamma-3-negative", lambda lib, x: lib.polygamma(3, x - 2.5), [(3, 4)], low=-0.4, high=0.4),
    *_smooth("polygamma-0", lambda lib, x: lib.polygamma(0, x), (3, 4), 0.2, 6.0),
    Case("polygamma-method", lambda lib, x: x.polygamma(2), [(3, 4)], low=0.2, high=6.0),
    *_smooth("polygamma-inplace", lambda lib, x: x.clone().polygamma_(1), (3, 4), 0.2, 6.0),
    Case("polygamma-edges", lambda lib, x: lib.polygamma(2, x), [np.array([0.0, 1e-3, 50.0, 1e4, NAN])], grad=False),
    Case("polygamma-large-n", lambda lib, x: lib.polygamma(7, x), [(3,)], low=0.5, high=3.0, grad=False),
    Case("polygamma-int", lambda lib, x: lib.polygamma(1, x), [POSITIVE_INTS], dtypes=("float32",)),
    Case("mvlgamma", lambda lib, x: lib.mvlgamma(x, 3), [(3, 4)], low=1.6, high=6.0),
    Case("mvlgamma-p1", lambda lib, x: lib.mvlgamma(x, p=1), [(3, 4)], low=0.1, high=6.0),
    Case("mvlgamma-below-domain", lambda lib, x: lib.mvlgamma(x, 8), [np.array([1.0, 3.0, 0.2, 2.7])], grad=False),
    Case("mvlgamma-method", lambda lib, x: x.mvlgamma(2), [(3, 4)], low=1.6, high=6.0),
    Case("mvlgamma-inplace", lambda lib, x: x.clone().mvlgamma_(2), [(3, 4)], low=1.6, high=6.0),
    Case("logit", lambda lib, x: lib.logit(x), [(3, 4)], low=0.05, high=0.95),
    Case("logit-eps", lambda lib, x: lib.logit(x, eps=0.2), [(3, 4)], low=0.0, high=1.0),
    Case("logit-eps-positional", lambda lib, x: lib.logit(x, 1e-6), [np.array([0.0, 0.5, 1.0, 1e-8])], grad=False),
    Case("logit-method", lambda lib, x: x.logit(0.1), [(2, 3)], low=0.05, high=0.95),
    Case("logit-inplace", lambda lib, x: x.clone().logit_(), [(2, 3)], low=0.05, high=0.95),
    Case("logit-edges", lambda lib, x: lib.logit(x), [np.array([-1.0, 0.0, 0.5, 1.0, 2.0, NAN])], grad=False),
    Case("logit-outside-grad", lambda lib, x: lib.logit(x), [np.array([-0.5, 0.3, 1.5])]),
    Case("logit-eps-outside-grad", lambda lib, x: lib.logit(x, 0.1), [np.array([-0.5, 0.05, 0.3, 0.95, 1.5])]),
    Case("logit-int", lambda lib, x: lib.logit(x), [np.array([0, 1, 2])], dtypes=("float32",)),
    Case("xlogy", lambda lib, x, y: lib.xlogy(x, y), [(3, 4), (4,)], low=0.1, high=2.0),
    Case("xlogy-method", lambda lib, x, y: x.xlogy(y), [(3, 4), (3, 4)], low=0.1, high=2.0),
    Case("xlogy-inplace", lambda lib, x, y: x.clone().xlogy_(y), [(3, 4), (3, 4)], low=0.1, high=2.0),
    Case("xlogy-scalar-other", lambda lib, x: lib.xlogy(x, 3.0), [(3, 4)]),
    Case("xlogy-scalar-self", lambda lib, y: lib.xlogy(2.0, y), [(3, 4)], low=0.1, high=2.0),
    Case(
        "xlogy-zeros",
        lambda lib, x, y: lib.xlogy(x, y),
        [np.array([0.0, 0.0, 0.0, 1.0, 0.0, 2.0, -1.0]), np.array([0.0, 2.0, NAN, 0.0, INF, -1.0, INF])],
        grad=False,
    ),
    # the gradient where x is 0: log(y) for x (0 where y <= 0 too), x / y for y
    Case("xlogy-zero-grad", lambda lib, x, y: lib.xlogy(x * 0, y), [(3,), (3,)], low=0.1, high=2.0),
    Case(
        "xlogy-zero-grad-edges",
        lambda lib, x, y: lib.xlogy(x, y),
        [np.array([0.0, 0.0, 0.0, 0.0, 1.0]), np.array([2.0, -1.0, 0.5, INF, 3.0])],
    ),
    Case("xlogy-int", lambda lib, x, y: lib.xlogy(x, y), [INTS, POSITIVE_INTS], dtypes=("float32",)),
    Case("heaviside", lambda lib, x, v: lib.heaviside(x, v), [np.array([-1.5, 0.0, 2.0, -0.0, NAN]), (5,)], grad=False),
    Case("heaviside-bcast", lambda lib, x, v: x.heaviside(v), [np.array([[-1.0, 0.0], [0.0, 3.0]]), (2,)], grad=False),
    Case(
        "heaviside-inplace",
        lambda lib, x, v: x.clone().heaviside_(v),
        [np.array([-1.0, 0.0, 4.0]), (1,)],
        grad=False,
    ),
    Case("heaviside-int", lambda lib, x, v: lib.heaviside(x, v), [INTS, np.array([7])], grad=False),
    Case("fmax", lambda lib, a, b: lib.fmax(a, b), [(3, 4), (4,)]),
    Case("fmin", lambda lib, a, b: lib.fmin(a, b), [(3, 4), (4,)]),
    Case("fmax-method", lambda lib, a, b: a.fmax(b), [(3, 4), (3, 4)]),
    Case("fmin-method", lambda lib, a, b: a.fmin(b), [(3, 4), (3, 4)]),
    Case(
        "fmax-nan",
        lambda lib, a, b: lib.fmax(a, b) * 2,
        [np.array([NAN, 1.0, NAN, 2.0, -INF]), np.array([1.0, NAN, NAN, 2.0, 3.0])],
    ),
    Case(
        "fmin-nan",
        lambda lib, a, b: lib.fmin(a, b) * 2,
        [np.array([NAN, 1.0, NAN, 2.0, INF]), np.array([1.0, NAN, NAN, 2.0, 3.0])],
    ),
    Case("fmax-int", lambda lib, a, b: lib.fmax(a, b), [INTS, POSITIVE_INTS]),
    Case("fmin-int-float", lambda lib, a, b: lib.fmin(a, b), [INTS, (2, 3)]),
    Case("float_power", lambda lib, a, b: lib.float_power(a, b), [(3, 4), (4,)], low=0.5, high=2.0),
    Case("float_power-scalar", lambda lib, a: lib.float_power(a, 2), [(3, 4)]),
    Case("float_power-scalar-base", lambda lib, b: lib.float_power(2.5, b), [(3, 4)]),
    Case("float_power-method", lambda lib, a: a.float_power(0.5), [(3, 4)], low=0.5, high=2.0),
    Case("float_power-inplace", lambda lib, a: (a * 1).double().float_power_(3), [(3, 4)]),
    Case("float_power-int", lambda lib, a: lib.float_power(a, 2), [INTS]),
    Case("float_power-int-int", lambda lib, a, b: lib.float_power(a, b), [INTS, np.array([2, 3, -1])]),
    Case("float_power-float32", lambda lib, a: lib.float_power(a.float(), 3), [(3,)]),
    Case("deg2rad-inplace-method", lambda lib, x: x.clone().deg2rad_() + x.rad2deg(), [(3,)]),
    Case("signbit", lambda lib, x: lib.signbit(x), [np.array([-INF, -1.0, -0.0, 0.0, 2.0, INF, NAN])], grad=False),
    Case("signbit-method", lambda lib, x: x.signbit(), [(3, 4)], grad=False),
    Case("signbit-int", lambda lib, x: lib.signbit(x), [INTS], grad=False),
    Case("signbit-bool", lambda lib, x: lib.signbit(x), [np.array([True, False])], grad=False),
    Case("clamp_min", lambda lib, x: lib.clamp_min(x, 0.2), [(3, 4)]),
    Case("clamp_max", lambda lib, x: lib.clamp_max(x, -0.1), [(3, 4)]),
    Case("clamp_min-tensor", lambda lib, x, m: lib.clamp_min(x, m), [(3, 4), (4,)]),
    Case("clamp_max-tensor", lambda lib, x, m: lib.clamp_max(x, m), [(3, 4), (4,)]),
    Case("clamp_min-method", lambda lib, x: x.clamp_min(0.0), [(3, 4)]),
    Case("clamp_max-method", lambda lib, x: x.clamp_max(0.5), [(3, 4)]),
    Case("clamp_min-inplace", lambda lib, x: x.clone().clamp_min_(0.0), [(3, 4)]),
    Case("clamp_max-inplace", lambda lib, x: x.clone().clamp_max_(0.5), [(3, 4)]),
    Case("clamp_min-int", lambda lib, x: lib.clamp_min(x, 0), [INTS]),
    Case("clamp_max-int-float", lambda lib, x: lib.clamp_max(x, 1.5), [INTS], dtypes=("float32",)),
    # at ties the input gets the whole gradient
    Case(
        "clamp_min-ties", lambda lib, x, m: lib.clamp_min(x, m), [np.array([0.5, 1.0, -2.0]), np.array([0.5, 0.0, 3.0])]
    ),
    Case(
        "clamp_max-ties", lambda lib, x, m: lib.clamp_max(x, m), [np.array([0.5, 1.0, -2.0]), np.array([0.5, 0.0, 3.0])]
    ),
    Case("clamp_min-number-tie", lambda lib, x: lib.clamp_min(x, 0.5), [np.array([0.5, 1.0, -2.0])]),
    Case("clamp_min-nan-bound", lambda lib, x, m: lib.clamp_min(x, m), [(3,), np.array([NAN, 0.0, NAN])], grad=False),
    Case("fmax-ties", lambda lib, a, b: lib.fmax(a, b), [np.array([0.5, 1.0, -2.0]), np.array([0.5, 0.0, -2.0])]),
    Case("fmin-ties", lambda lib, a, b: lib.fmin(a, b), [np.array([0.5, 1.0, -2.0]), np.array([0.5, 0.0, -2.0])]),
    Case("clamp_min-nan", lambda lib, x: lib.clamp_min(x, 0.0), [np.array([NAN, -1.0, 1.0])], grad=False),
    Case("positive", lambda lib, x: lib.positive(x), [(3, 4)]),
    Case("positive-method", lambda lib, x: x.positive() * 2, [(3, 4)]),
    Case("positive-int", lambda lib, x: lib.positive(x), [INTS]),
    Case("rsub", lambda lib, a, b: lib.rsub(a, b), [(3, 4), (4,)]),
    Case("rsub-alpha", lambda lib, a, b: lib.rsub(a, b, alpha=2.5), [(3, 4), (3, 4)]),
    Case("rsub-scalar", lambda lib, a: lib.rsub(a, 3.0), [(3, 4)]),
    Case("rsub-int", lambda lib, a, b: lib.rsub(a, b, alpha=2), [INTS, POSITIVE_INTS]),
]

CASES = [*_unary_cases(), *SPECIAL]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


def test_positive_is_a_view():
    import somegrad as sg

    x = sg.tensor([1.0, -2.0])
    y = sg.positive(x)
    y[0] = 5.0
    assert x[0].item() == 5.0


ERRORS = [
    ("mvlgamma-p0", lambda lib, a: lib.mvlgamma(a, 0), [(3,)]),
    ("polygamma-negative-n", lambda lib, a: lib.polygamma(-1, a), [(3,)]),
    ("erfinv-int", lambda lib, a: a.erfinv_(), [INTS]),
    ("lgamma-inplace-int", lambda lib, a: a.lgamma_(), [INTS]),
    ("xlogy-numbers", lambda lib: lib.xlogy(2.0, 3.0), []),
    ("xlogy-broadcast", lambda lib, a, b: lib.xlogy(a, b), [(3,), (4,)]),
    ("heaviside-dtypes", lambda lib, a, b: lib.heaviside(a, b.double()), [(3,), (3,)]),
    ("heaviside-number", lambda lib, a: lib.heaviside(a, 1.0), [(3,)]),
    ("fmax-broadcast", lambda lib, a, b: lib.fmax(a, b), [(3,), (4,)]),
    ("float_power-inplace-float32", lambda lib, a: a.float_power_(2), [(3,)]),
    ("float_power-numbers", lambda lib: lib.float_power(2.0, 3.0), []),
    ("clamp_min-broadcast", lambda lib, a, b: lib.clamp_min(a, b), [(3,), (4,)]),
    ("clamp_min-string", lambda lib, a: lib.clamp_min(a, "x"), [(3,)]),
    ("positive-bool", lambda lib, a: lib.positive(a), [np.array([True])]),
    ("rsub-bool", lambda lib, a: lib.rsub(a, a), [np.array([True])]),
    ("logit-inplace-int", lambda lib, a: a.logit_(), [INTS]),
]


@pytest.mark.parametrize("call,inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(call, inputs):
    check_error(call, inputs)


# --- gcd, lcm, ldexp, frexp, nextafter, logspace, iinfo, finfo -------------------------------------
A_INT = np.array([[12, -18, 0, 7, 0], [100, 35, -9, 1, 5]])
B_INT = np.array([8, 24, 0, -21, 5])
FREXP_EDGES = np.array([0.0, -0.0, 1.0, 0.75, -3.5, 1e-30, 1e30, 2.0**-126, INF, -INF, NAN])
AFTER_FROM = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.0, INF, -INF, 1.0, NAN, 2.0, 2.0, 1e-30, 3e38])
AFTER_TO = np.array([2.0, -2.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 3.0, 0.0, INF])

NUMBERS = [
    Case("gcd", lambda lib, a, b: lib.gcd(a, b), [A_INT, B_INT], grad=False),
    Case("gcd-method", lambda lib, a, b: a.gcd(b), [A_INT, B_INT], grad=False),
    Case("gcd-inplace", lambda lib, a, b: a.clone().gcd_(b), [A_INT, B_INT], grad=False),
    Case("gcd-int32", lambda lib, a, b: lib.gcd(a.int(), b.int()), [A_INT * 7, B_INT * 3], grad=False),
    Case("gcd-fibonacci", lambda lib, a, b: lib.gcd(a, b), [np.array([832040, 1]), np.array([514229, 0])], grad=False),
    Case("lcm", lambda lib, a, b: lib.lcm(a, b), [A_INT, B_INT], grad=False),
    Case("lcm-method", lambda lib, a, b: a.lcm(b), [A_INT, B_INT], grad=False),
    Case("lcm-inplace", lambda lib, a, b: a.clone().lcm_(b), [A_INT, B_INT], grad=False),
    # PyTorch's ldexp derivative takes 2 ** other in the integer dtype (0 for negative exponents),
    # so the gradient is compared for non-negative ones and the values for negative ones
    Case("ldexp", lambda lib, x, e: lib.ldexp(x, e), [(3, 5), B_INT % 7]),
    Case("ldexp-negative", lambda lib, x, e: lib.ldexp(x, e), [(3, 5), B_INT % 7 - 3], grad=False),
    Case("ldexp-float-exponent", lambda lib, x, e: lib.ldexp(x, e), [(3, 4), (4,)]),
    Case("ldexp-method", lambda lib, x, e: x.ldexp(e), [(2, 5), B_INT % 5]),
    Case("ldexp-inplace", lambda lib, x, e: x.clone().ldexp_(e), [(2, 5), B_INT % 5]),
    Case("ldexp-int", lambda lib, x, e: lib.ldexp(x, e), [A_INT, B_INT % 4], dtypes=("float32",)),
    Case("frexp", lambda lib, x: lib.frexp(x), [(3, 4)], low=-100.0, high=100.0, grad=False),
    Case("frexp-edges", lambda lib, x: lib.frexp(x), [FREXP_EDGES], grad=False),
    Case("frexp-method", lambda lib, x: tuple(x.frexp()), [(3, 4)], grad=False),
    Case("frexp-fields", lambda lib, x: (lib.frexp(x).mantissa, lib.frexp(x).exponent), [(3,)], grad=False),
    Case("nextafter", lambda lib, a, b: lib.nextafter(a, b), [AFTER_FROM, AFTER_TO], grad=False),
    Case("nextafter-bcast", lambda lib, a, b: lib.nextafter(a, b), [(3, 4), (4,)], grad=False),
    Case("nextafter-method", lambda lib, a, b: a.nextafter(b), [(3, 4), (3, 4)], grad=False),
    Case("nextafter-inplace", lambda lib, a, b: a.clone().nextafter_(b), [(3, 4), (3, 4)], grad=False),
    Case("logspace", lambda lib: lib.logspace(0, 3, 4), [], grad=False),
    Case("logspace-base", lambda lib: lib.logspace(-1, 1, 5, base=2), [], grad=False),
    Case("logspace-dtype", lambda lib: lib.logspace(-2, 2, 7, dtype=lib.float64), [], grad=False),
    Case("logspace-one", lambda lib: lib.logspace(2, 5, 1), [], grad=False),
]


@pytest.mark.parametrize("case", NUMBERS, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numbers(case, dtype):
    check(case, dtype)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo(name):
    import torch

    import somegrad as sg
    from somegrad.ops.special_numbers import finfo

    ours, theirs = finfo(getattr(sg, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    import torch

    import somegrad as sg
    from somegrad.ops.special_numbers import iinfo

    ours, theirs = iinfo(getattr(sg, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)


def test_info_errors():
    import somegrad as sg
    from somegrad.ops.special_numbers import finfo, iinfo

    with pytest.raises(TypeError):
        finfo(sg.int32)
    with pytest.raises(TypeError):
        iinfo(sg.float32)
    assert finfo().dtype == "float32"


NUMBER_ERRORS = [
    ("gcd-float", lambda lib, a, b: lib.gcd(a, b), [(3,), (3,)]),
    ("lcm-float", lambda lib, a, b: lib.lcm(a, b), [(3,), (3,)]),
    ("gcd-broadcast", lambda lib, a, b: lib.gcd(a, b), [A_INT, np.array([1, 2])]),
    ("frexp-int", lambda lib, a: lib.frexp(a), [A_INT]),
    ("nextafter-broadcast", lambda lib, a, b: lib.nextafter(a, b), [(3,), (4,)]),
    ("logspace-negative-steps", lambda lib: lib.logspace(0, 1, -1), []),
]


@pytest.mark.parametrize("call,inputs", [e[1:] for e in NUMBER_ERRORS], ids=[e[0] for e in NUMBER_ERRORS])
def test_number_error(call, inputs):
    check_error(call, inputs)


# --- kron, cdist, dist, trapezoid, cumulative_trapezoid --------------------------------------------
X_SPACING = np.array([0.0, 0.5, 1.5, 1.75, 3.0])

PRODUCTS = [
    Case("kron-2d", lambda lib, a, b: lib.kron(a, b), [(2, 3), (3, 2)]),
    Case("kron-1d", lambda lib, a, b: lib.kron(a, b), [(3,), (4,)]),
    Case("kron-mixed-ndim", lambda lib, a, b: lib.kron(a, b), [(2, 2), (2, 3, 2)]),
    Case("kron-method", lambda lib, a, b: a.kron(b), [(2, 1, 3), (1, 2, 2)]),
    Case("kron-int", lambda lib, a, b: lib.kron(a, b), [INTS, POSITIVE_INTS[:1]], grad=False),
    Case("cdist", lambda lib, a, b: lib.cdist(a, b), [(4, 3), (5, 3)]),
    Case("cdist-p1", lambda lib, a, b: lib.cdist(a, b, p=1), [(4, 3), (5, 3)]),
    Case("cdist-p3", lambda lib, a, b: lib.cdist(a, b, p=3.0), [(4, 3), (5, 3)]),
    Case("cdist-pinf", lambda lib, a, b: lib.cdist(a, b, p=INF), [(4, 3), (5, 3)]),
    Case("cdist-p0", lambda lib, a, b: lib.cdist(a, b, p=0), [(4, 3), (5, 3)], grad=False),
    Case("cdist-batched", lambda lib, a, b: lib.cdist(a, b), [(2, 4, 3), (1, 5, 3)]),
    Case("cdist-same", lambda lib, a: lib.cdist(a, a), [(4, 3)]),  # zero distances: gradient 0 there
    Case(
        "cdist-mode", lambda lib, a, b: lib.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"), [(3, 2), (2, 2)]
    ),
    Case("dist", lambda lib, a, b: lib.dist(a, b), [(3, 4), (4,)]),
    Case("dist-p1", lambda lib, a, b: lib.dist(a, b, 1), [(3, 4), (3, 4)]),
    Case("dist-pinf", lambda lib, a, b: a.dist(b, p=INF), [(3, 4), (3, 4)]),
    Case("dist-p3", lambda lib, a, b: a.dist(b, 3), [(3, 4), (3, 4)]),
    Case("trapezoid", lambda lib, y: lib.trapezoid(y), [(3, 5)]),
    Case("trapezoid-dx", lambda lib, y: lib.trapezoid(y, dx=0.25), [(3, 5)]),
    Case("trapezoid-dim0", lambda lib, y: lib.trapezoid(y, dim=0), [(5, 3)]),
    Case("trapezoid-x", lambda lib, y, x: lib.trapezoid(y, x), [(3, 5), X_SPACING]),
    Case("trapezoid-x-full", lambda lib, y, x: lib.trapezoid(y, x, dim=0), [(4, 3), (4, 3)]),
    Case("trapezoid-int", lambda lib, y: lib.trapezoid(y), [INTS], grad=False),
    Case("trapz", lambda lib, y, x: lib.trapz(y, x), [(3, 5), X_SPACING]),
    Case("trapz-dx", lambda lib, y: lib.trapz(y, dx=2.0), [(3, 5)]),
    Case("cumulative_trapezoid", lambda lib, y: lib.cumulative_trapezoid(y), [(3, 5)]),
    Case("cumulative_trapezoid-x", lambda lib, y, x: lib.cumulative_trapezoid(y, x), [(3, 5), X_SPACING]),
    Case("cumulative_trapezoid-dim0", lambda lib, y: lib.cumulative_trapezoid(y, dx=0.5, dim=0), [(5, 3)]),
    Case("cumulative_trapezoid-3d", lambda lib, y: lib.cumulative_trapezoid(y, dim=1), [(2, 4, 3)]),
]


@pytest.mark.parametrize("case", PRODUCTS, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_products(case, dtype):
    check(case, dtype)


PRODUCT_ERRORS = [
    ("cdist-1d", lambda lib, a, b: lib.cdist(a, b), [(3,), (3,)]),
    ("cdist-columns", lambda lib, a, b: lib.cdist(a, b), [(3, 2), (3, 4)]),
    ("cdist-negative-p", lambda lib, a, b: lib.cdist(a, b, p=-1), [(3, 2), (3, 2)]),
    ("cdist-int", lambda lib, a: lib.cdist(a, a), [INTS]),
    ("dist-broadcast", lambda lib, a, b: lib.dist(a, b), [(3,), (4,)]),
    ("trapezoid-x-length", lambda lib, y, x: lib.trapezoid(y, x), [(3, 5), np.array([0.0, 1.0])]),
    ("trapezoid-dim", lambda lib, y: lib.trapezoid(y, dim=2), [(3, 5)]),
    ("trapezoid-number-x", lambda lib, y: lib.trapezoid(y, 0.5), [(3, 5)]),
    ("cumulative_trapezoid-x-length", lambda lib, y, x: lib.cumulative_trapezoid(y, x), [(3, 5), np.array([0.0])]),
]


@pytest.mark.parametrize("call,inputs", [e[1:] for e in PRODUCT_ERRORS], ids=[e[0] for e in PRODUCT_ERRORS])
def test_product_error(call, inputs):
    check_error(call, inputs)


# --- in real models: a Poisson log-likelihood and a distance layer, gradients to the parameters ------
def _poisson_nll(module, x, counts):
    log_rate = module(x)
    return (log_rate.exp() - counts.xlogy(log_rate.exp()) + (counts + 1).lgamma()).mean()


def _gamma_terms(module, x):
    # lgamma and digamma of a positive activation, erfc and logit of bounded ones
    h = module(x)
    positive = h.exp() + 0.5
    return positive.lgamma().sum() + positive.digamma().mean() + h.erfc().sum() + h.sigmoid().logit(1e-4).sum()


MODELS = [
    ModuleCase(
        "poisson-nll",
        lambda lib: lib.nn.Linear(3, 2),
        [(5, 3), np.array([[0.0, 2.0], [1.0, 0.0], [3.0, 1.0], [0.0, 0.0], [5.0, 2.0]])],
        call=_poisson_nll,
    ),
    ModuleCase("gamma-terms", lambda lib: lib.nn.Linear(3, 4), [(5, 3)], call=_gamma_terms, rtol=1e-8),
    ModuleCase(
        "cdist-to-centres",
        lambda lib: lib.nn.Linear(3, 4),
        [(5, 3), (2, 4)],
        call=lambda module, x, centres: module(x).dist(centres[0]) + module(x).kron(centres).sum(),
    ),
]


@pytest.mark.parametrize("case", MODELS, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_models(case, dtype):
    if dtype == "float32":
        case = ModuleCase(**{**case.__dict__, "rtol": None})
    check_module(case, dtype)


# --- torch.special's own functions: ndtr, log_ndtr, ndtri, erfcx, entr, xlog1py --------------------------
def _special(lib):
    """`torch.special`, or where somegrad declares the functions only it has."""
    import torch

    if lib is torch:
        return torch.special
    from somegrad.ops import special_scipy

    return special_scipy


SCIPY_UNARY = [
    ("ndtr", (-3.0, 3.0), [-INF, -40.0, -5.0, 0.0, 2.0, 9.0, INF, NAN]),
    ("log_ndtr", (-5.0, 3.0), [-INF, -100.0, -35.0, -29.0, -10.0, 0.0, 2.0, 9.0, INF, NAN]),
    ("ndtri", (0.05, 0.95), [0.0, 1e-300, 1e-100, 1e-10, 0.3, 0.5, 0.999999, 1.0, -1.0, 2.0, NAN]),
    ("erfcx", (-2.0, 5.0), [-INF, -30.0, -1.0, 0.0, 1.9, 2.1, 10.0, 30.0, 1e10, INF, NAN]),
    ("entr", (0.05, 3.0), [-1.0, 0.0, 1e-300, 0.5, 1.0, INF, NAN]),
]

SCIPY = [
    case
    for name, (low, high), edges in SCIPY_UNARY
    for case in (
        Case(name, lambda lib, x, n=name: getattr(_special(lib), n)(x), [(3, 4)], low=low, high=high),
        Case(f"{name}-edges", lambda lib, x, n=name: getattr(_special(lib), n)(x), [np.array(edges)], grad=False),
        Case(f"{name}-int", lambda lib, x, n=name: getattr(_special(lib), n)(x), [INTS], dtypes=("float32",)),
    )
] + [
    Case(
        "ndtri-tails",
        lambda lib, x: _special(lib).ndtri(x),
        [np.array([1e-200, 1e-30, 1e-5, 1 - 1e-12])],
        dtypes=("float64",),
    ),
    Case("xlog1py", lambda lib, a, b: _special(lib).xlog1py(a, b), [(3, 4), (4,)], low=0.1, high=2.0),
    Case("xlog1py-scalar", lambda lib, a: _special(lib).xlog1py(a, 0.5), [(3, 4)]),
    Case("xlog1py-scalar-self", lambda lib, b: _special(lib).xlog1py(2.0, b), [(3, 4)], low=0.1, high=2.0),
    Case(
        "xlog1py-edges",
        lambda lib, a, b: _special(lib).xlog1py(a, b),
        [np.array([0.0, 0.0, 0.0, 1.0, 0.0, 2.0]), np.array([-1.0, 2.0, NAN, -1.0, INF, -2.0])],
        grad=False,
    ),
]


@pytest.mark.parametrize("case", SCIPY, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_scipy_functions(case, dtype):
    check(case, dtype)
