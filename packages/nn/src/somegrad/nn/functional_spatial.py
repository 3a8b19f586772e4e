"""The spatial part of `somegrad.nn.functional`: convolution (1-d to 3-d, and transposed),
pooling (max, average, adaptive, unpooling), padding, interpolation, fold/unfold and pixel
shuffling, with PyTorch's signatures. `functional` re-exports everything here.

Shapes: 1-d ops take (N, C, L), 2-d ones (N, C, H, W), 3-d ones (N, C, D, H, W); each also takes
the unbatched form without N, as PyTorch.
"""

from __future__ import annotations

import somegrad as sg
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops.nn import (
    avg_pool2d,
    avg_pool3d,
    conv2d,
    conv3d,
    conv_transpose2d,
    conv_transpose3d,
    fold,
    interpolate,
    max_pool2d,
    max_pool3d,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
)
from somegrad.ops.nn.grid import affine_grid, grid_sample
from somegrad.ops.nn.pooling_nd import adaptive_avg_pool, adaptive_max_pool, fractional_max_pool, max_unpool
from somegrad.ops.nn.resample import pad_by_index
from somegrad.tensor import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "pad",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "unfold",
    "fold",
    "pixel_shuffle",
    "pixel_unshuffle",
    "grid_sample",
    "affine_grid",
    "channel_shuffle",
]


def _first(value):
    """A 1-d op's int argument, given as an int or a one-element sequence."""
    return value[0] if isinstance(value, (tuple, list)) else value


# --- convolution -----------------------------------------------------------------------------------
def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution as a 2-d one of height 1: input (N, C, L) or (C, L), weight (O, C/groups, k)."""
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise ShapeError(
            f"conv1d: expected input (N, C, L) or (C, L) and weight (O, C/groups, k), got "
            f"{tuple(input.shape)} and {tuple(weight.shape)}"
        )
    pad2 = padding if isinstance(padding, str) else (0, _first(padding))
    out = conv2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, _first(stride)),
        pad2,
        (1, _first(dilation)),
        groups,
    )
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """Transposed 1-d convolution: input (N, C_in, L) or (C_in, L), weight (C_in, C_out/groups, k)
    -> (N, C_out, L_out), computed as a transposed 2-d one of height 1."""
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 3 or weight.ndim != 3:
        raise ShapeError(
            f"conv_transpose1d: expected input (N, C_in, L) or (C_in, L) and weight (C_in, C_out/groups, k), got "
            f"{tuple(input.shape)} and {tuple(weight.shape)}"
        )
    out = conv_transpose2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, _first(stride)),
        (0, _first(padding)),
        (0, _first(output_padding)),
        groups,
        (1, _first(dilation)),
    ).squeeze(2)
    return out.squeeze(0) if unbatched else out


# --- pooling ---------------------------------------------------------------------------------------
def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over windows of `kernel_size` along the last dim; stride defaults to `kernel_size`.

    (N, C, L) or (C, L) -> (N, C, L_out), computed as a max_pool2d of height 1 (whose flat
    indices are the 1-d ones)."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"max_pool1d: expected a 2-d or 3-d input, got shape {tuple(input.shape)}")
    stride = kernel_size if stride is None or stride == [] else stride
    out = max_pool2d(
        input.unsqueeze(-2),
        (1, _first(kernel_size)),
        (1, _first(stride)),
        (0, _first(padding)),
        (1, _first(dilation)),
        ceil_mode,
        return_indices,
    )
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """Mean over windows of `kernel_size` along the last dim; stride defaults to `kernel_size`.

    (N, C, L) or (C, L) -> (N, C, L_out), computed as an avg_pool2d of height 1."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"avg_pool1d: expected a 2-d or 3-d input, got shape {tuple(input.shape)}")
    stride = kernel_size if stride is None or stride == [] else stride
    return avg_pool2d(
        input.unsqueeze(-2),
        (1, _first(kernel_size)),
        (1, _first(stride)),
        (0, _first(padding)),
        ceil_mode,
        count_include_pad,
    ).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, L) or (C, L) over the windows PyTorch picks so that L becomes `output_size`."""
    return adaptive_avg_pool(input, (_first(output_size),), "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, H, W) or (C, H, W) over PyTorch's adaptive windows to `output_size`
    (an int, or a pair whose None entries keep the input's size)."""
    size = (output_size,) * 2 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    return adaptive_avg_pool(input, size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, D, H, W) or (C, D, H, W) over PyTorch's adaptive windows to `output_size`."""
    size = (output_size,) * 3 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    return adaptive_avg_pool(input, size, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input: Tensor, output_size, return_indices=False) -> Tensor | tuple[Tensor, Tensor]:
    """Max of (N, C, L) or (C, L) over PyTorch's adaptive windows; with return_indices, also
    the index of each maximum."""
    return adaptive_max_pool(input, (_first(output_size),), return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size, return_indices=False) -> Tensor | tuple[Tensor, Tensor]:
    """Max of (N, C, H, W) or (C, H, W) over PyTorch's adaptive windows; with return_indices,
    also the flat H*W index of each maximum."""
    size = (output_size,) * 2 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    return adaptive_max_pool(input, size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Tensor, output_size, return_indices=False) -> Tensor | tuple[Tensor, Tensor]:
    """Max of (N, C, D, H, W) or (C, D, H, W) over PyTorch's adaptive windows."""
    size = (output_size,) * 3 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    return adaptive_max_pool(input, size, return_indices, "adaptive_max_pool3d")


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of max_pool1d: each value placed at its index, zeros elsewhere."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of max_pool2d: (N, C, H, W) values at their flat indices into
    (N, C, H_out, W_out) zeros, H_out = (H - 1) * stride - 2 * padding + kernel_size unless
    `output_size` says otherwise."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of max_pool3d."""
    return max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


def fractional_max_pool2d(
    input: Tensor, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling of (N, C, H, W) or (C, H, W) to output_size (or H, W times
    output_ratio), windows at pseudo-random offsets from _random_samples (N, C, 2) in [0, 1)."""
    return fractional_max_pool(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2, "fractional_max_pool2d"
    )


def fractional_max_pool3d(
    input: Tensor, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling of (N, C, D, H, W) or (C, D, H, W); _random_samples (N, C, 3)."""
    return fractional_max_pool(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3, "fractional_max_pool3d"
    )


def _lp_pool(pool, input, norm_type, kernel_size, stride, ceil_mode, dims):
    """The p-norm of each window: (sum x^p)^(1/p), as PyTorch's, from the mean of x^p (a
    negative mean, from odd p, gives 0, as PyTorch's sign * relu)."""
    kernel = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
    size = 1
    for k in kernel:
        size *= k
    out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (sg.sign(out) * out.abs().relu()).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, L): (sum over each window of x^p)^(1/p)."""
    return _lp_pool(avg_pool1d, input, norm_type, _first(kernel_size), stride, ceil_mode, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, H, W): (sum over each window of x^p)^(1/p)."""
    return _lp_pool(avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W): (sum over each window of x^p)^(1/p)."""
    return _lp_pool(avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3)


# --- padding ---------------------------------------------------------------------------------------
def _constant_pad(input, pad, value):
    if len(pad) % 2:
        raise ArgumentError(f"pad: padding length must be divisible by 2, got {tuple(pad)}")
    if len(pad) // 2 > input.ndim:
        raise ArgumentError(
            f"pad: padding length should be at most twice the input dimension, got padding length {len(pad)} "
            f"and input of shape {tuple(input.shape)}"
        )
    pad = [int(p) for p in pad]
    crop = [slice(None)] * input.ndim
    for i in range(len(pad) // 2):
        axis = input.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        size = input.shape[axis]
        if size + before + after < 0:
            raise ShapeError(
                f"pad: the input size {size}, plus negative padding {before} and {after}, is negative (dim {axis})"
            )
        crop[axis] = slice(max(-before, 0), size - max(-after, 0))
    if any(p < 0 for p in pad):
        input = input[tuple(crop)]
    if any(p > 0 for p in pad):
        input = sg.pad(input, [max(p, 0) for p in pad], "constant", value)
    return input


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad `input`; `pad` lists (left, right) pairs from the LAST dim, as PyTorch's:
    `pad(x, (1, 1, 2, 2))` pads the last dim by 1 and the one before it by 2 on each side.

    mode "constant" (`value`, default 0; negative widths crop) pads any dims; "reflect",
    "replicate" and "circular" pad the last 1, 2 or 3 dims of an input with 1 or 2 more."""
    if mode == "constant":
        return _constant_pad(input, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}")
    if value is not None and value != 0:
        raise ArgumentError(f'pad: padding mode "{mode}" doesn\'t take in value argument')
    return pad_by_index(input, tuple(pad), mode)


# --- resampling ------------------------------------------------------------------------------------
def upsample(input: Tensor, size=None, scale_factor=None, mode="nearest", align_corners=None) -> Tensor:
    """The older name of `interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Nearest-neighbour upsampling (the older form of `interpolate(mode="nearest")`)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Bilinear upsampling with align_corners=True (the older form of `interpolate`)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of (N, C, *) from `groups` groups: (N, g, C/g, *) transposed to
    (N, C/g, g, *), as ShuffleNet's."""
    if input.ndim <= 2:
        raise ShapeError(f"channel_shuffle: expects input with > 2 dims, got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if groups <= 0 or c % groups:
        raise ArgumentError(
            f"channel_shuffle: number of channels must be divisible by groups, got {c} channels and {groups} groups"
        )
    rest = tuple(input.shape[2:])
    return input.reshape((n, groups, c // groups) + rest).transpose(1, 2).reshape((n, c) + rest)
