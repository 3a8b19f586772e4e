"""conv2d, its two backward ops (the input gradient is also conv_transpose2d), and the
window helpers that pooling shares."""

from __future__ import annotations

from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops import movement as mv
from somegrad.ops.creation import zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import index_put
from somegrad.ops.linalg import matmul
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import public


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution or pooling window along one dim; padding is (before, after)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def _window_slices(kernel, stride, dilation, out_hw):
    """(i, j, key) for each kernel position: `key` picks that tap of every window from a
    padded (N, C, H, W) input as a strided (N, C, Ho, Wo) slice."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            yield i, j, (slice(None), slice(None), rows, cols)


def _pad2d(x, padding, value=0.0):
    (top, bottom), (left, right) = padding
    if top or bottom or left or right:
        return mv.pad(x, (left, right, top, bottom), value=value)
    return x


def _im2col(x, kernel, stride, padding, dilation, out_hw):
    """(N, C, H, W) -> (N, C * kh * kw, Ho * Wo): each output position's receptive field."""
    xp = _pad2d(x, padding)
    taps = [xp[key] for _, _, key in _window_slices(kernel, stride, dilation, out_hw)]
    n, c = x.shape[:2]
    return mv.stack(taps, 2).reshape(n, c * kernel[0] * kernel[1], out_hw[0] * out_hw[1])


def _col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw):
    """The adjoint of `_im2col`: (N, C * kh * kw, Ho * Wo) summed back into (N, C, H, W)."""
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    cols = cols.reshape(n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    out = zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype, device=cols.device)
    for i, j, key in _window_slices(kernel, stride, dilation, out_hw):
        out = index_put(out, cols[:, :, i, j], key, accumulate=True)
    return out[:, :, top : top + h, left : left + w]


def _conv_geometry(x_shape, weight_shape, stride, padding, dilation):
    kernel = tuple(weight_shape[2:])
    out_hw = tuple(conv_output_size(x_shape[2 + d], kernel[d], stride[d], padding[d], dilation[d]) for d in (0, 1))
    return kernel, out_hw


def _conv2d_infer(x, weight, stride, padding, dilation, groups):
    if x.ndim != 4 or weight.ndim != 4:
        raise ShapeError(
            "conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), "
            f"got {tuple(x.shape)} and {tuple(weight.shape)}"
        )
    if groups < 1:
        raise ArgumentError(f"conv2d: groups must be a positive integer, got {groups}")
    if min(weight.shape[2:]) < 1:
        raise ShapeError(f"conv2d: the kernel of weight {tuple(weight.shape)} must have a positive size")
    if min(stride) < 1 or min(dilation) < 1:
        raise ArgumentError(f"conv2d: stride {tuple(stride)} and dilation {tuple(dilation)} must be positive")
    if min(min(pair) for pair in padding) < 0:
        raise ArgumentError(f"conv2d: padding {tuple(padding)} must be non-negative")
    if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ShapeError(
            f"conv2d: input of shape {tuple(x.shape)} has {x.shape[1]} channels, but weight of shape "
            f"{tuple(weight.shape)} with groups={groups} expects {weight.shape[1] * groups}"
        )
    kernel, out_hw = _conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    if min(out_hw) <= 0:
        raise ShapeError(
            f"conv2d: kernel {kernel} (dilation {dilation}) is larger than the padded input {tuple(x.shape)}"
        )
    return (x.shape[0], weight.shape[0]) + out_hw, x.dtype


def _grouped_weight(weight, groups):
    """(O, C/groups, kh, kw) -> (groups, O/groups, C/groups * kh * kw); every size spelled out,
    since reshape cannot infer -1 when another size is 0 (an empty batch, no channels)."""
    out_channels, group_channels, kh, kw = weight.shape
    return weight.reshape(groups, out_channels // groups, group_channels * kh * kw)


def _conv2d(x, weight, stride, padding, dilation, groups):
    n = x.shape[0]
    out_channels = weight.shape[0]
    kernel, out_hw = _conv_geometry(x.shape, weight.shape, stride, padding, dilation)
    cols = _im2col(x, kernel, stride, padding, dilation, out_hw)
    cols = cols.reshape(n, groups, cols.shape[1] // groups, out_hw[0] * out_hw[1])
    return matmul(_grouped_weight(weight, groups), cols).reshape((n, out_channels) + out_hw)


def _conv2d_input_grad(g, weight, input_shape, stride, padding, dilation, groups):
    n = g.shape[0]
    kernel, out_hw = tuple(weight.shape[2:]), tuple(g.shape[2:])
    g = g.reshape(n, groups, g.shape[1] // groups, out_hw[0] * out_hw[1])
    cols = matmul(_grouped_weight(weight, groups).mT, g)
    return _col2im(
        cols.reshape(n, input_shape[1] * kernel[0] * kernel[1], out_hw[0] * out_hw[1]),
        input_shape,
        kernel,
        stride,
        padding,
        dilation,
        out_hw,
    )


def _conv2d_weight_grad(g, x, weight_shape, stride, padding, dilation, groups):
    n = x.shape[0]
    kernel, out_hw = tuple(weight_shape[2:]), tuple(g.shape[2:])
    cols = _im2col(x, kernel, stride, padding, dilation, out_hw)
    cols = cols.reshape(n, groups, cols.shape[1] // groups, out_hw[0] * out_hw[1])
    grad = matmul(g.reshape(n, groups, g.shape[1] // groups, out_hw[0] * out_hw[1]), cols.mT).sum(0)
    return grad.reshape(weight_shape)


def _conv_params(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _conv2d_backward(g, x, weight, needs_input_grad, stride, padding, dilation, groups):
    params = _conv_params(stride, padding, dilation, groups)
    # A first layer fed with data needs no input gradient: its backward is half the work.
    dx = dw = None
    if needs_input_grad[0]:
        dx = apply(CONV2D_BACKWARD_INPUT, (g, weight), {"input_shape": tuple(x.shape), **params})
    if needs_input_grad[1]:
        dw = apply(CONV2D_BACKWARD_WEIGHT, (g, x), {"weight_shape": tuple(weight.shape), **params})
    return dx, dw


def _backward_input_infer(g, weight, input_shape, stride, padding, dilation, groups):
    return tuple(input_shape), g.dtype


def _backward_weight_infer(g, x, weight_shape, stride, padding, dilation, groups):
    return tuple(weight_shape), g.dtype


def _backward_input_backward(grad, g, weight, stride, padding, dilation, groups):
    # dx = Wᵀ ⋆ g is bilinear in (g, weight): differentiate each factor with the other two ops.
    params = _conv_params(stride, padding, dilation, groups)
    dg = apply(CONV2D, (grad, weight), params)
    dw = apply(CONV2D_BACKWARD_WEIGHT, (g, grad), {"weight_shape": tuple(weight.shape), **params})
    return dg, dw


def _backward_weight_backward(grad, g, x, stride, padding, dilation, groups):
    params = _conv_params(stride, padding, dilation, groups)
    dg = apply(CONV2D, (x, grad), params)
    dx = apply(CONV2D_BACKWARD_INPUT, (g, grad), {"input_shape": tuple(x.shape), **params})
    return dg, dx


CONV2D = composite(
    "conv2d",
    ("x", "weight"),
    _conv2d_infer,
    _conv2d_backward,
    _conv2d,
    doc="2-d cross-correlation: x (N, C, H, W), weight (O, C/groups, kh, kw) -> (N, O, Ho, Wo); "
    "padding is ((top, bottom), (left, right)).",
)
CONV2D_BACKWARD_INPUT = composite(
    "conv2d_backward_input",
    ("g", "weight"),
    _backward_input_infer,
    _backward_input_backward,
    _conv2d_input_grad,
    doc="The input gradient of conv2d (also the transposed convolution).",
)
CONV2D_BACKWARD_WEIGHT = composite(
    "conv2d_backward_weight",
    ("g", "x"),
    _backward_weight_infer,
    _backward_weight_backward,
    _conv2d_weight_grad,
    doc="The weight gradient of conv2d.",
)


def _pair(op, name, value):
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value}")
    return value


def _conv_padding(padding, kernel, dilation, stride):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        if stride != (1, 1):
            raise ArgumentError("conv2d: padding='same' is not supported for strided convolutions")
        pads = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))  # the extra one goes after, as PyTorch
        return tuple(pads)
    if isinstance(padding, str):
        raise ArgumentError(f"conv2d: padding must be 'valid', 'same', an int or a pair, got {padding!r}")
    ph, pw = _pair("conv2d", "padding", padding)
    return ((ph, ph), (pw, pw))


@public(CONV2D, export=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as PyTorch): input (N, C, H, W) or (C, H, W),
    weight (O, C/groups, kh, kw), bias (O,); padding an int, a pair, 'valid' or 'same'."""
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    input = ew._floating(input)
    weight = ew.cast(weight, input.dtype)
    stride, dilation = _pair("conv2d", "stride", stride), _pair("conv2d", "dilation", dilation)
    params = _conv_params(stride, _conv_padding(padding, weight.shape[2:], dilation, stride), dilation, int(groups))
    if bias is not None and tuple(bias.shape) != tuple(weight.shape[:1]):
        raise ShapeError(
            f"conv2d: expected bias of shape {tuple(weight.shape[:1])} for weight {tuple(weight.shape)}, "
            f"got {tuple(bias.shape)}"
        )
    out = apply(CONV2D, (input, weight), params)
    if bias is not None:
        out = out + ew.cast(bias, input.dtype).reshape(1, -1, 1, 1)
    return out


# the transposed convolution is conv2d's input gradient
@public(CONV2D_BACKWARD_INPUT, export=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-d convolution (the gradient of conv2d): input (N, C_in, H, W), weight
    (C_in, C_out/groups, kh, kw) -> (N, C_out, Ho, Wo)."""
    if input.ndim == 3:
        return conv_transpose2d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    from somegrad.ops.nn.conv3d import pad_after, transposed_geometry

    input = ew._floating(input)
    weight = ew.cast(weight, input.dtype)
    shape, params, extra = transposed_geometry(
        "conv_transpose2d", input, weight, stride, padding, output_padding, int(groups), dilation, 2
    )
    out = pad_after(apply(CONV2D_BACKWARD_INPUT, (input, weight), {"input_shape": shape, **params}), extra)
    if bias is not None:
        out = out + ew.cast(bias, input.dtype).reshape(1, -1, 1, 1)
    return out
