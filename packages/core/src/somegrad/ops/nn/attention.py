"""scaled_dot_product_attention: softmax(q k^T * scale + mask) v, and its fused backward op."""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops import reduce as rd
from somegrad.ops.creation import arange, full, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.linalg import matmul
from somegrad.ops.nn.composite import composite
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import FLOATING, OpSpec, public, register


def _check_attention(q, k, v, mask):
    if q.ndim < 2 or k.ndim != q.ndim or (v is not None and v.ndim != q.ndim):
        shapes = ", ".join(str(tuple(t.shape)) for t in (q, k, v) if t is not None)
        raise ShapeError(
            f"scaled_dot_product_attention: q, k, v must have the same number (>= 2) of dims, got {shapes}"
        )
    if q.shape[-1] != k.shape[-1] or (v is not None and k.shape[-2] != v.shape[-2]):
        shapes = ", ".join(str(tuple(t.shape)) for t in (q, k, v) if t is not None)
        raise ShapeError(
            f"scaled_dot_product_attention: expected q (..., L, E), k (..., S, E), v (..., S, Ev), got {shapes}"
        )
    batch = broadcast_shapes("scaled_dot_product_attention", q.shape[:-2], k.shape[:-2])
    scores = batch + (q.shape[-2], k.shape[-2])
    if mask.ndim and broadcast_shapes("scaled_dot_product_attention", mask.shape, scores) != scores:
        raise ShapeError(
            f"scaled_dot_product_attention: attn_mask of shape {tuple(mask.shape)} doesn't broadcast "
            f"to the scores {scores}"
        )
    return scores


def _causal_mask(length, source_length, device):
    rows = arange(length, device=device).reshape(-1, 1)
    return arange(source_length, device=device).reshape(1, -1) <= rows


# --- the probabilities: softmax(q k^T * scale + mask [causal]) --------------------------------
# Their own op, so that the graph keeps them (the input of the product with v) and the backward
# never recomputes them: (..., L, S) per layer is little memory next to the activations.
def _probabilities_infer(q, k, mask, is_causal, scale):
    return _check_attention(q, k, None, mask), q.dtype


def _probabilities(q, k, mask, is_causal, scale):
    scores = matmul(q, k.mT) * scale + mask
    if is_causal:
        scores = ew.where(_causal_mask(q.shape[-2], k.shape[-2], q.device), scores, -math.inf)
    return rd.softmax(scores, -1)


def _probabilities_grads(g, q, k, p, scale, needs_mask_grad=False):
    # softmax backward, then the product rule of q k^T * scale
    ds = p * (g - (g * p).sum(-1, keepdim=True))
    return matmul(ds, k) * scale, matmul(ds.mT, q) * scale, ds if needs_mask_grad else None


def _probabilities_backward_infer(g, q, k, p, scale):
    batch = p.shape[:-2]
    return (batch + q.shape[-2:], q.dtype), (batch + k.shape[-2:], q.dtype)


def _probabilities_backward_pair(g, q, k, p, scale):
    dq, dk, _ = _probabilities_grads(g, q, k, p, scale)
    return dq, dk


ATTENTION_PROBABILITIES_BACKWARD = composite(
    "attention_probabilities_backward",
    ("g", "q", "k", "p"),
    _probabilities_backward_infer,
    None,
    _probabilities_backward_pair,
    doc="The gradients of attention_probabilities with respect to q and k, (dq, dk), each with the "
    "batch shape of the probabilities p (two outputs).",
    outputs=2,
)


def _probabilities_backward(g, q, k, out, scale, needs_input_grad):
    if is_grad_enabled() or needs_input_grad[2]:
        return _probabilities_grads(g, q, k, out, scale, needs_input_grad[2])
    dq, dk = apply(ATTENTION_PROBABILITIES_BACKWARD, (g, q, k, out), {"scale": scale})
    return dq, dk, None


ATTENTION_PROBABILITIES = composite(
    "attention_probabilities",
    ("q", "k", "mask"),
    _probabilities_infer,
    _probabilities_backward,
    _probabilities,
    doc="softmax(q @ k^T * scale + mask [causal]) over the keys; q (..., L, E), k (..., S, E) -> "
    "(..., L, S); mask is additive, broadcast to (..., L, S), or 0-d for none.",
)


def attention_probabilities(q, k, mask, is_causal, scale):
    """The attention weights softmax(q @ k^T * scale + mask [causal]): (..., L, S)."""
    return apply(ATTENTION_PROBABILITIES, (q, k, mask), {"is_causal": bool(is_causal), "scale": scale})


# --- attention: the probabilities times v -------------------------------------------------------
def _attention_infer(q, k, v, mask, is_causal, scale):
    scores = _check_attention(q, k, v, mask)
    batch = broadcast_shapes("scaled_dot_product_attention", scores[:-2], v.shape[:-2])
    return batch + (q.shape[-2], v.shape[-1]), q.dtype


def _attention(q, k, v, mask, is_causal, scale):
    return matmul(attention_probabilities(q, k, mask, is_causal, scale), v)


# An implicit composite: autograd goes through attention_probabilities and matmul, whose nodes
# keep the probabilities for the backward.
SCALED_DOT_PRODUCT_ATTENTION = register(
    OpSpec(
        "scaled_dot_product_attention",
        "composite",
        ("q", "k", "v", "mask"),
        _attention_infer,
        decompose=_attention,
        doc="softmax(q @ k^T * scale + mask [causal]) @ v; q (..., L, E), k (..., S, E), v (..., S, Ev).",
        accepts=FLOATING,
    )
)


@public(SCALED_DOT_PRODUCT_ATTENTION, export=False)
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Attention as in PyTorch: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    attn_mask: a bool mask (True = attend) or an additive float mask, broadcastable to
    (..., L, S). is_causal masks keys after each query (top-left aligned, as PyTorch).
    `dropout_p` drops attention probabilities (always applied when > 0, like PyTorch's
    functional; nn layers pass 0.0 in eval mode).
    """
    query = ew._floating(query)
    key, value = ew.cast(key, query.dtype), ew.cast(value, query.dtype)
    if is_causal and attn_mask is not None:
        raise ArgumentError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if attn_mask is None:
        mask = zeros((), dtype=query.dtype, device=query.device)
    elif attn_mask.dtype is dtypes.bool_:
        mask = ew.where(attn_mask, 0.0, full((), -math.inf, dtype=query.dtype, device=query.device))
    else:
        mask = ew.cast(attn_mask, query.dtype)
    if dropout_p > 0.0:
        from somegrad.random import rand

        p = attention_probabilities(query, key, mask, is_causal, scale)
        keep = rand(p.shape, dtype=p.dtype, device=p.device) >= dropout_p
        return matmul(p * keep * (1.0 / (1.0 - dropout_p)), value)
    return apply(
        SCALED_DOT_PRODUCT_ATTENTION,
        (query, key, value, mask),
        {"is_causal": bool(is_causal), "scale": scale},
    )
