"""The spatial part of `somegrad.nn.functional`: convolution, pooling and padding (and, as they
come, interpolate, fold/unfold, 3-d conv and pools, unpooling, pixel_shuffle). `functional`
re-exports everything here."""

from __future__ import annotations

import somegrad as sg
from somegrad.ops.nn import avg_pool2d, conv2d, conv_transpose2d, max_pool2d
from somegrad.tensor import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "pad",
]


# --- convolution and pooling -------------------------------------------------------------------------
def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution as a 2-d one of height 1: input (N, C, L), weight (O, C/groups, k)."""
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    first = lambda v: v[0] if isinstance(v, (tuple, list)) else v  # noqa: E731
    pad2 = padding if isinstance(padding, str) else (0, first(padding))
    out = conv2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, first(stride)),
        pad2,
        (1, first(dilation)),
        groups,
    )
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
) -> Tensor:
    """Max over windows of `kernel_size` along the last dim; stride defaults to `kernel_size`.

    (N, C, L) -> (N, C, L_out), computed as a max_pool2d of height 1."""
    stride = kernel_size if stride is None else stride
    return max_pool2d(
        input.unsqueeze(-2),
        (1, kernel_size),
        (1, stride),
        (0, padding),
        (1, dilation),
        ceil_mode,
        return_indices,
    ).squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """Mean over windows of `kernel_size` along the last dim; stride defaults to `kernel_size`.

    (N, C, L) -> (N, C, L_out), computed as an avg_pool2d of height 1."""
    stride = kernel_size if stride is None else stride
    return avg_pool2d(
        input.unsqueeze(-2),
        (1, kernel_size),
        (1, stride),
        (0, padding),
        ceil_mode,
        count_include_pad,
    ).squeeze(-2)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over the windows PyTorch picks so that (H, W) becomes `output_size`."""
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    h, w = input.shape[-2:]
    out_h, out_w = [s if o is None else o for s, o in zip((h, w), output_size, strict=True)]
    if (out_h, out_w) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if h % out_h == 0 and w % out_w == 0:
        return avg_pool2d(input, (h // out_h, w // out_w))
    rows = []
    for i in range(out_h):
        top, bottom = (i * h) // out_h, -((-(i + 1) * h) // out_h)
        cells = []
        for j in range(out_w):
            left, right = (j * w) // out_w, -((-(j + 1) * w) // out_w)
            cells.append(input[..., top:bottom, left:right].mean((-2, -1)))
        rows.append(sg.stack(cells, -1))
    return sg.stack(rows, -2)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Constant padding, PyTorch's convention: `pad` lists (left, right) pairs from the LAST dim.

    `pad(x, (1, 1, 2, 2))` pads the last dim by 1 and the one before it by 2 on each side.
    Only `mode="constant"` is supported; `value` defaults to 0."""
    return sg.pad(input, pad, mode, 0.0 if value is None else value)
