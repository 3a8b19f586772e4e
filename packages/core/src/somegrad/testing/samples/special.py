"""Samples for `somegrad.ops.special`: erfc, erfinv, lgamma, digamma, logit, xlogy, heaviside,
fmax/fmin, float_power, deg2rad/rad2deg, signbit, clamp_min/clamp_max, positive and rsub.

The references are Python's `math` functions elementwise, or, where it has none (erfinv, digamma),
a bisection on `math.erf` and the digamma series computed by other means (a longer shift and
Python floats)."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    INTEGERS,
    SIGNED,
    ErrorSample,
    Input,
    Sample,
    register_samples,
    values,
)
from somegrad.testing.samples.elementwise import _binary, _unary

F32, F64 = dtypes.float32, dtypes.float64
INF, NAN = math.inf, math.nan


def _sg():
    import somegrad

    return somegrad


def _elementwise(fn):
    def reference(x):
        return np.vectorize(fn, otypes=[np.float64])(x)

    return reference


def _lgamma_scalar(v):
    if v != v:
        return NAN
    if abs(v) == INF or (v <= 0 and v == math.floor(v)):
        return INF
    try:
        return math.lgamma(v)
    except OverflowError:
        return INF


def _erfinv_scalar(v):
    if v != v or abs(v) > 1:
        return NAN
    if abs(v) == 1:
        return math.copysign(INF, v)
    low, high = -7.0, 7.0
    for _ in range(200):
        middle = (low + high) / 2
        if math.erf(middle) < v:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _digamma_scalar(v):
    if v != v or v == -INF:
        return NAN
    if v == INF:
        return INF
    if v == 0:
        return -INF
    if v < 0 and v == math.floor(v):
        return NAN
    if v < 0.5:
        return _digamma_scalar(1 - v) - math.pi / math.tan(math.pi * v)
    total = 0.0
    while v < 30:
        total -= 1 / v
        v += 1
    inv2 = 1 / (v * v)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return total + math.log(v) - 0.5 / v - series


# --- one input --------------------------------------------------------------------------------------
_unary(
    "erfc",
    _elementwise(math.erfc),
    low=-3.0,
    high=3.0,
    specials=(-INF, -3.0, -0.0, 0.0, 0.5, 1.9, 2.0, 2.1, 5.0, 10.0, 26.0, INF, NAN),
)
_unary(
    "erfinv",
    _elementwise(_erfinv_scalar),
    low=-0.95,
    high=0.95,
    specials=(-1.0, -0.999999, -0.5, -0.0, 0.0, 0.3, 0.99, 1.0, 1.5, -2.0, NAN),
)
_unary(
    "lgamma",
    _elementwise(_lgamma_scalar),
    low=0.1,
    high=6.0,
    specials=(-INF, -3.0, -2.5, -1.2, -0.3, 0.0, 1e-8, 0.3, 1.0, 2.0, 3.3, 10.0, 150.0, 1e10, INF, NAN),
    smooth=np.array([-2.7, -1.4, -0.6, -0.2, 0.4, 1.5, 7.5, 40.0]),
)
_unary(
    "digamma",
    _elementwise(_digamma_scalar),
    low=0.1,
    high=6.0,
    specials=(-INF, -3.5, -2.5, -1.2, -0.3, 0.0, 1e-8, 0.3, 1.0, 2.0, 3.3, 10.0, 150.0, 1e10, INF, NAN),
    smooth=np.array([-2.7, -1.4, -0.6, -0.2, 0.4, 1.5, 7.5, 40.0]),
)
_unary("deg2rad", np.deg2rad, low=-360.0, high=360.0, specials=(-INF, -180.0, -0.0, 0.0, 90.0, INF, NAN))
_unary("rad2deg", np.rad2deg, low=-4.0, high=4.0, specials=(-INF, -math.pi, -0.0, 0.0, 1.0, INF, NAN))


_unary(
    "i0",
    np.i0,
    low=-20.0,
    high=20.0,
    specials=(-INF, -30.0, -1.0, -0.0, 0.0, 14.99, 15.0, 50.0, 700.0, 800.0, INF, NAN),
)


@register_samples("mvlgamma")
def _mvlgamma_samples():
    def reference(x, p):
        out = sum(_elementwise(_lgamma_scalar)(x - i / 2) for i in range(p))
        return out + p * (p - 1) / 4 * math.log(math.pi)

    x = values((3, 4), 1.6, 6.0, key="mvlgamma")
    for dtype in FLOATS:
        yield Sample((Input(x),), {"p": 3}, reference, dtype, name="p3")
    yield Sample((Input(x),), {"p": 1}, reference, F64, name="p1")
    yield Sample((Input(x, layout="transposed"),), {"p": 2}, reference, F64, name="transposed")
    yield Sample((Input(np.array(4.0)),), {"p": 4}, reference, F64, name="0d")
    yield Sample((Input(np.array([1.0, 3.0, 0.2, 2.7])),), {"p": 8}, reference, F64, name="below-domain", grad=False)
    yield ErrorSample(
        (Input(x),), {}, RuntimeError, "p has to be greater", call=lambda t: _sg().mvlgamma(t, 0), name="p0"
    )


@register_samples("logit")
def _logit_samples():
    def reference(x, eps):
        if eps is not None:
            x = np.clip(x, eps, 1 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x / (1 - x))

    for dtype in FLOATS:
        yield Sample((Input(values((3, 4), 0.05, 0.95, key="logit")),), {"eps": None}, reference, dtype, name="3x4")
    yield Sample((Input(values((3, 4), 0.0, 1.0, key="logit-eps")),), {"eps": 0.2}, reference, F64, name="eps")
    yield Sample((Input(values((), 0.1, 0.9)),), {"eps": None}, reference, F64, name="0d")
    yield Sample((Input(np.zeros((0, 3))),), {"eps": None}, reference, F64, name="size0")
    yield Sample(
        (Input(values((3, 4), 0.05, 0.95, key="logit"), layout="transposed"),),
        {"eps": None},
        reference,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, NAN])),), {"eps": None}, reference, F64, name="edges", grad=False
    )
    yield Sample(
        (Input(np.array([0, 1, 2])),),
        {},
        lambda x: reference(x, None),
        dtypes.int64,
        out_dtype=F32,
        name="int",
        call=lambda x: _sg().logit(x),
    )


def _xlogy_reference(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a == 0, 0.0, a * np.log(np.where(a == 0, 1.0, b)))
    return np.where(np.isnan(b), NAN, out)


_binary(
    "xlogy",
    _xlogy_reference,
    a=(-2.0, 2.0),
    b=(0.1, 3.0),
    specials=((0.0, 0.0), (0.0, 2.0), (0.0, NAN), (1.0, 0.0), (0.0, INF), (2.0, -1.0), (-1.0, INF)),
)


@register_samples("heaviside")
def _heaviside_samples():
    def reference(x, v):
        return np.heaviside(x, v)

    x = np.array([[-1.5, 0.0, 2.0], [-0.0, 3.0, 0.0]])
    for dtype in FLOATS:
        yield Sample((Input(x), Input(np.array([0.5, 7.0, -1.0]))), {}, reference, dtype, name="bcast", grad=False)
    for dtype in SIGNED:
        yield Sample((Input(np.array([-3, 0, 4])), Input(np.array([9]))), {}, reference, dtype, name="int", grad=False)
    yield Sample((Input(np.zeros((0, 2))), Input(np.ones(2))), {}, reference, F64, name="size0", grad=False)
    yield ErrorSample(
        (Input(x), Input(np.ones(3), dtype=F64)),
        {},
        RuntimeError,
        "heaviside is not yet implemented for tensors with different dtypes",
        dtype=F32,
        name="dtypes",
    )


def _fmax_reference(a, b):
    return np.fmax(a, b)


def _fmin_reference(a, b):
    return np.fmin(a, b)


_NAN_PAIRS = ((NAN, 1.0), (1.0, NAN), (NAN, NAN), (-INF, 3.0), (INF, -1.0), (-0.5, 2.0))
_binary("fmax", _fmax_reference, specials=_NAN_PAIRS, int_dtypes=INTEGERS)
_binary("fmin", _fmin_reference, specials=_NAN_PAIRS, int_dtypes=INTEGERS)


@register_samples("float_power")
def _float_power_samples():
    def reference(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.float_power(a, b)

    a, b = values((3, 4), 0.5, 2.0, key="fp-a"), values((4,), -2.0, 2.0, key="fp-b")
    yield Sample((Input(a), Input(b)), {}, reference, F64, name="bcast")
    yield Sample((Input(np.array(1.5)), Input(np.array(-0.5))), {}, reference, F64, name="0d")
    yield Sample(
        (Input(np.array([0.0, -2.0, INF, NAN, -8.0])), Input(np.array([-1.0, 0.5, 2.0, 0.0, 1 / 3]))),
        {},
        reference,
        F64,
        name="edges",
        grad=False,
    )
    for dtype in (F32, dtypes.int32, dtypes.int64):
        yield Sample(
            (Input(values((3, 4), 1, 4, integer=True, key="fp-int")),),
            {},
            lambda x: np.float_power(x, 2.0),
            dtype,
            out_dtype=F64,
            name=f"public-{dtype.name}",
            call=lambda x: _sg().float_power(x, 2),
            grad=False,
        )
    yield ErrorSample(
        (Input(a),),
        {},
        RuntimeError,
        "requires dtype float64",
        dtype=F32,
        call=lambda x: x.float_power_(2),
        name="inplace-float32",
    )


@register_samples("signbit")
def _signbit_samples():
    specials = np.array([-INF, -1.0, -0.0, 0.0, 2.0, INF, NAN])
    for dtype in FLOATS:
        yield Sample((Input(specials),), {}, np.signbit, dtype, out_dtype=dtypes.bool_, name="special")
    for dtype in INTEGERS:
        ints = values((2, 3), 0 if dtype is dtypes.uint8 else -5, 5, integer=True, key="signbit")
        yield Sample((Input(ints),), {}, np.signbit, dtype, out_dtype=dtypes.bool_, name="int")
    yield Sample((Input(np.array([True, False])),), {}, np.signbit, dtypes.bool_, out_dtype=dtypes.bool_, name="bool")
    yield Sample((Input(np.zeros((0, 2))),), {}, np.signbit, F64, out_dtype=dtypes.bool_, name="size0")
    yield Sample(
        (Input(values((3, 4), key="signbit"), layout="transposed"),),
        {},
        np.signbit,
        F32,
        out_dtype=dtypes.bool_,
        name="transposed",
    )


def _bound_samples(op, reference):
    @register_samples(op)
    def samples():
        x = values((3, 4), key=op)
        for dtype in FLOATS:
            yield Sample((Input(x), Input(values((4,), key=(op, 1)))), {}, reference, dtype, name="tensor-bound")
        yield Sample((Input(x), Input(np.array(0.25))), {}, reference, F64, name="0d-bound")
        yield Sample((Input(x, layout="transposed"), Input(np.array(-0.25))), {}, reference, F64, name="transposed")
        for dtype in SIGNED:
            yield Sample(
                (Input(values((3, 4), -5, 5, integer=True, key=op)), Input(np.array(1))),
                {},
                reference,
                dtype,
                name="int",
            )
        yield Sample(
            (Input(x),),
            {},
            lambda v: reference(v, 0.5),
            F64,
            name="public-number",
            call=lambda v: getattr(_sg(), op)(v, 0.5),
        )
        yield Sample(
            (Input(values((2, 3), -5, 5, integer=True, key=op)),),
            {},
            lambda v: reference(v, 1.5),
            dtypes.int64,
            out_dtype=F32,
            name="public-int-float",
            call=lambda v: getattr(_sg(), op)(v, 1.5),
        )
        yield ErrorSample((Input(x), Input(np.ones(3))), {}, ValueError, "cannot be broadcast", name="bad-broadcast")
        yield ErrorSample(
            (Input(x),), {}, TypeError, "must be a number or a Tensor", call=lambda v: getattr(_sg(), op)(v, "a")
        )

    return samples


_bound_samples("clamp_min", np.maximum)
_bound_samples("clamp_max", np.minimum)


@register_samples("positive")
def _positive_samples():
    for dtype in FLOATS:
        yield Sample((Input(values((3, 4), key="positive")),), {}, lambda x: x, dtype, name="3x4")
    for dtype in INTEGERS:
        yield Sample((Input(values((2, 3), 0, 5, integer=True)),), {}, lambda x: x, dtype, name="int")
    yield Sample((Input(values((3, 4)), layout="transposed"),), {}, lambda x: x, F64, name="transposed")
    yield ErrorSample(
        (Input(np.array([True])),),
        {},
        RuntimeError,
        "bool tensor is not supported",
        dtype=dtypes.bool_,
        call=lambda x: _sg().positive(x),
        name="bool",
    )


@register_samples("rsub")
def _rsub_samples():
    def reference(a, b, alpha):
        return b - alpha * a

    a, b = values((3, 4), key="rsub-a"), values((4,), key="rsub-b")
    for dtype in FLOATS:
        yield Sample((Input(a), Input(b)), {"alpha": 1}, reference, dtype, name="bcast")
    yield Sample((Input(a), Input(b)), {"alpha": 2.5}, reference, F64, name="alpha")
    for dtype in SIGNED:
        ints = values((3, 4), -5, 5, integer=True, key="rsub")
        yield Sample((Input(ints), Input(ints.T[:1].T)), {"alpha": 2}, reference, dtype, name="int")
    yield Sample(
        (Input(a),),
        {},
        lambda x: 3.0 - x,
        F64,
        name="public-number",
        call=lambda x: _sg().rsub(x, 3.0),
    )


from somegrad.testing.samples import special_gamma, special_numbers, special_products, special_scipy  # noqa: E402, F401
