"""Samples for the activations: sigmoid, silu, gelu, softplus, leaky_relu, elu (with selu's and
celu's parameters), hardtanh, hardsigmoid, hardswish, softsign, logsigmoid, mish and the fused
backward ops of relu and gelu."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    FLOATS,
    ErrorSample,
    Input,
    Sample,
    distinct,
    register_samples,
    values,
)
from somegrad.testing.samples.elementwise import _erf, _unary

F32, F64 = dtypes.float32, dtypes.float64
INF, NAN = math.inf, math.nan


_unary(
    "sigmoid",
    lambda x: 1 / (1 + np.exp(-x)),
    low=-6.0,
    high=6.0,
    specials=(-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0, -INF, INF),
)
_unary(
    "relu",
    lambda x: np.maximum(x, 0),
    specials=(-INF, -1.0, -0.0, 0.0, 2.0, INF),
    grad=True,
    smooth=distinct((3, 4)),
)


def _gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


_GELU_SPECIALS = (-100.0, -5.0, -1.0, 0.0, 1.0, 5.0, 100.0)
_unary("silu", lambda x: x / (1 + np.exp(-x)), low=-5.0, high=5.0, specials=_GELU_SPECIALS)


@register_samples("gelu")
def _gelu_samples():
    for approximate in ("none", "tanh"):
        params = {"approximate": approximate}
        for dtype in FLOATS:
            yield Sample((Input(values((3, 4), -4, 4)),), params, _gelu, dtype, name=approximate)
        yield Sample((Input(values((), -4, 4)),), params, _gelu, F64, name=f"{approximate}-0d")
        yield Sample(
            (Input(values((4, 3), -4, 4), layout="transposed"),),
            params,
            _gelu,
            F64,
            name=f"{approximate}-transposed",
        )
        yield Sample(
            (Input(np.array(_GELU_SPECIALS)),),
            params,
            _gelu,
            F32,
            name=f"{approximate}-special",
            grad=False,
        )
    yield ErrorSample(
        (Input(values((3,))),),
        {"approximate": "exact"},
        ValueError,
        "approximate must be 'none' or 'tanh'",
        name="bad-approximate",
    )


def _gelu_derivative(x, g, approximate):
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x**3))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return g * (0.5 * (1 + _erf(x / math.sqrt(2))) + x * pdf)


def _input_grad_call(op, **params):
    """The gradient of the elementwise op `op` at x for the cotangent g: what runs its backward op
    (`gelu_backward`, `relu_backward`)."""

    def call(x, g):
        from somegrad import autograd
        from somegrad.ops import elementwise

        x = x.detach().requires_grad_()
        return autograd.grad(getattr(elementwise, op)(x, **params), [x], grad_outputs=g)[0]

    return call


def _gelu_grad_call(approximate):
    return _input_grad_call("gelu", approximate=approximate)


@register_samples("gelu_backward")
def _gelu_backward_samples():
    for approximate in ("none", "tanh"):
        reference = lambda x, g, approximate=approximate: _gelu_derivative(x, g, approximate)  # noqa: E731
        for dtype in FLOATS:
            yield Sample(
                (Input(values((3, 4), -4, 4)), Input(values((3, 4), key="g"))),
                {},
                reference,
                dtype,
                name=approximate,
                grad=False,
                call=_gelu_grad_call(approximate),
            )
        yield Sample(
            (Input(values((4, 3), -4, 4), layout="transposed"), Input(values((4, 3), key="g"))),
            {},
            reference,
            F64,
            name=f"{approximate}-transposed",
            grad=False,
            call=_gelu_grad_call(approximate),
        )
        yield Sample(
            (Input(np.array(_GELU_SPECIALS)), Input(np.ones(len(_GELU_SPECIALS)))),
            {},
            reference,
            F32,
            name=f"{approximate}-special",
            grad=False,
            call=_gelu_grad_call(approximate),
        )


@register_samples("relu_backward")
def _relu_backward_samples():
    call = _input_grad_call("relu")
    reference = lambda x, g: g * (x > 0)  # noqa: E731  (relu's output is positive where x is)
    for dtype in FLOATS:
        yield Sample(
            (Input(values((3, 4), -2, 2)), Input(values((3, 4), key="g"))),
            {},
            reference,
            dtype,
            grad=False,
            call=call,
        )
    yield Sample(
        (Input(values((4, 3), -2, 2), layout="transposed"), Input(values((4, 3), key="g"))),
        {},
        reference,
        F64,
        name="transposed",
        grad=False,
        call=call,
    )
    # zero itself gets no gradient, as in PyTorch
    yield Sample(
        (Input(np.array([-1.0, 0.0, 2.0, -0.0])), Input(np.array([3.0, 5.0, 7.0, 11.0]))),
        {},
        reference,
        F32,
        name="zero",
        grad=False,
        call=call,
    )


def _softplus(x, beta, threshold):
    with np.errstate(over="ignore"):
        return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)


@register_samples("softplus")
def _softplus_samples():
    for beta, threshold in ((1.0, 20.0), (2.0, 5.0)):
        params = {"beta": beta, "threshold": threshold}
        for dtype in FLOATS:
            yield Sample((Input(values((3, 4), -4, 2)),), params, _softplus, dtype, name=f"beta{beta}")
        yield Sample((Input(values((), -4, 2)),), params, _softplus, F64, name=f"beta{beta}-0d")
        yield Sample(
            (Input(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])),),
            params,
            _softplus,
            F32,
            name=f"beta{beta}-special",
            grad=False,
        )
    yield Sample(
        (Input(values((3, 4), -4, 4), layout="transposed"),),
        {"beta": 1.0, "threshold": 20.0},
        _softplus,
        F64,
        name="transposed",
    )


@register_samples("leaky_relu")
def _leaky_relu_samples():
    def reference(x, negative_slope):
        return np.where(x > 0, x, x * negative_slope)

    for slope in (0.01, 0.2):
        for dtype in FLOATS:
            yield Sample(
                (Input(distinct((3, 4))),),
                {"negative_slope": slope},
                reference,
                dtype,
                name=f"slope{slope}",
            )
    yield Sample((Input(np.array(-1.5)),), {"negative_slope": 0.1}, reference, F64, name="0d")
    yield Sample(
        (Input(np.array([-INF, -1.0, 0.0, 2.0, INF])),),
        {"negative_slope": 0.1},
        reference,
        F32,
        name="special",
        grad=False,
    )


# --- elu, hardtanh, hard*, softsign, logsigmoid, mish ------------------------------------------
_SELU = {"alpha": 1.6732632423543772, "scale": 1.0507009873554805, "input_scale": 1.0}
_SPECIALS = (-1000.0, -50.0, -3.0, -1.0, -0.0, 0.0, 0.5, 3.0, 50.0, 1000.0, -INF, INF)


def _elu_reference(x, alpha, scale, input_scale):
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) * input_scale))


@register_samples("elu")
def _elu_samples():
    forms = {
        "elu": {"alpha": 1.0, "scale": 1.0, "input_scale": 1.0},
        "alpha0.5": {"alpha": 0.5, "scale": 1.0, "input_scale": 1.0},
        "selu": _SELU,
        "celu2": {"alpha": 2.0, "scale": 1.0, "input_scale": 0.5},
    }
    for name, params in forms.items():
        for dtype in FLOATS:
            yield Sample((Input(distinct((3, 4), key=name)),), params, _elu_reference, dtype, name=name)
        yield Sample((Input(np.array(-0.7)),), params, _elu_reference, F64, name=f"{name}-0d")
        yield Sample((Input(values((0, 3))),), params, _elu_reference, F64, name=f"{name}-size0")
        yield Sample(
            (Input(distinct((4, 3), key=name), layout="transposed"),),
            params,
            _elu_reference,
            F64,
            name=f"{name}-transposed",
        )
        yield Sample((Input(np.array(_SPECIALS)),), params, _elu_reference, F32, name=f"{name}-special", grad=False)
    yield ErrorSample(
        (Input(values((3,))),),
        {"alpha": 0.0},
        ValueError,
        "alpha must not be 0",
        name="celu-alpha0",
        call=lambda x: __import__("somegrad").ops.activations.celu(x, 0.0),
    )
    yield ErrorSample(
        (Input(values((3,), -5, 5, integer=True), dtype=dtypes.int64),),
        {},
        NotImplementedError,
        "elu: not implemented for int64",
        name="integer",
        call=lambda x: __import__("somegrad").ops.activations.elu(x),
    )


def _hardtanh_reference(x, min_val, max_val):
    return np.clip(x, min_val, max_val)


@register_samples("hardtanh")
def _hardtanh_samples():
    for min_val, max_val in ((-1.0, 1.0), (0.0, 6.0), (-0.5, 2.0)):
        params = {"min_val": min_val, "max_val": max_val}
        name = f"{min_val}to{max_val}"
        for dtype in FLOATS:
            yield Sample((Input(distinct((3, 4), spacing=0.7)),), params, _hardtanh_reference, dtype, name=name)
        yield Sample((Input(np.array(0.3)),), params, _hardtanh_reference, F64, name=f"{name}-0d")
        yield Sample(
            (Input(distinct((4, 3), spacing=0.7), layout="transposed"),),
            params,
            _hardtanh_reference,
            F64,
            name=f"{name}-transposed",
        )
    yield Sample((Input(values((0, 2))),), {"min_val": -1.0, "max_val": 1.0}, _hardtanh_reference, F64, name="size0")
    yield Sample(
        (Input(np.array(_SPECIALS)),),
        {"min_val": -1.0, "max_val": 1.0},
        _hardtanh_reference,
        F32,
        name="special",
        grad=False,
    )
    for dtype in (dtypes.int64, dtypes.int32, dtypes.uint8):
        yield Sample(
            (Input(values((3, 4), 0, 9, integer=True)),),
            {"min_val": 2, "max_val": 6},
            _hardtanh_reference,
            dtype,
            name="int",
        )
    yield ErrorSample(
        (Input(values((3,))),),
        {"min_val": 2.0, "max_val": 1.0},
        ValueError,
        "min_val cannot be greater than max_val",
        name="min-above-max",
    )


def _hardsigmoid_reference(x):
    return np.clip(x + 3, 0, 6) / 6


_unary("hardsigmoid", _hardsigmoid_reference, low=-5.0, high=5.0, specials=_SPECIALS)
_unary("hardswish", lambda x: x * _hardsigmoid_reference(x), low=-5.0, high=5.0, specials=_SPECIALS)
_unary("softsign", lambda x: x / (1 + np.abs(x)), low=-4.0, high=4.0, specials=_SPECIALS)
_unary("logsigmoid", lambda x: -np.logaddexp(0, -x), low=-6.0, high=6.0, specials=_SPECIALS)
_unary(
    "mish",
    lambda x: x * np.tanh(np.logaddexp(0, x)),
    low=-4.0,
    high=4.0,
    specials=(-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0, -INF),
)
