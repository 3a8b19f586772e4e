"""`MultiheadAttention`, with PyTorch's parameters (in_proj_weight, out_proj) and masks."""

from __future__ import annotations

import math

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.nn import init
from somegrad.nn.linear import Linear, empty_parameter
from somegrad.nn.module import Module

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q K^T / sqrt(d)) V over `num_heads` heads.

    Inputs are (L, N, E) or, with `batch_first=True`, (N, L, E). Masks follow PyTorch's
    module convention: in a bool `attn_mask` (L, S) or `key_padding_mask` (N, S), True
    means "do not attend"; a float mask is added to the scores. `is_causal=True` without
    a mask masks future keys. Returns (output, averaged attention weights or None).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.batch_first = batch_first
        self.in_proj_weight = empty_parameter(3 * embed_dim, embed_dim, device=device, dtype=dtype)
        if bias:
            self.in_proj_bias = empty_parameter(3 * embed_dim, device=device, dtype=dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _heads(self, x, batch):
        # (N, L, E) -> (N, heads, L, head_dim)
        return x.reshape(batch, -1, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            pass
        if not self.batch_first or unbatched:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        batch, length, _ = query.shape
        source = key.shape[1]
        e = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:
            q, k, v = F.linear(query, w, b).chunk(3, -1)
        else:
            bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
            q = F.linear(query, w[:e], bq)
            k = F.linear(key, w[e : 2 * e], bk)
            v = F.linear(value, w[2 * e :], bv)
        q, k, v = self._heads(q, batch), self._heads(k, batch), self._heads(v, batch)
        mask = self._merge_masks(attn_mask, key_padding_mask, is_causal, batch, length, source, q)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q @ k.mT) * (1.0 / math.sqrt(self.head_dim))
            if mask is not None:
                scores = scores + mask
            weights = F.softmax(scores, -1)
            out = F.dropout(weights, dropout_p, True) @ v
            weights = weights.mean(1) if average_attn_weights else weights
            if unbatched:
                weights = weights.squeeze(0)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
            weights = None
        out = self.out_proj(out.transpose(1, 2).reshape(batch, length, e))
        if not self.batch_first or unbatched:
            out = out.transpose(0, 1)
        if unbatched:
            out = out.squeeze(1)
        return out, weights

    @staticmethod
    def _merge_masks(attn_mask, key_padding_mask, is_causal, batch, length, source, like):
        """One additive float mask (N or 1, heads or 1, L, S), or None."""
        mask = None

        def additive(m):
            if m.dtype is sg.bool:
                return sg.where(m, -math.inf, 0.0).to(like.dtype)
            return m.to(like.dtype)

        if attn_mask is not None:
            mask = additive(attn_mask)
            if mask.ndim == 3:  # (N * heads, L, S)
                mask = mask.reshape(batch, -1, length, source)
        elif is_causal:
            causal = sg.arange(source, device=like.device).reshape(1, -1) > sg.arange(
                length, device=like.device
            ).reshape(-1, 1)
            mask = additive(causal)
        if key_padding_mask is not None:
            padding = additive(key_padding_mask).reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask
