"""linear: `x @ weight.T + bias`, one node with its own backward."""

from __future__ import annotations

from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.linalg import matmul
from somegrad.ops.nn.composite import composite


def _linear_infer(x, weight, bias):
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {tuple(x.shape)} and weight of shape {tuple(weight.shape)} don't fit "
            f"(expected weight (out_features, {x.shape[-1] if x.ndim else '?'}))"
        )
    if bias.shape not in ((weight.shape[0],), ()):
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)} doesn't fit out_features {weight.shape[0]}")
    return x.shape[:-1] + (weight.shape[0],), x.dtype


def _linear(x, weight, bias):
    flat = x.reshape(-1, x.shape[-1])
    return (matmul(flat, weight.mT) + bias).reshape(x.shape[:-1] + (weight.shape[0],))


def _linear_backward(g, x, weight, needs_input_grad):
    g2 = g.reshape(-1, g.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    # The input's gradient is the largest matmul of the three; a first layer fed with data skips it.
    dx = (g2 @ weight).reshape(x.shape) if needs_input_grad[0] else None
    dweight = g2.mT @ x2 if needs_input_grad[1] else None
    return dx, dweight, g2.sum(0) if needs_input_grad[2] else None


LINEAR = composite(
    "linear",
    ("x", "weight", "bias"),
    _linear_infer,
    _linear_backward,
    _linear,
    doc="x @ weight.T + bias; x: (..., in), weight: (out, in), bias: (out,)",
)


def linear(x, weight, bias=None):
    """`x @ weight.T + bias`. x: (*, in_features), weight: (out_features, in_features)."""
    if weight.dtype is not x.dtype:
        weight = ew.cast(weight, x.dtype)
    if bias is None:
        flat = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        return matmul(flat, weight.mT).reshape(x.shape[:-1] + (weight.shape[0],))
    return apply(LINEAR, (x, weight, ew.cast(bias, x.dtype)), {})
