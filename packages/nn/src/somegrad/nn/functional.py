"""`somegrad.nn.functional`: PyTorch's functional API, written over somegrad's core ops.

The fused composites (linear, embedding, layer_norm, batch_norm, conv2d, pooling,
cross_entropy, scaled_dot_product_attention) and the declared activations are op specs in
`somegrad.ops`; this module gives them PyTorch's signatures and adds what is a few Tensor ops.
The activations live in `functional_activations`, the losses in `functional_losses`, embedding
and embedding_bag in `functional_sparse`, convolution, pooling and resampling in
`functional_spatial`; all are re-exported here.
"""

from __future__ import annotations

import math

import somegrad as sg
from somegrad.nn import (
    functional_activations,
    functional_losses,
    functional_ranking,
    functional_sparse,
    functional_spatial,
)
from somegrad.nn.functional_activations import *  # noqa: F403  (relu, elu, prelu, glu, softmax, ...)
from somegrad.nn.functional_losses import *  # noqa: F403  (cross_entropy, kl_div, triplet_margin_loss, ...)
from somegrad.nn.functional_losses import p_norm
from somegrad.nn.functional_ranking import *  # noqa: F403  (multilabel_margin_loss, pdist, ...)
from somegrad.nn.functional_sparse import *  # noqa: F403  (embedding, embedding_bag, one_hot)
from somegrad.nn.functional_spatial import *  # noqa: F403  (interpolate, fold, unfold, conv3d, ...)
from somegrad.ops import nn as _nn_ops
from somegrad.ops.nn import (  # noqa: F401  (re-exported with PyTorch's signatures)
    layer_norm,
    linear,
    scaled_dot_product_attention,
)
from somegrad.tensor import Tensor

__all__ = [
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "gumbel_softmax",
    "linear",
    "bilinear",
    "layer_norm",
    "batch_norm",
    "instance_norm",
    "group_norm",
    "rms_norm",
    "local_response_norm",
    "normalize",
    "scaled_dot_product_attention",
    "cosine_similarity",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
    *functional_activations.__all__,
    *functional_losses.__all__,
    *functional_ranking.__all__,
    *functional_sparse.__all__,
    *functional_spatial.__all__,
]


# --- dropout -------------------------------------------------------------------------------------
def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


# SELU's negative saturation, -scale * alpha: what alpha dropout sets a dropped unit to (before the affine fix).
_ALPHA = 1.7580993408473766


def _dropout(
    input: Tensor, p: float, training: bool, inplace: bool, feature: bool, alpha: bool, op: str, unbatched=False
) -> Tensor:
    """Dropout's one recipe, as PyTorch's: the mask per element, or per (sample, channel) with
    `feature` (shape (N, C, 1, ...); (C, 1, ...) for an `unbatched` input); alpha dropout then
    keeps the mean and variance of a standard normal input with `a * (x * mask + alpha' * (1 - mask)) + b`."""
    _check_p(p)
    if feature and input.ndim < 2:
        raise RuntimeError(
            f"{op}: Feature dropout requires at least 2 dimensions in the input, got shape {tuple(input.shape)}"
        )
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    lead = 1 if unbatched else 2
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead) if feature else tuple(input.shape)
    keep = (sg.rand(shape, dtype=input.dtype, device=input.device) >= p).to(input.dtype)
    if not alpha:
        scale = keep * (1.0 / (1.0 - p))
        return input.mul_(scale) if inplace else input * scale
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    scale, shift = keep * a, (keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p
    # In place as mul_ then add_: the gradient needs only the mask, not the overwritten input.
    return input.mul_(scale).add_(shift) if inplace else input * scale + shift


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (training only).
    Draws from the device's generator, so `sg.manual_seed` makes it reproducible."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    keep = sg.rand(input.shape, dtype=input.dtype, device=input.device) >= p
    if inplace:
        return input.mul_(keep.to(input.dtype) * (1.0 / (1.0 - p)))
    return sg.where(keep, input * (1.0 / (1.0 - p)), 0.0)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability `p`, scale the rest by 1/(1-p)."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d "
            f"exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, "
            f"and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    # An unbatched (C, L) input is one sample: its channels are dropped whole, as in PyTorch.
    return _dropout(input, p, training, inplace, True, False, "dropout1d", unbatched=input.ndim == 2)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability `p`, scale the rest by 1/(1-p). As in
    PyTorch, a 3D input is read as (N, C, L) (1D channel-wise dropout), not as unbatched."""
    return _dropout(input, p, training, inplace, True, False, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability `p`, scale the rest by 1/(1-p)."""
    return _dropout(input, p, training, inplace, True, False, "dropout3d", unbatched=input.ndim == 4)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped elements go to SELU's saturation value and the output is
    rescaled so a zero-mean, unit-variance input keeps its mean and variance (training only)."""
    return _dropout(input, p, training, inplace, False, True, "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of (N, C, *) (the mask is shared over the spatial dims)."""
    return _dropout(input, p, training, inplace, True, True, "feature_alpha_dropout")


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution over `dim`: softmax((logits + g) / tau)
    with g standard Gumbel noise. With `hard` the result is the one-hot of its argmax, with the
    soft sample's gradient (the straight-through estimator). `eps` is unused, as in PyTorch."""
    # -log(E), E ~ Exp(1) = -log(U) with U in (0, 1]: the noise PyTorch draws.
    uniform = 1.0 - sg.rand(logits.shape, dtype=logits.dtype, device=logits.device)
    gumbels = -(-uniform.log()).log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = sg.zeros_like(logits).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# --- linear --------------------------------------------------------------------------------------
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`y_k = x1 @ weight[k] @ x2 + bias[k]`: (*, in1), (*, in2), weight (out, in1, in2) -> (*, out)."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional (out, in1, in2), got {tuple(weight.shape)}")
    out_features, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != in1:
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {tuple(input1.shape)} but expected "
            f"(*, {in1}) for weight {tuple(weight.shape)}"
        )
    if input2.ndim == 0 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {tuple(input2.shape)} but expected "
            f"(*, {in2}) for weight {tuple(weight.shape)}"
        )
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {tuple(input1.shape[:-1])} and "
            f"{tuple(input2.shape[:-1])}"
        )
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise RuntimeError(f"bilinear(): bias of shape {tuple(bias.shape)} doesn't fit out_features {out_features}")
    lead = tuple(input1.shape[:-1])
    rows = math.prod(lead)
    # One matmul: x1 (M, in1) @ weight as (in1, out * in2), then a product with x2 summed over in2.
    mixed = input1.reshape(rows, in1) @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = (mixed.reshape(rows, out_features, in2) * input2.reshape(rows, 1, in2)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_features,))


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


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each (sample, channel) of (N, C, *) over its spatial dims, then scale and shift
    per channel. With `use_input_stats` the running statistics (when given) move towards the
    batch's average per-instance mean and unbiased variance; without, they normalise."""
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input of at least 2 dims (N, C, *), got {tuple(input.shape)}")
    n, c = input.shape[:2]
    spatial = math.prod(input.shape[2:])
    channel = (1, c) + (1,) * (input.ndim - 2)
    if use_input_stats:
        if spatial == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(input.shape)}")
        rows = input.reshape(n, c, spatial)
        out = layer_norm(rows, (spatial,), eps=eps).reshape(input.shape)
        if running_mean is not None or running_var is not None:
            with sg.no_grad():
                detached = rows.detach()
                if running_mean is not None:
                    mean = detached.mean(2).mean(0).to(running_mean.dtype)
                    running_mean.mul_(1 - momentum).add_(mean * momentum)
                if running_var is not None:
                    var = detached.var(2, correction=1).mean(0).to(running_var.dtype)
                    running_var.mul_(1 - momentum).add_(var * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when use_input_stats=False")
        mean = running_mean.to(input.dtype).reshape(channel)
        out = (input - mean) * (running_var.to(input.dtype).reshape(channel) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(channel)
    if bias is not None:
        out = out + bias.reshape(channel)
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """`x / (k + alpha * mean(x^2 over `size` neighbouring channels)) ** beta` for (N, C, *), the
    window centred on each channel and zero-padded at the ends (as AlexNet's normalisation)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    n, c = input.shape[:2]
    squares = (input * input).reshape(n, c, -1)
    before = sg.zeros((n, size // 2, squares.shape[2]), dtype=input.dtype, device=input.device)
    after = sg.zeros((n, (size - 1) // 2, squares.shape[2]), dtype=input.dtype, device=input.device)
    padded = sg.cat([before, squares, after], 1)
    # A window of `size` channels summed as `size` shifted slices: size is a handful.
    window = padded[:, 0:c]
    for shift in range(1, size):
        window = window + padded[:, shift : shift + c]
    div = (window * (alpha / size) + k) ** beta
    return input / div.reshape(input.shape)


def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """`input / max(norm_p(input, dim), eps)`: unit p-norm slices along `dim` (an int or a tuple),
    the same shape; p any float, inf, -inf, or 0 (the count of non-zeros)."""
    result = input / p_norm(input, p, dim, keepdim=True).clamp(min=eps)
    if out is None:
        return result
    return out.copy_(result)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between `x1` and `x2` along `dim`: `x1 . x2 / (max(|x1|, eps) * max(|x2|, eps))`.

    x1, x2: (N, D) -> (N,) for `dim=1`; the inputs broadcast."""
    dot = (x1 * x2).sum(dim)
    return dot / ((x1 * x1).sum(dim).sqrt().clamp(min=eps) * (x2 * x2).sum(dim).sqrt().clamp(min=eps))


# --- the *_with_indices forms: PyTorch's names for the pools that always return (values, indices) -----
def _pair(result) -> tuple[Tensor, Tensor]:
    output, indices = result
    return output, indices


def max_pool1d_with_indices(
    input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
) -> tuple[Tensor, Tensor]:
    """`max_pool1d` returning (output, indices) whatever `return_indices` says, as PyTorch's."""
    return _pair(functional_spatial.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True))


def max_pool2d_with_indices(
    input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
) -> tuple[Tensor, Tensor]:
    """`max_pool2d` returning (output, indices) whatever `return_indices` says, as PyTorch's."""
    return _pair(functional_spatial.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True))


def max_pool3d_with_indices(
    input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
) -> tuple[Tensor, Tensor]:
    """`max_pool3d` returning (output, indices) whatever `return_indices` says, as PyTorch's."""
    return _pair(functional_spatial.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True))


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices=False) -> tuple[Tensor, Tensor]:
    """`adaptive_max_pool1d` returning (output, indices)."""
    return _pair(functional_spatial.adaptive_max_pool1d(input, output_size, True))


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices=False) -> tuple[Tensor, Tensor]:
    """`adaptive_max_pool2d` returning (output, indices)."""
    return _pair(functional_spatial.adaptive_max_pool2d(input, output_size, True))


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices=False) -> tuple[Tensor, Tensor]:
    """`adaptive_max_pool3d` returning (output, indices)."""
    return _pair(functional_spatial.adaptive_max_pool3d(input, output_size, True))


def fractional_max_pool2d_with_indices(
    input: Tensor, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
) -> tuple[Tensor, Tensor]:
    """`fractional_max_pool2d` returning (output, indices)."""
    return _pair(
        functional_spatial.fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)
    )


def fractional_max_pool3d_with_indices(
    input: Tensor, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
) -> tuple[Tensor, Tensor]:
    """`fractional_max_pool3d` returning (output, indices)."""
    return _pair(
        functional_spatial.fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)
    )
