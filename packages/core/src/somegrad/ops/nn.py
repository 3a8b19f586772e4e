"""The composites that somegrad.nn builds on: linear, embedding, normalisation, losses,
attention, convolution and pooling. They live in the core so that every backend and the
conformance suite see them without somegrad.nn installed.

Every op here is an explicit composite: it records one graph node with its own backward,
and its `decompose` (written with Tensor ops) is the specification that a backend's fused
kernel must agree with. Where a fused backward pays off, the backward is itself an op
(`layer_norm_backward`, `cross_entropy_backward`, `conv2d_backward_input`, ...) with a
decomposition and, on NumPy, a kernel. Backward ops that have no backward of their own are
only used when no graph is being recorded; with `create_graph=True` the backward rules
run the differentiable Tensor-op formulas instead.

The public functions below own PyTorch's semantics (argument forms, defaults, dtype
promotion); `somegrad.nn.functional` re-exports them with PyTorch's signatures.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.ops import elementwise as ew
from somegrad.ops import movement as mv
from somegrad.ops import reduce as rd
from somegrad.ops.creation import arange, full, ones, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import index_put, scatter_add
from somegrad.ops.linalg import matmul
from somegrad.ops.spec import OpSpec, register

__all__ = [
    "linear",
    "embedding",
    "layer_norm",
    "batch_norm_train",
    "cross_entropy",
    "scaled_dot_product_attention",
    "conv2d",
    "conv_transpose2d",
    "max_pool2d",
    "avg_pool2d",
]


def composite(name, inputs, infer, backward, decompose, doc=""):
    """Declare an explicit composite op (one node, its own backward)."""
    return register(
        OpSpec(name, "composite", inputs, infer, backward, decompose, explicit=True, doc=doc)
    )


def _backward_op(spec, inputs, params, formula):
    """Run a backward as the fused op `spec` when no graph is recorded, else as the
    differentiable `formula` (for `create_graph=True`)."""
    if is_grad_enabled():
        return formula(*inputs, **params)
    return apply(spec, inputs, params)


def _check_float(op, *tensors):
    for t in tensors:
        if not t.dtype.is_floating_point:
            raise TypeError(f"{op}: expected floating point tensors, got {t.dtype.name}")


# ================================================================================================
# linear
# ================================================================================================
def _linear_infer(x, weight, bias):
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {tuple(x.shape)} and weight of shape {tuple(weight.shape)} don't fit "
            f"(expected weight (out_features, {x.shape[-1] if x.ndim else '?'}))"
        )
    if bias.shape not in ((weight.shape[0],), ()):
        raise ValueError(
            f"linear: bias of shape {tuple(bias.shape)} doesn't fit out_features {weight.shape[0]}"
        )
    return x.shape[:-1] + (weight.shape[0],), x.dtype


def _linear(x, weight, bias):
    flat = x.reshape(-1, x.shape[-1])
    return (matmul(flat, weight.mT) + bias).reshape(x.shape[:-1] + (weight.shape[0],))


def _linear_backward(g, x, weight):
    g2 = g.reshape(-1, g.shape[-1])
    x2 = x.reshape(-1, x.shape[-1])
    return (g2 @ weight).reshape(x.shape), g2.mT @ x2, g2.sum(0)


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


# ================================================================================================
# embedding
# ================================================================================================
def _embedding_infer(weight, indices, padding_idx):
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-d (num_embeddings, embedding_dim), got {tuple(weight.shape)}"
        )
    if indices.dtype.is_floating_point or indices.dtype is dtypes.bool_:
        raise TypeError(f"embedding: indices must be an integer tensor, got {indices.dtype.name}")
    return indices.shape + (weight.shape[1],), weight.dtype


def _embedding_backward_infer(g, indices, num_weights, padding_idx):
    return (num_weights, g.shape[-1]), g.dtype


def _embedding_backward_formula(g, indices, num_weights, padding_idx):
    dim = g.shape[-1]
    flat_index = indices.reshape(-1, 1).expand(-1, dim)
    out = scatter_add(
        zeros((num_weights, dim), dtype=g.dtype, device=g.device), 0, flat_index, g.reshape(-1, dim)
    )
    if padding_idx is not None:
        out = ew.where(arange(num_weights, device=g.device).reshape(-1, 1) == padding_idx, 0.0, out)
    return out


def _embedding_backward_backward(grad, indices, padding_idx):
    if padding_idx is not None:
        rows = arange(grad.shape[0], device=grad.device).reshape(-1, 1)
        grad = ew.where(rows == padding_idx, 0.0, grad)
    return embedding(indices, grad), None


EMBEDDING_BACKWARD = composite(
    "embedding_backward",
    ("g", "indices"),
    _embedding_backward_infer,
    _embedding_backward_backward,
    _embedding_backward_formula,
    doc="The weight gradient of embedding: g scatter-added into rows `indices`.",
)


def _embedding_backward(g, indices, input_shape, padding_idx):
    params = {"num_weights": input_shape[0], "padding_idx": padding_idx}
    return apply(EMBEDDING_BACKWARD, (g, indices), params), None


EMBEDDING = composite(
    "embedding",
    ("weight", "indices"),
    _embedding_infer,
    _embedding_backward,
    lambda weight, indices, padding_idx: weight[indices],
    doc="Rows of weight (num_embeddings, dim) at integer indices (*) -> (*, dim).",
)


def embedding(input, weight, padding_idx=None):
    """Rows of `weight` at the integer `input`: (*) -> (*, embedding_dim). The row at
    `padding_idx` gets no gradient."""
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if input.numel():
        low, high = int(input.min().item()), int(input.max().item())
        if low < 0 or high >= num:
            bad = high if high >= num else low
            raise IndexError(
                f"embedding: index {bad} is out of range for an embedding of {num} rows"
            )
    return apply(EMBEDDING, (weight, input), {"padding_idx": padding_idx})


# ================================================================================================
# normalisation
# ================================================================================================
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
        raise ValueError(
            f"layer_norm: normalized_shape {tuple(normalized_shape)} must match the last dimensions of the "
            f"input of shape {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if tuple(t.shape) != tuple(normalized_shape):
            raise ValueError(
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
    return _normalized_input_grad(g, xhat, rstd, weight, dims), (g * xhat).sum(lead), g.sum(lead)


def _layer_norm_backward_infer(g, x, weight, normalized_shape, eps):
    size = math.prod(normalized_shape)
    return (x.numel() // max(size, 1) + 2, size), x.dtype


def _layer_norm_backward_packed(g, x, weight, normalized_shape, eps):
    dx, dw, db = _layer_norm_grads(g, x, weight, normalized_shape, eps)
    size = math.prod(normalized_shape)
    return mv.cat([dx.reshape(-1, size), dw.reshape(1, size), db.reshape(1, size)], 0)


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
    packed = apply(
        LAYER_NORM_BACKWARD, (g, x, weight), {"normalized_shape": normalized_shape, "eps": eps}
    )
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
    return apply(
        LAYER_NORM, (input, ew.cast(weight, input.dtype), ew.cast(bias, input.dtype)), params
    )


def _batch_norm_infer(x, weight, bias, eps):
    if x.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of at least 2 dims (N, C, ...), got {tuple(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if tuple(t.shape) != (x.shape[1],):
            raise ValueError(
                f"batch_norm: {name} of shape {tuple(t.shape)} doesn't fit {x.shape[1]} channels"
            )
    if x.numel() == x.shape[1]:
        raise ValueError(
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


# ================================================================================================
# cross entropy over class indices
# ================================================================================================
def _cross_entropy_infer(x, target, weight, ignore_index, label_smoothing, reduction):
    if x.ndim != 2:
        raise ValueError(
            f"cross_entropy: the op takes logits of shape (N, C), got {tuple(x.shape)}"
        )
    if target.shape != x.shape[:1]:
        raise ValueError(
            f"cross_entropy: expected target of shape {x.shape[:1]} for logits {tuple(x.shape)}, got {tuple(target.shape)}"
        )
    if weight.shape != x.shape[1:]:
        raise ValueError(
            f"cross_entropy: weight of shape {tuple(weight.shape)} doesn't fit {x.shape[1]} classes"
        )
    return (x.shape[:1] if reduction == "none" else ()), x.dtype


def _class_coefficients(x, target, weight, ignore_index, label_smoothing):
    """Q (N, C) with loss_i = -sum_c Q[i, c] log p[i, c], and the weighted count of targets."""
    n, classes = x.shape
    valid = ew.cast(target != ignore_index, x.dtype)
    safe = ew.where(target != ignore_index, target, 0)
    weight_t = weight[safe] * valid
    onehot = arange(classes, device=x.device).reshape(1, classes) == safe.reshape(n, 1)
    q = onehot * (weight_t * (1 - label_smoothing)).reshape(n, 1)
    if label_smoothing:
        q = q + (valid * (label_smoothing / classes)).reshape(n, 1) * weight.reshape(1, classes)
    return q, weight_t.sum()


def _reduce_rows(loss, reduction, count):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / count


def _cross_entropy(x, target, weight, ignore_index, label_smoothing, reduction):
    q, count = _class_coefficients(x, target, weight, ignore_index, label_smoothing)
    return _reduce_rows(-(q * rd.log_softmax(x, 1)).sum(1), reduction, count)


def _cross_entropy_grad(g, x, target, weight, ignore_index, label_smoothing, reduction):
    q, count = _class_coefficients(x, target, weight, ignore_index, label_smoothing)
    row = g.reshape(-1, 1) if reduction == "none" else (g if reduction == "sum" else g / count)
    return row * (rd.softmax(x, 1) * q.sum(1, keepdim=True) - q)


def _cross_entropy_backward_infer(g, x, target, weight, **params):
    return x.shape, x.dtype


CROSS_ENTROPY_BACKWARD = composite(
    "cross_entropy_backward",
    ("g", "x", "target", "weight"),
    _cross_entropy_backward_infer,
    None,
    _cross_entropy_grad,
    doc="The logits' gradient of cross_entropy over class indices.",
)


def _cross_entropy_backward(g, x, target, weight, ignore_index, label_smoothing, reduction):
    params = {
        "ignore_index": ignore_index,
        "label_smoothing": label_smoothing,
        "reduction": reduction,
    }
    dx = _backward_op(CROSS_ENTROPY_BACKWARD, (g, x, target, weight), params, _cross_entropy_grad)
    return dx, None, None


CROSS_ENTROPY = composite(
    "cross_entropy",
    ("x", "target", "weight"),
    _cross_entropy_infer,
    _cross_entropy_backward,
    _cross_entropy,
    doc="Cross entropy of logits (N, C) with class indices (N,), class weights (C,), "
    "ignore_index and label smoothing; reduction 'none' gives (N,).",
)


def _check_reduction(op, reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def cross_entropy(
    input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """Cross entropy between logits and class indices or class probabilities.

    input: (N, C) or (N, C, d1, ...) or (C,); target: class indices (N,) / (N, d1, ...) of an
    integer dtype, or probabilities of the input's shape. Numerically stable for any logits.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = ew._floating(input)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (the classes)")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is None:
        weight = ones((classes,), dtype=input.dtype, device=input.device)
    elif weight.requires_grad and is_grad_enabled():
        # As in PyTorch: the class weights are constants of the loss, not something it learns.
        raise RuntimeError("cross_entropy: the derivative for 'weight' is not implemented; pass weight.detach()")
    weight = ew.cast(weight, input.dtype)
    if target.dtype.is_floating_point:
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    if input.ndim == 1:
        out = cross_entropy(
            input.reshape(1, classes),
            target.reshape(1),
            weight,
            ignore_index,
            reduction,
            label_smoothing,
        )
        return out.reshape(()) if reduction == "none" else out
    expected = input.shape[:1] + input.shape[2:]
    if tuple(target.shape) != expected:
        raise ValueError(
            f"cross_entropy: expected target of shape {expected} (class indices) for input of shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    flat = input if input.ndim == 2 else mv.movedim(input, 1, -1).reshape(-1, classes)
    target = target if target.dtype is dtypes.int64 else ew.cast(target, dtypes.int64)
    params = {
        "ignore_index": int(ignore_index),
        "label_smoothing": float(label_smoothing),
        "reduction": reduction,
    }
    out = apply(CROSS_ENTROPY, (flat, target.reshape(-1), weight), params)
    return out.reshape(expected) if reduction == "none" else out


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"cross_entropy: target probabilities must have the input's shape {tuple(input.shape)}, "
            f"got {tuple(target.shape)}"
        )
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    target = ew.cast(target, input.dtype)
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    shape = [1] * input.ndim
    shape[class_dim] = classes
    loss = -(rd.log_softmax(input, class_dim) * target * weight.reshape(shape)).sum(class_dim)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / float(max(1, loss.numel() if input.ndim > 1 else 1))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log likelihood of log-probabilities `input` (N, C, *) at class indices (N, *)."""
    _check_reduction("nll_loss", reduction)
    if input.ndim == 1:
        out = nll_loss(input.reshape(1, -1), target.reshape(1), weight, ignore_index, reduction)
        return out.reshape(()) if reduction == "none" else out
    classes = input.shape[1]
    expected = input.shape[:1] + input.shape[2:]
    if tuple(target.shape) != expected:
        raise ValueError(
            f"nll_loss: expected target of shape {expected} for input {tuple(input.shape)}, got {tuple(target.shape)}"
        )
    flat = input if input.ndim == 2 else mv.movedim(input, 1, -1).reshape(-1, classes)
    target = ew.cast(target, dtypes.int64).reshape(-1)
    valid = target != ignore_index
    safe = ew.where(valid, target, 0)
    weight_t = (
        valid.to(input.dtype) if weight is None else ew.cast(weight, input.dtype)[safe] * valid
    )
    loss = -flat.gather(1, safe.reshape(-1, 1)).reshape(-1) * weight_t
    if reduction == "none":
        return loss.reshape(expected)
    return loss.sum() if reduction == "sum" else loss.sum() / weight_t.sum()


# ================================================================================================
# scaled dot-product attention
# ================================================================================================
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

    batch = broadcast_shapes(
        "scaled_dot_product_attention", q.shape[:-2], k.shape[:-2], v.shape[:-2]
    )
    scores = batch + (q.shape[-2], k.shape[-2])
    if mask.ndim and broadcast_shapes("scaled_dot_product_attention", mask.shape, scores) != scores:
        raise ValueError(
            f"scaled_dot_product_attention: attn_mask of shape {tuple(mask.shape)} doesn't broadcast to the scores {scores}"
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


def _attention_backward(g, q, k, v, mask, is_causal, scale):
    # The probabilities are recomputed rather than saved, as flash attention does.
    p = _attention_probabilities(q, k, mask, is_causal, scale)
    dp = matmul(g, v.mT)
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    dmask = ds if mask.requires_grad else None
    return matmul(ds, k) * scale, matmul(ds.mT, q) * scale, matmul(p.mT, g), dmask


SCALED_DOT_PRODUCT_ATTENTION = composite(
    "scaled_dot_product_attention",
    ("q", "k", "v", "mask"),
    _attention_infer,
    _attention_backward,
    _attention,
    doc="softmax(q @ k^T * scale + mask [causal]) @ v; q (..., L, E), k (..., S, E), v (..., S, Ev); "
    "mask is additive, broadcast to (..., L, S), or 0-d for none.",
)


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    """Attention as in PyTorch: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    attn_mask: a bool mask (True = attend) or an additive float mask, broadcastable to
    (..., L, S). is_causal masks keys after each query (top-left aligned, as PyTorch).
    `dropout_p` drops attention probabilities (always applied when > 0, like PyTorch's
    functional; nn layers pass 0.0 in eval mode).
    """
    query = ew._floating(query)
    key, value = ew.cast(key, query.dtype), ew.cast(value, query.dtype)
    if is_causal and attn_mask is not None:
        raise ValueError(
            "scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both"
        )
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


# ================================================================================================
# convolution: conv2d, and its two backward ops (conv_transpose2d is the input gradient)
# ================================================================================================
def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution or pooling window along one dim; padding is (before, after)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def _window_slices(kernel, stride, dilation, out_hw):
    """(i, j, key) for each kernel position: `key` picks that tap of every window from a
    padded (N, C, H, W) input as a strided (N, C, Ho, Wo) slice."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            yield i, j, (slice(None), slice(None), rows, cols)


def _pad2d(x, padding, value=0.0):
    (top, bottom), (left, right) = padding
    if top or bottom or left or right:
        return mv.pad(x, (left, right, top, bottom), value=value)
    return x


def _im2col(x, kernel, stride, padding, dilation, out_hw):
    """(N, C, H, W) -> (N, C * kh * kw, Ho * Wo): each output position's receptive field."""
    xp = _pad2d(x, padding)
    taps = [xp[key] for _, _, key in _window_slices(kernel, stride, dilation, out_hw)]
    n, c = x.shape[:2]
    return mv.stack(taps, 2).reshape(n, c * kernel[0] * kernel[1], out_hw[0] * out_hw[1])


def _col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw):
    """The adjoint of `_im2col`: (N, C * kh * kw, Ho * Wo) summed back into (N, C, H, W)."""
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    cols = cols.reshape(n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    out = zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype, device=cols.device)
    for i, j, key in _window_slices(kernel, stride, dilation, out_hw):
        out = index_put(out, cols[:, :, i, j], key, accumulate=True)
    return out[:, :, top : top + h, left : left + w]


def _conv_geometry(x_shape, weight_shape, stride, padding, dilation):
    kernel = tuple(weight_shape[2:])
    out_hw = tuple(
        conv_output_size(x_shape[2 + d], kernel[d], stride[d], padding[d], dilation[d])
        for d in (0, 1)
    )
    return kernel, out_hw


def _conv2d_infer(x, weight, stride, padding, dilation, groups):
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(
            f"conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), got {tuple(x.shape)} and {tuple(weight.shape)}"
        )
    if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(
            f"conv2d: input of shape {tuple(x.shape)} has {x.shape[1]} channels, but weight of shape "
            f"{tuple(weight.shape)} with groups={groups} expects {weight.shape[1] * groups}"
        )
    kernel, out_hw = _conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    if min(out_hw) <= 0:
        raise ValueError(
            f"conv2d: kernel {kernel} (dilation {dilation}) is larger than the padded input {tuple(x.shape)}"
        )
    return (x.shape[0], weight.shape[0]) + out_hw, x.dtype


def _conv2d(x, weight, stride, padding, dilation, groups):
    n = x.shape[0]
    out_channels = weight.shape[0]
    kernel, out_hw = _conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    cols = _im2col(x, kernel, stride, padding, dilation, out_hw).reshape(
        n, groups, -1, out_hw[0] * out_hw[1]
    )
    w = weight.reshape(groups, out_channels // groups, -1)
    return matmul(w, cols).reshape((n, out_channels) + out_hw)


def _conv2d_input_grad(g, weight, input_shape, stride, padding, dilation, groups):
    n = g.shape[0]
    kernel, out_hw = tuple(weight.shape[2:]), tuple(g.shape[2:])
    w = weight.reshape(groups, weight.shape[0] // groups, -1)
    cols = matmul(w.mT, g.reshape(n, groups, -1, out_hw[0] * out_hw[1]))
    return _col2im(
        cols.reshape(n, -1, out_hw[0] * out_hw[1]),
        input_shape,
        kernel,
        stride,
        padding,
        dilation,
        out_hw,
    )


def _conv2d_weight_grad(g, x, weight_shape, stride, padding, dilation, groups):
    n = x.shape[0]
    kernel, out_hw = tuple(weight_shape[2:]), tuple(g.shape[2:])
    cols = _im2col(x, kernel, stride, padding, dilation, out_hw).reshape(
        n, groups, -1, out_hw[0] * out_hw[1]
    )
    grad = matmul(g.reshape(n, groups, -1, out_hw[0] * out_hw[1]), cols.mT).sum(0)
    return grad.reshape(weight_shape)


def _conv_params(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _conv2d_backward(g, x, weight, stride, padding, dilation, groups):
    params = _conv_params(stride, padding, dilation, groups)
    dx = apply(CONV2D_BACKWARD_INPUT, (g, weight), {"input_shape": tuple(x.shape), **params})
    dw = apply(CONV2D_BACKWARD_WEIGHT, (g, x), {"weight_shape": tuple(weight.shape), **params})
    return dx, dw


def _backward_input_infer(g, weight, input_shape, stride, padding, dilation, groups):
    return tuple(input_shape), g.dtype


def _backward_weight_infer(g, x, weight_shape, stride, padding, dilation, groups):
    return tuple(weight_shape), g.dtype


def _backward_input_backward(grad, g, weight, stride, padding, dilation, groups):
    # dx = Wᵀ ⋆ g is bilinear in (g, weight): differentiate each factor with the other two ops.
    params = _conv_params(stride, padding, dilation, groups)
    dg = apply(CONV2D, (grad, weight), params)
    dw = apply(CONV2D_BACKWARD_WEIGHT, (g, grad), {"weight_shape": tuple(weight.shape), **params})
    return dg, dw


def _backward_weight_backward(grad, g, x, stride, padding, dilation, groups):
    params = _conv_params(stride, padding, dilation, groups)
    dg = apply(CONV2D, (x, grad), params)
    dx = apply(CONV2D_BACKWARD_INPUT, (g, grad), {"input_shape": tuple(x.shape), **params})
    return dg, dx


CONV2D = composite(
    "conv2d",
    ("x", "weight"),
    _conv2d_infer,
    _conv2d_backward,
    _conv2d,
    doc="2-d cross-correlation: x (N, C, H, W), weight (O, C/groups, kh, kw) -> (N, O, Ho, Wo); "
    "padding is ((top, bottom), (left, right)).",
)
CONV2D_BACKWARD_INPUT = composite(
    "conv2d_backward_input",
    ("g", "weight"),
    _backward_input_infer,
    _backward_input_backward,
    _conv2d_input_grad,
    doc="The input gradient of conv2d (also the transposed convolution).",
)
CONV2D_BACKWARD_WEIGHT = composite(
    "conv2d_backward_weight",
    ("g", "x"),
    _backward_weight_infer,
    _backward_weight_backward,
    _conv2d_weight_grad,
    doc="The weight gradient of conv2d.",
)


def _pair(op, name, value):
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value}")
    return value


def _conv_padding(padding, kernel, dilation, stride):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
        pads = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))  # the extra one goes after, as PyTorch
        return tuple(pads)
    if isinstance(padding, str):
        raise ValueError(
            f"conv2d: padding must be 'valid', 'same', an int or a pair, got {padding!r}"
        )
    ph, pw = _pair("conv2d", "padding", padding)
    return ((ph, ph), (pw, pw))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as PyTorch): input (N, C, H, W) or (C, H, W),
    weight (O, C/groups, kh, kw), bias (O,); padding an int, a pair, 'valid' or 'same'."""
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    input = ew._floating(input)
    weight = ew.cast(weight, input.dtype)
    stride, dilation = _pair("conv2d", "stride", stride), _pair("conv2d", "dilation", dilation)
    params = _conv_params(
        stride, _conv_padding(padding, weight.shape[2:], dilation, stride), dilation, int(groups)
    )
    out = apply(CONV2D, (input, weight), params)
    if bias is not None:
        out = out + ew.cast(bias, input.dtype).reshape(1, -1, 1, 1)
    return out


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed 2-d convolution (the gradient of conv2d): input (N, C_in, H, W), weight
    (C_in, C_out/groups, kh, kw) -> (N, C_out, Ho, Wo)."""
    if input.ndim == 3:
        return conv_transpose2d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    input = ew._floating(input)
    weight = ew.cast(weight, input.dtype)
    stride, dilation = (
        _pair("conv_transpose2d", "stride", stride),
        _pair("conv_transpose2d", "dilation", dilation),
    )
    (ph, pw), (oh, ow) = (
        _pair("conv_transpose2d", "padding", padding),
        _pair("conv_transpose2d", "output_padding", output_padding),
    )
    if input.ndim != 4 or weight.ndim != 4 or input.shape[1] != weight.shape[0]:
        raise ValueError(
            f"conv_transpose2d: expected input (N, C_in, H, W) and weight (C_in, C_out/groups, kh, kw), got "
            f"{tuple(input.shape)} and {tuple(weight.shape)}"
        )
    n, _, h, w = input.shape
    kh, kw = weight.shape[2:]
    out_h = (h - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oh + 1
    out_w = (w - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + ow + 1
    # output_padding adds rows/cols at the end that no input reaches: pad them after.
    params = _conv_params(stride, ((ph, ph - oh), (pw, pw - ow)), dilation, int(groups))
    if ph - oh < 0 or pw - ow < 0:
        raise ValueError("conv_transpose2d: output_padding larger than padding is not supported")
    shape = (n, weight.shape[1] * groups, out_h, out_w)
    out = apply(CONV2D_BACKWARD_INPUT, (input, weight), {"input_shape": shape, **params})
    if bias is not None:
        out = out + ew.cast(bias, input.dtype).reshape(1, -1, 1, 1)
    return out


# ================================================================================================
# pooling
# ================================================================================================
def _pool_geometry(x_shape, kernel_size, stride, padding, dilation):
    return tuple(
        conv_output_size(x_shape[2 + d], kernel_size[d], stride[d], padding[d], dilation[d])
        for d in (0, 1)
    )


def _pool_infer(name):
    def infer(x, kernel_size, stride, padding, dilation, **params):
        if x.ndim != 4:
            raise ValueError(f"{name}: expected input (N, C, H, W), got {tuple(x.shape)}")
        for k, p in zip(kernel_size, padding, strict=True):
            if p[0] * 2 > k:
                raise ValueError(
                    f"{name}: padding should be at most half of the kernel size, got padding {p[0]} for kernel {k}"
                )
        out_hw = _pool_geometry(x.shape, kernel_size, stride, padding, dilation)
        if min(out_hw) <= 0:
            raise ValueError(
                f"{name}: kernel {kernel_size} is larger than the padded input {tuple(x.shape)}"
            )
        return x.shape[:2] + out_hw, x.dtype

    return infer


def _max_pool2d(x, kernel_size, stride, padding, dilation):
    out_hw = _pool_geometry(x.shape, kernel_size, stride, padding, dilation)
    xp = _pad2d(x, padding, -math.inf)
    taps = [xp[key] for _, _, key in _window_slices(kernel_size, stride, dilation, out_hw)]
    return rd.amax(mv.stack(taps, -1), -1)


def _max_pool2d_grad(g, x, kernel_size, stride, padding, dilation):
    # The gradient goes to the first maximum of each window, as PyTorch's.
    out_hw = tuple(g.shape[2:])
    xp = _pad2d(x, padding, -math.inf)
    taps = mv.stack(
        [xp[key] for _, _, key in _window_slices(kernel_size, stride, dilation, out_hw)], -1
    )
    first = rd.argmax(taps, -1)
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    out = zeros((n, c, h + top + bottom, w + left + right), dtype=g.dtype, device=g.device)
    for tap, (_, _, key) in enumerate(_window_slices(kernel_size, stride, dilation, out_hw)):
        out = index_put(out, ew.where(first == tap, g, 0.0), key, accumulate=True)
    return out[:, :, top : top + h, left : left + w]


def _max_pool2d_backward_infer(g, x, **params):
    return x.shape, x.dtype


MAX_POOL2D_BACKWARD = composite(
    "max_pool2d_backward",
    ("g", "x"),
    _max_pool2d_backward_infer,
    None,
    _max_pool2d_grad,
    doc="The input gradient of max_pool2d (to the first maximum of each window).",
)


def _max_pool2d_backward(g, x, kernel_size, stride, padding, dilation):
    params = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    return _backward_op(MAX_POOL2D_BACKWARD, (g, x), params, _max_pool2d_grad)


MAX_POOL2D = composite(
    "max_pool2d",
    ("x",),
    _pool_infer("max_pool2d"),
    _max_pool2d_backward,
    _max_pool2d,
    doc="The maximum of each (dilated) window of (N, C, H, W); padding is ((top, bottom), (left, right)).",
)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, dtype, device):
    """What each window's sum is divided by: the kernel size, or the count of real pixels."""
    if count_include_pad or not any(p for pair in padding for p in pair):
        return float(kernel_size[0] * kernel_size[1])
    ones_map = ones((1, 1) + tuple(x_shape[2:]), dtype=dtype, device=device)
    return _avg_pool_sum(ones_map, kernel_size, stride, padding)


def _avg_pool_sum(x, kernel_size, stride, padding):
    out_hw = _pool_geometry(x.shape, kernel_size, stride, padding, (1, 1))
    xp = _pad2d(x, padding)
    total = None
    for _, _, key in _window_slices(kernel_size, stride, (1, 1), out_hw):
        total = xp[key] if total is None else total + xp[key]
    return total


def _avg_pool2d(x, kernel_size, stride, padding, dilation, count_include_pad):
    divisor = _avg_divisor(
        x.shape, kernel_size, stride, padding, count_include_pad, x.dtype, x.device
    )
    return _avg_pool_sum(x, kernel_size, stride, padding) / divisor


def _avg_pool2d_grad(g, input_shape, kernel_size, stride, padding, dilation, count_include_pad):
    divisor = _avg_divisor(
        input_shape, kernel_size, stride, padding, count_include_pad, g.dtype, g.device
    )
    share = g / divisor
    (top, bottom), (left, right) = padding
    n, c, h, w = input_shape
    out = zeros((n, c, h + top + bottom, w + left + right), dtype=g.dtype, device=g.device)
    for _, _, key in _window_slices(kernel_size, stride, (1, 1), tuple(g.shape[2:])):
        out = index_put(out, share, key, accumulate=True)
    return out[:, :, top : top + h, left : left + w]


def _avg_pool2d_backward_infer(g, input_shape, **params):
    return tuple(input_shape), g.dtype


def _avg_params(kernel_size, stride, padding, dilation, count_include_pad):
    return {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "count_include_pad": count_include_pad,
    }


AVG_POOL2D_BACKWARD = composite(
    "avg_pool2d_backward",
    ("g",),
    _avg_pool2d_backward_infer,
    lambda grad, kernel_size, stride, padding, dilation, count_include_pad: apply(
        AVG_POOL2D, (grad,), _avg_params(kernel_size, stride, padding, dilation, count_include_pad)
    ),
    _avg_pool2d_grad,
    doc="The input gradient of avg_pool2d.",
)


def _avg_pool2d_backward(g, input_shape, kernel_size, stride, padding, dilation, count_include_pad):
    params = {
        "input_shape": tuple(input_shape),
        **_avg_params(kernel_size, stride, padding, dilation, count_include_pad),
    }
    return apply(AVG_POOL2D_BACKWARD, (g,), params)


AVG_POOL2D = composite(
    "avg_pool2d",
    ("x",),
    _pool_infer("avg_pool2d"),
    _avg_pool2d_backward,
    _avg_pool2d,
    doc="The mean of each window of (N, C, H, W).",
)


def _pool_args(op, input, kernel_size, stride, padding, ceil_mode):
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported")
    kernel_size = _pair(op, "kernel_size", kernel_size)
    stride = kernel_size if stride is None or stride == [] else _pair(op, "stride", stride)
    ph, pw = _pair(op, "padding", padding)
    return kernel_size, stride, ((ph, ph), (pw, pw))


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Max pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported")
    if input.ndim == 3:
        return max_pool2d(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode
        ).squeeze(0)
    kernel_size, stride, padding = _pool_args(
        "max_pool2d", input, kernel_size, stride, padding, ceil_mode
    )
    params = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": _pair("max_pool2d", "dilation", dilation),
    }
    return apply(MAX_POOL2D, (ew._floating(input),), params)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Average pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    if input.ndim == 3:
        return avg_pool2d(
            input.unsqueeze(0),
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        ).squeeze(0)
    kernel_size, stride, padding = _pool_args(
        "avg_pool2d", input, kernel_size, stride, padding, ceil_mode
    )
    params = _avg_params(kernel_size, stride, padding, (1, 1), bool(count_include_pad))
    out = apply(AVG_POOL2D, (ew._floating(input),), params)
    if divisor_override is not None:
        out = out * (float(kernel_size[0] * kernel_size[1]) / divisor_override)
    return out
