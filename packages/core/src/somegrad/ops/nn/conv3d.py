"""conv3d, its two backward ops (the input gradient is also conv_transpose3d), and the
window helpers over any number of spatial dims that 3-d pooling and fold/unfold share.

The reference is im2col: every kernel tap of every window is a strided slice of the padded
input, the taps stacked are each output position's receptive field, and the convolution is one
matmul of the flattened weight with them. A backend's kernel (NumPy's, through a sliding
window view) computes the same in one copy and one GEMM.
"""

from __future__ import annotations

import itertools
import math

from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops import movement as mv
from somegrad.ops.creation import zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import index_put
from somegrad.ops.linalg import matmul
from somegrad.ops.nn.composite import composite
from somegrad.ops.nn.conv import conv_output_size
from somegrad.ops.spec import public


def output_sizes(shape, kernel, stride, padding, dilation):
    """The output's spatial sizes for input `shape` (N, C, *spatial); padding (before, after) pairs."""
    return tuple(
        conv_output_size(shape[2 + d], kernel[d], stride[d], padding[d], dilation[d]) for d in range(len(kernel))
    )


def window_taps(kernel, stride, dilation, out_sizes):
    """(offsets, key) per kernel tap: `key` picks that tap of every window from a padded
    (N, C, *spatial) input as a strided (N, C, *out_sizes) slice."""
    for offsets in itertools.product(*(range(k) for k in kernel)):
        key = tuple(
            slice(o * d, o * d + s * (n - 1) + 1, s)
            for o, s, d, n in zip(offsets, stride, dilation, out_sizes, strict=True)
        )
        yield offsets, (slice(None), slice(None)) + key


def pad_spatial(x, padding, value=0.0):
    """x (N, C, *spatial) padded by one (before, after) pair per spatial dim."""
    if any(b or a for b, a in padding):
        widths = []
        for before, after in reversed(padding):
            widths += [before, after]
        return mv.pad(x, widths, value=value)
    return x


def im2col(x, kernel, stride, padding, dilation, out_sizes):
    """(N, C, *spatial) -> (N, C * prod(kernel), prod(out_sizes)): each output position's window."""
    xp = pad_spatial(x, padding)
    taps = [xp[key] for _, key in window_taps(kernel, stride, dilation, out_sizes)]
    n, c = x.shape[:2]
    return mv.stack(taps, 2).reshape(n, c * math.prod(kernel), math.prod(out_sizes))


def col2im(cols, input_shape, kernel, stride, padding, dilation, out_sizes):
    """The adjoint of `im2col`: (N, C * prod(kernel), L) summed back into (N, C, *spatial)."""
    n, c = input_shape[:2]
    cols = cols.reshape((n, c, math.prod(kernel)) + tuple(out_sizes))
    padded = tuple(s + b + a for s, (b, a) in zip(input_shape[2:], padding, strict=True))
    out = zeros((n, c) + padded, dtype=cols.dtype, device=cols.device)
    for tap, (_, key) in enumerate(window_taps(kernel, stride, dilation, out_sizes)):
        out = index_put(out, cols[:, :, tap], key, accumulate=True)
    crop = tuple(slice(b, b + s) for s, (b, _) in zip(input_shape[2:], padding, strict=True))
    return out[(slice(None), slice(None)) + crop]


def _conv_infer(name):
    def infer(x, weight, stride, padding, dilation, groups):
        dims = len(stride)
        if x.ndim != dims + 2 or weight.ndim != dims + 2:
            raise ShapeError(
                f"{name}: expected input (N, C, *{dims} spatial dims) and weight (O, C/groups, *kernel), "
                f"got {tuple(x.shape)} and {tuple(weight.shape)}"
            )
        if groups < 1:
            raise ArgumentError(f"{name}: groups must be a positive integer, got {groups}")
        if min(weight.shape[2:]) < 1:
            raise ShapeError(f"{name}: the kernel of weight {tuple(weight.shape)} must have a positive size")
        if min(stride) < 1 or min(dilation) < 1:
            raise ArgumentError(f"{name}: stride {tuple(stride)} and dilation {tuple(dilation)} must be positive")
        if min(min(pair) for pair in padding) < 0:
            raise ArgumentError(f"{name}: padding {tuple(padding)} must be non-negative")
        if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
            raise ShapeError(
                f"{name}: input of shape {tuple(x.shape)} has {x.shape[1]} channels, but weight of shape "
                f"{tuple(weight.shape)} with groups={groups} expects {weight.shape[1] * groups}"
            )
        out = output_sizes(x.shape, tuple(weight.shape[2:]), stride, padding, dilation)
        if min(out) <= 0:
            raise ShapeError(
                f"{name}: kernel {tuple(weight.shape[2:])} (dilation {tuple(dilation)}) is larger than the "
                f"padded input {tuple(x.shape)}"
            )
        return (x.shape[0], weight.shape[0]) + out, x.dtype

    return infer


def _grouped_weight(weight, groups):
    """(O, C/groups, *kernel) -> (groups, O/groups, C/groups * prod(kernel)), every size spelled out."""
    return weight.reshape(groups, weight.shape[0] // groups, math.prod(weight.shape[1:]))


def _grouped(a, groups):
    """(N, G * K, L) -> (N, G, K, L)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, math.prod(a.shape[2:]))


def _conv(x, weight, stride, padding, dilation, groups):
    kernel = tuple(weight.shape[2:])
    out = output_sizes(x.shape, kernel, stride, padding, dilation)
    cols = _grouped(im2col(x, kernel, stride, padding, dilation, out), groups)
    return matmul(_grouped_weight(weight, groups), cols).reshape((x.shape[0], weight.shape[0]) + out)


def _conv_input_grad(g, weight, input_shape, stride, padding, dilation, groups):
    kernel, out = tuple(weight.shape[2:]), tuple(g.shape[2:])
    cols = matmul(_grouped_weight(weight, groups).mT, _grouped(g, groups))
    cols = cols.reshape(g.shape[0], input_shape[1] * math.prod(kernel), math.prod(out))
    return col2im(cols, input_shape, kernel, stride, padding, dilation, out)


def _conv_weight_grad(g, x, weight_shape, stride, padding, dilation, groups):
    kernel, out = tuple(weight_shape[2:]), tuple(g.shape[2:])
    cols = _grouped(im2col(x, kernel, stride, padding, dilation, out), groups)
    return matmul(_grouped(g, groups), cols.mT).sum(0).reshape(weight_shape)


def _params(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _conv_backward(g, x, weight, needs_input_grad, stride, padding, dilation, groups):
    params = _params(stride, padding, dilation, groups)
    dx = dw = None
    if needs_input_grad[0]:
        dx = apply(CONV3D_BACKWARD_INPUT, (g, weight), {"input_shape": tuple(x.shape), **params})
    if needs_input_grad[1]:
        dw = apply(CONV3D_BACKWARD_WEIGHT, (g, x), {"weight_shape": tuple(weight.shape), **params})
    return dx, dw


def _input_grad_backward(grad, g, weight, stride, padding, dilation, groups):
    # dx = W^T * g is bilinear in (g, weight): each factor's gradient is one of the other two ops
    params = _params(stride, padding, dilation, groups)
    dg = apply(CONV3D, (grad, weight), params)
    dw = apply(CONV3D_BACKWARD_WEIGHT, (g, grad), {"weight_shape": tuple(weight.shape), **params})
    return dg, dw


def _weight_grad_backward(grad, g, x, stride, padding, dilation, groups):
    params = _params(stride, padding, dilation, groups)
    dg = apply(CONV3D, (x, grad), params)
    dx = apply(CONV3D_BACKWARD_INPUT, (g, grad), {"input_shape": tuple(x.shape), **params})
    return dg, dx


CONV3D = composite(
    "conv3d",
    ("x", "weight"),
    _conv_infer("conv3d"),
    _conv_backward,
    _conv,
    doc="3-d cross-correlation: x (N, C, D, H, W), weight (O, C/groups, kd, kh, kw) -> (N, O, Do, Ho, Wo); "
    "padding is one (before, after) pair per spatial dim.",
)
CONV3D_BACKWARD_INPUT = composite(
    "conv3d_backward_input",
    ("g", "weight"),
    lambda g, weight, input_shape, **params: (tuple(input_shape), g.dtype),
    _input_grad_backward,
    _conv_input_grad,
    doc="The input gradient of conv3d (also the transposed 3-d convolution).",
)
CONV3D_BACKWARD_WEIGHT = composite(
    "conv3d_backward_weight",
    ("g", "x"),
    lambda g, x, weight_shape, **params: (tuple(weight_shape), g.dtype),
    _weight_grad_backward,
    _conv_weight_grad,
    doc="The weight gradient of conv3d.",
)


# --- the public functions ---------------------------------------------------------------------
def ntuple(op, name, value, n):
    """An int or a sequence of n ints as a tuple of n ints."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ArgumentError(f"{op}: {name} must be an int or a sequence of {n} ints, got {value}")
    return value


def conv_padding(op, padding, kernel, dilation, stride):
    """PyTorch's padding forms ('valid', 'same', int, tuple) as (before, after) pairs."""
    n = len(kernel)
    if padding == "valid":
        return ((0, 0),) * n
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions")
        pads = []
        for k, d in zip(kernel, dilation, strict=True):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))  # the extra one goes after, as PyTorch
        return tuple(pads)
    if isinstance(padding, str):
        raise ArgumentError(f"{op}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}")
    return tuple((p, p) for p in ntuple(op, "padding", padding, n))


def _add_bias(op, out, bias, channels, dims):
    if bias is None:
        return out
    if tuple(bias.shape) != (channels,):
        raise ShapeError(f"{op}: expected bias of shape ({channels},), got {tuple(bias.shape)}")
    return out + ew.cast(bias, out.dtype).reshape((1, channels) + (1,) * dims)


@public(CONV3D, export=False)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution (cross-correlation, as PyTorch): input (N, C, D, H, W) or (C, D, H, W),
    weight (O, C/groups, kd, kh, kw), bias (O,); padding an int, a triple, 'valid' or 'same'."""
    if input.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if input.ndim != 5:
        raise ShapeError(f"conv3d: expected 4-d (unbatched) or 5-d (batched) input, got shape {tuple(input.shape)}")
    input = ew._floating(input)
    weight = ew.cast(weight, input.dtype)
    stride, dilation = ntuple("conv3d", "stride", stride, 3), ntuple("conv3d", "dilation", dilation, 3)
    pads = conv_padding("conv3d", padding, tuple(weight.shape[2:]), dilation, stride)
    out = apply(CONV3D, (input, weight), _params(stride, pads, dilation, int(groups)))
    return _add_bias("conv3d", out, bias, weight.shape[0], 3)


def transposed_geometry(op, input, weight, stride, padding, output_padding, groups, dilation, dims):
    """(output shape, (before, after) pairs of the equivalent convolution, extra zeros after)
    for a transposed convolution. output_padding rows are reached by no input: those past the
    padding are zeros, laid after."""
    if input.ndim != dims + 2 or weight.ndim != dims + 2 or input.shape[1] != weight.shape[0]:
        raise ShapeError(
            f"{op}: expected input (N, C_in, *{dims} spatial dims) and weight (C_in, C_out/groups, *kernel), got "
            f"{tuple(input.shape)} and {tuple(weight.shape)}"
        )
    if groups < 1 or input.shape[1] % groups:
        raise ShapeError(f"{op}: {input.shape[1]} input channels are not divisible by groups={groups}")
    stride, dilation = ntuple(op, "stride", stride, dims), ntuple(op, "dilation", dilation, dims)
    padding, output_padding = ntuple(op, "padding", padding, dims), ntuple(op, "output_padding", output_padding, dims)
    for p, s, d in zip(output_padding, stride, dilation, strict=True):
        if p < 0 or (p >= s and p >= d):
            raise ArgumentError(
                f"{op}: output padding must be smaller than either stride or dilation, got output_padding "
                f"{output_padding}, stride {stride} and dilation {dilation}"
            )
    sizes = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip(input.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding)
    )
    if min(sizes) <= 0 or min(padding) < 0:
        raise ShapeError(f"{op}: the output size {sizes} for input {tuple(input.shape)} is not positive")
    pairs = tuple((p, max(p - o, 0)) for p, o in zip(padding, output_padding, strict=True))
    extra = tuple(max(o - p, 0) for p, o in zip(padding, output_padding, strict=True))
    reached = tuple(n - e for n, e in zip(sizes, extra, strict=True))
    shape = (input.shape[0], weight.shape[1] * groups) + reached
    return shape, _params(stride, pairs, dilation, int(groups)), extra


def pad_after(out, extra):
    """`out` with `extra` zeros after each spatial dim (the rows output_padding adds)."""
    if not any(extra):
        return out
    return pad_spatial(out, tuple((0, e) for e in extra))


# the transposed convolution is conv3d's input gradient
@public(CONV3D_BACKWARD_INPUT, export=False)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-d convolution (the gradient of conv3d): input (N, C_in, D, H, W), weight
    (C_in, C_out/groups, kd, kh, kw) -> (N, C_out, Do, Ho, Wo)."""
    if input.ndim == 4:
        return conv_transpose3d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    input = ew._floating(input)
    weight = ew.cast(weight, input.dtype)
    shape, params, extra = transposed_geometry(
        "conv_transpose3d", input, weight, stride, padding, output_padding, int(groups), dilation, 3
    )
    out = pad_after(apply(CONV3D_BACKWARD_INPUT, (input, weight), {"input_shape": shape, **params}), extra)
    return _add_bias("conv_transpose3d", out, bias, shape[1], 3)
