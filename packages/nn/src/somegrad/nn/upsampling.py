"""Resampling and spatial rearrangement modules: Upsample (and UpsamplingNearest2d,
UpsamplingBilinear2d), PixelShuffle, PixelUnshuffle, Fold, Unfold, the padding layers
(ReflectionPad1d/2d/3d, ReplicationPad*, CircularPad*, ConstantPad*, ZeroPad*); and the newer
conv and pool layers of `somegrad.nn.conv` and `somegrad.nn.pooling`, exported from
`somegrad.nn` from here."""

from __future__ import annotations

from somegrad.nn import functional as F
from somegrad.nn.conv import Conv3d, ConvTranspose1d, ConvTranspose3d
from somegrad.nn.module import Module
from somegrad.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    FractionalMaxPool2d,
    FractionalMaxPool3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)

__all__ = [
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    "PixelShuffle",
    "PixelUnshuffle",
    "Fold",
    "Unfold",
    "ChannelShuffle",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose3d",
    "MaxPool3d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


class Upsample(Module):
    """Up- or down-sample (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size` or by
    `scale_factor` (see `F.interpolate` for the modes)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            text = f"scale_factor={self.scale_factor!r}"
        else:
            text = f"size={self.size!r}"
        return text + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with align_corners=True."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = upscale_factor."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), r = downscale_factor."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of (N, C, *) from `groups` groups."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class Fold(Module):
    """Combine sliding blocks (N, C * prod(kernel_size), L) into (N, C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Unfold(Module):
    """Extract sliding blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


# --- padding layers ----------------------------------------------------------------------------
class _PadNd(Module):
    """F.pad as a layer: `padding` an int (every side) or 2 * dims ints, last dim first."""

    mode = "constant"
    dims = 0

    def __init__(self, padding, value=0.0):  # the value only where the mode is constant
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.dims)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: expected an int or {2 * self.dims} ints, got {padding}")
        self.padding = padding
        self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}" if self.mode == "constant" else f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad (N, C, L) by reflecting at the edges."""

    mode, dims = "reflect", 1

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad2d(_PadNd):
    """Pad (N, C, H, W) by reflecting at the edges."""

    mode, dims = "reflect", 2

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad3d(_PadNd):
    """Pad (N, C, D, H, W) by reflecting at the edges."""

    mode, dims = "reflect", 3

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """Pad (N, C, L) with copies of the edge values."""

    mode, dims = "replicate", 1

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """Pad (N, C, H, W) with copies of the edge values."""

    mode, dims = "replicate", 2

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad3d(_PadNd):
    """Pad (N, C, D, H, W) with copies of the edge values."""

    mode, dims = "replicate", 3

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad1d(_PadNd):
    """Pad (N, C, L) by wrapping around."""

    mode, dims = "circular", 1

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad2d(_PadNd):
    """Pad (N, C, H, W) by wrapping around."""

    mode, dims = "circular", 2

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad3d(_PadNd):
    """Pad (N, C, D, H, W) by wrapping around."""

    mode, dims = "circular", 3

    def __init__(self, padding):
        super().__init__(padding)


class ConstantPad1d(_PadNd):
    """Pad the last dim with `value`."""

    dims = 1

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Pad the last 2 dims with `value`."""

    dims = 2

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad3d(_PadNd):
    """Pad the last 3 dims with `value`."""

    dims = 3

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
