"""Array API kernels for scatter/index/mask writes and the cumulative scans;
merged into the shared table by `array_api_kernels`.

The standard has no assignment through index arrays (array-api-strict refuses it) and no
`ufunc.at`, so every scatter here works the same way: the flat target of each source element,
a stable sort by target, one reduction per run of equal targets (a segmented scan), and a
binary search that lets every position of the output find its run (a gather). Scans that the
standard lacks (running max and min) use a library's `accumulate` where it has one, and a
log-step (Hillis-Steele) scan otherwise: log2(n) vectorised steps, no loop over elements.
"""

from __future__ import annotations

import math

from somegrad import dtypes

# the kernels whose float16/bfloat16 inputs a backend should compute in float32, and those
# whose results can be inf or NaN from finite inputs (the numpy backend silences its warnings)
FLOAT_MATH: frozenset[str] = frozenset({"scatter_reduce", "cumprod", "cummax_indices", "cummin_indices"})
QUIET: frozenset[str] = frozenset({"scatter_reduce", "cumprod"})


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""
    int64 = native(dtypes.int64)
    bool_ = native(dtypes.bool_)

    # Where NumPy 1.26 or CuPy lack a name of the standard (concat, astype, cumulative_sum, the
    # device keyword of arange), the older spelling serves.
    concat = getattr(xp, "concat", None) or xp.concatenate

    def astype(x, dtype):
        return xp.astype(x, dtype) if hasattr(xp, "astype") else x.astype(dtype)

    def arange(n, like):
        try:
            return xp.arange(n, dtype=int64, device=getattr(like, "device", None))
        except TypeError:  # an arange without a device keyword: the current device's
            return xp.arange(n, dtype=int64)

    def prefix_sums(v):
        """[0, v0, v0 + v1, ...]: the inclusive cumulative sum with a leading 0, in v's dtype."""
        if hasattr(xp, "cumulative_sum"):
            return xp.cumulative_sum(v, include_initial=True, dtype=v.dtype)  # no widening
        return concat([xp.zeros_like(v[:1]), xp.cumsum(v, dtype=v.dtype)])

    def copy_of(x):
        try:
            return xp.asarray(x, copy=True)
        except TypeError:  # an asarray without the copy keyword
            return x.copy()

    def along(axis, part):
        """A key that takes `part` (a slice) of dimension `axis` and all of the others."""
        return (slice(None),) * axis + (part, Ellipsis)

    def shifted(x, axis, shift, fill):
        """x moved `shift` places forward along `axis`, the first places holding `fill` (None: x's own)."""
        n = x.shape[axis]
        head = x[along(axis, slice(0, shift))]
        if fill is not None:
            head = xp.full_like(head, fill)
        return concat([head, x[along(axis, slice(0, n - shift))]], axis=axis)

    def log_scan(x, axis, combine, fill=None):
        """The inclusive scan of `combine` along `axis` in log2(n) steps (Hillis-Steele).
        `fill` is combine's identity; None for an idempotent combine (max, min: x with itself)."""
        shift = 1
        while shift < x.shape[axis]:
            x = combine(x, shifted(x, axis, shift, fill))
            shift *= 2
        return x

    def accumulate(name, x, axis):
        """The running `name` ("maximum", "minimum") along `axis`: the library's own accumulate
        (NumPy's ufuncs) when it has one, else a log-step scan."""
        fn = getattr(getattr(xp, name, None), "accumulate", None)
        if fn is not None:
            try:
                return fn(x, axis=axis)
            except (NotImplementedError, TypeError, ValueError):  # a ufunc without this method (CuPy's)
                pass
        return log_scan(x, axis, getattr(xp, name))

    def cumprod(x, dim):
        fn = getattr(xp, "cumulative_prod", None)  # the standard's (2024.12); NumPy 1.26 has cumprod
        if fn is not None:
            return fn(x, axis=dim, dtype=x.dtype)
        if hasattr(xp, "cumprod"):
            return xp.cumprod(x, axis=dim, dtype=x.dtype)
        return log_scan(x, dim, xp.multiply, fill=1)

    def cumulative_arg(name):
        def kernel(x, dim):
            # The index of the running extremum: the last position where x equals it (ties go
            # to the last occurrence, as in PyTorch), or is NaN (NaN propagates, the index with it).
            if x.dtype == bool_:
                x = astype(x, native(dtypes.uint8))
            running = accumulate(name, x, dim)
            new = x == running
            if is_floating(x.dtype):
                new = new | xp.isnan(x)
            shape = [1] * x.ndim
            shape[dim] = x.shape[dim]
            positions = xp.reshape(arange(x.shape[dim], x), tuple(shape))
            where_new = xp.where(new, positions, xp.zeros_like(positions))
            return accumulate("maximum", where_new, dim)

        return kernel

    # --- scatters ------------------------------------------------------------------------------
    def targets(shape, index, dim):
        """The flat position in an array of `shape` that each element of `index` writes to."""
        if not shape:
            return xp.zeros_like(index)
        aranges = [arange(s, index) for s in index.shape]
        grids = list(xp.meshgrid(*aranges, indexing="ij"))
        grids[dim] = index
        strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
        return sum(g * s for g, s in zip(grids, strides))

    def segmented_scan(values, segment, combine, fill, longest):
        """The inclusive scan of `combine` within each run of equal `segment` ids (1-d, sorted),
        the longest run `longest` long: log2(longest) steps."""
        shift = 1
        while shift < longest:
            same = segment == shifted(segment, 0, shift, -1)
            values = xp.where(same, combine(values, shifted(values, 0, shift, fill)), values)
            shift *= 2
        return values

    def argsort(a, stable):
        try:
            return xp.argsort(a, stable=stable)  # the standard's keyword
        except TypeError:  # CuPy's argsort has none: its radix sort is stable
            return xp.argsort(a)

    def runs(x, index, src, dim, stable=False):
        """Sorted targets and source values, with the runs of equal targets: (unique targets,
        run starts, run ends, sorted values, segment id per sorted element). A reduction does
        not care about the order within a run, so the sort need not be stable (several times
        faster in NumPy); `stable` keeps each run in index order."""
        src = src[tuple(slice(0, s) for s in index.shape)]
        flat_targets = xp.reshape(targets(x.shape, index, dim), (-1,))
        order = argsort(flat_targets, stable)
        flat_targets = xp.take(flat_targets, order)
        ordered = xp.take(xp.reshape(src, (-1,)), order)
        is_last = concat([flat_targets[1:] != flat_targets[:-1], xp.ones_like(flat_targets[:1], dtype=bool_)])
        ends = xp.nonzero(is_last)[0]
        starts = concat([xp.zeros_like(ends[:1]), ends[:-1] + 1])
        segment = prefix_sums(astype(is_last, int64))[:-1]
        return xp.take(flat_targets, ends), starts, ends, ordered, segment

    def locate(x, unique):
        """For each flat position of x: the run that writes it, and whether one does."""
        positions = astype(arange(math.prod(x.shape), x), unique.dtype)
        run = xp.minimum(xp.searchsorted(unique, positions), unique.shape[0] - 1)
        return run, xp.take(unique, run) == positions

    def scatter(x, index, src, dim):
        if index.size == 0:
            return copy_of(x)
        unique, _, ends, ordered, _ = runs(x, index, src, dim, stable=True)
        run, hit = locate(x, unique)
        # the last write of each target wins (PyTorch leaves the winner of a repeat undefined)
        flat = xp.where(hit, xp.take(xp.take(ordered, ends), run), xp.reshape(x, (-1,)))
        return xp.reshape(flat, x.shape)

    _COMBINE = {"prod": (xp.multiply, 1), "amax": (xp.maximum, None), "amin": (xp.minimum, None)}

    def scatter_reduce(x, index, src, dim, reduce, include_self):
        if index.size == 0:
            return copy_of(x)
        if x.dtype == bool_:  # sum and prod of bools are any and all; through int64, cast back
            out = scatter_reduce(astype(x, int64), index, astype(src, int64), dim, reduce, include_self)
            return out != 0
        unique, starts, ends, ordered, segment = runs(x, index, src, dim)
        run, hit = locate(x, unique)
        old = xp.reshape(x, (-1,))
        if reduce in ("sum", "mean"):
            sums = prefix_sums(ordered)
            reduced = xp.take(xp.take(sums, ends + 1) - xp.take(sums, starts), run)
            if include_self:
                reduced = old + reduced
            if reduce == "mean":
                counts = astype(xp.take(ends - starts + 1, run) + (1 if include_self else 0), x.dtype)
                if is_floating(x.dtype):
                    reduced = reduced / counts
                else:
                    reduced = xp.floor_divide(reduced, counts)  # PyTorch's mean of integers rounds down
        else:
            combine, fill = _COMBINE[reduce]
            longest = int(xp.max(ends - starts)) + 1
            reduced = xp.take(xp.take(segmented_scan(ordered, segment, combine, fill, longest), ends), run)
            if include_self:
                reduced = combine(old, reduced)
        return xp.reshape(xp.where(hit, reduced, old), x.shape)

    def is_floating(dtype):
        isdtype = getattr(xp, "isdtype", None)  # the standard's; NumPy 1.26 has none
        return isdtype(dtype, "real floating") if isdtype is not None else dtype.kind == "f"

    return {
        "cumprod": cumprod,
        "cummax_indices": cumulative_arg("maximum"),
        "cummin_indices": cumulative_arg("minimum"),
        "scatter": scatter,
        "scatter_reduce": scatter_reduce,
    }
