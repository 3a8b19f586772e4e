"""Lookups of `somegrad.nn.functional`: embedding (with max_norm, scale_grad_by_freq),
embedding_bag (sum, mean and max over bags) and one_hot, with PyTorch's signatures."""

from __future__ import annotations

import numpy as np

import somegrad as sg
from somegrad.nn.functional_losses import p_norm
from somegrad.ops import nn as _nn_ops
from somegrad.tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]


class EmbeddingArgumentError(ValueError, AssertionError):
    """A padding_idx outside [-num_embeddings, num_embeddings), or pretrained embeddings that are
    not 2-d: PyTorch asserts these (AssertionError); a ValueError too."""


def padding_index(padding_idx, rows, op="embedding"):
    """`padding_idx` in [0, rows), or None; a negative one counts from the end."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise EmbeddingArgumentError(
            f"{op}: padding_idx {padding_idx} must be within num_embeddings (in [{-rows}, {rows}))"
        )
    return padding_idx % rows


def _host_indices(input):
    return np.asarray(input.detach().cpu().numpy()).reshape(-1)


def _renorm_(weight, input, max_norm, norm_type):
    """Rescale, in place, each row of `weight` that `input` looks up and whose norm exceeds
    `max_norm`, to norm `max_norm` (as PyTorch's embedding_renorm_, outside the graph)."""
    rows = np.unique(_host_indices(input))
    if rows.size == 0:
        return
    with sg.no_grad():
        index = sg.tensor(rows, device=weight.device)
        picked = weight[index]
        norms = p_norm(picked, norm_type, 1, keepdim=True)
        scale = sg.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[index] = picked * scale


def _scale_grad_by_freq(out, input):
    """Divide the gradient reaching each looked-up row by how often its index occurs in `input`."""
    if not out.requires_grad:
        return out
    _, inverse, counts = np.unique(_host_indices(input), return_inverse=True, return_counts=True)
    scale = sg.tensor((1.0 / counts[inverse]).reshape(tuple(input.shape) + (1,)), dtype=out.dtype, device=out.device)
    out.register_hook(lambda g: g * scale)
    return out


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) at the integer `input`: (*) -> (*, dim).

    The `padding_idx` row gets no gradient; `max_norm` first rescales, in place, the looked-up rows
    whose `norm_type`-norm exceeds it; `scale_grad_by_freq` divides each row's gradient by its
    index's count in `input`. `sparse` is accepted; the gradient is always dense."""
    padding_idx = padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    out = _nn_ops.embedding(input, weight, padding_idx)
    return _scale_grad_by_freq(out, input) if scale_grad_by_freq else out


def _bag_of_each_index(input, offsets, include_last_offset):
    """For 1-d `input` cut at `offsets`: (the bag of each index (n,), -1 for an index after the
    last bag, the number of bags). The offsets are read back once (they are small)."""
    starts = _host_indices(offsets).astype(np.int64)
    total = input.shape[0]
    if starts.size and starts[0] != 0:
        raise RuntimeError(
            f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {starts[0]}"
        )
    if starts.size and starts[-1] > total:
        raise RuntimeError(
            f"embedding_bag: offsets[-1] can not be greater than input's length {total}, but got {starts[-1]}"
        )
    if np.any(np.diff(starts) < 0):
        raise RuntimeError("embedding_bag: offsets must be non-decreasing")
    bags = starts.size - 1 if include_last_offset else starts.size
    bag = np.searchsorted(starts[: bags + 1] if include_last_offset else starts, np.arange(total), side="right") - 1
    if include_last_offset:
        bag[bag >= bags] = -1
    return bag, max(bags, 0)


def _segment_reduce(rows, keep, weights, bag, bags, mode):
    """Reduce the rows (n, dim) of 1-d lookups into `bags` bags by their bag (n,): index_add and
    scatter_reduce, O(n * dim) whatever the bags' lengths."""
    dim = rows.shape[1]
    zeros = sg.zeros((bags, dim), dtype=rows.dtype, device=rows.device)
    kept = keep & (bag >= 0)
    target = sg.where(bag >= 0, bag, 0)
    count = sg.zeros((bags,), dtype=rows.dtype, device=rows.device).index_add(0, target, kept.to(rows.dtype))
    count = count.reshape(bags, 1)
    if mode == "max":
        index = target.reshape(-1, 1).expand(-1, dim)
        candidates = sg.where(kept.unsqueeze(-1), rows, -float("inf"))
        picked = zeros.scatter_reduce(0, index, candidates, "amax", include_self=False)
        return sg.where(count > 0, picked, 0.0)
    scale = kept.to(rows.dtype) if weights is None else kept.to(rows.dtype) * weights
    total = zeros.index_add(0, target, rows * scale.unsqueeze(-1))
    return total if mode == "sum" else total / count.clamp(min=1.0)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of the embeddings of each bag, without the (B, L, dim) lookups a
    user would build: input (B, L) of fixed-length bags, or 1-d indices cut into bags at
    `offsets` (B,) (B + 1 with `include_last_offset`) -> (B, dim). `per_sample_weights` (the
    input's shape) weighs each lookup in mode "sum"; `padding_idx` entries are left out (of the
    mean's count too); an empty bag gives zeros."""
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, then it must "
            f"have the same shape as the input ({tuple(input.shape)})"
        )
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}')."
        )
    padding_idx = padding_index(padding_idx, weight.shape[0], "embedding_bag")
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    rows = _nn_ops.embedding(input, weight, padding_idx)  # (B, L, dim) or (n, dim)
    if scale_grad_by_freq:
        _scale_grad_by_freq(rows, input)
    weights = None if per_sample_weights is None else per_sample_weights.to(weight.dtype)
    keep = input != (-1 if padding_idx is None else padding_idx)
    if input.ndim == 1:
        bag, bags = _bag_of_each_index(input, offsets, include_last_offset)
        return _segment_reduce(rows, keep, weights, sg.tensor(bag, device=input.device), bags, mode)
    if mode == "max":
        picked = sg.where(keep.unsqueeze(-1), rows, -float("inf")).amax(1)
        return sg.where(keep.any(1, keepdim=True), picked, 0.0)
    scale = keep.to(weight.dtype) if weights is None else keep.to(weight.dtype) * weights
    total = (rows * scale.unsqueeze(-1)).sum(1)
    if mode == "sum":
        return total
    return total / keep.sum(1, keepdim=True).clamp(min=1).to(weight.dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(*) integer classes -> (*, num_classes) int64 one-hot rows."""
    if num_classes < 0:
        num_classes = int(tensor.amax().item()) + 1
    classes = sg.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()
