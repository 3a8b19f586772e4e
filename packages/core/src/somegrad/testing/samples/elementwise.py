"""Samples for the elementwise ops: unary math, binary arithmetic, comparisons, `where`,
`cast`, clamp, shifts and the elementwise composites (the activations: `activations.py`)."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    ALL,
    FLOATS,
    INTEGERS,
    SIGNED,
    ErrorSample,
    Input,
    Sample,
    distinct,
    register_samples,
    values,
)
from somegrad.testing.samples.complex_numbers import complex_paths

F32, F64 = dtypes.float32, dtypes.float64
INF, NAN = math.inf, math.nan

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _unary(
    op,
    reference,
    *,
    low=-2.0,
    high=2.0,
    specials=(),
    float_dtypes=FLOATS,
    int_dtypes=(),
    grad=True,
    params=None,
    smooth=None,
):
    """Samples of a one-input op: every dtype, 0-d, size-0, non-contiguous, special values.

    `smooth`: values for the gradient samples when random ones could land on a kink."""
    params = params or {}

    def samples():
        yield from complex_paths(op)
        for dtype in float_dtypes:
            yield Sample(
                (Input(values((3, 4), low, high, key=op)),),
                params,
                reference,
                dtype,
                name="3x4",
                grad=grad,
            )
        yield Sample((Input(values((), low, high, key=op)),), params, reference, F64, name="0d", grad=grad)
        yield Sample((Input(values((0, 3), low, high)),), params, reference, F64, name="size0", grad=grad)
        yield Sample(
            (Input(values((3, 4), low, high, key=op), layout="transposed"),),
            params,
            reference,
            F64,
            name="transposed",
            grad=grad,
        )
        yield Sample(
            (Input(values((2, 3), low, high, key=op), layout="stepped"),),
            params,
            reference,
            F32,
            name="stepped",
            grad=False,
        )
        if smooth is not None:
            yield Sample((Input(smooth),), params, reference, F64, name="smooth", grad=grad)
        if specials:
            for dtype in float_dtypes:
                yield Sample(
                    (Input(np.array(specials, dtype=np.float64)),),
                    params,
                    reference,
                    dtype,
                    name="special",
                    grad=False,
                )
        for dtype in int_dtypes:
            low_int = 0 if dtype is dtypes.uint8 else -5
            yield Sample(
                (Input(values((3, 4), low_int, 5, integer=True, key=op)),),
                params,
                reference,
                dtype,
                name="3x4",
            )

    register_samples(op)(samples)


_unary("neg", np.negative, specials=(-INF, -1e30, -0.0, 0.0, 3.5, INF, NAN), int_dtypes=SIGNED)
_unary("exp", np.exp, specials=(-1000.0, -100.0, -1.0, 0.0, 1.0, 88.0, 100.0, 1000.0, -INF, INF))
_unary("log", np.log, low=0.1, high=3.0, specials=(-1.0, 0.0, 1e-30, 1e-5, 1.0, 1e30, INF))
_unary("log1p", np.log1p, low=-0.5, high=2.0, specials=(-1.0, -0.5, 0.0, 1e-10, 1e-3, 1e30, INF))
_unary("expm1", np.expm1, specials=(-100.0, -1e-10, 0.0, 1e-10, 1e-3, 50.0, 100.0))
_unary("sqrt", np.sqrt, low=0.1, high=4.0, specials=(-1.0, 0.0, 1e-30, 4.0, 1e30, INF))
_unary("abs", np.abs, specials=(-INF, -2.0, -0.0, 0.0, 3.0, INF), int_dtypes=SIGNED)
_unary("sign", np.sign, specials=(-INF, -2.0, -0.0, 0.0, 3.0, INF), int_dtypes=SIGNED)
_unary("sin", np.sin, low=-4.0, high=4.0, specials=(-1e4, -math.pi, 0.0, math.pi / 2, 1e4))
_unary("cos", np.cos, low=-4.0, high=4.0, specials=(-1e4, -math.pi, 0.0, math.pi / 2, 1e4))
_unary("tanh", np.tanh, specials=(-1000.0, -20.0, -1.0, 0.0, 1.0, 20.0, 1000.0, -INF, INF))
_unary("erf", _erf, low=-3.0, high=3.0, specials=(-1e4, -3.0, -0.5, 0.0, 0.5, 3.0, 1e4, -INF, INF))
_unary("floor", np.floor, specials=(-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 1e10, -INF, INF))
_unary("ceil", np.ceil, specials=(-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 1e10, -INF, INF))
# Round half to even, as PyTorch and NumPy do.
_unary("round", np.round, specials=(-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 3.5, 1e10, -INF, INF))


@register_samples("clamp")
def _clamp_samples():
    def reference(x, min, max):
        return np.clip(x, -np.inf if min is None else min, np.inf if max is None else max)

    for bounds in ((-0.5, 0.5), (-0.5, None), (None, 0.5)):
        params = {"min": bounds[0], "max": bounds[1]}
        for dtype in FLOATS:
            yield Sample(
                (Input(values((3, 4), key="clamp")),),
                params,
                reference,
                dtype,
                name=f"{bounds[0]}-{bounds[1]}",
            )
    yield Sample((Input(values((), 0.6, 2.0)),), {"min": -0.5, "max": 0.5}, reference, F64, name="0d")
    yield Sample(
        (Input(values((4, 3)), layout="transposed"),),
        {"min": -0.5, "max": 0.5},
        reference,
        F64,
        name="transposed",
    )
    yield ErrorSample(
        (Input(values((3,))),),
        {"min": None, "max": None},
        ValueError,
        "at least one of min and max",
        name="no-bounds",
    )


@register_samples("logical_not")
def _logical_not_samples():
    yield Sample(
        (Input(np.array([[True, False, True], [False, False, True]])),),
        {},
        np.logical_not,
        dtypes.bool_,
    )
    yield Sample((Input(np.array(True)),), {}, np.logical_not, dtypes.bool_, name="0d")
    yield Sample((Input(np.zeros((0, 2), dtype=bool)),), {}, np.logical_not, dtypes.bool_, name="size0")


@register_samples("isfinite")
def _isfinite_samples():
    special = np.array([-INF, -1e30, -1.0, 0.0, 1.0, 1e30, INF, NAN])
    for dtype in FLOATS:
        yield Sample((Input(special),), {}, np.isfinite, dtype, out_dtype=dtypes.bool_, name="special")
    yield Sample((Input(np.array(NAN)),), {}, np.isfinite, F64, out_dtype=dtypes.bool_, name="0d")


@register_samples("isnan")
def _isnan_samples():
    special = np.array([-INF, -1e30, -1.0, 0.0, 1.0, 1e30, INF, NAN])
    for dtype in FLOATS:
        yield Sample((Input(special),), {}, np.isnan, dtype, out_dtype=dtypes.bool_, name="special")
    yield Sample((Input(np.array(NAN)),), {}, np.isnan, F64, out_dtype=dtypes.bool_, name="0d")
    for dtype in INTEGERS + (dtypes.bool_,):
        yield Sample(
            (Input(values((2, 3), 0, 5, integer=True, key="isnan")),),
            {},
            np.isnan,
            dtype,
            out_dtype=dtypes.bool_,
            name="integers",
        )


# reciprocal, rsqrt and square are implicit composites: their gradients are the primitives'.
_unary("reciprocal", np.reciprocal, low=0.5, high=3.0, specials=(-INF, -2.0, -0.0, 0.0, 0.5, 1e30, INF))
_unary("rsqrt", lambda x: 1 / np.sqrt(x), low=0.25, high=4.0, specials=(-1.0, 0.0, 1e-30, 4.0, 1e30, INF))
_unary("square", np.square, specials=(-INF, -1e30, -2.0, -0.0, 0.0, 3.0, INF, NAN), int_dtypes=SIGNED)


def _three_input(op, reference, *, params=None, low=(-2.0, -2.0, -2.0), high=(2.0, 2.0, 2.0)):
    """Samples of lerp, addcmul and addcdiv: three inputs that broadcast, every float dtype."""
    params = params or {}

    def samples():
        shapes = {"3x4": ((3, 4), (3, 4), (3, 4)), "bcast": ((3, 1), (4,), (3, 4)), "0d": ((), (2,), ())}
        for name, three in shapes.items():
            inputs = tuple(
                Input(values(shape, lo, hi, key=(op, i))) for i, (shape, lo, hi) in enumerate(zip(three, low, high))
            )
            yield Sample(inputs, params, reference, F64, name=name)
        for dtype in FLOATS:
            inputs = tuple(
                Input(values((3, 4), lo, hi, key=(op, i, "dtype"))) for i, (lo, hi) in enumerate(zip(low, high))
            )
            yield Sample(inputs, params, reference, dtype, name="3x4-dtype")
        yield Sample(
            tuple(
                Input(values((2, 3), lo, hi, key=(op, i)), layout="transposed")
                for i, (lo, hi) in enumerate(zip(low, high))
            ),
            params,
            reference,
            F64,
            name="transposed",
        )
        yield Sample(
            tuple(Input(values((0, 3), lo, hi)) for lo, hi in zip(low, high)), params, reference, F64, name="size0"
        )

    register_samples(op)(samples)


_three_input("lerp", lambda start, end, weight: start + weight * (end - start))
_three_input("addcmul", lambda x, t1, t2, value: x + value * t1 * t2, params={"value": 0.5})
_three_input(
    "addcdiv",
    lambda x, t1, t2, value: x + value * t1 / t2,
    params={"value": -2.0},
    low=(-2.0, -2.0, 0.5),
    high=(2.0, 2.0, 2.0),
)


def _shift_reference(left):
    def ref(a, b):
        # Python ints shift without limits; the result wraps into a's dtype (b >= 0 here)
        out = np.vectorize(lambda x, y: (int(x) << int(y)) if left else (int(x) >> int(y)), otypes=[object])(a, b)
        bits = 8 * a.dtype.itemsize
        wrapped = np.vectorize(lambda v: v % (1 << bits), otypes=[object])(out).astype(np.uint64)
        return wrapped.astype(a.dtype)

    return ref


def _shift_samples(op, left):
    @register_samples(op)
    def samples():
        for dtype in INTEGERS:
            bits = 8 * dtype.itemsize
            low = 0 if dtype is dtypes.uint8 else -100
            a = values((3, 4), low, 100, integer=True, key=op)
            b = values((3, 4), 0, bits + 2, integer=True, key=(op, "b"))
            yield Sample((Input(a), Input(b)), {}, _shift_reference(left), dtype, name="3x4")
            yield Sample((Input(a), Input(np.array(3))), {}, _shift_reference(left), dtype, name="bcast")
        yield ErrorSample(
            (Input(values((2,))), Input(np.array(1.0))),
            {},
            RuntimeError,
            "accepts only",
            dtype=F32,
            name="float",
        )

    return samples


_shift_samples("bitwise_left_shift", True)
_shift_samples("bitwise_right_shift", False)


# --- binary ops ------------------------------------------------------------------------------
_PAIRS = (
    ("3x4", (3, 4), (3, 4), None),
    ("bcast", (3, 1), (1, 4), None),
    ("bcast-rank", (2, 3, 4), (4,), None),
    ("0d", (), (3,), None),
    ("0d-0d", (), (), None),
    ("size0", (0, 3), (1, 3), None),
    ("transposed", (3, 4), (3, 4), "transposed"),
    ("stepped", (2, 3), (2, 3), "stepped"),
)


def _binary(
    op,
    reference,
    *,
    a=(-2.0, 2.0),
    b=(-2.0, 2.0),
    float_dtypes=FLOATS,
    int_dtypes=(),
    specials=None,
    out_dtype=None,
    grad=True,
    int_b=None,
    ties=False,
    bool_dtype=False,
):
    """Samples of a two-input op: every dtype, broadcasting pairs, 0-d, size-0, non-contiguous."""

    def samples():
        yield from complex_paths(op)
        for name, shape_a, shape_b, layout in _PAIRS:
            first = Input(values(shape_a, *a, key=(op, 0)), layout=layout or "contiguous")
            second = Input(
                values(shape_b, *b, key=(op, 1)),
                layout="contiguous" if layout != "stepped" else layout,
            )
            yield Sample((first, second), {}, reference, F64, out_dtype, name=name, grad=grad)
        for dtype in float_dtypes:
            yield Sample(
                (Input(values((3, 4), *a, key=(op, 2))), Input(values((3, 4), *b, key=(op, 3)))),
                {},
                reference,
                dtype,
                out_dtype,
                name="3x4-dtype",
                grad=grad,
            )
        if ties:
            tied = distinct((3, 4))
            other = tied.copy()
            other[::2] += 0.5
            yield Sample(
                (Input(tied), Input(other)),
                {},
                reference,
                F64,
                out_dtype,
                name="ties",
                grad=grad,
                grad_order=1,
            )
        if specials is not None:
            first, second = (np.array(column, dtype=np.float64) for column in zip(*specials))
            for dtype in (F32, F64):
                yield Sample(
                    (Input(first), Input(second)),
                    {},
                    reference,
                    dtype,
                    out_dtype,
                    name="special",
                    grad=False,
                )
        for dtype in int_dtypes:
            low = 0 if dtype is dtypes.uint8 else -6
            b_low, b_high = int_b or (low, 6)
            yield Sample(
                (
                    Input(values((3, 4), low, 6, integer=True, key=(op, 4))),
                    Input(values((3, 4), b_low, b_high, integer=True, key=(op, 5))),
                ),
                {},
                reference,
                dtype,
                out_dtype,
                name="int",
            )
            yield Sample(
                (
                    Input(values((3, 1), low, 6, integer=True)),
                    Input(values((4,), b_low, b_high, integer=True)),
                ),
                {},
                reference,
                dtype,
                out_dtype,
                name="int-bcast",
            )
        if bool_dtype:
            pattern = np.array([[True, False], [False, True]])
            yield Sample(
                (Input(pattern), Input(np.array([True, False]))),
                {},
                reference,
                dtypes.bool_,
                out_dtype,
                name="bool",
            )
        yield ErrorSample(
            (Input(values((3,))), Input(values((4,)))),
            {},
            ValueError,
            "cannot be broadcast",
            name="bad-broadcast",
        )
        yield ErrorSample(
            (Input(values((2, 3))), Input(values((3, 2)))),
            {},
            ValueError,
            "size 2 and size 3 differ at dimension -2",
            name="bad-broadcast-2d",
        )

    register_samples(op)(samples)


_NUMERIC_INTS = INTEGERS
_binary(
    "add",
    np.add,
    int_dtypes=_NUMERIC_INTS,
    specials=((INF, 1.0), (INF, -INF), (-0.0, 0.0), (1e30, 1e30)),
)
_binary(
    "sub",
    np.subtract,
    int_dtypes=_NUMERIC_INTS,
    specials=((INF, INF), (1.0, 1.0), (-0.0, 0.0), (-1e30, 1e30)),
)
_binary(
    "mul",
    np.multiply,
    int_dtypes=_NUMERIC_INTS,
    specials=((INF, 0.0), (-INF, 2.0), (1e30, 1e30), (-0.0, 5.0)),
)
_binary(
    "div",
    np.divide,
    b=(0.5, 2.0),
    specials=((1.0, 0.0), (-1.0, 0.0), (0.0, 0.0), (1e30, 1e-30), (INF, INF)),
)
_binary(
    "atan2",
    np.arctan2,
    float_dtypes=FLOATS,
    specials=((0.0, 0.0), (0.0, -1.0), (-0.0, -1.0), (1.0, 0.0), (INF, INF), (-INF, 1.0)),
)
_binary(
    "pow",
    np.power,
    a=(0.5, 2.0),
    int_dtypes=(dtypes.int64,),
    int_b=(0, 3),
    specials=(
        (0.0, 0.0),
        (0.0, -1.0),
        (0.0, 2.0),
        (-2.0, 2.0),
        (-2.0, 0.5),
        (10.0, 100.0),
        (INF, -1.0),
    ),
)
_binary(
    "maximum",
    np.maximum,
    int_dtypes=_NUMERIC_INTS,
    ties=True,
    specials=((NAN, 1.0), (1.0, NAN), (-INF, INF), (-0.0, 0.0)),
)
_binary(
    "minimum",
    np.minimum,
    int_dtypes=_NUMERIC_INTS,
    ties=True,
    specials=((NAN, 1.0), (1.0, NAN), (-INF, INF), (-0.0, 0.0)),
)
_binary(
    "floor_divide",
    np.floor_divide,
    b=(0.5, 2.0),
    int_dtypes=SIGNED,
    int_b=(1, 4),
    specials=((7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-7.0, -2.0), (1.0, 0.0)),
)
_binary(
    "remainder",
    np.remainder,
    b=(0.5, 2.0),
    int_dtypes=SIGNED,
    int_b=(1, 4),
    specials=((7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-7.0, -2.0), (5.5, 1.5)),
)
for _op, _fn in (("eq", np.equal), ("ne", np.not_equal)):
    _binary(
        _op,
        _fn,
        int_dtypes=INTEGERS,
        out_dtype=dtypes.bool_,
        ties=True,
        bool_dtype=True,
        specials=((NAN, NAN), (INF, INF), (-0.0, 0.0), (1.0, 2.0)),
    )
for _op, _fn in (
    ("lt", np.less),
    ("le", np.less_equal),
    ("gt", np.greater),
    ("ge", np.greater_equal),
):
    _binary(
        _op,
        _fn,
        int_dtypes=INTEGERS,
        out_dtype=dtypes.bool_,
        ties=True,
        specials=((NAN, 1.0), (-INF, INF), (-0.0, 0.0), (1.0, 1.0)),
    )


def _logical(op, reference):
    @register_samples(op)
    def samples():
        a = np.array([[True, True], [False, False]])
        b = np.array([[True, False], [True, False]])
        yield Sample((Input(a), Input(b)), {}, reference, dtypes.bool_, name="2x2")
        yield Sample((Input(a), Input(np.array([True, False]))), {}, reference, dtypes.bool_, name="bcast")
        yield Sample((Input(np.array(True)), Input(b)), {}, reference, dtypes.bool_, name="0d")
        yield Sample(
            (Input(np.zeros((0, 2), bool)), Input(np.ones((1, 2), bool))),
            {},
            reference,
            dtypes.bool_,
            name="size0",
        )
        yield ErrorSample(
            (Input(a), Input(np.ones(3, bool))),
            {},
            ValueError,
            "cannot be broadcast",
            dtypes.bool_,
            name="bad-broadcast",
        )


_logical("logical_and", np.logical_and)
_logical("logical_or", np.logical_or)
_logical("logical_xor", np.logical_xor)


@register_samples("where")
def _where_samples():
    condition = values((3, 4), key="where") > 0
    for dtype in ALL:
        low = 0 if dtype in (dtypes.uint8, dtypes.bool_) else -3
        integer = not dtype.is_floating_point
        a = values((3, 4), low, 3, integer=integer, key="a")
        b = values((3, 4), low, 3, integer=integer, key="b")
        if dtype is dtypes.bool_:
            a, b = a > 1, b > 1
        yield Sample((Input(condition, dtypes.bool_), Input(a), Input(b)), {}, np.where, dtype, name="3x4")
    shapes = (
        ("bcast", (3, 1), (1, 4), (3, 4)),
        ("0d", (), (2,), ()),
        ("size0", (0, 1), (0, 3), (1, 3)),
    )
    for name, shape_c, shape_a, shape_b in shapes:
        yield Sample(
            (
                Input(values(shape_c) > 0, dtypes.bool_),
                Input(values(shape_a)),
                Input(values(shape_b)),
            ),
            {},
            np.where,
            F64,
            name=name,
        )
    yield Sample(
        (
            Input(condition, dtypes.bool_),
            Input(values((3, 4)), layout="transposed"),
            Input(values((3, 4)), layout="stepped"),
        ),
        {},
        np.where,
        F64,
        name="non-contiguous",
    )
    yield Sample(
        (Input(condition, dtypes.bool_), Input(np.full((3, 4), NAN)), Input(np.full((3, 4), INF))),
        {},
        np.where,
        F32,
        name="special",
        grad=False,
    )
    yield ErrorSample(
        (Input(np.ones(3, bool), dtypes.bool_), Input(values((4,))), Input(values((4,)))),
        {},
        ValueError,
        "cannot be broadcast",
        name="bad-broadcast",
    )


@register_samples("cast")
def _cast_samples():
    from somegrad.testing.samples import numpy_dtype

    def reference(x, dtype):
        target = numpy_dtype(dtype)
        if target is None:  # bfloat16 without ml_dtypes: compare at float32
            target = np.dtype(np.float32)
        with np.errstate(invalid="ignore", over="ignore"):
            return x.astype(target)

    floats = values((3, 4), -100.0, 100.0, key="cast")
    for target in ALL:
        source = floats if target is not dtypes.uint8 else np.abs(floats)
        yield Sample(
            (Input(source),),
            {"dtype": target},
            reference,
            F64,
            out_dtype=target,
            name=f"to-{target.name}",
            grad=target is F64,
        )
        yield Sample(
            (Input(source),),
            {"dtype": target},
            reference,
            F32,
            out_dtype=target,
            name=f"to-{target.name}",
            grad=False,
        )
    for source in (dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool_):
        ints = values((3, 4), 0, 100, integer=True, key="cast-int")
        if source is dtypes.bool_:
            ints = ints > 50
        for target in (F32, F64, dtypes.int64, dtypes.bool_):
            yield Sample(
                (Input(ints),),
                {"dtype": target},
                reference,
                source,
                out_dtype=target,
                name=f"to-{target.name}",
            )
    # Casting a float to an int truncates towards zero; 0-d and size-0 keep their shapes.
    yield Sample(
        (Input(np.array([-2.7, -0.5, 0.5, 2.7])),),
        {"dtype": dtypes.int32},
        reference,
        F64,
        out_dtype=dtypes.int32,
        name="truncate",
    )
    yield Sample(
        (Input(np.array(1.5)),),
        {"dtype": F32},
        reference,
        F64,
        out_dtype=F32,
        name="0d",
        grad=False,
    )
    yield Sample(
        (Input(np.zeros((0, 3))),),
        {"dtype": dtypes.int64},
        reference,
        F32,
        out_dtype=dtypes.int64,
        name="size0",
    )
    yield Sample(
        (Input(values((4, 3)), layout="transposed"),),
        {"dtype": F64},
        reference,
        F64,
        name="transposed",
    )
    yield Sample(
        (Input(np.array([1e5, -1e5, 1e-8, INF, NAN])),),
        {"dtype": dtypes.float16},
        reference,
        F64,
        out_dtype=dtypes.float16,
        name="overflow",
        grad=False,
    )


# The activations' samples live in their own module; importing it registers them.
from somegrad.testing.samples import activations  # noqa: E402, F401
