"""The losses of `somegrad.nn.functional`, with PyTorch's signatures (re-exported there).

cross_entropy and nll_loss are ops of `somegrad.ops.nn`; the others are a few Tensor ops each,
so autograd (double backward included) goes through them. Every loss takes `reduction`
("none", "mean", "sum"; anything else is a ValueError) and the legacy `size_average` and
`reduce` flags where PyTorch still does.
"""

from __future__ import annotations

import math

import somegrad as sg
from somegrad.ops import activations as _act
from somegrad.ops import nn as _nn_ops
from somegrad.tensor import Tensor

__all__ = [
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "triplet_margin_loss",
    "pairwise_distance",
]


def legacy_reduction(size_average, reduce, reduction):
    """PyTorch's reading of the deprecated `size_average` and `reduce` flags (either one given
    overrides `reduction`). A string where `size_average` stands is taken as the reduction:
    somegrad's losses took `reduction` third before they took PyTorch's full signature."""
    if isinstance(size_average, str):
        return size_average
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _weighted(loss, weight, reduction, op):
    """mse_loss and l1_loss with elementwise weights: the mean divides by the weights' sum."""
    check_reduction(reduction)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(f"{op}: Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return loss.sum() if reduction == "sum" else loss


def _same_shape(op, input, target):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size."
        )


# --- class scores --------------------------------------------------------------------------------
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy of logits (N, C, *) or (C,) with class indices (N, *) or class probabilities
    of the input's shape; `weight` (C,) weighs the classes. Numerically stable for any logits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _nn_ops.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of log-probabilities (N, C, *) at class indices (N, *)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _nn_ops.nll_loss(input, target, weight, ignore_index, reduction)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss of scores (N, C) or (C,) at class indices (N,):
    `sum_{j != y} w[y] * max(0, margin - x[y] + x[j]) ** p / C` per sample, p 1 or 2."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise RuntimeError(
            f"multi_margin_loss: Expected non-empty vector or matrix with optional 0-dim batch size, "
            f"but got: {tuple(input.shape)}"
        )
    rows = input.shape[0] if input.ndim == 2 else 1
    classes = input.shape[-1] if input.ndim else 1
    if target.ndim > 1 or target.numel() != rows:
        raise RuntimeError(
            f"multi_margin_loss: inconsistent target size, expected {rows} but got {tuple(target.shape)}"
        )
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(
            f"multi_margin_loss: inconsistent weight size, expected {classes} but got {tuple(weight.shape)}"
        )
    if target.numel() and not 0 <= int(target.amin().item()) <= int(target.amax().item()) < classes:
        raise RuntimeError(f"multi_margin_loss: target out of range (expected class indices in [0, {classes}))")
    scores = input.reshape(rows, classes)
    labels = target.reshape(rows, 1).long()
    at_target = scores.gather(1, labels)
    hinge = (scores - at_target + margin).clamp(min=0.0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.to(input.dtype)[labels.reshape(rows)].reshape(rows, 1)
    others = sg.arange(classes, device=input.device).reshape(1, classes) != labels
    loss = sg.where(others, hinge, 0.0).sum(1) / classes
    if reduction == "none":
        return loss if target.ndim else loss.reshape(())
    return _reduce(loss, reduction)


# --- regression ----------------------------------------------------------------------------------
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error, `(input - target) ** 2` reduced by `reduction` ("mean", "sum" or "none").

    The input and target broadcast (PyTorch warns when their shapes differ)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    diff = input - target
    if weight is not None:
        return _weighted(diff * diff, weight, reduction, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error, `|input - target|` reduced by `reduction` ("mean", "sum" or "none").

    The input and target broadcast (PyTorch warns when their shapes differ)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    diff = (input - target).abs()
    if weight is not None:
        return _weighted(diff, weight, reduction, "l1_loss")
    return _reduce(diff, reduction)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """`0.5 d^2 / beta` where `|d| < beta`, else `|d| - 0.5 beta`, for `d = input - target`, then reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    diff = (input - target).abs()
    if beta == 0.0:
        return _reduce(diff, reduction)
    return _reduce(sg.where(diff < beta, diff * diff * (0.5 / beta), diff - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """`0.5 d^2` where `|d| < delta`, else `delta * (|d| - 0.5 delta)`, for `d = input - target`, then reduced.

    With `weight` (the input's shape) each term is weighted and "mean" is the plain mean."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    diff = (input - target).abs()
    loss = sg.where(diff < delta, diff * diff * 0.5, (diff - 0.5 * delta) * delta)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("huber_loss: Weights and input must have the same size.")
        loss = loss * weight
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log likelihood of counts `target` with rate `exp(input)` (`log_input`) or
    `input`: `exp(x) - y x`, or `x - y log(x + eps)`; `full` adds Stirling's `log(y!)` for y > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (target * (2 * math.pi)).log()
        loss = loss + sg.where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    """Gaussian negative log likelihood `0.5 (log var + (input - target)^2 / var)` (+ `0.5 log 2 pi`
    with `full`). `var`: the input's shape, or one size-1 dim less (or a trailing dim dropped): one
    variance shared along it; a float for all. var is clamped to `eps` without touching its gradient."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = sg.full(input.shape, float(var), dtype=input.dtype, device=input.device)
    elif bool((var < 0).any().item()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (
            input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape, strict=True) if i != v) == 1
        ):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # PyTorch clamps under no_grad: the value moves to eps, the gradient stays var's own.
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# --- probabilities -------------------------------------------------------------------------------
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), with each log clamped at -100 as in PyTorch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape("binary_cross_entropy", input, target)
    if input.numel() and not bool(((input >= 0) & (input <= 1)).all().item()):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    log_p = input.log().clamp(min=-100.0)
    log_q = (1 - input).log().clamp(min=-100.0)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of sigmoid(input), computed stably: -log sigmoid(x) = softplus(-x)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    log_sigmoid_neg = -_act.logsigmoid(input)  # never overflows
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_sigmoid_neg
    else:
        loss = (1 - target) * input + log_sigmoid_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL(target || exp(input)) pointwise: `target * (log target - input)` for log-probabilities
    `input` (`log_target`: target is log-probabilities too). "batchmean" divides the sum by the
    batch size, the KL divergence per sample; "mean" divides by every element (as PyTorch)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(target, target): 0 at target 0 (with a zero gradient), NaN below 0
        safe = sg.where(target == 0, 1.0, target)
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross entropy of sigmoid(input) per class, averaged over the classes (the last dim):
    input, target (N, C) -> (N,) before the reduction; `weight` (C,) weighs the classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    loss = -(target * _act.logsigmoid(input) + (1 - target) * _act.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss `log(1 + exp(-y x))` for targets y in {1, -1}, computed stably."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce(-_act.logsigmoid(input * target), reduction)


# --- embeddings and ranking --------------------------------------------------------------------
_COSINE_EPSILON = 1e-12


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """`1 - cos(x1, x2)` where y = 1, `max(0, cos(x1, x2) - margin)` where y = -1.

    input1, input2: (N, D) with target (N,), or (D,) with a 0-d target."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if target.ndim > 1:
        raise RuntimeError("cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported")
    expected = target.ndim + 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(
            f"cosine_embedding_loss: {target.ndim}D target tensor expects {expected}D input tensors, but found "
            f"inputs with sizes {tuple(input1.shape)} and {tuple(input2.shape)}."
        )
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + _COSINE_EPSILON) * ((input2 * input2).sum(dim) + _COSINE_EPSILON)
    cos = dot / squares.sqrt()
    loss = sg.where(target == 1, 1 - cos, 0.0) + sg.where(target == -1, (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """`max(0, -y (x1 - x2) + margin)`: y = 1 asks x1 to rank above x2, y = -1 below."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
            f"{tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: {tuple(target.shape)} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0.0), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """`x` where y = 1 and `max(0, margin - x)` where y = -1 (x: a distance, y in {1, -1})."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    below_margin = sg.where(target != 1, (margin - input).clamp(min=0.0), 0.0)
    return _reduce(below_margin + sg.where(target != -1, input, 0.0), reduction)


def p_norm(x, p, dim, keepdim=False):
    """The p-norm of `x` along `dim` (an int or a tuple): any p, inf and -inf; p 0 counts the
    non-zeros. A zero slice has norm 0 and, as in PyTorch, a zero gradient (not 0 / 0)."""
    if p == math.inf:
        return x.abs().amax(dim, keepdim=keepdim)
    if p == -math.inf:
        return x.abs().amin(dim, keepdim=keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim=keepdim)
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    total = (x * x).sum(dim, keepdim=keepdim) if p == 2 else (x.abs() ** p).sum(dim, keepdim=keepdim)
    nonzero = total > 0
    safe = sg.where(nonzero, total, 1.0)
    return sg.where(nonzero, safe.sqrt() if p == 2 else safe ** (1.0 / p), 0.0)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of `x1 - x2 + eps` along the last dim: (N, D), (N, D) -> (N,); the inputs broadcast."""
    dim = max(x1.ndim, x2.ndim) - 1
    if dim < 0:
        return p_norm((x1 - x2 + eps).reshape(1), p, 0, keepdim=False)
    return p_norm(x1 - x2 + eps, p, dim, keepdim)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """`max(0, d(a, p) - d(a, n) + margin)` with the pairwise p-norm distance d; with `swap`,
    d(a, n) becomes min(d(a, n), d(p, n)). Inputs (N, D) or (D,), all of one number of dims."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"triplet_margin_loss: The anchor, positive, and negative tensors are expected to have the same "
            f"number of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
            f"{negative.ndim}D inputs"
        )
    d_positive = pairwise_distance(anchor, positive, p, eps)
    d_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_negative = sg.minimum(d_negative, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_positive - d_negative + margin).clamp(min=0.0), reduction)
