"""Samples for `somegrad.ops.pointwise`: the trig, hyperbolic and log functions, sinc, copysign,
fmod, trunc, frac, hypot, logaddexp(2), the inf tests, nan_to_num, isclose and allclose."""

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


# --- one input: values where the function is smooth, and the edges (domain ends, inf, NaN) ----------
_unary("tan", np.tan, low=-1.4, high=1.4, specials=(-INF, -1.5, -0.0, 0.0, 1.0, 1e4, INF, NAN))
_unary("asin", np.arcsin, low=-0.9, high=0.9, specials=(-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, INF, NAN))
_unary("acos", np.arccos, low=-0.9, high=0.9, specials=(-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, INF, NAN))
_unary("atan", np.arctan, low=-3.0, high=3.0, specials=(-INF, -1e30, -1.0, -0.0, 0.0, 1.0, 1e30, INF, NAN))
_unary("sinh", np.sinh, low=-3.0, high=3.0, specials=(-INF, -1000.0, -1.0, -0.0, 0.0, 1.0, 80.0, 1000.0, INF, NAN))
_unary("cosh", np.cosh, low=-3.0, high=3.0, specials=(-INF, -1000.0, -1.0, -0.0, 0.0, 1.0, 80.0, 1000.0, INF, NAN))
_unary("asinh", np.arcsinh, low=-3.0, high=3.0, specials=(-INF, -1e30, -1.0, -0.0, 0.0, 1.0, 1e30, INF, NAN))
_unary("acosh", np.arccosh, low=1.2, high=4.0, specials=(-1.0, 0.0, 1.0, 2.0, 1e30, INF, NAN))
_unary("atanh", np.arctanh, low=-0.9, high=0.9, specials=(-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, NAN))
_unary("log2", np.log2, low=0.1, high=4.0, specials=(-1.0, -0.0, 0.0, 1e-30, 1.0, 8.0, 1e30, INF, NAN))
_unary("log10", np.log10, low=0.1, high=4.0, specials=(-1.0, -0.0, 0.0, 1e-30, 1.0, 100.0, 1e30, INF, NAN))
_unary("exp2", np.exp2, low=-3.0, high=3.0, specials=(-INF, -200.0, -1.0, 0.0, 1.0, 10.0, 200.0, INF, NAN))
_unary("sinc", np.sinc, low=-3.0, high=3.0, specials=(-INF, -2.0, -0.5, -0.0, 0.0, 1e-20, 0.5, 1.0, 1e4, INF, NAN))
# trunc's gradient is 0 but for the jumps at the integers, where random values do not land
_unary("trunc", np.trunc, specials=(-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 1e10, -INF, INF, NAN))
_unary("frac", lambda x: x - np.trunc(x), specials=(-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 1e10, NAN))


_SPECIAL = np.array([-INF, -1e30, -1.0, -0.0, 0.0, 1.0, 1e30, INF, NAN])


def _inf_test(op, reference):
    @register_samples(op)
    def samples():
        for dtype in FLOATS:
            yield Sample((Input(_SPECIAL),), {}, reference, dtype, out_dtype=dtypes.bool_, name="special")
        yield Sample((Input(np.array(-INF)),), {}, reference, F64, out_dtype=dtypes.bool_, name="0d")
        yield Sample((Input(np.zeros((0, 3))),), {}, reference, F64, out_dtype=dtypes.bool_, name="size0")
        yield Sample(
            (Input(np.tile(_SPECIAL, (2, 1)), layout="transposed"),),
            {},
            reference,
            F32,
            out_dtype=dtypes.bool_,
            name="transposed",
        )
        for dtype in INTEGERS + (dtypes.bool_,):
            yield Sample(
                (Input(values((2, 3), 0, 5, integer=True, key=op)),),
                {},
                reference,
                dtype,
                out_dtype=dtypes.bool_,
                name="integers",
            )

    return samples


_inf_test("isinf", np.isinf)
_inf_test("isposinf", np.isposinf)
_inf_test("isneginf", np.isneginf)


@register_samples("nan_to_num")
def _nan_to_num_samples():
    def reference(x, nan, posinf, neginf):
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    for dtype in FLOATS:
        largest = dtypes.float_max(dtype)
        yield Sample(
            (Input(_SPECIAL),),
            {"nan": 0.0, "posinf": largest, "neginf": -largest},
            reference,
            dtype,
            name="defaults",
            grad=False,
        )
    chosen = {"nan": 7.0, "posinf": 100.0, "neginf": -5.0}
    yield Sample((Input(_SPECIAL),), chosen, reference, F64, name="chosen", grad=False)
    # the gradient flows where x is finite
    yield Sample((Input(values((3, 4), key="nan_to_num")),), chosen, reference, F64, name="finite")
    yield Sample((Input(np.array(NAN)),), chosen, reference, F64, name="0d", grad=False)
    yield Sample((Input(np.zeros((0, 2))),), chosen, reference, F64, name="size0")
    for dtype in (dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.bool_):
        yield Sample(
            (Input(values((2, 3), 0, 5, integer=True, key="nan_to_num")),),
            {"nan": 0.0, "posinf": None, "neginf": None},
            lambda x, nan, posinf, neginf: x,
            dtype,
            name="integers",
        )
    yield Sample(
        (Input(_SPECIAL),),
        {},
        lambda x: np.nan_to_num(x, nan=0.0, posinf=dtypes.float_max(F32), neginf=-dtypes.float_max(F32)),
        F32,
        name="public",
        grad=False,
        call=lambda x: _sg().nan_to_num(x),
    )


# --- two inputs -------------------------------------------------------------------------------------
_binary(
    "copysign",
    np.copysign,
    specials=((1.0, -0.0), (-1.0, 0.0), (INF, -1.0), (NAN, -1.0), (-0.0, 2.0), (3.0, NAN), (0.0, -5.0)),
)
_binary(
    "hypot",
    np.hypot,
    specials=((0.0, 0.0), (3.0, 4.0), (1e30, 1e30), (1e200, 1e200), (INF, NAN), (-INF, 1.0), (NAN, 1.0)),
)
_binary(
    "logaddexp",
    np.logaddexp,
    specials=((-INF, -INF), (INF, INF), (-INF, 1.0), (1000.0, 1000.0), (-1000.0, -999.0), (NAN, 1.0)),
)
_binary(
    "logaddexp2",
    np.logaddexp2,
    specials=((-INF, -INF), (INF, INF), (-INF, 1.0), (1000.0, 1000.0), (-1000.0, -999.0), (NAN, 1.0)),
)
_binary(
    "fmod",
    np.fmod,
    b=(0.5, 2.0),
    int_dtypes=SIGNED,
    int_b=(1, 4),
    specials=((7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-7.0, -2.0), (5.5, 1.5), (-0.0, 1.0), (5.0, INF), (1.0, 0.0)),
)


def _isclose_reference(a, b, rtol, atol, equal_nan):
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _close_pair(shape_a=(3, 4), shape_b=(3, 4), key="isclose"):
    a = values(shape_a, key=(key, 0))
    b = a + values(shape_a, -2e-5, 2e-5, key=(key, 1))
    b = b.reshape(shape_a)[tuple(slice(0, s) for s in shape_b)] if shape_b != shape_a else b
    return a, b


@register_samples("isclose")
def _isclose_samples():
    params = {"rtol": 1e-5, "atol": 1e-8, "equal_nan": False}
    a, b = _close_pair()
    for dtype in (F32, F64):
        yield Sample((Input(a), Input(b)), params, _isclose_reference, dtype, out_dtype=dtypes.bool_, name="3x4")
    special_a = np.array([INF, INF, -INF, NAN, NAN, 0.0, 1.0, 1e-9])
    special_b = np.array([INF, -INF, -INF, NAN, 1.0, -0.0, 1.0 + 1e-6, 0.0])
    for equal_nan in (False, True):
        yield Sample(
            (Input(special_a), Input(special_b)),
            {**params, "equal_nan": equal_nan},
            _isclose_reference,
            F64,
            out_dtype=dtypes.bool_,
            name=f"special-equal_nan{equal_nan}",
        )
    yield Sample(
        (Input(a), Input(a[:1])),
        {"rtol": 0.0, "atol": 0.0, "equal_nan": False},
        _isclose_reference,
        F64,
        out_dtype=dtypes.bool_,
        name="bcast-exact",
    )
    yield Sample(
        (Input(a), Input(b)),
        {"rtol": 0.5, "atol": 0.1, "equal_nan": False},
        _isclose_reference,
        F64,
        out_dtype=dtypes.bool_,
        name="loose",
    )
    yield Sample(
        (Input(np.array(1.0)), Input(np.array(1.0 + 1e-7))),
        params,
        _isclose_reference,
        F64,
        out_dtype=dtypes.bool_,
        name="0d",
    )
    ints = values((3, 4), -5, 5, integer=True, key="isclose-int")
    for dtype in (dtypes.int32, dtypes.int64):
        yield Sample(
            (Input(ints), Input(ints + (ints % 2))),
            {"rtol": 0.0, "atol": 1.0, "equal_nan": False},
            _isclose_reference,
            dtype,
            out_dtype=dtypes.bool_,
            name="int",
        )
    yield Sample(
        (Input(np.array([True, False, True])), Input(np.array([True, True, False]))),
        params,
        _isclose_reference,
        dtypes.bool_,
        out_dtype=dtypes.bool_,
        name="bool",
    )
    yield ErrorSample(
        (Input(a), Input(b, dtype=F64)),
        {},
        RuntimeError,
        "isclose: expected both inputs to have the same dtype",
        dtype=F32,
        call=lambda x, y: _sg().isclose(x, y),
        name="dtypes",
    )
    yield ErrorSample(
        (Input(a), Input(b)),
        {},
        RuntimeError,
        "rtol must be greater",
        call=lambda x, y: _sg().isclose(x, y, rtol=-1),
        name="rtol",
    )
    yield ErrorSample((Input(a), Input(b[:2])), params, ValueError, "cannot be broadcast", name="bad-broadcast")


@register_samples("allclose")
def _allclose_samples():
    params = {"rtol": 1e-5, "atol": 1e-8, "equal_nan": False}
    a, b = _close_pair()
    far = b.copy()
    far[1, 2] += 1e-3

    def reference(a, b, rtol, atol, equal_nan):
        return np.array(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))

    for dtype in (F32, F64):
        yield Sample((Input(a), Input(b)), params, reference, dtype, out_dtype=dtypes.bool_, name="close")
        yield Sample((Input(a), Input(far)), params, reference, dtype, out_dtype=dtypes.bool_, name="far")
    nan = np.array([1.0, NAN])
    for equal_nan in (False, True):
        yield Sample(
            (Input(nan), Input(nan)),
            {**params, "equal_nan": equal_nan},
            reference,
            F64,
            out_dtype=dtypes.bool_,
            name=f"nan-{equal_nan}",
        )
    yield Sample((Input(np.zeros((0, 3))), Input(np.zeros((0, 3)))), params, reference, F64, dtypes.bool_, "size0")
    yield Sample(
        (Input(a), Input(far)),
        {},
        lambda a, b: np.array(False),
        F64,
        dtypes.bool_,
        name="public",
        call=lambda x, y: _sg().full((), _sg().allclose(x, y), dtype=dtypes.bool_, device=x.device),
    )
    yield ErrorSample(
        (Input(a), Input(b, dtype=F64)),
        {},
        RuntimeError,
        "allclose: expected both inputs to have the same dtype",
        dtype=F32,
        call=lambda x, y: _sg().allclose(x, y),
        name="dtypes",
    )
