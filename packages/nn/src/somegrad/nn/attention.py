"""`MultiheadAttention`, with PyTorch's parameters (in_proj_weight or q/k/v_proj_weight,
in_proj_bias, bias_k, bias_v, out_proj), arguments and masks."""

from __future__ import annotations

import math

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.nn import init
from somegrad.nn.linear import Linear, empty_parameter
from somegrad.nn.module import Module

__all__ = ["MultiheadAttention"]


def _additive(mask, name: str, dtype):
    """A bool mask (True = do not attend) or a float mask as the float mask added to the scores."""
    if mask is None:
        return None
    if mask.dtype is sg.bool:
        return sg.where(mask, -math.inf, 0.0).to(dtype)
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask.to(dtype)


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """PyTorch's checks of the inputs' dims (AssertionError, as PyTorch); True when batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found "
                f"{key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found "
                f"{key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                    f"{attn_mask.ndim}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor")


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q K^T / sqrt(head_dim) + mask) V over `num_heads` heads.

    query (L, N, E), key (S, N, kdim), value (S, N, vdim); (N, L, E) etc. with
    `batch_first=True`; (L, E), (S, kdim), (S, vdim) unbatched. In a bool `attn_mask` (L, S)
    or (N * num_heads, L, S), or `key_padding_mask` (N, S), True means "do not attend"; a
    float mask is added to the scores. Returns (output (L, N, E), weights): with
    `need_weights`, the attention weights (N, L, S) averaged over heads, or (N, num_heads, L, S)
    with `average_attn_weights=False`; otherwise None.

    Differs from PyTorch: `is_causal=True` without an `attn_mask` masks future keys itself,
    where PyTorch raises and asks for the mask (it reads `is_causal` only as a hint that the
    mask is causal).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} "
                "instead"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        factory = {"device": device, "dtype": dtype}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter(3 * embed_dim, embed_dim, **factory)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = empty_parameter(embed_dim, embed_dim, **factory)
            self.k_proj_weight = empty_parameter(embed_dim, self.kdim, **factory)
            self.v_proj_weight = empty_parameter(embed_dim, self.vdim, **factory)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty_parameter(3 * embed_dim, **factory)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = empty_parameter(1, 1, embed_dim, **factory)
            self.bias_v = empty_parameter(1, 1, embed_dim, **factory)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, query, key, value):
        """The input projections q, k, v (each (..., embed_dim)), in one matmul for self-attention."""
        e, b = self.embed_dim, self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
        if not self._qkv_same_embed_dim:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        else:
            w = self.in_proj_weight
            if query is key and key is value:
                return F.linear(query, w, b).chunk(3, -1)
            if key is value:
                k, v = F.linear(key, w[e:], None if b is None else b[e:]).chunk(2, -1)
                return F.linear(query, w[:e], bq), k, v
            wq, wk, wv = w[:e], w[e : 2 * e], w[2 * e :]
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

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
        batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        if query.shape[-1] != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}")
        if self._qkv_same_embed_dim and tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        if not self._qkv_same_embed_dim and key.shape[:-1] != value.shape[:-1]:
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:-1])} do not match value's {tuple(value.shape[:-1])}"
            )
        q, k, v = self._project(query, key, value)  # per token, so any layout
        # to (N, L, E): batch first inside
        if not batched:
            q, k, v = q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        batch, length, source = q.shape[0], q.shape[1], k.shape[1]
        if batched and k.shape[0] != batch:
            raise AssertionError(f"key's batch size {k.shape[0]} does not match query's {batch}")
        dtype = q.dtype
        mask = self._attention_mask(attn_mask, is_causal, batch, length, source, q)
        padding = _additive(key_padding_mask, "key_padding_mask", dtype)
        if padding is not None and tuple(padding.shape) != (batch, source):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(batch, source)}, but got {tuple(key_padding_mask.shape)}"
            )
        if self.bias_k is not None:
            k = sg.cat([k, self.bias_k.reshape(1, 1, -1).expand(batch, 1, self.embed_dim)], 1)
            v = sg.cat([v, self.bias_v.reshape(1, 1, -1).expand(batch, 1, self.embed_dim)], 1)
            mask, padding = _pad_key(mask), _pad_key(padding)
        q, k, v = (t.reshape(batch, -1, self.num_heads, self.head_dim).transpose(1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = sg.zeros(batch, self.num_heads, 1, self.head_dim, dtype=dtype, device=q.device)
            k, v = sg.cat([k, zeros], 2), sg.cat([v, zeros], 2)
            mask, padding = _pad_key(mask), _pad_key(padding)
        if padding is not None:
            padding = padding.reshape(batch, 1, 1, -1)
            mask = padding if mask is None else mask + padding
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.mT
            if mask is not None:
                scores = scores + mask
            weights = F.softmax(scores, -1)
            if dropout_p > 0.0:
                weights = F.dropout(weights, dropout_p, True)
            out = weights @ v
            weights = weights.mean(1) if average_attn_weights else weights
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
            weights = None
        out = self.out_proj(out.transpose(1, 2).reshape(batch, length, self.embed_dim))
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _attention_mask(self, attn_mask, is_causal, batch, length, source, like):
        """`attn_mask` (or the causal mask) as an additive float mask (1 or N, 1 or heads, L, S)."""
        if attn_mask is None:
            if not is_causal:
                return None
            rows = sg.arange(length, device=like.device).reshape(-1, 1)
            attn_mask = sg.arange(source, device=like.device).reshape(1, -1) > rows
        mask = _additive(attn_mask, "attn_mask", like.dtype)
        if mask.ndim == 2:
            if tuple(mask.shape) != (length, source):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but should be {(length, source)}."
                )
            return mask.reshape(1, 1, length, source)
        if mask.ndim == 3:
            expected = (batch * self.num_heads, length, source)
            if tuple(mask.shape) != expected:
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but should be {expected}.")
            return mask.reshape(batch, self.num_heads, length, source)
        raise RuntimeError(f"attn_mask's dimension {mask.ndim} is not supported")


def _pad_key(mask):
    """One more key, always attended: a zero column at the end of an additive mask."""
    return None if mask is None else F.pad(mask, (0, 1))
