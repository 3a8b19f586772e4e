"""Samples for `somegrad.ops.complex_numbers` (and the complex paths of the elementwise ops).

The suite's inputs and outputs are real: each sample makes its complex values from real inputs
(`complex(a, b)`) and returns real ones (`view_as_real`, the parts, `abs`), so that values are
compared and gradients checked against finite differences through the complex ops. The
references are NumPy's complex arithmetic.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import ErrorSample, Input, Sample, register_samples, values

F32, F64 = dtypes.float32, dtypes.float64


def complex_sample(*args, **kwargs) -> Sample:
    """A `Sample` whose call makes complex values on the way: it names the complex dtype it uses
    in `params` (the suite runs it only on backends that hold that dtype; its call ignores it)."""
    sample = Sample(*args, **kwargs)
    uses = dtypes.to_complex(sample.dtype if sample.dtype.is_floating_point else dtypes.float32)
    reference = sample.reference
    sample.params = {**sample.params, "uses": uses}
    sample.reference = lambda *host, uses=None, **params: reference(*host, **params)
    return sample


def complex_error(inputs, error, match, **kwargs) -> ErrorSample:
    """An `ErrorSample` whose call makes complex values (see `complex_sample`)."""
    return ErrorSample(inputs, {"uses": dtypes.complex128}, error, match, **kwargs)


# (name, shape of a, shape of b, layout of a)
_PAIRS = (
    ("3x4", (3, 4), (3, 4), "contiguous"),
    ("bcast", (3, 1), (4,), "contiguous"),
    ("0d", (), (), "contiguous"),
    ("size0", (0, 3), (0, 3), "contiguous"),
    ("transposed", (3, 4), (3, 4), "transposed"),
)


def _sg():
    import somegrad

    return somegrad


def _stack(z):
    z = np.asarray(z)
    return np.stack([z.real, z.imag], axis=-1)


def _as_real(z):
    return _sg().view_as_real(z)


def _pairs(op, call, reference, *, low=-2.0, high=2.0, grad=True):
    """Samples of `call(a, b)` over the shapes in `_PAIRS`, float64 and float32."""
    for name, shape_a, shape_b, layout in _PAIRS:
        yield complex_sample(
            (Input(values(shape_a, low, high, key=(op, 0)), layout=layout), Input(values(shape_b, key=(op, 1)))),
            reference=reference,
            dtype=F64,
            name=name,
            call=call,
            grad=grad,
        )
    yield complex_sample(
        (Input(values((3, 4), low, high, key=(op, 0))), Input(values((3, 4), key=(op, 1)))),
        reference=reference,
        dtype=F32,
        name="3x4",
        call=call,
        grad=grad,
    )


def _z(a, b):
    return _sg().complex(a, b)


@register_samples("complex")
def _complex_samples():
    yield from _pairs("complex", lambda a, b: _as_real(_z(a, b)), lambda a, b: _stack(a + 1j * b))
    int_input = Input(np.arange(3), dtypes.int64)
    yield ErrorSample((int_input, int_input), {}, RuntimeError, "accepts only float32, float64", name="int64")
    yield ErrorSample((Input(values((3,))), Input(values((3,)), F64)), {}, RuntimeError, "the same dtype", name="mixed")
    yield ErrorSample((Input(values((3,))), Input(values((4,)))), {}, RuntimeError, "complex", name="shapes")


@register_samples("real")
def _real_samples():
    yield from _pairs("real", lambda a, b: _z(a, b).real * 1.5, lambda a, b: np.real(a + 1j * b) * 1.5)
    yield ErrorSample((Input(values((3,))),), {}, RuntimeError, "accepts only complex64, complex128", name="float")


@register_samples("imag")
def _imag_samples():
    yield from _pairs("imag", lambda a, b: _z(a, b).imag * 1.5, lambda a, b: np.imag(a + 1j * b) * 1.5)
    yield ErrorSample(
        (Input(values((3,))),), {}, RuntimeError, "non-complex", name="float", call=lambda x: _sg().imag(x)
    )


@register_samples("conj")
def _conj_samples():
    yield from _pairs("conj", lambda a, b: _as_real(_z(a, b).conj()), lambda a, b: _stack(np.conj(a + 1j * b)))
    # a product with the conjugate: |z|^2, whose gradient is 2z
    yield complex_sample(
        (Input(values((3, 4), key="conj-a")), Input(values((3, 4), key="conj-b"))),
        reference=lambda a, b: np.real((a + 1j * b) * np.conj(a + 1j * b)),
        dtype=F64,
        name="times-self",
        call=lambda a, b: (_z(a, b) * _z(a, b).conj()).real,
    )


@register_samples("view_as_real")
def _view_as_real_samples():
    yield from _pairs("view_as_real", lambda a, b: _as_real(_z(a, b)) * 2.0, lambda a, b: _stack(a + 1j * b) * 2.0)
    yield ErrorSample((Input(values((3,))),), {}, RuntimeError, "accepts only complex64, complex128", name="float")


def _complex_of(x):
    return x[..., 0] + 1j * x[..., 1]


@register_samples("view_as_complex")
def _view_as_complex_samples():
    for name, shape in (("3x2", (3, 2)), ("2x3x2", (2, 3, 2)), ("1d", (2,))):
        for dtype in (F64, F32):
            yield complex_sample(
                (Input(values(shape, 0.5, 2.0, key=name)),),
                reference=lambda x: _stack(_complex_of(x) * (1 - 2j)),
                dtype=dtype,
                name=name,
                call=lambda x: _as_real(_sg().view_as_complex(x) * (1 - 2j)),
            )
    yield complex_sample(
        (Input(values((0, 2))),),
        reference=lambda x: np.abs(_complex_of(x)),
        dtype=F64,
        name="size0",
        call=lambda x: _sg().view_as_complex(x).abs(),
    )
    yield ErrorSample((Input(values((3, 3))),), {}, RuntimeError, "last dimension of size 2", name="size")
    yield ErrorSample(
        (Input(np.ones((3, 2)), dtypes.int64),), {}, RuntimeError, "accepts only float32, float64", name="int"
    )


@register_samples("polar")
def _polar_samples():
    yield from _pairs(
        "polar",
        lambda r, t: _as_real(_sg().polar(r, t)),
        lambda r, t: _stack(r * np.exp(1j * t)),
        low=0.1,
        high=2.0,
    )
    yield ErrorSample((Input(values((3,))), Input(values((3,)), F64)), {}, RuntimeError, "same dtype", name="mixed")


@register_samples("angle")
def _angle_samples():
    yield from _pairs("angle", lambda a, b: _z(a, b).angle(), lambda a, b: np.angle(a + 1j * b))
    for dtype in (F64, F32):
        yield Sample(
            (Input(np.array([-2.0, -0.5, 0.5, 3.0, np.nan])),),
            reference=lambda x: np.where(np.isnan(x), x, np.where(x < 0, np.pi, 0.0)),
            dtype=dtype,
            name="real",
            grad=False,
        )
    yield Sample(
        (Input(values((3, 4), 0.1, 2.0)),),
        reference=lambda x: np.zeros_like(x),
        dtype=F64,
        name="real-positive",
    )
    yield Sample(
        (Input(np.array([-3, 0, 2]), dtypes.int64),),
        reference=lambda x: np.where(x < 0, np.pi, 0.0),
        dtype=F32,
        name="int",
        call=lambda x: _sg().angle(x),
    )


@register_samples("sgn")
def _sgn_samples():
    yield from _pairs("sgn", lambda a, b: _as_real(_z(a, b).sgn()), lambda a, b: _stack(np.sign(a + 1j * b)))
    yield complex_sample(
        (Input(np.array([[0.0, 1.0], [0.0, -2.0]])), Input(np.array([[0.0, 0.0], [3.0, 0.0]]))),
        reference=lambda a, b: _stack(np.where(a**2 + b**2 == 0, 0, (a + 1j * b) / np.maximum(np.hypot(a, b), 1e-300))),
        dtype=F64,
        name="zero",
        call=lambda a, b: _as_real(_z(a, b).sgn()),
        grad=False,
    )
    yield Sample((Input(np.array([-2.0, 0.5, 3.0])),), reference=np.sign, dtype=F64, name="real")


def _bits(dtype_name):
    return lambda x, dtype: x.astype(np.float32).view(dtype_name)


@register_samples("view_dtype")
def _view_dtype_samples():
    x = values((3, 4), key="view")
    yield Sample((Input(x),), {"dtype": dtypes.int32}, _bits(np.int32), F32, dtypes.int32, name="int32", grad=False)
    yield Sample((Input(x),), {"dtype": dtypes.int16}, _bits(np.int16), F32, dtypes.int16, name="int16", grad=False)
    yield Sample((Input(x),), {"dtype": dtypes.int64}, _bits(np.int64), F32, dtypes.int64, name="int64", grad=False)
    yield Sample((Input(x),), {"dtype": dtypes.uint8}, _bits(np.uint8), F32, dtypes.uint8, name="uint8", grad=False)
    yield Sample(
        (Input(x, layout="stepped"),),
        {"dtype": dtypes.int32},
        _bits(np.int32),
        F32,
        dtypes.int32,
        name="same-size-stepped",
        grad=False,
    )
    yield Sample(
        (
            Input(
                values(()),
            ),
        ),
        {"dtype": dtypes.int32},
        _bits(np.int32),
        F32,
        dtypes.int32,
        name="0d-same-size",
        grad=False,
    )
    yield Sample(
        (Input(values((4, 0))),),
        {"dtype": dtypes.int64},
        _bits(np.int64),
        F32,
        dtypes.int64,
        name="size0",
        grad=False,
    )
    yield Sample(
        (Input(x, F64),),
        {"dtype": dtypes.int32},
        lambda x, dtype: x.view(np.int32),
        F64,
        dtypes.int32,
        name="float64-int32",
        grad=False,
    )
    yield ErrorSample((Input(values((3, 3))),), {"dtype": dtypes.float64}, RuntimeError, "divisible by 2", name="size")
    yield ErrorSample((Input(values(())),), {"dtype": dtypes.float64}, RuntimeError, "cannot be 0", name="0d")
    # (the layout errors depend on the backend's strides: tests/core/test_complex.py has them)


# --- the complex paths of the elementwise ops: {op: (call of (a, b) or (a, b, c, d), reference, low)}
def _c(a, b):
    return a + 1j * b


_UNARY_PATHS = {
    "neg": (lambda z: -z, np.negative, -2.0),
    "log": (lambda z: z.log(), np.log, 0.5),
    "sqrt": (lambda z: z.sqrt(), np.sqrt, 0.5),
    "sin": (lambda z: z.sin(), np.sin, -2.0),
    "cos": (lambda z: z.cos(), np.cos, -2.0),
    "tanh": (lambda z: z.tanh(), np.tanh, -1.0),
    "reciprocal": (lambda z: z.reciprocal(), np.reciprocal, 0.5),
    "rsqrt": (lambda z: z.rsqrt(), lambda z: 1 / np.sqrt(z), 0.5),
    "square": (lambda z: z.square(), np.square, -2.0),
    "exp": (lambda z: z.exp(), np.exp, -2.0),
}
_BINARY_PATHS = {
    "add": (lambda z, w: z + w, np.add),
    "sub": (lambda z, w: z - w, np.subtract),
    "mul": (lambda z, w: z * w, np.multiply),
    "div": (lambda z, w: z / (w + 3), lambda z, w: z / (w + 3)),
    "pow": (lambda z, w: (z + 3) ** (w * 0.5), lambda z, w: (z + 3) ** (w * 0.5)),
}


def complex_paths(op):
    """Samples of `op` on complex values (none for an op without a complex path): unary ops on
    `complex(a, b)`, binary ones on two complex operands and on a complex and a real one."""
    if op in _UNARY_PATHS:
        fn, reference, low = _UNARY_PATHS[op]
        for dtype in (F64, F32):
            yield complex_sample(
                (Input(values((3, 4), low, 2.0, key=(op, "re"))), Input(values((3, 4), key=(op, "im")))),
                reference=lambda a, b, reference=reference: _stack(reference(_c(a, b))),
                dtype=dtype,
                name="complex",
                call=lambda a, b, fn=fn: _as_real(fn(_z(a, b))),
            )
    elif op == "abs":
        for dtype in (F64, F32):
            yield complex_sample(
                (Input(values((3, 4), key=(op, "re"))), Input(values((3, 4), key=(op, "im")))),
                reference=lambda a, b: np.abs(_c(a, b)),
                dtype=dtype,
                name="complex",
                call=lambda a, b: _z(a, b).abs(),
            )
    elif op in _BINARY_PATHS:
        fn, reference = _BINARY_PATHS[op]
        four = tuple(Input(values(shape, key=(op, i))) for i, shape in enumerate([(3, 4), (3, 4), (3, 1), (3, 1)]))
        for dtype in (F64, F32):
            yield complex_sample(
                four,
                reference=lambda a, b, c, d, reference=reference: _stack(reference(_c(a, b), _c(c, d))),
                dtype=dtype,
                name="complex",
                call=lambda a, b, c, d, fn=fn: _as_real(fn(_z(a, b), _z(c, d))),
            )
        yield complex_sample(
            four[:3],
            reference=lambda a, b, c, reference=reference: _stack(reference(_c(a, b), c)),
            dtype=F64,
            name="complex-real",
            call=lambda a, b, c, fn=fn: _as_real(fn(_z(a, b), c)),
        )
        yield complex_sample(
            four[:1],
            reference=lambda a, reference=reference: _stack(reference(a, 1.5 - 2j)),
            dtype=F64,
            name="python-complex",
            call=lambda a, fn=fn: _as_real(fn(a, 1.5 - 2j)),
        )
