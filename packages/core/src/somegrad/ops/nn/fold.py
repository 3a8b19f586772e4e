"""unfold (im2col) and fold (col2im): sliding windows of an image as columns, and back.

The two are adjoint linear maps, so each one's backward is the other; `fold(unfold(x))` counts
each pixel once per window that covers it, as PyTorch's.
"""

from __future__ import annotations

import math

from somegrad.errors import ShapeError
from somegrad.ops.dispatch import apply
from somegrad.ops.nn.composite import composite
from somegrad.ops.nn.conv3d import col2im, im2col, ntuple, output_sizes
from somegrad.ops.spec import public


def _geometry(kernel_size, stride, padding, dilation):
    return {"kernel_size": kernel_size, "stride": stride, "padding": padding, "dilation": dilation}


def _blocks(op, spatial, kernel_size, stride, padding, dilation):
    out = output_sizes((0, 0) + tuple(spatial), kernel_size, stride, padding, dilation)
    if min(out) <= 0:
        raise ShapeError(
            f"{op}: given spatial size {tuple(spatial)}, kernel_size={kernel_size}, dilation={dilation}, "
            f"padding={tuple(p for p, _ in padding)}, the sliding blocks would have shape {out}, which is too small"
        )
    return out


def _im2col_infer(x, kernel_size, stride, padding, dilation):
    if x.ndim != 4 or min(x.shape[1:]) <= 0:
        raise ShapeError(f"unfold: expected a 4-d input (N, C, H, W) with non-zero C, H, W, got {tuple(x.shape)}")
    out = _blocks("unfold", x.shape[2:], kernel_size, stride, padding, dilation)
    return (x.shape[0], x.shape[1] * math.prod(kernel_size), math.prod(out)), x.dtype


def _col2im_infer(cols, output_size, kernel_size, stride, padding, dilation):
    if cols.ndim != 3 or min(cols.shape[1:]) <= 0:
        raise ShapeError(f"fold: expected a 3-d input (N, C * prod(kernel_size), L), got {tuple(cols.shape)}")
    k = math.prod(kernel_size)
    if cols.shape[1] % k:
        raise ShapeError(
            f"fold: expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={cols.shape[1]} and kernel_size={kernel_size}"
        )
    out = _blocks("fold", output_size, kernel_size, stride, padding, dilation)
    if cols.shape[2] != math.prod(out):
        raise ShapeError(
            f"fold: given output_size={tuple(output_size)}, kernel_size={kernel_size}, dilation={dilation}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {' * '.join(map(str, out))} = {math.prod(out)}, but got input.size(2)={cols.shape[2]}"
        )
    return (cols.shape[0], cols.shape[1] // k) + tuple(output_size), cols.dtype


def _im2col(x, kernel_size, stride, padding, dilation):
    out = output_sizes(x.shape, kernel_size, stride, padding, dilation)
    return im2col(x, kernel_size, stride, padding, dilation, out)


def _col2im(cols, output_size, kernel_size, stride, padding, dilation):
    shape = (cols.shape[0], cols.shape[1] // math.prod(kernel_size)) + tuple(output_size)
    out = output_sizes(shape, kernel_size, stride, padding, dilation)
    return col2im(cols, shape, kernel_size, stride, padding, dilation, out)


IM2COL = composite(
    "im2col",
    ("x",),
    _im2col_infer,
    lambda g, input_shape, kernel_size, stride, padding, dilation: apply(
        COL2IM, (g,), {"output_size": tuple(input_shape[2:]), **_geometry(kernel_size, stride, padding, dilation)}
    ),
    _im2col,
    doc="x (N, C, H, W) -> (N, C * kh * kw, L): every sliding window as a column; padding is "
    "((top, bottom), (left, right)).",
)
COL2IM = composite(
    "col2im",
    ("cols",),
    _col2im_infer,
    lambda g, kernel_size, stride, padding, dilation: apply(
        IM2COL, (g,), _geometry(kernel_size, stride, padding, dilation)
    ),
    _col2im,
    doc="cols (N, C * kh * kw, L) -> (N, C, *output_size): the columns summed back into the image.",
)


def _pairs(op, kernel_size, dilation, padding, stride):
    kernel = ntuple(op, "kernel_size", kernel_size, 2)
    dilation, stride = ntuple(op, "dilation", dilation, 2), ntuple(op, "stride", stride, 2)
    pads = tuple((p, p) for p in ntuple(op, "padding", padding, 2))
    if min(kernel) <= 0 or min(dilation) <= 0 or min(stride) <= 0 or min(p for p, _ in pads) < 0:
        raise ShapeError(
            f"{op}: kernel_size {kernel}, dilation {dilation} and stride {stride} must be positive and "
            f"padding non-negative"
        )
    return _geometry(kernel, stride, pads, dilation)


@public(IM2COL, export=False)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: input (N, C, H, W) or (C, H, W) -> (N, C * kh * kw, L),
    L the number of blocks, as `torch.nn.functional.unfold`."""
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    return apply(IM2COL, (input,), _pairs("unfold", kernel_size, dilation, padding, stride))


@public(COL2IM, export=False)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into an image, summing overlaps: input (N, C * kh * kw, L)
    or (C * kh * kw, L) -> (N, C, *output_size), as `torch.nn.functional.fold`."""
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    params = {
        "output_size": ntuple("fold", "output_size", output_size, 2),
        **_pairs("fold", kernel_size, dilation, padding, stride),
    }
    return apply(COL2IM, (input,), params)
