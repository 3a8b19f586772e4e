"""Pooling over 1, 2 or 3 spatial dims beyond the 2-d kernels of `pooling`: the argmax of each
max-pooling window (`max_pool_indices`, for `return_indices=True` and `max_unpool`), max_pool3d,
avg_pool3d, the ceil_mode geometry, the adaptive and fractional max pools, and unpooling.

max_pool3d gathers the maxima at their indices, so its gradient goes to the first maximum of
each window as PyTorch's does; avg_pool3d is a window sum (conv3d with a kernel of ones, one
channel at a time) over a divisor that depends only on the sizes.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.errors import ArgumentError, IndexOutOfRangeError, ShapeError
from somegrad.ops import movement as mv
from somegrad.ops import reduce as rd
from somegrad.ops.creation import arange, ones, tensor, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import GATHER, INDEX_SELECT
from somegrad.ops.nn.composite import composite
from somegrad.ops.nn.conv3d import CONV3D, ntuple, output_sizes, pad_spatial, window_taps
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register


# --- geometry ---------------------------------------------------------------------------------
def pool_padding(op, spatial, kernel, stride, padding, dilation, ceil_mode):
    """(before, after) pairs per dim: `padding` on both sides, and with ceil_mode the extra room
    after that the last, partial window needs (a window must start inside the input or the
    left padding, as PyTorch's pooling_output_shape)."""
    pairs = []
    for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True):
        if p < 0 or 2 * p > (k - 1) * d + 1:
            raise ArgumentError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} "
                f"and dilation={d}"
            )
        span = n + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        if out <= 0:
            raise ShapeError(f"{op}: kernel {tuple(kernel)} is larger than the padded input of spatial size {spatial}")
        pairs.append((p, max(p, (out - 1) * s + d * (k - 1) + 1 - n - p)))
    return tuple(pairs)


def pool_args(op, input, dims, kernel_size, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling arguments as tuples: (kernel, stride, padding pairs, dilation)."""
    if input.ndim not in (dims + 1, dims + 2) or min(input.shape[1:], default=1) <= 0:
        raise ShapeError(
            f"{op}: expected a non-empty {dims + 1}-d (unbatched) or {dims + 2}-d (batched) input, got shape "
            f"{tuple(input.shape)}"
        )
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    stride = kernel if stride is None or stride == [] or stride == () else ntuple(op, "stride", stride, dims)
    padding, dilation = ntuple(op, "padding", padding, dims), ntuple(op, "dilation", dilation, dims)
    if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
        raise ArgumentError(f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be positive")
    pairs = pool_padding(op, tuple(input.shape[-dims:]), kernel, stride, padding, dilation, ceil_mode)
    return kernel, stride, pairs, dilation


def _window_counts(size, kernel, stride, pair, out, include_pad):
    """How many counted positions each of `out` windows along one dim covers: those inside
    the input, or inside the input and its symmetric padding."""
    before = pair[0]
    start = np.arange(out) * stride - before
    low, high = (-before, size + before) if include_pad else (0, size)
    return np.minimum(start + kernel, high) - np.maximum(start, low)


def avg_divisor(spatial, kernel, stride, padding, out, count_include_pad):
    """(*out) float64: what each window's sum is divided by, as PyTorch's avg pools (the
    padding counts with count_include_pad, the ceil_mode overhang never does)."""
    counts = [
        _window_counts(n, k, s, p, o, count_include_pad)
        for n, k, s, p, o in zip(spatial, kernel, stride, padding, out, strict=True)
    ]
    divisor = np.ones(())
    for c in counts:
        divisor = np.multiply.outer(divisor, c)
    return divisor


# --- the indices of the maxima ----------------------------------------------------------------
def _lowest(dtype):
    return -math.inf if dtype.is_floating_point else dtypes.integer_bounds(dtype)[0]


def _max_pool_indices(x, kernel_size, stride, padding, dilation):
    out = output_sizes(x.shape, kernel_size, stride, padding, dilation)
    spatial = tuple(x.shape[2:])
    xp = pad_spatial(x, padding, _lowest(x.dtype))
    positions = arange(math.prod(spatial), dtype=dtypes.int64, device=x.device).reshape((1, 1) + spatial)
    positions = pad_spatial(positions, padding, -1)
    taps = list(window_taps(kernel_size, stride, dilation, out))
    first = rd.argmax(mv.stack([xp[key] for _, key in taps], -1), -1, keepdim=True)
    where = mv.stack([positions[key] for _, key in taps], -1).expand(tuple(first.shape[:-1]) + (len(taps),))
    return apply(GATHER, (where, first), {"dim": first.ndim - 1}).squeeze(-1)


def _indices_infer(x, kernel_size, stride, padding, dilation):
    dims = len(kernel_size)
    if x.ndim != dims + 2:
        raise ShapeError(f"max_pool_indices: expected input (N, C, *{dims} spatial dims), got {tuple(x.shape)}")
    out = output_sizes(x.shape, kernel_size, stride, padding, dilation)
    if min(out) <= 0:
        raise ShapeError(f"max_pool_indices: kernel {kernel_size} is larger than the padded input {tuple(x.shape)}")
    return tuple(x.shape[:2]) + out, dtypes.int64


MAX_POOL_INDICES = composite(
    "max_pool_indices",
    ("x",),
    _indices_infer,
    None,
    _max_pool_indices,
    doc="The flat index into x's spatial dims of the first maximum of each max-pooling window: "
    "x (N, C, *spatial) -> int64 (N, C, *out); padding is one (before, after) pair per dim.",
    accepts=NUMERIC,
)


def max_pool_indices(x, kernel, stride, padding, dilation):
    return apply(
        MAX_POOL_INDICES, (x,), {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    )


def take_at(x, indices):
    """x (N, C, *spatial) at flat spatial `indices` (N, C, *out): differentiable, the gradient
    goes back to exactly those elements."""
    n, c = x.shape[:2]
    flat = x.reshape(n, c, math.prod(x.shape[2:]))
    picked = apply(GATHER, (flat, indices.reshape(n, c, math.prod(indices.shape[2:]))), {"dim": 2})
    return picked.reshape(tuple(indices.shape))


# --- max_pool3d and avg_pool3d ----------------------------------------------------------------
def _pool3d_infer(name):
    def infer(x, kernel_size, stride, padding, dilation, **params):
        if x.ndim != 5:
            raise ShapeError(f"{name}: expected input (N, C, D, H, W), got {tuple(x.shape)}")
        out = output_sizes(x.shape, kernel_size, stride, padding, dilation)
        if min(out) <= 0:
            raise ShapeError(f"{name}: kernel {kernel_size} is larger than the padded input {tuple(x.shape)}")
        return tuple(x.shape[:2]) + out, x.dtype

    return infer


def _max_pool3d(x, kernel_size, stride, padding, dilation):
    return take_at(x, max_pool_indices(x, kernel_size, stride, padding, dilation))


def _avg_pool3d(x, kernel_size, stride, padding, dilation, count_include_pad, divisor_override):
    n, c = x.shape[:2]
    spatial = tuple(x.shape[2:])
    weight = ones((1, 1) + tuple(kernel_size), dtype=x.dtype, device=x.device)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": 1}
    sums = apply(CONV3D, (x.reshape((n * c, 1) + spatial), weight), params)
    out = tuple(sums.shape[2:])
    sums = sums.reshape((n, c) + out)
    if divisor_override:
        return sums / float(divisor_override)
    divisor = avg_divisor(spatial, kernel_size, stride, padding, out, count_include_pad)
    return sums / tensor(divisor, dtype=x.dtype, device=x.device)


MAX_POOL3D = register(
    OpSpec(
        "max_pool3d",
        "composite",
        ("x",),
        _pool3d_infer("max_pool3d"),
        decompose=_max_pool3d,
        accepts=NUMERIC,
        doc="The maximum of each (dilated) window of (N, C, D, H, W), gathered at its first maximum.",
    )
)
AVG_POOL3D = register(
    OpSpec(
        "avg_pool3d",
        "composite",
        ("x",),
        _pool3d_infer("avg_pool3d"),
        decompose=_avg_pool3d,
        accepts=FLOATING,
        doc="The mean of each window of (N, C, D, H, W); divisor_override (or 0) replaces the count.",
    )
)


def _unbatched(input, dims, fn):
    if input.ndim == dims + 1:
        out = fn(input.unsqueeze(0))
        return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
    return fn(input)


@public(MAX_POOL3D, export=False)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size.
    With return_indices, also the flat D*H*W index of each maximum (int64)."""
    kernel, stride, pairs, dilation = pool_args(
        "max_pool3d", input, 3, kernel_size, stride, padding, dilation, ceil_mode
    )
    if input.dtype is dtypes.bool_:
        raise NotImplementedError("max_pool3d: not implemented for bool")

    def run(x):
        params = {"kernel_size": kernel, "stride": stride, "padding": pairs, "dilation": dilation}
        if return_indices:
            indices = max_pool_indices(x, kernel, stride, pairs, dilation)
            return take_at(x, indices), indices
        return apply(MAX_POOL3D, (x,), params)

    return _unbatched(input, 3, run)


@public(AVG_POOL3D, export=False)
def avg_pool3d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """Average pooling over (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size."""
    kernel, stride, pairs, dilation = pool_args("avg_pool3d", input, 3, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ArgumentError("avg_pool3d: divisor must be not zero")
    params = {
        "kernel_size": kernel,
        "stride": stride,
        "padding": pairs,
        "dilation": dilation,
        "count_include_pad": bool(count_include_pad),
        "divisor_override": int(divisor_override or 0),
    }
    return _unbatched(input, 3, lambda x: apply(AVG_POOL3D, (x,), params))


# --- adaptive pools ---------------------------------------------------------------------------
def _adaptive_bounds(size, out):
    """PyTorch's adaptive windows along one dim: [floor(i n / o), ceil((i + 1) n / o))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_size(op, input, output_size, dims):
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{op}: expected {dims + 1}-d or {dims + 2}-d input, got shape {tuple(input.shape)}")
    if isinstance(output_size, int):
        output_size = (output_size,) * dims
    output_size = tuple(output_size)
    if len(output_size) != dims:
        raise ArgumentError(f"{op}: output_size must have {dims} elements, got {output_size}")
    spatial = tuple(input.shape[-dims:])
    sizes = tuple(n if o is None else int(o) for n, o in zip(spatial, output_size, strict=True))
    if min(sizes) < 0 or (min(spatial) <= 0 < math.prod(input.shape[:-dims])):
        raise ShapeError(f"{op}: cannot pool input {tuple(input.shape)} to {sizes}")
    return sizes


def adaptive_avg_pool(input, output_size, op="adaptive_avg_pool"):
    """Average over PyTorch's adaptive windows so that the last len(output_size) dims become
    output_size. A box mean is the product of its means along each dim, so this is one small
    averaging matrix per dim, (out, in), applied with a matmul."""
    dims = len(output_size) if isinstance(output_size, (tuple, list)) else input.ndim - 2
    sizes = _adaptive_size(op, input, output_size, dims)
    x = input
    for d, out in enumerate(sizes):
        axis = x.ndim - dims + d
        n = x.shape[axis]
        if n == out:
            continue
        start, end = _adaptive_bounds(n, out)
        columns = np.arange(n)
        average = ((columns >= start[:, None]) & (columns < end[:, None])) / (end - start)[:, None]
        weight = tensor(average.T, dtype=x.dtype, device=x.device)
        x = (x.movedim(axis, -1) @ weight).movedim(-1, axis)
    return x


def adaptive_max_pool(input, output_size, return_indices, op):
    """Max over PyTorch's adaptive windows of the last len(output_size) dims; with
    return_indices, also each maximum's flat index into those dims (int64)."""
    dims = len(output_size)
    sizes = _adaptive_size(op, input, output_size, dims)

    def run(x):
        spatial = tuple(x.shape[2:])
        # every window as the same number of taps: the short ones repeat their last element
        flat = np.zeros((), dtype=np.int64)
        for d, (n, out) in enumerate(zip(spatial, sizes, strict=True)):
            start, end = _adaptive_bounds(n, out)
            taps = np.minimum(start[:, None] + np.arange(int((end - start).max())), end[:, None] - 1)
            step = math.prod(spatial[d + 1 :])
            flat = np.add.outer(flat, taps * step)  # (..., out_d, taps_d) per dim, then reordered
        order = [2 * d for d in range(dims)] + [2 * d + 1 for d in range(dims)]
        flat = flat.transpose(order).reshape(sizes + (-1,))
        n, c = x.shape[:2]
        where = tensor(flat.reshape(-1), device=x.device)
        windows = apply(INDEX_SELECT, (x.reshape(n, c, math.prod(spatial)), where), {"dim": 2})
        first = rd.argmax(windows.reshape((n, c) + flat.shape), -1)
        positions = tensor(flat, device=x.device).expand((n, c) + flat.shape)
        indices = apply(GATHER, (positions, first.unsqueeze(-1)), {"dim": dims + 2}).squeeze(-1)
        values = take_at(x, indices)
        return (values, indices) if return_indices else values

    return _unbatched(input, dims, run)


# --- unpooling --------------------------------------------------------------------------------
def max_unpool(input, indices, kernel_size, stride, padding, output_size, dims, op):
    """Scatter input's values to their max-pooling indices in zeros of the unpooled size."""
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    stride = kernel if stride is None else ntuple(op, "stride", stride, dims)
    padding = ntuple(op, "padding", padding, dims)
    if input.ndim not in (dims + 1, dims + 2) or tuple(indices.shape) != tuple(input.shape):
        raise ShapeError(
            f"{op}: expected input and indices of the same {dims + 1}-d or {dims + 2}-d shape, got "
            f"{tuple(input.shape)} and {tuple(indices.shape)}"
        )
    if indices.dtype is not dtypes.int64:
        raise ShapeError(f"{op}: expected int64 indices, got {indices.dtype.name}")
    spatial = tuple(input.shape[-dims:])
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(spatial, stride, padding, kernel, strict=True))
    if output_size is None:
        sizes = default
    else:
        sizes = tuple(int(v) for v in tuple(output_size)[-dims:])
        if len(tuple(output_size)) not in (dims, dims + 1, dims + 2):
            raise ValueError(f"{op}: output_size should be a sequence of {dims} or {dims + 2} ints, got {output_size}")
        for d, (size, base, s) in enumerate(zip(sizes, default, stride, strict=True)):
            if not base - s < size < base + s:
                raise ValueError(
                    f'{op}: invalid output_size "{tuple(output_size)}" '
                    f"(dim {d} must be between {base - s} and {base + s})"
                )

    def run(x, index):
        n, c = x.shape[:2]
        total = math.prod(sizes)
        if index.numel() and (int(index.max().item()) >= total or int(index.min().item()) < 0):
            raise IndexOutOfRangeError(f"{op}: found an invalid max index (the output is of size {sizes})")
        # Of repeated indices (overlapping windows) one value is written, as PyTorch's; the
        # gradient of each input is the output's gradient at its index.
        count = index.numel() // max(n * c, 1)
        out = zeros((n, c, total), dtype=x.dtype, device=x.device)
        out = out.scatter(2, index.reshape(n, c, count), x.reshape(n, c, count))
        return out.reshape((n, c) + sizes)

    if input.ndim == dims + 1:
        return run(input.unsqueeze(0), indices.unsqueeze(0)).squeeze(0)
    return run(input, indices)


# --- fractional max pooling -------------------------------------------------------------------
def _intervals(sample, size, out, kernel, dtype):
    """PyTorch's pseudo-random window starts along one dim, (..., out), from samples in [0, 1)
    (computed in the input's precision, as PyTorch's)."""
    starts = np.zeros(sample.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dtype.type(size - kernel) / dtype.type(out - 1)
        i = np.arange(out - 1, dtype=dtype)
        sample = sample.astype(dtype)[..., None]
        starts[..., :-1] = ((i + sample) * alpha).astype(np.int64) - (sample * alpha).astype(np.int64)
    starts[..., -1] = size - kernel
    return starts


def fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices, samples, dims, op):
    """Max over windows of kernel_size that start at pseudo-random, increasing offsets, so that
    the last dims become output_size (or input size * output_ratio); samples (N, C, dims) in
    [0, 1) pick the offsets (drawn when None). With return_indices, also the flat indices."""
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(f"{op}: expected a {dims + 1}-d or {dims + 2}-d input, got shape {tuple(input.shape)}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    kernel = ntuple(op, "kernel_size", kernel_size, dims)
    spatial = tuple(input.shape[-dims:])
    if output_size is None:
        ratios = (output_ratio,) * dims if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        if not all(0 < r < 1 for r in ratios):
            raise ValueError(f"{op}: output_ratio must be between 0 and 1 (got {output_ratio})")
        output_size = tuple(int(n * r) for n, r in zip(spatial, ratios, strict=True))
    out = ntuple(op, "output_size", output_size, dims)
    for n, k, o in zip(spatial, kernel, out, strict=True):
        if o + k - 1 > n:
            raise ArgumentError(f"{op}: pool size {k} too large relative to input size {n} for output size {o}")

    def run(x):
        n, c = x.shape[:2]
        if samples is None:
            from somegrad.random import rand  # somegrad's generator, so that manual_seed repeats it

            host = rand(n, c, dims, dtype=dtypes.float64).numpy()
        else:
            host = samples.detach().numpy()
        if samples is not None and tuple(host.shape) != (n, c, dims):
            raise ShapeError(f"{op}: expected _random_samples of shape {(n, c, dims)}, got {tuple(host.shape)}")
        precision = np.dtype(np.float64 if x.dtype is dtypes.float64 else np.float32)
        # 2-d takes (W, H) samples, 3-d (D, H, W), as PyTorch's kernels
        order = [1, 0] if dims == 2 else list(range(dims))
        flat = np.zeros((n, c), dtype=np.int64)
        for d in range(dims):
            starts = _intervals(host[..., order[d]], spatial[d], out[d], kernel[d], precision)
            taps = starts[..., None] + np.arange(kernel[d])  # (N, C, out_d, k_d)
            flat = flat[..., None, None] * spatial[d] + taps.reshape((n, c) + (1,) * (2 * d) + taps.shape[2:])
        order_axes = [2 + 2 * d for d in range(dims)] + [3 + 2 * d for d in range(dims)]
        flat = flat.transpose([0, 1] + order_axes).reshape((n, c) + out + (-1,))
        where = tensor(flat, device=x.device)
        windows = apply(GATHER, (x.reshape(n, c, math.prod(spatial)), where.reshape(n, c, -1)), {"dim": 2})
        first = rd.argmax(windows.reshape(tuple(where.shape)), -1, keepdim=True)
        indices = apply(GATHER, (where, first), {"dim": dims + 2}).squeeze(-1)
        values = take_at(x, indices)
        return (values, indices) if return_indices else values

    return _unbatched(input, dims, run)
