"""Activations: sigmoid, relu, gelu, silu, softplus, leaky_relu, elu (with its forms selu and
celu), hardtanh (and relu6), hardsigmoid, hardswish, softsign, logsigmoid, mish, and the fused
backward ops of relu and gelu.

Each is an explicit composite (one node, a stable backward; a fused kernel where a backend has
one), declared with its public function and Tensor surface as the elementwise ops are.
"""

from __future__ import annotations

import math

from somegrad.errors import ArgumentError, UnsupportedDTypeError
from somegrad.ops.comparison import where
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.elementwise import _floating, maximum, minimum, unary
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register

__all__ = [
    "sigmoid",
    "relu",
    "gelu",
    "silu",
    "softplus",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "hardtanh",
    "relu6",
    "hardsigmoid",
    "hardswish",
    "softsign",
    "logsigmoid",
    "mish",
]

SIGMOID = unary(
    "sigmoid",
    lambda g, out: g * out * (1 - out),
    decompose=lambda x: 1 / (1 + (-x).exp()),
    explicit=True,
    accepts=FLOATING,
)


def _relu_grad(g, out):
    return g * (out > 0)


def _relu_backward(g, out):
    # The fused op (one pass, no bool-to-float cast) when no graph is recorded.
    return backward_op(RELU_BACKWARD, (g, out), {}, _relu_grad)


RELU = unary("relu", _relu_backward, decompose=lambda x: maximum(x, 0), explicit=True, accepts=NUMERIC)
RELU_BACKWARD = register(
    OpSpec(
        "relu_backward",
        "elementwise",
        ("g", "out"),
        lambda g, out: (out.shape, out.dtype),
        None,
        _relu_grad,
        True,
        accepts=FLOATING,
        doc="The input gradient of relu from its output: g where out > 0, else 0; g and out of one shape.",
    )
)


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + inner.tanh())
    return 0.5 * x * (1 + (x * (1 / math.sqrt(2))).erf())


def _gelu_grad(g, x, approximate):
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = ((x + 0.044715 * x * x * x) * k).tanh()
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
    pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + x * pdf)


def _gelu_backward(g, x, approximate):
    return backward_op(GELU_BACKWARD, (g, x), {"approximate": approximate}, _gelu_grad)


def _gelu_infer(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x.shape, x.dtype


GELU = register(
    OpSpec(
        "gelu",
        "elementwise",
        ("x",),
        _gelu_infer,
        _gelu_backward,
        _gelu,
        True,
        decomposition_tolerance=1.5e-7,
        accepts=FLOATING,
    )
)
GELU_BACKWARD = register(
    OpSpec(
        "gelu_backward",
        "elementwise",
        ("g", "x"),
        lambda g, x, approximate: (x.shape, x.dtype),
        None,
        _gelu_grad,
        True,
        decomposition_tolerance=1.5e-7,
        accepts=FLOATING,
        doc="The input gradient of gelu, g * d gelu(x) / dx; g and x of one shape.",
    )
)
SILU = unary(
    "silu",
    lambda g, x: g * (x.sigmoid() * (1 + x * (1 - x.sigmoid()))),
    decompose=lambda x: x * x.sigmoid(),
    explicit=True,
    accepts=FLOATING,
)


def _softplus(x, beta=1.0, threshold=20.0):
    # log(1 + exp(bx)) / b, computed as max(bx, 0) + log1p(exp(-|bx|)) to avoid overflow,
    # and the identity above `threshold` as PyTorch does.
    bx = x * beta
    stable = (maximum(bx, 0.0) + (-bx.abs()).exp().log1p()) / beta
    return where(bx > threshold, x, stable)


SOFTPLUS = unary(
    "softplus",
    lambda g, x, beta, threshold: where(x * beta > threshold, g, g * (x * beta).sigmoid()),
    decompose=_softplus,
    explicit=True,
    accepts=FLOATING,
)
LEAKY_RELU = unary(
    "leaky_relu",
    lambda g, x, negative_slope: where(x > 0, g, g * negative_slope),
    decompose=lambda x, negative_slope=0.01: where(x > 0, x, x * negative_slope),
    explicit=True,
    accepts=FLOATING,
)


# --- the public functions -----------------------------------------------------------------------
@public(SIGMOID, methods=True, inplace=True)
def sigmoid(x):
    """`1 / (1 + exp(-x))` elementwise (integer inputs give the default float dtype)."""
    return apply(SIGMOID, (_floating(x),), {})


@public(RELU, methods=True, inplace=True)
def relu(x):
    """`max(x, 0)` elementwise, keeping the dtype. Not for bool tensors (as in PyTorch)."""
    return apply(RELU, (x,), {})


@public(SILU)
def silu(x):
    """`x * sigmoid(x)` elementwise (integer inputs give the default float dtype)."""
    return apply(SILU, (_floating(x),), {})


@public(GELU)
def gelu(x, approximate="none"):
    """GELU, exact (`approximate="none"`, with erf) or the tanh approximation."""
    return apply(GELU, (_floating(x),), {"approximate": approximate})


@public(SOFTPLUS)
def softplus(x, beta=1.0, threshold=20.0):
    """`log(1 + exp(beta * x)) / beta`, computed stably; `x` itself where `beta * x > threshold`, as in PyTorch.

    Integer inputs give the default float dtype."""
    return apply(SOFTPLUS, (_floating(x),), {"beta": beta, "threshold": threshold})


@public(LEAKY_RELU)
def leaky_relu(x, negative_slope=0.01):
    """`x` where `x > 0`, else `negative_slope * x`, keeping the shape and dtype."""
    return apply(LEAKY_RELU, (x,), {"negative_slope": negative_slope})


# --- the exponential and piecewise-linear family -------------------------------------------------
def _elu(x, alpha, scale, input_scale):
    # exp of min(x, 0): the branch where() discards never overflows (nor, in a double backward,
    # turns a zero cotangent into inf * 0).
    negative = (minimum(x, 0.0) * input_scale).expm1() * alpha
    return where(x > 0, x, negative) * scale


def _elu_backward(g, x, alpha, scale, input_scale):
    slope = (minimum(x, 0.0) * input_scale).exp() * (alpha * input_scale)
    return where(x > 0, g, g * slope) * scale


ELU = unary(
    "elu",
    _elu_backward,
    decompose=_elu,
    explicit=True,
    accepts=FLOATING,
    doc="scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)): elu, selu and celu.",
)


def _hardtanh_infer(x, min_val, max_val):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
    return x.shape, x.dtype


HARDTANH = unary(
    "hardtanh",
    # As PyTorch: no gradient at the bounds themselves (clamp passes one there).
    lambda g, x, min_val, max_val: where((x > min_val) & (x < max_val), g, 0.0),
    decompose=lambda x, min_val, max_val: x.clamp(min_val, max_val),
    explicit=True,
    infer=_hardtanh_infer,
    accepts=NUMERIC,
)
HARDSIGMOID = unary(
    "hardsigmoid",
    lambda g, x: where((x > -3.0) & (x < 3.0), g / 6.0, 0.0),
    decompose=lambda x: (x + 3.0).clamp(0.0, 6.0) / 6.0,
    explicit=True,
    accepts=FLOATING,
    doc="relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between.",
)


def _hardswish_backward(g, x):
    return where(x < -3.0, 0.0, where(x <= 3.0, g * (x / 3.0 + 0.5), g))


HARDSWISH = unary(
    "hardswish",
    _hardswish_backward,
    decompose=lambda x: x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
    explicit=True,
    accepts=FLOATING,
    doc="x * relu6(x + 3) / 6 (MobileNetV3's activation).",
)


def _softsign_backward(g, x):
    denominator = x.abs() + 1.0
    return g / (denominator * denominator)


SOFTSIGN = unary(
    "softsign",
    _softsign_backward,
    decompose=lambda x: x / (x.abs() + 1.0),
    explicit=True,
    accepts=FLOATING,
)
LOGSIGMOID = unary(
    "logsigmoid",
    # d/dx log sigmoid(x) = sigmoid(-x), exact for large x where 1 - sigmoid(x) rounds to 0
    lambda g, x: g * (-x).sigmoid(),
    # min(x, 0) - log1p(exp(-|x|)): never exponentiates a positive number
    decompose=lambda x: minimum(x, 0.0) - (-x.abs()).exp().log1p(),
    explicit=True,
    accepts=FLOATING,
)


def _mish_backward(g, x):
    t = _softplus(x).tanh()
    return g * (t + x * x.sigmoid() * (1 - t * t))


MISH = unary(
    "mish",
    _mish_backward,
    decompose=lambda x: x * _softplus(x).tanh(),
    explicit=True,
    accepts=FLOATING,
    doc="x * tanh(softplus(x)).",
)


def _float_only(op, x):
    """PyTorch has these for floating point tensors only (`elu` of int64 is NotImplementedError)."""
    if not x.dtype.is_floating_point:
        raise UnsupportedDTypeError(f"{op}: not implemented for {x.dtype.name} tensors (floating point only)")
    return x


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@public(ELU)
def elu(x, alpha=1.0):
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)`; the same shape and dtype (floating point)."""
    return apply(ELU, (_float_only("elu", x),), {"alpha": float(alpha), "scale": 1.0, "input_scale": 1.0})


@public(ELU, form=True)
def selu(x):
    """`scale * elu(x, alpha)` with SELU's self-normalising constants (alpha 1.6733, scale 1.0507)."""
    return apply(ELU, (_float_only("selu", x),), {"alpha": _SELU_ALPHA, "scale": _SELU_SCALE, "input_scale": 1.0})


@public(ELU, form=True)
def celu(x, alpha=1.0):
    """`max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`; alpha must not be 0."""
    if alpha == 0:
        raise ArgumentError("celu: alpha must not be 0 (the input is divided by it)")
    return apply(ELU, (_float_only("celu", x),), {"alpha": float(alpha), "scale": 1.0, "input_scale": 1.0 / alpha})


@public(HARDTANH)
def hardtanh(x, min_val=-1.0, max_val=1.0):
    """`x` clamped to [min_val, max_val], keeping the dtype, with no gradient at or beyond the bounds
    (as PyTorch)."""
    if not x.dtype.is_floating_point:  # the bounds as the integers PyTorch converts them to
        min_val, max_val = int(min_val), int(max_val)
    return apply(HARDTANH, (x,), {"min_val": min_val, "max_val": max_val})


@public(HARDTANH, form=True)
def relu6(x):
    """`hardtanh(x, 0, 6)`: `x` clamped to [0, 6], keeping the dtype."""
    return apply(HARDTANH, (x,), {"min_val": 0, "max_val": 6})


@public(HARDSIGMOID)
def hardsigmoid(x):
    """`relu6(x + 3) / 6` elementwise: 0 below -3, 1 above 3, linear between."""
    return apply(HARDSIGMOID, (_float_only("hardsigmoid", x),), {})


@public(HARDSWISH)
def hardswish(x):
    """`x * relu6(x + 3) / 6` elementwise."""
    return apply(HARDSWISH, (_float_only("hardswish", x),), {})


@public(SOFTSIGN)
def softsign(x):
    """`x / (1 + |x|)` elementwise."""
    return apply(SOFTSIGN, (_floating(x),), {})


@public(LOGSIGMOID)
def logsigmoid(x):
    """`log(sigmoid(x))` elementwise, computed stably for any x."""
    return apply(LOGSIGMOID, (_float_only("logsigmoid", x),), {})


@public(MISH)
def mish(x):
    """`x * tanh(softplus(x))` elementwise."""
    return apply(MISH, (_float_only("mish", x),), {})
