"""Kernels for every primitive, written once against an Array API namespace `xp`.

`array_api_kernels(xp, native)` returns a kernel table for any library that follows the
Array API standard (NumPy 2, CuPy, array-api-strict, ...); `native(dtype)` maps a somegrad
DType to the library's dtype. Backends start from this table and override the entries
where they have something faster. Random ops are not here: the standard has no random
numbers, so each backend brings its own.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.backends import (
    array_api_layout,
    array_api_linalg,
    array_api_pointwise,
    array_api_scatter,
    array_api_spectral,
)

__all__ = ["array_api_kernels", "FAMILIES"]

# the kernel families kept in modules of their own: each has `kernels(xp, native)`, `FLOAT_MATH` and `QUIET`
FAMILIES = (array_api_pointwise, array_api_scatter, array_api_layout, array_api_linalg, array_api_spectral)


def _pad_widths(pad):
    return [tuple(p) for p in pad]


def array_api_kernels(xp, native):
    """The primitive kernels over `xp` (see `somegrad.backends.base` for the conventions)."""

    try:
        native_bfloat16 = native(dtypes.bfloat16)
    except (AttributeError, KeyError, TypeError, ValueError):  # a library without bfloat16
        native_bfloat16 = None

    def cast(x, dtype):
        if native_bfloat16 is not None and x.dtype == native_bfloat16 and not dtype.is_floating_point:
            # through float32, whose conversion to integers is the platform's (-inf to INT64_MIN,
            # as PyTorch's): ml_dtypes' own gives 0
            x = xp.astype(x, native(dtypes.float32))
        return xp.astype(x, native(dtype))

    def sign(x):
        # the standard's sign is for numbers; the sign of a bool is itself (as in PyTorch)
        return copy(x) if x.dtype == native_bool else xp.sign(x)

    def round_half_even(x):
        return xp.round(x)

    def pow(a, b):
        return xp.pow(a, b)

    def floor_divide(a, b):
        return xp.floor_divide(a, b)

    def remainder(a, b):
        r = xp.remainder(a, b)
        if not _floating(r):
            return r
        # a zero remainder has the sign of `a` in PyTorch (C's fmod), of `b` in NumPy
        return xp.where(r == 0, xp.copysign(r, a), r)

    def _floating(x):
        isdtype = getattr(xp, "isdtype", None)  # the standard's; NumPy 1 and older CuPy lack it
        return isdtype(x.dtype, "real floating") if isdtype else x.dtype.kind == "f"

    def reduce(fn):
        def kernel(x, dim, keepdim):
            return fn(x, axis=dim, keepdims=keepdim)

        return kernel

    def arg_reduce(fn):
        def kernel(x, dim, keepdim):
            if dim is None:
                flat = fn(xp.reshape(x, (-1,)), axis=0)
                return xp.reshape(flat, (1,) * x.ndim) if keepdim else flat
            return fn(x, axis=dim, keepdims=keepdim)

        return kernel

    def cumsum(x, dim):
        return xp.cumulative_sum(x, axis=dim, dtype=x.dtype)  # the standard would widen small ints

    def argsort(x, dim, descending, stable):
        return xp.astype(xp.argsort(x, axis=dim, descending=descending, stable=True), native_int64)

    def reshape(x, shape):
        return xp.reshape(x, shape)

    def permute(x, dims):
        return xp.permute_dims(x, dims)

    def expand(x, shape):
        return xp.broadcast_to(x, shape)

    def flip(x, dims):
        return xp.flip(x, axis=dims)

    def pad(x, pad, value):
        out = xp.full(tuple(s + b + a for s, (b, a) in zip(x.shape, pad)), value, dtype=x.dtype, device=_device(x))
        out[tuple(slice(b, b + s) for s, (b, a) in zip(x.shape, pad))] = x
        return out

    def cat(arrays, dim):
        return xp.concat(arrays, axis=dim)

    def copy(x):
        return xp.asarray(x, copy=True)

    def getitem(x, key):
        return x[key]

    def index_put(x, values, key, accumulate):
        out = xp.asarray(x, copy=True)
        if not accumulate:
            out[key] = values
            return out
        # Repeated indices must add up: scatter-add over the flattened positions.
        positions = xp.reshape(xp.arange(math.prod(x.shape), dtype=native_int64, device=_device(x)), x.shape)
        targets = xp.reshape(positions[key], (-1,))
        shape = positions[key].shape
        flat_values = xp.reshape(xp.broadcast_to(values, shape), (-1,))
        flat = xp.reshape(out, (-1,))
        return xp.reshape(_scatter_add_flat(flat, targets, flat_values), x.shape)

    def _scatter_add_flat(flat, targets, values):
        # Sort by target, sum runs of equal targets, then let every position find its run by a
        # binary search: a gather, not an assignment through an index array, which the standard
        # does not require (array-api-strict refuses it).
        order = xp.argsort(targets, stable=True)
        targets, values = xp.take(targets, order), xp.take(values, order)
        if targets.shape[0] == 0:
            return flat
        sums = xp.cumulative_sum(values, include_initial=True, dtype=values.dtype)  # the standard widens small ints
        is_last = xp.concat([targets[1:] != targets[:-1], xp.asarray([True], device=_device(flat))])
        ends = xp.nonzero(is_last)[0]
        starts = xp.concat([xp.asarray([0], dtype=ends.dtype, device=_device(flat)), ends[:-1] + 1])
        run_sums = xp.take(sums, ends + 1) - xp.take(sums, starts)
        unique = xp.take(targets, ends)
        positions = xp.arange(flat.shape[0], dtype=unique.dtype, device=_device(flat))
        run = xp.minimum(xp.searchsorted(unique, positions), unique.shape[0] - 1)
        hit = xp.take(unique, run) == positions
        return flat + xp.where(hit, xp.take(run_sums, run), xp.zeros_like(flat))

    def gather(x, index, dim):
        x = x[tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))]
        return xp.take_along_axis(x, index, axis=dim)

    def scatter_add(x, index, src, dim):
        src = src[tuple(slice(0, s) for s in index.shape)]
        aranges = [xp.arange(s, dtype=native_int64, device=_device(x)) for s in index.shape]
        grids = list(xp.meshgrid(*aranges, indexing="ij"))  # a tuple in some libraries (NumPy 2)
        grids[dim] = index
        strides = [math.prod(x.shape[d + 1 :]) for d in range(x.ndim)]
        targets = (
            sum(g * s for g, s in zip(grids, strides))
            if x.ndim
            else xp.zeros((), dtype=native_int64, device=_device(x))
        )
        flat = _scatter_add_flat(xp.reshape(x, (-1,)), xp.reshape(targets, (-1,)), xp.reshape(src, (-1,)))
        return xp.reshape(flat, x.shape)

    def nonzero(x):
        if x.ndim == 0:
            return xp.zeros((1 if bool(x) else 0, 0), dtype=native_int64)
        return xp.astype(xp.stack(xp.nonzero(x), axis=1), native_int64)

    def matmul(a, b):
        return xp.matmul(a, b)

    def full(device, shape, dtype, fill_value):
        return xp.full(shape, fill_value, dtype=native(dtype))

    def arange(device, start, stop, step, dtype):
        return xp.arange(start, stop, step, dtype=native(dtype))

    def where(condition, a, b):
        return xp.where(condition, a, b)

    def isfinite(x):
        return xp.isfinite(x)

    def _device(x):
        return getattr(x, "device", None)

    native_int64 = native(dtypes.int64)
    native_bool = native(dtypes.bool_)

    table = {
        "neg": xp.negative,
        "exp": xp.exp,
        "log": xp.log,
        "log1p": xp.log1p,
        "expm1": xp.expm1,
        "sqrt": xp.sqrt,
        "abs": xp.abs,
        "sign": sign,
        "sin": xp.sin,
        "cos": xp.cos,
        "tanh": xp.tanh,
        "floor": xp.floor,
        "ceil": xp.ceil,
        "round": round_half_even,
        "logical_not": xp.logical_not,
        "bitwise_not": getattr(xp, "bitwise_invert", None) or xp.invert,  # the standard's name, or NumPy 1's
        "isfinite": isfinite,
        "add": xp.add,
        "sub": xp.subtract,
        "mul": xp.multiply,
        "div": xp.divide,
        "pow": pow,
        "maximum": xp.maximum,
        "minimum": xp.minimum,
        "floor_divide": floor_divide,
        "remainder": remainder,
        "eq": xp.equal,
        "ne": xp.not_equal,
        "lt": xp.less,
        "le": xp.less_equal,
        "gt": xp.greater,
        "ge": xp.greater_equal,
        "logical_and": xp.logical_and,
        "atan2": xp.atan2,
        "bitwise_and": xp.bitwise_and,
        "bitwise_or": xp.bitwise_or,
        "bitwise_xor": xp.bitwise_xor,
        "logical_or": xp.logical_or,
        "logical_xor": xp.logical_xor,
        "where": where,
        "cast": cast,
        "sum": reduce(xp.sum),
        "prod": reduce(xp.prod),
        "amax": reduce(xp.max),
        "amin": reduce(xp.min),
        "all": reduce(xp.all),
        "any": reduce(xp.any),
        "argmax": arg_reduce(xp.argmax),
        "argmin": arg_reduce(xp.argmin),
        "cumsum": cumsum,
        "argsort": argsort,
        "reshape": reshape,
        "permute": permute,
        "expand": expand,
        "flip": flip,
        "pad": pad,
        "cat": cat,
        "copy": copy,
        "getitem": getitem,
        "index_put": index_put,
        "gather": gather,
        "scatter_add": scatter_add,
        "nonzero": nonzero,
        "matmul": matmul,
        "full": full,
        "arange": arange,
    }
    for family in FAMILIES:
        table.update(family.kernels(xp, native))
    return table
