"""affine_grid and grid_sample: sampling an image at arbitrary (learned) points, as spatial
transformer networks do. Both are written in differentiable Tensor ops, so the gradient reaches
the input (the gathers add it back) and the grid (through the interpolation weights and the
coordinate transforms), to any order.

Coordinates are PyTorch's: a grid holds (x, y[, z]) in [-1, 1], x along the last (width) dim;
with align_corners the extremes are the centres of the corner pixels, else their outer edges.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.errors import ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.creation import tensor
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import GATHER

MODES = ("bilinear", "nearest", "bicubic")
_CUBIC_A = -0.75
PADDING_MODES = ("zeros", "border", "reflection")


def _base_coordinates(size, align_corners):
    """The normalised pixel centres along one dim, (size,)."""
    coords = np.linspace(-1.0, 1.0, size) if size > 1 else np.zeros(1)
    return coords if align_corners else coords * (size - 1) / size


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of an affine map: theta (N, 2, 3) and size (N, C, H, W) give
    (N, H, W, 2); theta (N, 3, 4) and size (N, C, D, H, W) give (N, D, H, W, 3)."""
    align_corners = bool(align_corners)
    size = tuple(int(s) for s in size)
    dims = len(size) - 2
    if dims not in (2, 3):
        raise NotImplementedError(f"affine_grid: only 4-d and 5-d sizes are supported, got size {size}")
    if not theta.dtype.is_floating_point:
        raise ValueError(f"affine_grid: expected theta to have floating point type, got {theta.dtype.name}")
    if tuple(theta.shape) != (size[0], dims, dims + 1):
        raise ValueError(
            f"affine_grid: expected a batch of {dims}-d affine matrices of shape Nx{dims}x{dims + 1} for size {size}, "
            f"got {tuple(theta.shape)}"
        )
    if min(size[2:]) <= 0:
        raise ValueError(f"affine_grid: expected non-zero, positive output size, got {size}")
    spatial = size[2:]
    axes = [_base_coordinates(n, align_corners) for n in spatial]
    # (x, y[, z], 1) per output point: x runs along the last dim
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial)], axis=-1).reshape(-1, dims + 1)
    base = tensor(base, dtype=theta.dtype, device=theta.device)
    grid = base @ theta.mT  # (N, points, dims)
    return grid.reshape((size[0],) + spatial + (dims,))


def _unnormalise(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """PyTorch's reflect_coordinates: fold coord into [low, high] by reflecting at the ends."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = ew.remainder(coord, span)
    flips = (coord / span).floor()
    even = ew.remainder(flips, 2.0) == 0
    return ew.where(even, extra + low, span - extra + low)


def _fold(coord, size, padding_mode, align_corners):
    """Pixel coordinates folded back into the image by the padding mode (zeros: as they are)."""
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = coord.clamp(0, size - 1)
    return coord


def _source(coord, size, padding_mode, align_corners):
    """Grid coordinates along one dim as (fractional) pixel indices, with the padding mode's folding."""
    return _fold(_unnormalise(coord, size, align_corners), size, padding_mode, align_corners)


def _cubic_taps(coord, size, padding_mode, align_corners):
    """The four (position, weight) taps of cubic convolution around each unnormalised coord;
    each tap's position is folded by the padding mode on its own, as PyTorch's."""
    low = coord.floor()
    t = coord - low
    a = _CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    return [(_fold(low + (k - 1), size, padding_mode, align_corners), w) for k, w in enumerate(weights)]


def _gather_points(flat, index, batch_shape):
    """flat (N, C, S) at index (N, P) -> (N, C, *batch_shape)."""
    n, c = flat.shape[:2]
    index = index.reshape(n, 1, index.shape[1]).expand(n, c, index.shape[1])
    return apply(GATHER, (flat, index), {"dim": 2}).reshape((n, c) + tuple(batch_shape))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, H, W) at grid (N, Ho, Wo, 2) -> (N, C, Ho, Wo), or (N, C, D, H, W) at
    (N, Do, Ho, Wo, 3); mode bilinear (trilinear for 5-d), nearest or bicubic (4-d),
    padding_mode zeros, border or reflection."""
    if mode not in MODES:
        raise ValueError(f"grid_sample: expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            f"grid_sample: expected padding_mode to be 'zeros', 'border', or 'reflection', but got: {padding_mode!r}"
        )
    dims = input.ndim - 2
    if mode == "bicubic" and input.ndim != 4:
        raise ShapeError(f"grid_sample: bicubic interpolation only supports 4-d input, got {tuple(input.shape)}")
    if dims not in (2, 3) or grid.ndim != input.ndim or grid.shape[-1] != dims:
        raise ShapeError(
            f"grid_sample: expected a 4-d or 5-d input and a grid (N, *out, {max(dims, 0)}) of as many dims, got "
            f"input {tuple(input.shape)} and grid {tuple(grid.shape)}"
        )
    if grid.shape[0] != input.shape[0]:
        raise ShapeError(
            f"grid_sample: expected grid and input to have same batch size, got input {tuple(input.shape)} "
            f"and grid {tuple(grid.shape)}"
        )
    if min(input.shape[2:]) <= 0:
        raise ShapeError(f"grid_sample: expected a non-empty spatial input, got {tuple(input.shape)}")
    input = ew._floating(input)
    grid = ew.cast(grid, input.dtype)
    spatial = tuple(input.shape[2:])  # (H, W) or (D, H, W)
    out_shape = tuple(grid.shape[1:-1])
    n, c = input.shape[:2]
    points = math.prod(out_shape)
    flat = input.reshape(n, c, math.prod(spatial))
    align_corners = bool(align_corners)
    # per spatial dim d (0 = the first), the grid's coordinates along it, (N, P)
    raw = [grid[..., dims - 1 - d].reshape(n, points) for d in range(dims)]
    strides = [math.prod(spatial[d + 1 :]) for d in range(dims)]
    coords = (
        [] if mode == "bicubic" else [_source(raw[d], spatial[d], padding_mode, align_corners) for d in range(dims)]
    )
    if mode == "nearest":
        corners = [[(coord.round(), None)] for coord in coords]
    elif mode == "bicubic":
        corners = [
            _cubic_taps(_unnormalise(raw[d], spatial[d], align_corners), spatial[d], padding_mode, align_corners)
            for d in range(dims)
        ]
    else:
        corners = []
        for coord in coords:
            low = coord.floor()
            frac = coord - low
            corners.append([(low, 1 - frac), (low + 1, frac)])
    out = None
    for choice in np.ndindex(*(len(c) for c in corners)):
        index = None
        weight = None
        inside = None
        for d, k in enumerate(choice):
            position, w = corners[d][k]
            ok = (position >= 0) & (position <= spatial[d] - 1)
            inside = ok if inside is None else inside & ok
            step = position.clamp(0, spatial[d] - 1).to(dtypes.int64) * strides[d]
            index = step if index is None else index + step
            if w is not None:
                weight = w if weight is None else weight * w
        if weight is None:
            weight = inside.to(input.dtype)
        elif padding_mode == "zeros":
            weight = ew.where(inside, weight, 0.0)
        term = _gather_points(flat, index, out_shape) * weight.reshape((n, 1) + out_shape)
        out = term if out is None else out + term
    return out
