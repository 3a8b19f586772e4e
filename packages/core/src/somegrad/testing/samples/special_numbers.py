"""Samples for `somegrad.ops.special_numbers`: gcd, lcm, ldexp, frexp and nextafter (NumPy's
functions of the same names are the references; frexp's two outputs are checked one at a time,
through the public function)."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    register_samples,
    values,
)

F32, F64 = dtypes.float32, dtypes.float64
INF, NAN = math.inf, math.nan


def _sg():
    import somegrad

    return somegrad


def _integer_pair(op, reference):
    @register_samples(op)
    def samples():
        for dtype in INTEGERS:
            low = 0 if dtype is dtypes.uint8 else -10
            a = values((3, 4), low, 10, integer=True, key=(op, 0))
            b = values((4,), low, 10, integer=True, key=(op, 1))
            yield Sample((Input(a), Input(b)), {}, reference, dtype, name="bcast")
        fibonacci = (np.array([832040, 1, 0, 0]), np.array([514229, 0, 0, 9]))
        yield Sample(tuple(Input(v) for v in fibonacci), {}, reference, dtypes.int64, name="edges")
        yield Sample((Input(np.zeros((0, 2))), Input(np.ones(2))), {}, reference, dtypes.int32, name="size0")
        yield Sample(
            (Input(values((3, 4), -9, 9, integer=True, key=op), layout="transposed"), Input(np.array(6))),
            {},
            reference,
            dtypes.int64,
            name="transposed",
        )
        yield ErrorSample(
            (Input(values((3,))), Input(values((3,)))),
            {},
            RuntimeError,
            "not implemented for float32",
            call=lambda a, b: getattr(_sg(), op)(a, b),
            name="float",
        )

    return samples


_integer_pair("gcd", np.gcd)
_integer_pair("lcm", np.lcm)


@register_samples("ldexp")
def _ldexp_samples():
    def reference(x, e):
        return x * np.power(2.0, e)

    x = values((3, 4), key="ldexp")
    for dtype in FLOATS:
        yield Sample(
            (Input(x), Input(values((4,), -3, 3, integer=True, key="ldexp-e"))), {}, reference, dtype, name="bcast"
        )
    yield Sample((Input(x), Input(values((3, 4), -2.0, 2.0, key="ldexp-f"))), {}, reference, F64, name="float-exponent")
    yield Sample((Input(np.array(1.5)), Input(np.array(-1074.0))), {}, reference, F64, name="0d-subnormal", grad=False)
    yield Sample((Input(x, layout="transposed"), Input(np.array(2.0))), {}, reference, F64, name="transposed")
    yield Sample(
        (Input(values((2, 3), -5, 5, integer=True, key="ldexp-int")), Input(np.array([1, 2, 3]))),
        {},
        reference,
        dtypes.int64,
        out_dtype=F32,
        name="public-int",
        call=lambda a, b: _sg().ldexp(a, b),
    )


_FREXP_EDGES = np.array([0.0, -0.0, 1.0, 0.75, -3.5, 1e-30, 1e30, INF, -INF, NAN])


@register_samples("frexp")
def _frexp_samples():
    def pick(output):
        return lambda t: _sg().frexp(t)[output]

    for dtype in FLOATS:
        for data, label in ((values((3, 4), -100.0, 100.0, key="frexp"), "3x4"), (_FREXP_EDGES, "edges")):
            yield Sample(
                (Input(data),), {}, lambda x: np.frexp(x)[0], dtype, name=f"{label}-mantissa", call=pick(0), grad=False
            )
            yield Sample(
                (Input(data),),
                {},
                lambda x: np.frexp(x)[1].astype(np.int32),
                dtype,
                out_dtype=dtypes.int32,
                name=f"{label}-exponent",
                call=pick(1),
                grad=False,
            )
    for value in (5e-324, 1e308, 2.0**-1022):
        yield Sample(
            (Input(np.array([value, -value])),),
            {},
            lambda x: np.frexp(x)[1].astype(np.int32),
            F64,
            out_dtype=dtypes.int32,
            name=f"range-{value}",
            call=pick(1),
            grad=False,
        )
    yield ErrorSample(
        (Input(np.array([1, 2])),),
        {},
        RuntimeError,
        "only supports floating-point dtypes",
        dtype=dtypes.int64,
        call=lambda x: _sg().frexp(x),
        name="int",
    )


@register_samples("nextafter")
def _nextafter_samples():
    start = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.0, INF, -INF, 1.0, NAN, 2.0, 2.0, 1e-30, 3e38, 0.5])
    to = np.array([2.0, -2.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 3.0, 0.0, INF, -1.0])
    for dtype in (F32, F64):
        yield Sample((Input(start), Input(to)), {}, np.nextafter, dtype, name="edges", grad=False)
        yield Sample(
            (Input(values((3, 4), key="nextafter")), Input(values((4,), key="nextafter-to"))),
            {},
            np.nextafter,
            dtype,
            name="bcast",
            grad=False,
        )
    yield Sample(
        (Input(np.array([5e-324, 1.7976931348623157e308])), Input(np.array([0.0, INF]))),
        {},
        np.nextafter,
        F64,
        name="ends",
        grad=False,
    )
    yield ErrorSample(
        (Input(values((3,))), Input(values((4,)))), {}, ValueError, "cannot be broadcast", name="bad-broadcast"
    )
