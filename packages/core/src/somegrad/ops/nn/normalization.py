"""Layer and batch normalisation, and the fused layer_norm backward op."""

from __future__ import annotations

import math

from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.errors import ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops import movement as mv
from somegrad.ops.creation import ones, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import public


def _normalized(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over `dims`, and 1 / sqrt(var + eps)."""
    mean = x.mean(dims, keepdim=True)
    centered = x - mean
    rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
    return centered * rstd, rstd


def _normalized_input_grad(g, xhat, rstd, weight, dims):
    """The input gradient of y = xhat * weight, xhat normalised over `dims`."""
    gw = g * weight
    return rstd * (gw - gw.mean(dims, keepdim=True) - xhat * (gw * xhat).mean(dims, keepdim=True))


def _layer_norm_infer(x, weight, bias, normalized_shape, eps):
    n = len(normalized_shape)
    if tuple(x.shape[x.ndim - n :]) != tuple(normalized_shape) or x.ndim < n:
        raise ShapeError(
            f"layer_norm: normalized_shape {tuple(normalized_shape)} must match the last dimensions of the "
            f"input of shape {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if tuple(t.shape) != tuple(normalized_shape):
            raise ShapeError(
                f"layer_norm: {name} of shape {tuple(t.shape)} must have normalized_shape {tuple(normalized_shape)}"
            )
    return x.shape, x.dtype


def _layer_norm(x, weight, bias, normalized_shape, eps):
    dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    xhat, _ = _normalized(x, dims, eps)
    return xhat * weight + bias


def _layer_norm_grads(g, x, weight, normalized_shape, eps):
    n = len(normalized_shape)
    dims = tuple(range(x.ndim - n, x.ndim))
    xhat, rstd = _normalized(x, dims, eps)
    lead = tuple(range(x.ndim - n))
    dx = _normalized_input_grad(g, xhat, rstd, weight, dims)
    if not lead:  # sum over no dims would reduce them all
        return dx, g * xhat, g
    return dx, (g * xhat).sum(lead), g.sum(lead)


def _layer_norm_rows(x, normalized_shape):
    """(M, D): M rows of D = prod(normalized_shape) elements, either of which may be 0."""
    return math.prod(x.shape[: x.ndim - len(normalized_shape)]), math.prod(normalized_shape)


def _layer_norm_backward_infer(g, x, weight, normalized_shape, eps):
    rows, size = _layer_norm_rows(x, normalized_shape)
    return (rows + 2, size), x.dtype


def _layer_norm_backward_packed(g, x, weight, normalized_shape, eps):
    dx, dw, db = _layer_norm_grads(g, x, weight, normalized_shape, eps)
    rows, size = _layer_norm_rows(x, normalized_shape)
    return mv.cat([dx.reshape(rows, size), dw.reshape(1, size), db.reshape(1, size)], 0)


LAYER_NORM_BACKWARD = composite(
    "layer_norm_backward",
    ("g", "x", "weight"),
    _layer_norm_backward_infer,
    None,
    _layer_norm_backward_packed,
    doc="The gradients of layer_norm stacked: rows [0, M) are dx as (M, D), row M is dweight, row M+1 dbias.",
)


def _layer_norm_backward(g, x, weight, normalized_shape, eps):
    if is_grad_enabled():
        return _layer_norm_grads(g, x, weight, normalized_shape, eps)
    packed = apply(LAYER_NORM_BACKWARD, (g, x, weight), {"normalized_shape": normalized_shape, "eps": eps})
    rows = packed.shape[0] - 2
    return (
        packed[:rows].reshape(x.shape),
        packed[rows].reshape(weight.shape),
        packed[rows + 1].reshape(weight.shape),
    )


LAYER_NORM = composite(
    "layer_norm",
    ("x", "weight", "bias"),
    _layer_norm_infer,
    _layer_norm_backward,
    _layer_norm,
    doc="Normalise over the trailing `normalized_shape` dims, then scale by weight and shift by bias.",
)


@public(LAYER_NORM, export=False)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last `len(normalized_shape)` dims of `input`."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    input = ew._floating(input)
    if weight is None:
        weight = ones(normalized_shape, dtype=input.dtype, device=input.device)
    if bias is None:
        bias = zeros(normalized_shape, dtype=input.dtype, device=input.device)
    params = {"normalized_shape": normalized_shape, "eps": float(eps)}
    return apply(LAYER_NORM, (input, ew.cast(weight, input.dtype), ew.cast(bias, input.dtype)), params)


def _batch_norm_infer(x, weight, bias, eps):
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of at least 2 dims (N, C, ...), got {tuple(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if tuple(t.shape) != (x.shape[1],):
            raise ShapeError(f"batch_norm: {name} of shape {tuple(t.shape)} doesn't fit {x.shape[1]} channels")
    if x.numel() == x.shape[1]:
        raise ShapeError(
            f"batch_norm: expected more than 1 value per channel when training, got input {tuple(x.shape)}"
        )
    return x.shape, x.dtype


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _batch_norm(x, weight, bias, eps):
    dims = (0,) + tuple(range(2, x.ndim))
    xhat, _ = _normalized(x, dims, eps)
    return xhat * weight.reshape(_channel_shape(x)) + bias.reshape(_channel_shape(x))


def _batch_norm_backward(g, x, weight, eps):
    dims = (0,) + tuple(range(2, x.ndim))
    xhat, rstd = _normalized(x, dims, eps)
    dx = _normalized_input_grad(g, xhat, rstd, weight.reshape(_channel_shape(x)), dims)
    return dx, (g * xhat).sum(dims), g.sum(dims)


BATCH_NORM = composite(
    "batch_norm",
    ("x", "weight", "bias"),
    _batch_norm_infer,
    _batch_norm_backward,
    _batch_norm,
    doc="Batch normalisation with the batch's statistics (training mode); x: (N, C, *).",
)


@public(BATCH_NORM, export=False)
def batch_norm_train(input, weight, bias, eps=1e-5):
    """Normalise (N, C, *) per channel with the batch's mean and biased variance."""
    input = ew._floating(input)
    channels = (input.shape[1],) if input.ndim >= 2 else (1,)
    if weight is None:
        weight = ones(channels, dtype=input.dtype, device=input.device)
    if bias is None:
        bias = zeros(channels, dtype=input.dtype, device=input.device)
    return apply(
        BATCH_NORM,
        (input, ew.cast(weight, input.dtype), ew.cast(bias, input.dtype)),
        {"eps": float(eps)},
    )
