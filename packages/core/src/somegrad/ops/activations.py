"""Activations: sigmoid, relu, gelu, silu, softplus, leaky_relu, and the fused backward ops of
relu and gelu.

Each is an explicit composite (one node, a stable backward; a fused kernel where a backend has
one), declared with its public function and Tensor surface as the elementwise ops are.
"""

from __future__ import annotations

import math

from somegrad.errors import ArgumentError
from somegrad.ops.comparison import where
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.elementwise import _floating, maximum, unary
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register

__all__ = ["sigmoid", "relu", "gelu", "silu", "softplus", "leaky_relu"]

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
