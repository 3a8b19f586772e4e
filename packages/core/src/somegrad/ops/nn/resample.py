"""Resampling and rearranging images: interpolate (nearest, nearest-exact, linear, bilinear,
bicubic, trilinear), the index-based paddings (reflect, replicate, circular), pixel_shuffle and
pixel_unshuffle.

Resampling an image is separable: a d-dimensional interpolation is d one-dimensional ones, each
a weighted sum of a few slices gathered along one axis (`index_select`). The indices and
weights depend only on the sizes, so they are computed once on the host. interpolate is an
explicit composite whose backward is its adjoint (`interpolate_backward`: per axis, one matmul
with the transposed resampling matrix, much faster than adding gradients back at gathered
indices), and the adjoint's backward is interpolate again, to any order. The paddings and the
pixel shuffles are implicit composites: autograd differentiates their gathers and permutes.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError, UnsupportedDTypeError
from somegrad.ops.creation import tensor, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import INDEX_SELECT
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import FLOATING, OpSpec, public, register

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear")
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def _gather(x, axis, index):
    """x's slices at host `index` along `axis` (the indices are valid by construction)."""
    return apply(INDEX_SELECT, (x, tensor(np.asarray(index, dtype=np.int64), device=x.device)), {"dim": axis})


def _weighted(x, axis, indices, weights):
    """sum_k x[..., indices[k], ...] * weights[k] along `axis`; indices and weights (taps, out)."""
    shape = [1] * x.ndim
    shape[axis] = indices.shape[1]
    total = None
    for index, weight in zip(indices, weights, strict=True):
        term = _gather(x, axis, index) * tensor(weight.reshape(shape), dtype=x.dtype, device=x.device)
        total = term if total is None else total + term
    return total


# --- interpolate ------------------------------------------------------------------------------
def _coordinate_scale(in_size, out_size, align_corners, scale):
    """How far apart output samples are in input coordinates (PyTorch's area_pixel_compute_scale)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _source(out_size, scale, align_corners, cubic):
    """Each output sample's position in the input, (out,) float64."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return dst * scale
    src = (dst + 0.5) * scale - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _nearest_index(in_size, out_size, scale, exact):
    if not exact and out_size == 2 * in_size:  # PyTorch's shortcut, whatever the scale factor
        return np.arange(out_size, dtype=np.int64) // 2
    # float32 arithmetic, as PyTorch's kernels, so that boundary cases round the same way
    scale = np.float32(1.0 / scale if scale is not None and scale > 0 else in_size / out_size)
    dst = np.arange(out_size, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    return np.minimum(np.floor(dst * scale).astype(np.int64), in_size - 1)


def _cubic_weights(t):
    """The four cubic-convolution weights of taps at -1, 0, 1, 2 around each fraction t."""
    a = _CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)])


def _antialias_taps(in_size, out_size, mode, align_corners, scale):
    """PyTorch's (and PIL's) antialiased taps: when downsampling, the filter (a triangle, or
    a cubic with a = -0.5) is stretched over `scale` input samples and its weights normalised."""
    scale = _coordinate_scale(in_size, out_size, align_corners, scale)
    half = (1.0 if mode == "bilinear" else 2.0) * max(scale, 1.0)
    stretch = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (np.arange(out_size) + 0.5)
    low = np.maximum((center - half + 0.5).astype(np.int64), 0)
    count = np.minimum((center + half + 0.5).astype(np.int64), in_size) - low
    offsets = np.arange(int(count.max()))[:, None]
    s = np.abs((low + offsets - center + 0.5) * stretch)
    if mode == "bilinear":
        weights = np.maximum(1.0 - s, 0.0)
    else:
        a = -0.5
        weights = np.where(
            s < 1, ((a + 2) * s - (a + 3)) * s * s + 1, np.where(s < 2, ((a * s - 5 * a) * s + 8 * a) * s - 4 * a, 0.0)
        )
    weights = np.where(offsets < count, weights, 0.0)
    total = weights.sum(axis=0)
    weights = weights / np.where(total == 0, 1.0, total)
    return np.minimum(low + offsets, in_size - 1), weights


def _taps(in_size, out_size, mode, align_corners, scale, antialias=False):
    """(indices, weights), each (taps, out): output sample o is sum_k x[indices[k, o]] * weights[k, o]."""
    if antialias:
        return _antialias_taps(in_size, out_size, mode, align_corners, scale)
    if mode in ("nearest", "nearest-exact"):
        index = _nearest_index(in_size, out_size, scale, mode == "nearest-exact")
        return index[None, :], np.ones((1, out_size))
    cubic = mode == "bicubic"
    src = _source(out_size, _coordinate_scale(in_size, out_size, align_corners, scale), align_corners, cubic)
    low = np.floor(src)
    t = src - low
    low = low.astype(np.int64)
    if cubic:
        return np.clip(low[None, :] + np.arange(-1, 3)[:, None], 0, in_size - 1), _cubic_weights(t)
    return np.stack([low, np.minimum(low + 1, in_size - 1)]), np.stack([1 - t, t])


def _resampled_axes(shape, size, mode, scales):
    """The spatial axes that change: an unchanged size is the identity, for nearest whatever
    the scale factor (as PyTorch's)."""
    return [
        i
        for i, out_size in enumerate(size)
        if shape[2 + i] != out_size or not (scales[i] is None or mode.startswith("nearest"))
    ]


def _interpolate(x, size, mode, align_corners, scales, antialias):
    for i in _resampled_axes(x.shape, size, mode, scales):
        indices, weights = _taps(x.shape[2 + i], size[i], mode, align_corners, scales[i], antialias)
        x = _weighted(x, 2 + i, indices, weights)
    return x


# Along an axis of this many input samples or fewer (per tap), the adjoint is a dense GEMM: its
# in * out multiply-adds at BLAS speed cost less than adding each tap's gradient back at its
# index; past it, the adds are cheaper.
_DENSE_ADJOINT = 256


def _interpolate_adjoint(g, input_size, size, mode, align_corners, scales, antialias):
    """The transposed resampling, axis by axis in reverse: one matmul with each axis's
    transposed (out, in) matrix, or for long axes the taps' gradients added back at their
    indices (`index_add`)."""
    from somegrad.ops.scatter import index_add

    for i in reversed(_resampled_axes((0, 0) + tuple(input_size), size, mode, scales)):
        axis = 2 + i
        indices, weights = _taps(input_size[i], size[i], mode, align_corners, scales[i], antialias)
        if input_size[i] > _DENSE_ADJOINT * len(indices):
            shape = [1] * g.ndim
            shape[axis] = size[i]
            target = tuple(g.shape[:axis]) + (input_size[i],) + tuple(g.shape[axis + 1 :])
            out = zeros(target, dtype=g.dtype, device=g.device)
            for index, weight in zip(indices, weights, strict=True):
                share = g * tensor(weight.reshape(shape), dtype=g.dtype, device=g.device)
                out = index_add(out, axis, tensor(index, device=g.device), share)
            g = out
            continue
        matrix = np.zeros((size[i], input_size[i]))
        np.add.at(matrix, (np.broadcast_to(np.arange(size[i]), indices.shape), indices), weights)
        m = tensor(matrix, dtype=g.dtype, device=g.device)
        # one 2-d GEMM over every row of the axis moved last (a batched matmul of small
        # matrices, or a 4-d by 2-d one, is several times slower)
        moved = g.movedim(axis, -1)
        rows = moved.reshape(math.prod(moved.shape[:-1]), size[i]) @ m
        g = rows.reshape(tuple(moved.shape[:-1]) + (input_size[i],)).movedim(-1, axis)
    return g


_SPATIAL_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _interpolate_infer(x, size, mode, align_corners, scales, antialias):
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if not x.dtype.is_floating_point and not mode.startswith("nearest"):
        raise UnsupportedDTypeError(f"interpolate: mode {mode!r} is not implemented for {x.dtype.name} (nearest is)")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"interpolate: only 3-d, 4-d and 5-d inputs (N, C, *spatial) are supported, got shape {tuple(x.shape)}"
        )
    spatial = _SPATIAL_DIMS.get(mode)
    if spatial is not None and x.ndim != spatial + 2:
        raise NotImplementedError(f"interpolate: got {x.ndim}-d input, but {mode} mode needs {spatial + 2}-d input")
    if antialias and not (mode in ("bilinear", "bicubic") and x.ndim == 4):
        raise ValueError("interpolate: antialias is restricted to bilinear and bicubic modes and a 4-d input")
    if len(size) != x.ndim - 2:
        raise ShapeError(
            f"interpolate: output size {tuple(size)} does not match the input's spatial shape {x.shape[2:]}"
        )
    if min(size, default=1) <= 0 or min(x.shape[2:], default=1) <= 0:
        raise ShapeError(
            f"interpolate: input and output sizes should be greater than 0, got input {tuple(x.shape[2:])} "
            f"and output {tuple(size)}"
        )
    return tuple(x.shape[:2]) + tuple(size), x.dtype


def _interpolate_params(size, mode, align_corners, scales, antialias):
    return {"size": size, "mode": mode, "align_corners": align_corners, "scales": scales, "antialias": antialias}


INTERPOLATE = composite(
    "interpolate",
    ("x",),
    _interpolate_infer,
    lambda g, input_shape, size, mode, align_corners, scales, antialias: apply(
        INTERPOLATE_BACKWARD,
        (g,),
        {"input_size": tuple(input_shape[2:]), **_interpolate_params(size, mode, align_corners, scales, antialias)},
    ),
    _interpolate,
    doc="Resample x (N, C, *spatial) to `size` by `mode`; `scales` (one per spatial dim, or None) "
    "are the scale factors that map output to input coordinates, as PyTorch's.",
    accepts=FLOATING | {dtypes.uint8},  # images of bytes resample by nearest, as in PyTorch
)
INTERPOLATE_BACKWARD = composite(
    "interpolate_backward",
    ("g",),
    lambda g, input_size, **params: (tuple(g.shape[:2]) + tuple(input_size), g.dtype),
    lambda grad, size, mode, align_corners, scales, antialias: apply(
        INTERPOLATE, (grad,), _interpolate_params(size, mode, align_corners, scales, antialias)
    ),
    _interpolate_adjoint,
    doc="The input gradient of interpolate: g (N, C, *size) -> (N, C, *input_size).",
)


def _per_dim(name, value, dims, spatial):
    if isinstance(value, (tuple, list)):
        if len(value) != dims:
            raise ValueError(
                f"interpolate: input and {name} must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(spatial)} and {name} of {tuple(value)}"
            )
        return list(value)
    return [value] * dims


@public(INTERPOLATE, export=False)
def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Up- or down-sample input (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size` or by
    `scale_factor`, as `torch.nn.functional.interpolate`. Modes: nearest, nearest-exact,
    linear (3-d), bilinear and bicubic (4-d, also antialiased), trilinear (5-d), area (adaptive
    average pooling)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "interpolate: align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    dims = input.ndim - 2
    spatial = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if size is not None and recompute_scale_factor:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size.")
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.ndim == 4):
            raise ValueError(
                "interpolate: anti-alias option is restricted to bilinear and bicubic modes and requires a 4-d input"
            )
    if size is not None:
        out_size, scales = [int(s) for s in _per_dim("output size", size, dims, spatial)], [None] * dims
    else:
        scales = [float(s) for s in _per_dim("scale_factor", scale_factor, dims, spatial)]
        out_size = [math.floor(float(n * s)) for n, s in zip(spatial, scales, strict=True)]
        if recompute_scale_factor or mode == "area":
            scales = [None] * dims
    if mode == "area":
        if input.ndim not in (3, 4, 5):
            _interpolate_infer(input, tuple(out_size), "nearest", False, tuple(scales), False)
        from somegrad.ops.nn.pooling_nd import adaptive_avg_pool

        return adaptive_avg_pool(input, tuple(out_size), "interpolate")
    params = _interpolate_params(tuple(out_size), mode, bool(align_corners), tuple(scales), bool(antialias))
    return apply(INTERPOLATE, (input,), params)


# --- reflect, replicate and circular padding ----------------------------------------------------
def _reflect(positions, size):
    period = 2 * (size - 1)
    if period == 0:
        return np.zeros_like(positions)
    positions = np.abs(positions) % period
    return np.where(positions >= size, period - positions, positions)


_PAD_INDEX = {
    "reflect": _reflect,
    "replicate": lambda positions, size: np.clip(positions, 0, size - 1),
    "circular": lambda positions, size: positions % size,
}


def _pad_infer(name, mode):
    def infer(x, pad):
        first = x.ndim - len(pad)
        shape = list(x.shape)
        for axis, (before, after) in enumerate(pad, start=first):
            size = x.shape[axis]
            if size == 0:
                raise ShapeError(f"{name}: cannot pad dimension {axis} of size 0 of input {tuple(x.shape)}")
            if mode == "reflect" and (before >= size or after >= size):
                raise ArgumentError(
                    f"{name}: padding size should be less than the corresponding input dimension, but got "
                    f"padding ({before}, {after}) at dimension {axis} of input {tuple(x.shape)}"
                )
            if mode == "circular" and (before > size or after > size):
                raise ArgumentError(
                    f"{name}: padding ({before}, {after}) of dimension {axis} of input {tuple(x.shape)} "
                    "causes wrapping around more than once"
                )
            shape[axis] = size + before + after
            if shape[axis] < 0:
                raise ShapeError(f"{name}: padding {tuple(pad)} leaves dimension {axis} of {tuple(x.shape)} negative")
        return tuple(shape), x.dtype

    return infer


def _pad_decompose(mode):
    def decompose(x, pad):
        first = x.ndim - len(pad)
        for axis, (before, after) in enumerate(pad, start=first):
            if before or after:
                size = x.shape[axis]
                positions = np.arange(-before, size + after, dtype=np.int64)
                if mode == "circular":
                    # PyTorch crops first, then wraps around what is left
                    low, high = max(-before, 0), size - max(-after, 0)
                    positions = low + np.arange(-max(before, 0), high - low + max(after, 0)) % (high - low)
                x = _gather(x, axis, _PAD_INDEX[mode](positions, size))
        return x

    return decompose


def _pad_op(name, mode):
    return register(
        OpSpec(
            name,
            "composite",
            ("x",),
            _pad_infer(name, mode),
            decompose=_pad_decompose(mode),
            doc=f"{mode.capitalize()} padding of x's trailing dims; pad is one (before, after) pair per "
            "padded dim, first padded dim first (negative widths crop).",
        )
    )


REFLECTION_PAD = _pad_op("reflection_pad", "reflect")
REPLICATION_PAD = _pad_op("replication_pad", "replicate")
CIRCULAR_PAD = _pad_op("circular_pad", "circular")
PAD_OPS = {"reflect": REFLECTION_PAD, "replicate": REPLICATION_PAD, "circular": CIRCULAR_PAD}


def pad_by_index(input, pad, mode):
    """`F.pad` in mode reflect, replicate or circular: pad lists (left, right) pairs from the
    LAST dim, as PyTorch's; 1, 2 or 3 trailing dims of an input with 1 or 2 more dims."""
    if len(pad) % 2:
        raise ArgumentError(f"pad: padding length must be divisible by 2, got {tuple(pad)}")
    padded = len(pad) // 2
    if padded > input.ndim:
        raise ArgumentError(
            f"pad: padding length should be at most twice the input dimension, got {len(pad)} values "
            f"for shape {tuple(input.shape)}"
        )
    if padded not in (1, 2, 3) or input.ndim not in (padded + 1, padded + 2):
        raise NotImplementedError(
            f"pad: padding size {len(pad)} is not supported for {input.ndim}-d input in mode {mode!r}; non-constant "
            "modes pad the last 1, 2 or 3 dims of an input with 1 or 2 more dims"
        )
    pairs = tuple((int(pad[2 * i]), int(pad[2 * i + 1])) for i in reversed(range(padded)))
    return apply(PAD_OPS[mode], (input,), {"pad": pairs})


# --- pixel shuffle --------------------------------------------------------------------------------
def _shuffle_infer(name, down):
    def infer(x, factor):
        if factor <= 0:
            raise ArgumentError(f"{name}: expects a positive {'down' if down else 'up'}scale_factor, got {factor}")
        if x.ndim < 3:
            raise ShapeError(f"{name}: expects input to have at least 3 dimensions, got shape {tuple(x.shape)}")
        c, h, w = x.shape[-3:]
        if down:
            if h % factor or w % factor:
                raise ShapeError(
                    f"{name}: expects height and width of {tuple(x.shape)} to be divisible by downscale_factor {factor}"
                )
            return tuple(x.shape[:-3]) + (c * factor * factor, h // factor, w // factor), x.dtype
        if c % (factor * factor):
            raise ShapeError(
                f"{name}: expects its input's 'channel' dimension to be divisible by the square of "
                f"upscale_factor, but input.size(-3)={c} is not divisible by {factor * factor}"
            )
        return tuple(x.shape[:-3]) + (c // (factor * factor), h * factor, w * factor), x.dtype

    return infer


def _pixel_shuffle(x, factor):
    *batch, c, h, w = x.shape
    lead = len(batch)
    channels = c // (factor * factor)
    x = x.reshape(*batch, channels, factor, factor, h, w)
    x = x.permute(*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return x.reshape(*batch, channels, h * factor, w * factor)


def _pixel_unshuffle(x, factor):
    *batch, c, h, w = x.shape
    lead = len(batch)
    x = x.reshape(*batch, c, h // factor, factor, w // factor, factor)
    x = x.permute(*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return x.reshape(*batch, c * factor * factor, h // factor, w // factor)


PIXEL_SHUFFLE = register(
    OpSpec(
        "pixel_shuffle",
        "composite",
        ("x",),
        _shuffle_infer("pixel_shuffle", False),
        decompose=_pixel_shuffle,
        doc="(*, C r^2, H, W) -> (*, C, H r, W r).",
    )
)
PIXEL_UNSHUFFLE = register(
    OpSpec(
        "pixel_unshuffle",
        "composite",
        ("x",),
        _shuffle_infer("pixel_unshuffle", True),
        decompose=_pixel_unshuffle,
        doc="(*, C, H r, W r) -> (*, C r^2, H, W).",
    )
)


@public(PIXEL_SHUFFLE)
def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r), r = upscale_factor."""
    return apply(PIXEL_SHUFFLE, (input,), {"factor": int(upscale_factor)})


@public(PIXEL_UNSHUFFLE)
def pixel_unshuffle(input, downscale_factor):
    """The inverse of pixel_shuffle: (*, C, H r, W r) into (*, C r^2, H, W)."""
    return apply(PIXEL_UNSHUFFLE, (input,), {"factor": int(downscale_factor)})
