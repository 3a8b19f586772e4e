"""cross_entropy over class indices or probabilities (with its fused backward op) and nll_loss."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops import reduce as rd
from somegrad.ops.creation import arange, ones
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.layout import movedim
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import FLOATING, INDEX, INTEGERS, OpSpec, public, register


def _cross_entropy_infer(x, target, weight, ignore_index, label_smoothing, reduction):
    if x.ndim != 2:
        raise ShapeError(f"cross_entropy: the op takes logits of shape (N, C), got {tuple(x.shape)}")
    if target.shape != x.shape[:1]:
        raise ShapeError(
            f"cross_entropy: expected target of shape {x.shape[:1]} for logits {tuple(x.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if weight.shape != x.shape[1:]:
        raise ShapeError(f"cross_entropy: weight of shape {tuple(weight.shape)} doesn't fit {x.shape[1]} classes")
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
    check_class_indices("cross_entropy", target, x.shape[1], ignore_index)
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
    accepts={"g": FLOATING, "x": FLOATING, "target": INTEGERS, "weight": FLOATING},
)


def _cross_entropy_backward(g, x, target, weight, ignore_index, label_smoothing, reduction):
    params = {
        "ignore_index": ignore_index,
        "label_smoothing": label_smoothing,
        "reduction": reduction,
    }
    dx = backward_op(CROSS_ENTROPY_BACKWARD, (g, x, target, weight), params, _cross_entropy_grad)
    return dx, None, None


CROSS_ENTROPY = composite(
    "cross_entropy",
    ("x", "target", "weight"),
    _cross_entropy_infer,
    _cross_entropy_backward,
    _cross_entropy,
    doc="Cross entropy of logits (N, C) with class indices (N,), class weights (C,), "
    "ignore_index and label smoothing; reduction 'none' gives (N,). A target that is neither a "
    "class in [0, C) nor ignore_index raises `class_index_error` (a fused kernel checks too).",
    accepts={"x": FLOATING, "target": INTEGERS, "weight": FLOATING},
)

_unit_weights: dict = {}


def _unit_weight(classes, dtype, device):
    """Class weights of ones, for a loss called without `weight`. They are an operand of the
    op, never handed to users, so one tensor per (classes, dtype, device) is reused, as
    `scalar_tensor` does with constants."""
    key = (classes, dtype, device)
    weight = _unit_weights.get(key)
    if weight is None:
        if len(_unit_weights) > 256:
            _unit_weights.clear()
        weight = _unit_weights[key] = ones((classes,), dtype=dtype, device=device)
    return weight


def _check_reduction(op, reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


@public(CROSS_ENTROPY, export=False)
def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits and class indices or class probabilities.

    input: (N, C) or (N, C, d1, ...) or (C,); target: class indices (N,) / (N, d1, ...) of an
    integer dtype, or probabilities of the input's shape. Numerically stable for any logits.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = ew._floating(input)
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have at least 1 dimension (the classes)")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if classes == 0:
        raise ShapeError(f"cross_entropy: input of shape {tuple(input.shape)} has no classes (expected C >= 1)")
    if weight is None:
        weight = _unit_weight(classes, input.dtype, input.device)
    elif tuple(weight.shape) != (classes,):
        raise ShapeError(
            f"cross_entropy: weight of shape {tuple(weight.shape)} doesn't fit {classes} classes "
            f"(expected ({classes},))"
        )
    elif weight.requires_grad and is_grad_enabled():
        # As in PyTorch: the class weights are constants of the loss, not something it learns.
        raise RuntimeError("cross_entropy: the derivative for 'weight' is not implemented; pass weight.detach()")
    weight = ew.cast(weight, input.dtype)
    if target.dtype.is_floating_point:
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    if input.ndim == 1:
        if target.ndim > 1 or target.numel() != 1:
            raise ValueError(
                f"cross_entropy: expected a 0-d target (one class index) for the unbatched input of shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
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
    # the op checks the class indices (in its fused kernel, or in its decomposition)
    flat = input if input.ndim == 2 else movedim(input, 1, -1).reshape(-1, classes)
    target = target if target.dtype is dtypes.int64 else ew.cast(target, dtypes.int64)
    params = {
        "ignore_index": int(ignore_index),
        "label_smoothing": float(label_smoothing),
        "reduction": reduction,
    }
    out = apply(CROSS_ENTROPY, (flat, target.reshape(-1), weight), params)
    return out.reshape(expected) if reduction == "none" else out


def check_class_indices(op, target, classes, ignore_index):
    """Each target must be a class in [0, classes) or ignore_index: an index past the end
    would fail inside a kernel, and a negative one would pick a class from the end. This
    reads the target's smallest and largest values back (two syncs), as embedding does with
    its indices, and looks further only when one is out of range."""
    if target.numel() == 0 or 0 <= rd.amin(target).item() <= rd.amax(target).item() < classes:
        return  # every target is a class: the common case, in two reductions
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any().item():
        raise class_index_error(op, int(target[bad].reshape(-1)[0].item()), classes, ignore_index)


def class_index_error(op, value, classes, ignore_index):
    """The error for a target `value` that is neither a class in [0, classes) nor ignore_index
    (a fused cross_entropy kernel raises it too)."""
    return IndexError(
        f"{op}: Target {value} is out of bounds (expected a class index in [0, {classes}) "
        f"or ignore_index {ignore_index})"
    )


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(
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
    # As in PyTorch, the mean of an empty batch is 0 / 0 = nan.
    return total / float(loss.numel())


def _nll_loss(x, target, weight, ignore_index, reduction):
    valid = target != ignore_index
    safe = ew.where(valid, target, 0)
    weight_t = weight[safe] * valid
    loss = -x.gather(1, safe.reshape(-1, 1)).reshape(-1) * weight_t
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / weight_t.sum()


def _nll_loss_infer(x, target, weight, ignore_index, reduction):
    return (x.shape[:1] if reduction == "none" else ()), x.dtype


# An implicit composite: autograd goes through gather and the reduction.
NLL_LOSS = register(
    OpSpec(
        "nll_loss",
        "composite",
        ("x", "target", "weight"),
        _nll_loss_infer,
        decompose=_nll_loss,
        accepts={"x": FLOATING, "target": INDEX, "weight": FLOATING},
        doc="The negative log likelihood of log-probabilities x (N, C) at class indices target (N,), "
        "weighted by class weights (C,); reduction 'none' gives (N,).",
    )
)


@public(NLL_LOSS, export=False)
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
    check_class_indices("nll_loss", target, classes, ignore_index)
    flat = input if input.ndim == 2 else movedim(input, 1, -1).reshape(-1, classes)
    target = ew.cast(target, dtypes.int64).reshape(-1)
    weight = _unit_weight(classes, input.dtype, input.device) if weight is None else ew.cast(weight, input.dtype)
    params = {"ignore_index": int(ignore_index), "reduction": reduction}
    loss = apply(NLL_LOSS, (flat, target, weight), params)
    return loss.reshape(expected) if reduction == "none" else loss
