"""Margin losses over sets and distances: `multilabel_margin_loss`,
`triplet_margin_with_distance_loss`, and `pdist` (the condensed pairwise distances of rows).
Re-exported by `somegrad.nn.functional`."""

from __future__ import annotations

import somegrad as sg
from somegrad.nn.functional_losses import _reduce, check_reduction, legacy_reduction, p_norm, pairwise_distance
from somegrad.tensor import Tensor

__all__ = ["multilabel_margin_loss", "triplet_margin_with_distance_loss", "pdist"]


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label hinge loss of scores (N, C) or (C,) at target class lists of the same shape
    (int64, each row's classes read up to its first -1): per sample,
    `sum_{j in targets} sum_{i not in targets} max(0, 1 - (x[j] - x[i])) / C`."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise RuntimeError(
            f"multilabel_margin_loss: Expected non-empty vector or matrix with optional 0-dim batch size, "
            f"but got: {tuple(input.shape)}"
        )
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            f"multilabel_margin_loss: inconsistent target size: {list(target.shape)} for input of size: "
            f"{list(input.shape)}"
        )
    if target.dtype != sg.int64:
        raise RuntimeError(f"multilabel_margin_loss: expected scalar type Long but found {target.dtype.name}")
    classes = input.shape[-1] if input.ndim else 1
    if target.numel() and not -1 <= int(target.amin().item()) <= int(target.amax().item()) < classes:
        raise RuntimeError(f"multilabel_margin_loss: argument #2 'target' is out of range [-1, {classes})")
    rows = input.shape[0] if input.ndim == 2 else 1
    scores = input.reshape(rows, classes)
    labels = target.reshape(rows, classes)
    # A slot counts while no -1 came before it in its row.
    valid = (labels >= 0).long().cumprod(1).bool()
    index = labels.clamp(min=0)
    hot = sg.where(valid.unsqueeze(2), sg.nn.functional.one_hot(index, classes), 0)
    is_target = hot.sum(1) > 0
    at_target = scores.gather(1, index)
    hinge = (1.0 - at_target.unsqueeze(2) + scores.unsqueeze(1)).clamp(min=0.0)
    counted = valid.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = sg.where(counted, hinge, 0.0).sum((1, 2)) / classes
    if reduction == "none":
        return loss if input.ndim == 2 else loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """`max(0, d(a, p) - d(a, n) + margin)` for any distance `d` (a callable of two tensors,
    `pairwise_distance` by default); with `swap`, d(a, n) becomes min(d(a, n), d(p, n))."""
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"triplet_margin_with_distance_loss: The anchor, positive, and negative tensors are expected to have "
            f"the same number of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs"
        )
    distance = pairwise_distance if distance_function is None else distance_function
    d_positive = distance(anchor, positive)
    d_negative = distance(anchor, negative)
    if swap:
        d_negative = sg.minimum(d_negative, distance(positive, negative))
    return _reduce((margin + d_positive - d_negative).clamp(min=0.0), reduction)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows of (N, M): the upper triangle of the
    distance matrix, row by row, as (N * (N - 1) / 2,)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype.name}")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    n = input.shape[0]
    first, second = sg.triu_indices(n, n, 1, device=input.device)
    return p_norm(input[first] - input[second], p, 1)
