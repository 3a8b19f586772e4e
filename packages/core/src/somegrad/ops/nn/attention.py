"""scaled_dot_product_attention: softmax(q k^T * scale + mask) v, and its fused backward op."""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.ops import elementwise as ew
from somegrad.ops import movement as mv
from somegrad.ops import reduce as rd
from somegrad.ops.creation import arange, full, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.linalg import matmul
from somegrad.ops.nn.composite import composite


def _attention_infer(q, k, v, mask, is_causal, scale):
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(
            f"scaled_dot_product_attention: q, k, v must have the same number (>= 2) of dims, got "
            f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: expected q (..., L, E), k (..., S, E), v (..., S, Ev), got "
            f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    from somegrad.ops.shapes import broadcast_shapes

    batch = broadcast_shapes("scaled_dot_product_attention", q.shape[:-2], k.shape[:-2], v.shape[:-2])
    scores = batch + (q.shape[-2], k.shape[-2])
    if mask.ndim and broadcast_shapes("scaled_dot_product_attention", mask.shape, scores) != scores:
        raise ValueError(
            f"scaled_dot_product_attention: attn_mask of shape {tuple(mask.shape)} doesn't broadcast "
            f"to the scores {scores}"
        )
    return batch + (q.shape[-2], v.shape[-1]), q.dtype


def _causal_mask(length, source_length, device):
    rows = arange(length, device=device).reshape(-1, 1)
    return arange(source_length, device=device).reshape(1, -1) <= rows


def _attention_probabilities(q, k, mask, is_causal, scale):
    scores = matmul(q, k.mT) * scale + mask
    if is_causal:
        scores = ew.where(_causal_mask(q.shape[-2], k.shape[-2], q.device), scores, -math.inf)
    return rd.softmax(scores, -1)


def _attention(q, k, v, mask, is_causal, scale):
    return matmul(_attention_probabilities(q, k, mask, is_causal, scale), v)


def _attention_grads(g, q, k, v, mask, is_causal, scale):
    # The probabilities are recomputed rather than saved, as flash attention does.
    p = _attention_probabilities(q, k, mask, is_causal, scale)
    dp = matmul(g, v.mT)
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    dmask = ds if mask.requires_grad else None
    return matmul(ds, k) * scale, matmul(ds.mT, q) * scale, matmul(p.mT, g), dmask


def _attention_backward_sizes(g, q, k, v):
    """The element counts of dq, dk and dv, each with the batch shape of the output `g`."""
    batch = math.prod(g.shape[:-2])
    length, source = q.shape[-2], k.shape[-2]
    return batch * length * q.shape[-1], batch * source * k.shape[-1], batch * source * v.shape[-1]


def _attention_backward_infer(g, q, k, v, mask, is_causal, scale):
    return (sum(_attention_backward_sizes(g, q, k, v)),), q.dtype


def _attention_backward_packed(g, q, k, v, mask, is_causal, scale):
    dq, dk, dv, _ = _attention_grads(g, q, k, v, mask, is_causal, scale)
    return mv.cat([dq.reshape(-1), dk.reshape(-1), dv.reshape(-1)], 0)


SCALED_DOT_PRODUCT_ATTENTION_BACKWARD = composite(
    "scaled_dot_product_attention_backward",
    ("g", "q", "k", "v", "mask"),
    _attention_backward_infer,
    None,
    _attention_backward_packed,
    doc="The gradients of scaled_dot_product_attention flattened one after the other: dq, dk, dv, "
    "each with the output's batch shape.",
)


def _attention_backward(g, q, k, v, mask, is_causal, scale):
    if is_grad_enabled() or mask.requires_grad:
        return _attention_grads(g, q, k, v, mask, is_causal, scale)
    packed = apply(
        SCALED_DOT_PRODUCT_ATTENTION_BACKWARD,
        (g, q, k, v, mask),
        {"is_causal": is_causal, "scale": scale},
    )
    batch = tuple(g.shape[:-2])
    size_q, size_k, _ = _attention_backward_sizes(g, q, k, v)
    dq = packed[:size_q].reshape(batch + tuple(q.shape[-2:]))
    dk = packed[size_q : size_q + size_k].reshape(batch + tuple(k.shape[-2:]))
    dv = packed[size_q + size_k :].reshape(batch + tuple(v.shape[-2:]))
    return dq, dk, dv, None


SCALED_DOT_PRODUCT_ATTENTION = composite(
    "scaled_dot_product_attention",
    ("q", "k", "v", "mask"),
    _attention_infer,
    _attention_backward,
    _attention,
    doc="softmax(q @ k^T * scale + mask [causal]) @ v; q (..., L, E), k (..., S, E), v (..., S, Ev); "
    "mask is additive, broadcast to (..., L, S), or 0-d for none.",
)


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
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if attn_mask is None:
        mask = zeros((), dtype=query.dtype, device=query.device)
    elif attn_mask.dtype is dtypes.bool_:
        mask = ew.where(attn_mask, 0.0, full((), -math.inf, dtype=query.dtype, device=query.device))
    else:
        mask = ew.cast(attn_mask, query.dtype)
    if dropout_p > 0.0:
        from somegrad.random import rand

        p = _attention_probabilities(query, key, mask, is_causal, scale)
        keep = rand(p.shape, dtype=p.dtype, device=p.device) >= dropout_p
        return matmul(p * keep * (1.0 / (1.0 - dropout_p)), value)
    return apply(
        SCALED_DOT_PRODUCT_ATTENTION,
        (query, key, value, mask),
        {"is_causal": bool(is_causal), "scale": scale},
    )
