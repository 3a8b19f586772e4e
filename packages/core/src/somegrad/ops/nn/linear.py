"""linear: `x @ weight.T + bias`, one node with its own backward."""

from __future__ import annotations

import math

from somegrad.errors import DTypeError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.linalg import matmul
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import public


def _check_shapes(x, weight):
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {tuple(x.shape)} and weight of shape {tuple(weight.shape)} don't fit "
            f"(expected weight (out_features, {x.shape[-1] if x.ndim else '?'}))"
        )


def _linear_infer(x, weight, bias):
    _check_shapes(x, weight)
    if bias.shape not in ((weight.shape[0],), ()):
        raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} doesn't fit out_features {weight.shape[0]}")
    return x.shape[:-1] + (weight.shape[0],), x.dtype


def _rows(t):
    """(..., D) -> (M, D) with M spelled out: reshape cannot infer -1 when D is 0."""
    return t if t.ndim == 2 else t.reshape(math.prod(t.shape[:-1]), t.shape[-1])


def _unrows(t, shape):
    return t if len(shape) == 2 else t.reshape(shape)


def _linear(x, weight, bias):
    return _unrows(matmul(_rows(x), weight.mT) + bias, x.shape[:-1] + (weight.shape[0],))


def _linear_grads(g, x, weight, needs_input_grad):
    g2, x2 = _rows(g), _rows(x)
    # The input's gradient is the largest matmul of the three; a first layer fed with data skips it.
    dx = _unrows(g2 @ weight, x.shape) if needs_input_grad[0] else None
    dweight = g2.mT @ x2 if needs_input_grad[1] else None
    return dx, dweight, g2.sum(0) if needs_input_grad[2] else None


def _linear_backward_infer(g, x, weight, needs_input_grad):
    out_shape = x.shape[:-1] + weight.shape[:1]
    if g.shape != out_shape or g.dtype is not x.dtype:
        raise ShapeError(
            f"linear_backward: gradient of shape {tuple(g.shape)} and dtype {g.dtype.name} for an output of "
            f"shape {out_shape} and dtype {x.dtype.name}"
        )
    metas = ((x.shape, x.dtype), (weight.shape, x.dtype), (weight.shape[:1], x.dtype))
    return tuple(meta if needed else None for meta, needed in zip(metas, needs_input_grad, strict=True))


LINEAR_BACKWARD = composite(
    "linear_backward",
    ("g", "x", "weight"),
    _linear_backward_infer,
    None,
    _linear_grads,
    doc="The gradients of linear for the input, the weight and the bias, in one call (three outputs, "
    "None for each one that needs_input_grad leaves out).",
    outputs=3,
)


def _linear_backward(g, x, weight, needs_input_grad):
    params = {"needs_input_grad": needs_input_grad}
    return backward_op(LINEAR_BACKWARD, (g, x, weight), params, _linear_grads)


LINEAR = composite(
    "linear",
    ("x", "weight", "bias"),
    _linear_infer,
    _linear_backward,
    _linear,
    doc="x @ weight.T + bias; x: (..., in), weight: (out, in), bias: (out,)",
)


def _autocast_enabled(device_type):
    from somegrad.amp.autocast_mode import is_autocast_enabled

    return is_autocast_enabled(device_type)


@public(LINEAR, export=False)
def linear(x, weight, bias=None):
    """`x @ weight.T + bias`. x: (*, in_features), weight: (out_features, in_features).

    x and weight must share a dtype, as in PyTorch (an integer x is refused, not truncated),
    unless autocast is on for their device: it casts both to its dtype first.
    """
    if weight.dtype is not x.dtype and not _autocast_enabled(x.device.type):
        raise DTypeError(
            f"linear: input of dtype {x.dtype.name} and weight of dtype {weight.dtype.name} differ; "
            f"convert the input (e.g. x.float()) or the layer (e.g. layer.to({x.dtype.name}))"
        )
    if bias is None:
        _check_shapes(x, weight)
        return matmul(_rows(x), weight.mT).reshape(x.shape[:-1] + (weight.shape[0],))
    return apply(LINEAR, (x, weight, ew.cast(bias, x.dtype)), {})
