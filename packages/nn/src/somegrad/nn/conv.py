"""Convolutions: `Conv1d`, `Conv2d`, `Conv3d`, `ConvTranspose1d`, `ConvTranspose2d`, `ConvTranspose3d`."""

from __future__ import annotations

import math
from collections.abc import Callable

from somegrad.nn import functional as F
from somegrad.nn import init
from somegrad.nn.linear import empty_parameter
from somegrad.nn.module import Module
from somegrad.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _ConvNd(Module):
    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        bias,
        padding_mode,
        dims,
        transposed=False,
        output_padding=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = type(self).__name__
        if groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by "
                f"groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding_mode is supported for {name}')
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, dims)
        self.stride = _tuple(stride, dims)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, dims)
        self.dilation = _tuple(dilation, dims)
        self.output_padding = _tuple(output_padding, dims)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, transposed
        for label, sizes in (("kernel_size", self.kernel_size), ("stride", self.stride), ("dilation", self.dilation)):
            if min(sizes) < 1:
                raise ValueError(f"{name}: {label} must be positive, got {sizes}")
        if not isinstance(self.padding, str) and min(self.padding) < 0:
            raise ValueError(f"{name}: padding must be non-negative, got {self.padding}")
        if self.padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        if transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self._reversed_padding_repeated_twice = self._padding_widths()
        self.weight = empty_parameter(*shape, device=device, dtype=dtype)
        if bias:
            self.bias = empty_parameter(out_channels, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _padding_widths(self):
        """F.pad's widths (last dim first) for a padding_mode other than zeros."""
        widths = []
        for d in reversed(range(len(self.kernel_size))):
            if self.padding == "same":
                total = self.dilation[d] * (self.kernel_size[d] - 1)
                widths += [total // 2, total - total // 2]
            elif self.padding == "valid":
                widths += [0, 0]
            else:
                widths += [self.padding[d], self.padding[d]]
        return widths

    def _padded(self, input):
        """(input, padding for the convolution): a padding_mode other than zeros pads first."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0

    def _output_padding(self, input, output_size):
        """PyTorch's output_padding for a requested output_size of a transposed convolution."""
        if output_size is None:
            return self.output_padding
        dims = len(self.kernel_size)
        output_size = tuple(output_size)[-dims:]
        paddings = []
        for d in range(dims):
            size = input.shape[input.ndim - dims + d]
            base = (size - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
            if not base <= output_size[d] < base + max(self.stride[d], self.dilation[d]):
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {output_size}, but valid sizes are from "
                    f"{base} to {base + max(self.stride[d], self.dilation[d]) - 1} along dim {d}"
                )
            paddings.append(output_size[d] - base)
        return tuple(paddings)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        ones = (1,) * len(self.kernel_size)
        if self.padding != (0,) * len(self.kernel_size):
            text += f", padding={self.padding}"
        if self.dilation != ones:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.kernel_size):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _ConvForwardNd(_ConvNd):
    """A convolution of `dims` spatial dims, computed by the functional `_conv`."""

    dims = 0
    _conv: Callable[..., Tensor]

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            self.dims,
            device=device,
            dtype=dtype,
        )

    def forward(self, input):
        input, padding = self._padded(input)
        return type(self)._conv(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_ConvForwardNd):
    """1-d convolution: (N, C_in, L) -> (N, C_out, L_out)."""

    dims = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_ConvForwardNd):
    """2-d convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in/groups, kh, kw)."""

    dims = 2
    _conv = staticmethod(F.conv2d)


class Conv3d(_ConvForwardNd):
    """3-d convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out); weight
    (C_out, C_in/groups, kd, kh, kw)."""

    dims = 3
    _conv = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    """A transposed convolution of `dims` spatial dims, computed by the functional `_conv`."""

    dims = 0
    _conv: Callable[..., Tensor]

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            self.dims,
            transposed=True,
            output_padding=output_padding,
            device=device,
            dtype=dtype,
        )

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return type(self)._conv(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution (the gradient of Conv1d); weight (C_in, C_out/groups, k)."""

    dims = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution (the gradient of Conv2d); weight (C_in, C_out/groups, kh, kw)."""

    dims = 2
    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-d convolution (the gradient of Conv3d); weight (C_in, C_out/groups, kd, kh, kw)."""

    dims = 3
    _conv = staticmethod(F.conv_transpose3d)
