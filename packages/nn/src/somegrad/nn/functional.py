"""`somegrad.nn.functional`: PyTorch's functional API, written over somegrad's core ops.

The fused composites (linear, embedding, layer_norm, batch_norm, conv2d, pooling,
cross_entropy, scaled_dot_product_attention) are op specs in `somegrad.ops.nn`; this module
gives them PyTorch's signatures and adds what is a few Tensor ops (losses, dropout, ...).
"""

from __future__ import annotations

import somegrad as sg
from somegrad.nn import functional_spatial
from somegrad.nn.functional_spatial import *  # noqa: F403  (interpolate, fold, unfold, conv3d, ...)
from somegrad.ops import nn as _nn_ops
from somegrad.ops.nn import (  # noqa: F401  (re-exported with PyTorch's signatures)
    cross_entropy,
    embedding,
    layer_norm,
    linear,
    nll_loss,
    scaled_dot_product_attention,
)
from somegrad.tensor import Tensor

__all__ = [
    "relu",
    "relu_",
    "leaky_relu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softplus",
    "elu",
    "hardtanh",
    "relu6",
    "mish",
    "glu",
    "dropout",
    "linear",
    "bilinear",
    "embedding",
    "one_hot",
    "layer_norm",
    "batch_norm",
    "group_norm",
    "rms_norm",
    "normalize",
    "scaled_dot_product_attention",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "cosine_similarity",
    *functional_spatial.__all__,
]


# --- activations ---------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """`max(x, 0)` elementwise; with `inplace=True` it writes into `input` (as `relu_`)."""
    return input.relu_() if inplace else sg.relu(input)


def relu_(input: Tensor) -> Tensor:
    """`max(x, 0)` written into `input`'s memory; returns `input`."""
    return input.relu_()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """`x` where `x > 0`, else `negative_slope * x`. `inplace` is accepted and ignored (a new tensor comes back)."""
    return sg.ops.leaky_relu(input, negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU: exact (`approximate="none"`, with erf) or the tanh approximation GPT-2 uses."""
    return sg.ops.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """`x * sigmoid(x)` (swish). `inplace` is accepted and ignored (a new tensor comes back)."""
    return sg.ops.silu(input)


def sigmoid(input: Tensor) -> Tensor:
    """`1 / (1 + exp(-x))` elementwise."""
    return sg.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, elementwise."""
    return sg.tanh(input)


def _softmax_dim(input, dim):
    # PyTorch's legacy rule when no dim is given.
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """`exp(x) / sum(exp(x), dim)`, computed stably; the same shape as `input`.

    Without `dim`, PyTorch's legacy choice: dim 0 for 0-, 1- and 3-d inputs, else dim 1 (PyTorch also warns)."""
    return sg.softmax(input, _softmax_dim(input, dim) if dim is None else dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """`x - logsumexp(x, dim)`, computed stably; the same shape as `input`.

    Without `dim`, PyTorch's legacy choice: dim 0 for 0-, 1- and 3-d inputs, else dim 1 (PyTorch also warns)."""
    return sg.log_softmax(input, _softmax_dim(input, dim) if dim is None else dim, dtype=dtype)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """`log(1 + exp(beta * x)) / beta`, computed stably; `x` itself where `beta * x > threshold`."""
    return sg.ops.softplus(input, beta, threshold)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)`. `inplace` is accepted and ignored."""
    return sg.where(input > 0, input, (sg.minimum(input, 0.0).expm1()) * alpha)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """`x` clamped to [min_val, max_val]. `inplace` is accepted and ignored."""
    return input.clamp(min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """`x` clamped to [0, 6]. `inplace` is accepted and ignored."""
    return input.clamp(0.0, 6.0)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """`x * tanh(softplus(x))`. `inplace` is accepted and ignored."""
    return input * softplus(input).tanh()


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: `input` halved along `dim` into `a` and `b`, returns `a * sigmoid(b)`.

    An input of size 2k along `dim` gives size k there, e.g. (N, 2k) -> (N, k) for `dim=-1`."""
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


# --- dropout -------------------------------------------------------------------------------------
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (training only).
    Draws from the device's generator, so `sg.manual_seed` makes it reproducible."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = sg.rand(input.shape, dtype=input.dtype, device=input.device) >= p
    return sg.where(keep, input * (1.0 / (1.0 - p)), 0.0)


# --- linear and embedding ------------------------------------------------------------------------
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1 @ W_k @ x2 + b_k; weight: (out, in1, in2)."""
    out = ((input1.unsqueeze(-2).unsqueeze(-2) @ weight) * input2.unsqueeze(-2).unsqueeze(-2)).sum(-1).squeeze(-1)
    return out if bias is None else out + bias


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(*) integer classes -> (*, num_classes) int64 one-hot rows."""
    if num_classes < 0:
        num_classes = int(tensor.amax().item()) + 1
    classes = sg.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


# --- normalisation ---------------------------------------------------------------------------------
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over (N, C, *). In training, the batch's statistics normalise and
    the running ones (when given) are updated in place with `momentum`; in eval the running
    statistics normalise."""
    if training:
        out = _nn_ops.batch_norm_train(input, weight, bias, eps)
        if running_mean is not None or running_var is not None:
            with sg.no_grad():
                dims = (0,) + tuple(range(2, input.ndim))
                count = input.numel() // input.shape[1]
                mean = input.detach().mean(dims)
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype) * momentum)
                if running_var is not None:
                    var = input.detach().var(dims, correction=0) * (count / max(count - 1, 1))
                    running_var.mul_(1 - momentum).add_(var.to(running_var.dtype) * momentum)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    scale = (running_var.to(input.dtype) + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.to(input.dtype) * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape) + shift.reshape(shape)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise (N, C, *) over groups of C / num_groups channels and the spatial dims."""
    n, c = input.shape[:2]
    if c % num_groups:
        raise ValueError(f"group_norm: {c} channels are not divisible into {num_groups} groups")
    grouped = input.reshape(n, num_groups, -1)
    out = layer_norm(grouped, (grouped.shape[-1],), eps=eps).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing `normalized_shape` dims, times weight.
    eps defaults to the dtype's machine epsilon, as in PyTorch."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    if eps is None:
        eps = {
            sg.float16: 9.765625e-04,
            sg.bfloat16: 0.0078125,
            sg.float64: 2.220446049250313e-16,
        }.get(input.dtype, 1.1920928955078125e-07)
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """`input / max(norm_p(input, dim), eps)`: unit p-norm slices along `dim`, the same shape."""
    norm = (input.abs() ** p).sum(dim, keepdim=True) ** (1.0 / p)
    return input / norm.clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between `x1` and `x2` along `dim`: `x1 . x2 / (max(|x1|, eps) * max(|x2|, eps))`.

    x1, x2: (N, D) -> (N,) for `dim=1`; the inputs broadcast."""
    dot = (x1 * x2).sum(dim)
    return dot / ((x1 * x1).sum(dim).sqrt().clamp(min=eps) * (x2 * x2).sum(dim).sqrt().clamp(min=eps))


# --- losses --------------------------------------------------------------------------------------------
def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _same_shape(op, input, target):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as input size {tuple(input.shape)}")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error, `(input - target) ** 2` reduced by `reduction` ("mean", "sum" or "none").

    The input and target broadcast (PyTorch warns when their shapes differ)."""
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error, `|input - target|` reduced by `reduction` ("mean", "sum" or "none").

    The input and target broadcast (PyTorch warns when their shapes differ)."""
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    diff = (input - target).abs()
    if beta == 0.0:
        return _reduce(diff, reduction)
    return _reduce(sg.where(diff < beta, diff * diff * (0.5 / beta), diff - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """`0.5 d^2` where `|d| < delta`, else `delta * (|d| - 0.5 delta)`, for `d = input - target`, then reduced."""
    diff = (input - target).abs()
    return _reduce(sg.where(diff < delta, diff * diff * 0.5, (diff - 0.5 * delta) * delta), reduction)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), with each log clamped at -100 as in PyTorch."""
    _same_shape("binary_cross_entropy", input, target)
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
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of sigmoid(input), computed stably: -log sigmoid(x) = softplus(-x)."""
    _same_shape("binary_cross_entropy_with_logits", input, target)
    # softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) never overflows.
    log_sigmoid_neg = sg.maximum(-input, 0.0) + (-input.abs()).exp().log1p()  # -log sigmoid(x)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_sigmoid_neg
    else:
        loss = (1 - target) * input + log_sigmoid_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: input is log-probabilities."""
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = sg.where(target > 0, target * (target.clamp(min=1e-38).log() - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction)
