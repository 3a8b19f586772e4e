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


def _inverse_frequency(input):
    """1 / (the count of each index of `input` in `input`), as a host array of input's shape."""
    _, inverse, counts = np.unique(_host_indices(input), return_inverse=True, return_counts=True)
    return (1.0 / counts[inverse]).reshape(tuple(input.shape))


def _scale_gradient(out, scale):
    """Multiply the gradient reaching the looked-up rows `out` (*, dim) by `scale` (*) (host)."""
    if out.requires_grad:
        factor = sg.tensor(scale[..., None], dtype=out.dtype, device=out.device)
        out.register_hook(lambda g: g * factor)
    return out


def _scale_grad_by_freq(out, input):
    """Divide the gradient reaching each looked-up row by how often its index occurs in `input`."""
    return _scale_gradient(out, _inverse_frequency(input))


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


def _bags_of(input, offsets, include_last_offset):
    """(start, length) host arrays of the bags that `offsets` cut 1-d `input` into (the offsets
    are read back once: they are small)."""
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
    if include_last_offset:
        starts, ends = starts[:-1], starts[1:]
    else:
        ends = np.append(starts[1:], total)
    return starts, ends - starts


def _reduce_bags(rows, keep, weights, mode):
    """Reduce looked-up rows (B, L, dim) over L, counting only `keep` (B, L); zeros for empty bags."""
    if mode == "max":
        if rows.shape[1] == 0:  # only empty bags
            return rows.sum(1)
        picked = sg.where(keep.unsqueeze(-1), rows, -float("inf")).amax(1)
        return sg.where(keep.any(1, keepdim=True), picked, 0.0)
    scale = keep.to(rows.dtype) if weights is None else keep.to(rows.dtype) * weights
    total = (rows * scale.unsqueeze(-1)).sum(1)
    if mode == "sum":
        return total
    return total / keep.sum(1, keepdim=True).clamp(min=1).to(rows.dtype)


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
    weights = None if per_sample_weights is None else per_sample_weights.to(weight.dtype)
    frequency = _inverse_frequency(input) if scale_grad_by_freq else None

    def reduce(indices, valid, bag_weights, scale):
        rows = _nn_ops.embedding(indices, weight, padding_idx)  # (B, L, dim)
        if scale is not None:
            _scale_gradient(rows, scale)
        keep = indices >= 0 if padding_idx is None else indices != padding_idx
        return _reduce_bags(rows, keep if valid is None else keep & valid, bag_weights, mode)

    if input.ndim == 2:
        return reduce(input, None, weights, frequency)
    starts, lengths = _bags_of(input, offsets, include_last_offset)
    # Bags whose lengths share a power of two go together, padded to the group's longest: at most
    # twice the lookups, a few dense (bags, length) reductions, whatever the mix of lengths.
    groups = np.where(lengths > 0, np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64) + 1, 0)
    parts, grouped = [], []
    for group in np.unique(groups):
        bags = np.flatnonzero(groups == group)
        steps = np.arange(lengths[bags].max())  # the group's longest bag
        valid = steps[None, :] < lengths[bags, None]
        positions = np.where(valid, starts[bags, None] + steps[None, :], 0)
        if input.shape[0] == 0:
            parts.append(sg.zeros((bags.size, weight.shape[1]), dtype=weight.dtype, device=weight.device))
        else:
            index = sg.tensor(positions, device=input.device)
            scale = None if frequency is None else np.where(valid, frequency[positions], 0.0)
            bag_weights = None if weights is None else weights[index]
            parts.append(reduce(input[index], sg.tensor(valid, device=input.device), bag_weights, scale))
        grouped.append(bags)
    if not parts:
        return sg.zeros((0, weight.shape[1]), dtype=weight.dtype, device=weight.device)
    out = parts[0] if len(parts) == 1 else sg.cat(parts, 0)
    order = np.concatenate(grouped)
    if np.array_equal(order, np.arange(order.size)):
        return out
    return out[sg.tensor(np.argsort(order), device=out.device)]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(*) integer classes -> (*, num_classes) int64 one-hot rows."""
    if num_classes < 0:
        num_classes = int(tensor.amax().item()) + 1
    classes = sg.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()
