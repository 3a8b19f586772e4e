"""max_pool2d and avg_pool2d over (N, C, H, W), and their backward ops."""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError, UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops import movement as mv
from somegrad.ops import reduce as rd
from somegrad.ops.creation import ones, tensor, zeros
from somegrad.ops.dispatch import apply, backward_op
from somegrad.ops.indexing import index_put
from somegrad.ops.nn.composite import composite
from somegrad.ops.nn.conv import _pad2d, _window_slices, conv_output_size
from somegrad.ops.nn.conv3d import pad_spatial
from somegrad.ops.nn.pooling_nd import avg_divisor, max_pool_indices, pool_args
from somegrad.ops.spec import NUMERIC, public
from somegrad.tensor import Tensor  # noqa: F401 (the return annotation)


def _pool_geometry(x_shape, kernel_size, stride, padding, dilation):
    return tuple(conv_output_size(x_shape[2 + d], kernel_size[d], stride[d], padding[d], dilation[d]) for d in (0, 1))


def _pool_infer(name):
    def infer(x, kernel_size, stride, padding, dilation, **params):
        if x.ndim != 4:
            raise ShapeError(f"{name}: expected input (N, C, H, W), got {tuple(x.shape)}")
        for k, p, d in zip(kernel_size, padding, dilation, strict=True):
            if p[0] * 2 > (k - 1) * d + 1:
                raise ArgumentError(
                    f"{name}: pad should be at most half of effective kernel size, got padding {p[0]} for kernel {k} "
                    f"and dilation {d}"
                )
        out_hw = _pool_geometry(x.shape, kernel_size, stride, padding, dilation)
        if min(out_hw) <= 0:
            raise ShapeError(f"{name}: kernel {kernel_size} is larger than the padded input {tuple(x.shape)}")
        return x.shape[:2] + out_hw, x.dtype

    return infer


def _max_pool2d(x, kernel_size, stride, padding, dilation):
    out_hw = _pool_geometry(x.shape, kernel_size, stride, padding, dilation)
    xp = _pad2d(x, padding, -math.inf)
    taps = [xp[key] for _, _, key in _window_slices(kernel_size, stride, dilation, out_hw)]
    return rd.amax(mv.stack(taps, -1), -1)


def _max_pool2d_grad(g, x, out, kernel_size, stride, padding, dilation):
    # The gradient goes to the first maximum of each window, as PyTorch's. (`out`, the forward's
    # result, lets a fused kernel skip recomputing the maxima; the reference does not need it.)
    out_hw = tuple(g.shape[2:])
    xp = _pad2d(x, padding, -math.inf)
    taps = mv.stack([xp[key] for _, _, key in _window_slices(kernel_size, stride, dilation, out_hw)], -1)
    first = rd.argmax(taps, -1)
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    out = zeros((n, c, h + top + bottom, w + left + right), dtype=g.dtype, device=g.device)
    for tap, (_, _, key) in enumerate(_window_slices(kernel_size, stride, dilation, out_hw)):
        out = index_put(out, ew.where(first == tap, g, 0.0), key, accumulate=True)
    return out[:, :, top : top + h, left : left + w]


def _max_pool2d_backward_infer(g, x, out, **params):
    return x.shape, x.dtype


MAX_POOL2D_BACKWARD = composite(
    "max_pool2d_backward",
    ("g", "x", "out"),
    _max_pool2d_backward_infer,
    None,
    _max_pool2d_grad,
    doc="The input gradient of max_pool2d (to the first maximum of each window); out is max_pool2d(x).",
)


def _max_pool2d_backward(g, x, out, kernel_size, stride, padding, dilation):
    params = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    return backward_op(MAX_POOL2D_BACKWARD, (g, x, out), params, _max_pool2d_grad)


MAX_POOL2D = composite(
    "max_pool2d",
    ("x",),
    _pool_infer("max_pool2d"),
    _max_pool2d_backward,
    _max_pool2d,
    doc="The maximum of each (dilated) window of (N, C, H, W); padding is ((top, bottom), (left, right)).",
    accepts=NUMERIC,  # integers keep their dtype (their padding is laid by the public function)
)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, dtype, device):
    """What each window's sum is divided by: the kernel size, or the count of real pixels."""
    if count_include_pad or not any(p for pair in padding for p in pair):
        return float(kernel_size[0] * kernel_size[1])
    ones_map = ones((1, 1) + tuple(x_shape[2:]), dtype=dtype, device=device)
    return _avg_pool_sum(ones_map, kernel_size, stride, padding)


def _avg_pool_sum(x, kernel_size, stride, padding):
    out_hw = _pool_geometry(x.shape, kernel_size, stride, padding, (1, 1))
    xp = _pad2d(x, padding)
    total = None
    for _, _, key in _window_slices(kernel_size, stride, (1, 1), out_hw):
        total = xp[key] if total is None else total + xp[key]
    return total


def _avg_pool2d(x, kernel_size, stride, padding, dilation, count_include_pad):
    divisor = _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, x.dtype, x.device)
    return _avg_pool_sum(x, kernel_size, stride, padding) / divisor


def _avg_pool2d_grad(g, input_shape, kernel_size, stride, padding, dilation, count_include_pad):
    divisor = _avg_divisor(input_shape, kernel_size, stride, padding, count_include_pad, g.dtype, g.device)
    share = g / divisor
    (top, bottom), (left, right) = padding
    n, c, h, w = input_shape
    out = zeros((n, c, h + top + bottom, w + left + right), dtype=g.dtype, device=g.device)
    for _, _, key in _window_slices(kernel_size, stride, (1, 1), tuple(g.shape[2:])):
        out = index_put(out, share, key, accumulate=True)
    return out[:, :, top : top + h, left : left + w]


def _avg_pool2d_backward_infer(g, input_shape, **params):
    return tuple(input_shape), g.dtype


def _avg_params(kernel_size, stride, padding, dilation, count_include_pad):
    return {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "count_include_pad": count_include_pad,
    }


AVG_POOL2D_BACKWARD = composite(
    "avg_pool2d_backward",
    ("g",),
    _avg_pool2d_backward_infer,
    lambda grad, kernel_size, stride, padding, dilation, count_include_pad: apply(
        AVG_POOL2D, (grad,), _avg_params(kernel_size, stride, padding, dilation, count_include_pad)
    ),
    _avg_pool2d_grad,
    doc="The input gradient of avg_pool2d.",
)


def _avg_pool2d_backward(g, input_shape, kernel_size, stride, padding, dilation, count_include_pad):
    params = {
        "input_shape": tuple(input_shape),
        **_avg_params(kernel_size, stride, padding, dilation, count_include_pad),
    }
    return apply(AVG_POOL2D_BACKWARD, (g,), params)


AVG_POOL2D = composite(
    "avg_pool2d",
    ("x",),
    _pool_infer("avg_pool2d"),
    _avg_pool2d_backward,
    _avg_pool2d,
    doc="The mean of each window of (N, C, H, W).",
)


@public(MAX_POOL2D, export=False)
def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size. Integer
    inputs keep their dtype, as in PyTorch. With return_indices, also the flat H*W index of
    each maximum (int64), as max_unpool2d takes."""
    kernel, stride, padding, dilation = pool_args(
        "max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode
    )
    if input.ndim == 3:
        out = max_pool2d(input.unsqueeze(0), kernel, stride, padding_of(padding), dilation, ceil_mode, return_indices)
        return tuple(o.squeeze(0) for o in out) if return_indices else out.squeeze(0)
    params = {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    if input.dtype is dtypes.bool_:
        raise UnsupportedDTypeError("max_pool2d: not implemented for bool; convert the input with .int()")
    if return_indices:
        indices = max_pool_indices(input, kernel, stride, padding, dilation)
        return max_pool2d(input, kernel, stride, padding_of(padding), dilation, ceil_mode), indices
    if not input.dtype.is_floating_point and any(p for pair in padding for p in pair):
        # Integer maxima keep their dtype (as in PyTorch); their padding is the dtype's smallest
        # value, laid here, since a kernel pads with -inf, which integers do not hold.
        input = pad_spatial(input, padding, dtypes.integer_bounds(input.dtype)[0])
        params["padding"] = ((0, 0), (0, 0))
    return apply(MAX_POOL2D, (input,), params)


def padding_of(pairs):
    """The symmetric padding that `pool_args` turns into `pairs` again."""
    return tuple(before for before, _ in pairs)


@public(AVG_POOL2D, export=False)
def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Average pooling over (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    if input.ndim == 3:
        return avg_pool2d(
            input.unsqueeze(0),
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        ).squeeze(0)
    kernel, stride, pairs, _ = pool_args("avg_pool2d", input, 2, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ArgumentError("avg_pool2d: divisor must be not zero")
    overhang = any(after != before for before, after in pairs)
    # The kernel divides by the kernel size or by the count of real pixels; a divisor override
    # and the padding counted next to a ceil_mode overhang are rescaled from the first.
    include = bool(count_include_pad) or divisor_override is not None
    out = apply(AVG_POOL2D, (ew._floating(input),), _avg_params(kernel, stride, pairs, (1, 1), include))
    area = float(kernel[0] * kernel[1])
    if divisor_override is not None:
        return out * (area / divisor_override)
    if include and overhang:
        divisor = avg_divisor(tuple(input.shape[2:]), kernel, stride, pairs, tuple(out.shape[2:]), True)
        out = out * tensor(area / divisor, dtype=out.dtype, device=out.device)
    return out
