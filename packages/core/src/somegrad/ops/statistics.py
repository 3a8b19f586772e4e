"""Statistics over a dim: std_mean, var_mean, aminmax, nanmean, nansum, median, nanmedian, quantile,
nanquantile and mode.

All are implicit composites of the reductions, `sort` and `gather`, so their gradients reach the
elements they select as PyTorch's do (median, quantile and mode along a dim: the selected
positions; aminmax: the extrema, ties sharing evenly). The medians of a whole tensor are explicit
composites, whose gradient is shared evenly among the elements equal to the median, as in
PyTorch. NaN sorts last (after +inf), which is how the NaN-propagating and NaN-ignoring forms
find their element.
"""

from __future__ import annotations

from typing import NamedTuple

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops import reduce
from somegrad.ops.comparison import isnan, where
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import gather, scatter_add
from somegrad.ops.movement import cat
from somegrad.ops.shapes import normalize_dim, normalize_dims, reduced_shape
from somegrad.ops.sorting import sort
from somegrad.ops.spec import FLOATING, OpSpec, public, register
from somegrad.tensor import Tensor, ValuesIndices

__all__ = [
    "var_mean",
    "std_mean",
    "aminmax",
    "nanmean",
    "nansum",
    "median",
    "nanmedian",
    "quantile",
    "nanquantile",
    "mode",
    "MinMax",
]


class MinMax(NamedTuple):
    """What `aminmax` returns: `.min` and `.max`."""

    min: Tensor
    max: Tensor


# --- var_mean, std_mean ---------------------------------------------------------------------------
def _moments_infer(x, dim, correction, keepdim):
    shape = reduced_shape(x.shape, dim, keepdim)
    return (shape, x.dtype), (shape, x.dtype)


def _moments(spread):
    def decompose(x, dim, correction, keepdim):
        params = {"dim": dim, "keepdim": keepdim}
        return apply(spread, (x,), {**params, "correction": correction}), apply(reduce.MEAN, (x,), params)

    return decompose


VAR_MEAN = register(
    OpSpec(
        "var_mean",
        "reduce",
        ("x",),
        _moments_infer,
        decompose=_moments(reduce.VAR),
        outputs=2,
        accepts=FLOATING,
        doc="(var, mean) over dim.",
    )
)
STD_MEAN = register(
    OpSpec(
        "std_mean",
        "reduce",
        ("x",),
        _moments_infer,
        decompose=_moments(reduce.STD),
        outputs=2,
        accepts=FLOATING,
        doc="(std, mean) over dim.",
    )
)


def _moment_params(op, x, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var_mean(x, unbiased), PyTorch's older form
        dim, unbiased = None, dim
    reduce._float_only(op, x)
    if unbiased is not None and correction is not None:
        raise ArgumentError(f"{op}: pass either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = normalize_dims(op, reduce._all_if_empty(dim), x.ndim)
    return {"dim": dims, "correction": correction, "keepdim": keepdim}


@public(VAR_MEAN)
def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None) -> tuple[Tensor, Tensor]:
    """`(var(x, dim), mean(x, dim))` in one call; `correction` (default 1, Bessel's) or `unbiased`
    as for `var`. x: (N, C) with dim=0 gives two (C,) tensors."""
    return apply(VAR_MEAN, (x,), _moment_params("var_mean", x, dim, unbiased, keepdim, correction))


@public(STD_MEAN)
def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None) -> tuple[Tensor, Tensor]:
    """`(std(x, dim), mean(x, dim))` in one call, with the arguments of `var_mean`."""
    return apply(STD_MEAN, (x,), _moment_params("std_mean", x, dim, unbiased, keepdim, correction))


# --- aminmax -------------------------------------------------------------------------------------
def _aminmax_infer(x, dim, keepdim):
    if any(x.shape[d] == 0 for d in dim) or (not dim and x.numel() == 0):
        raise IndexOutOfRangeError(
            f"aminmax: cannot compute aminmax over an empty dimension (input shape {tuple(x.shape)}), "
            "as the operation has no identity"
        )
    shape = reduced_shape(x.shape, dim, keepdim)
    return (shape, x.dtype), (shape, x.dtype)


def _aminmax(x, dim, keepdim):
    params = {"dim": dim, "keepdim": keepdim}
    return MinMax(apply(reduce.AMIN, (x,), params), apply(reduce.AMAX, (x,), params))


AMINMAX = register(
    OpSpec("aminmax", "reduce", ("x",), _aminmax_infer, decompose=_aminmax, outputs=2, doc="(min, max) over dim.")
)


@public(AMINMAX, methods=True)
def aminmax(x, *, dim=None, keepdim=False) -> tuple[Tensor, Tensor]:
    """`(min, max)` of `x` over `dim` (an int, or None for all elements), as a named tuple with
    `.min` and `.max`; ties share the gradient evenly, as for amin and amax."""
    dims = normalize_dims("aminmax", dim, x.ndim)
    return apply(AMINMAX, (x,), {"dim": dims, "keepdim": keepdim})


# --- nanmean, nansum -----------------------------------------------------------------------------
def _nan_reduce_infer(x, dim, keepdim):
    return reduced_shape(x.shape, dim, keepdim), x.dtype if x.dtype.is_floating_point else dtypes.int64


def _nansum(x, dim, keepdim):
    if not x.dtype.is_floating_point:
        return reduce.sum(x, dim, keepdim)
    return reduce.sum(where(isnan(x), 0.0, x), dim, keepdim)


def _nanmean(x, dim, keepdim):
    if x.dtype in reduce._LOW_PRECISION:  # summed in float32, as mean is
        return ew.cast(_nanmean(ew.cast(x, dtypes.float32), dim, keepdim), x.dtype)
    present = ~isnan(x)
    return reduce.sum(where(present, x, 0.0), dim, keepdim) / reduce.sum(present, dim, keepdim)


NANSUM = register(OpSpec("nansum", "reduce", ("x",), _nan_reduce_infer, decompose=_nansum))
NANMEAN = register(OpSpec("nanmean", "reduce", ("x",), _nan_reduce_infer, decompose=_nanmean, accepts=FLOATING))


@public(NANSUM, methods=True)
def nansum(x, dim=None, keepdim=False, *, dtype=None):
    """Sum over `dim` counting NaN as 0. Integers and bools sum in int64, as for `sum`."""
    if dtype is not None:
        x = ew.cast(x, dtype)
    return apply(NANSUM, (x,), {"dim": normalize_dims("nansum", reduce._all_if_empty(dim), x.ndim), "keepdim": keepdim})


@public(NANMEAN, methods=True)
def nanmean(x, dim=None, keepdim=False, *, dtype=None):
    """Mean over `dim` of the elements that are not NaN (NaN where all are); floating inputs only."""
    if dtype is not None:
        x = ew.cast(x, dtype)
    reduce._float_only("nanmean", x)
    dims = normalize_dims("nanmean", reduce._all_if_empty(dim), x.ndim)
    return apply(NANMEAN, (x,), {"dim": dims, "keepdim": keepdim})


# --- median, nanmedian ---------------------------------------------------------------------------
def _along_dim_infer(name):
    def infer(x, dim, keepdim):
        if x.ndim and x.shape[dim] == 0:
            raise IndexError(
                f"{name}: expected reduction dim {dim} to have non-zero size, but the input has shape {tuple(x.shape)}"
            )
        shape = reduced_shape(x.shape, (dim,), keepdim) if x.ndim else ()
        return (shape, x.dtype), (shape, dtypes.int64)

    return infer


def _select(x, dim, keepdim, indices):
    """The elements of `x` at `indices` along `dim` (kept as size 1), as values and indices."""
    values = gather(x, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return ValuesIndices(values, indices)


def _median_dim(ignore_nan):
    def decompose(x, dim, keepdim):
        from somegrad.ops.creation import zeros

        if x.ndim == 0:
            return ValuesIndices(x.clone(), zeros((), dtype=dtypes.int64, device=x.device))
        n = x.shape[dim]
        order = sort(x, dim).indices  # NaN last
        if not x.dtype.is_floating_point:
            return _select(x, dim, keepdim, order.narrow(dim, (n - 1) // 2, 1))
        nans = reduce.sum(isnan(x), dim, keepdim=True)
        if ignore_nan:
            # the lower median of the numbers; the first element when all are NaN
            k = ew.floor_divide(ew.clamp(n - nans - 1, min=0), 2)
        else:
            # a slice holding NaN has the median NaN: its first NaN (stable sort keeps their order)
            k = where(nans > 0, n - nans, (n - 1) // 2)
        return _select(x, dim, keepdim, gather(order, dim, k))

    return decompose


MEDIAN = register(
    OpSpec(
        "median",
        "reduce",
        ("x",),
        _along_dim_infer("median"),
        decompose=_median_dim(False),
        outputs=2,
        doc="(values, indices) of the lower medians along dim; NaN where a slice holds NaN.",
    )
)
NANMEDIAN = register(
    OpSpec(
        "nanmedian",
        "reduce",
        ("x",),
        _along_dim_infer("nanmedian"),
        decompose=_median_dim(True),
        outputs=2,
        doc="(values, indices) of the lower medians along dim of the elements that are not NaN.",
    )
)


def _whole_infer(name):
    def infer(x):
        if x.numel() == 0 and not x.dtype.is_floating_point:
            raise IndexError(f"{name}: an empty {x.dtype.name} tensor has no median (shape {tuple(x.shape)})")
        return (), x.dtype

    return infer


def _whole_median(along):
    def decompose(x):
        if x.numel() == 0:
            return ew.scalar_tensor(float("nan"), x.dtype, x.device).clone()
        return along(x.reshape(-1), 0, False).values

    return decompose


def _evenly_backward(g, x, out):
    # PyTorch's rule for the median of a whole tensor: elements equal to it share the gradient
    # (NaN counts as equal to a NaN median).
    mask = (x == out) | (isnan(x) & isnan(out))
    return g * mask / reduce.sum(mask)


MEDIAN_ALL = register(
    OpSpec(
        "median_all",
        "reduce",
        ("x",),
        _whole_infer("median"),
        _evenly_backward,
        _whole_median(_median_dim(False)),
        explicit=True,
        doc="The lower median of all elements (NaN if one is NaN).",
    )
)
NANMEDIAN_ALL = register(
    OpSpec(
        "nanmedian_all",
        "reduce",
        ("x",),
        _whole_infer("nanmedian"),
        _evenly_backward,
        _whole_median(_median_dim(True)),
        explicit=True,
        doc="The lower median of the elements that are not NaN.",
    )
)


def _median(spec, whole, x, dim, keepdim):
    if x.dtype is dtypes.bool_:
        raise UnsupportedDTypeError(f"{spec.name}: not implemented for bool tensors; convert them with .int()")
    if dim is None:
        return apply(whole, (x,), {})
    return apply(spec, (x,), {"dim": normalize_dim(spec.name, dim, x.ndim), "keepdim": keepdim})


@public(MEDIAN, methods=True)
def median(x, dim=None, keepdim=False) -> Tensor | ValuesIndices:
    """The lower median of all elements (a 0-d tensor; its gradient is shared among the elements
    equal to it), or `(values, indices)` along `dim` (the gradient goes to the index). NaN
    propagates: a slice holding NaN has the median NaN, at its first NaN."""
    return _median(MEDIAN, MEDIAN_ALL, x, dim, keepdim)


@public(NANMEDIAN, methods=True)
def nanmedian(x, dim=None, keepdim=False) -> Tensor | ValuesIndices:
    """`median` ignoring NaN: the lower median of the other elements (NaN where all are NaN)."""
    return _median(NANMEDIAN, NANMEDIAN_ALL, x, dim, keepdim)


# --- quantile, nanquantile -----------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_infer(name):
    def infer(x, q, dim, keepdim, interpolation):
        if x.dtype not in (dtypes.float32, dtypes.float64):
            raise DTypeError(f"{name}: the input must be float32 or float64, got {x.dtype.name}")
        if q.dtype is not x.dtype:
            raise DTypeError(f"{name}: q has dtype {q.dtype.name}, but it must have the input's, {x.dtype.name}")
        if q.ndim > 1:
            raise ArgumentError(f"{name}: q must be a scalar or 1D tensor, got shape {tuple(q.shape)}")
        if x.numel() == 0:
            raise ArgumentError(f"{name}: the input must be non-empty, got shape {tuple(x.shape)}")
        if interpolation not in _INTERPOLATIONS:
            raise ArgumentError(
                f"{name}: interpolation must be one of linear, lower, higher, midpoint or nearest, "
                f"but got {interpolation!r}"
            )
        if dim is None or x.ndim == 0:
            shape = (1,) * x.ndim if keepdim else ()
        else:
            shape = reduced_shape(x.shape, (dim,), keepdim)
        return tuple(q.shape) + shape, x.dtype

    return infer


def _quantile(ignore_nan):
    def decompose(x, q, dim, keepdim, interpolation):
        source = x.reshape(-1) if dim is None else (x.reshape(1) if x.ndim == 0 else x)
        # sorted along the last dim, with a leading dim for q: (Q, ..., n)
        ordered = sort(source, 0 if dim is None else dim).values.movedim(0 if dim is None else dim, -1)
        n = ordered.shape[-1]
        qs = q.reshape((-1,) + (1,) * ordered.ndim)
        nans = reduce.sum(isnan(ordered), -1, keepdim=True)
        if ignore_nan:
            ranks = qs * (n - nans - 1)
            ranks = where(ranks < 0, 0.0, ranks)  # all NaN: the first, a NaN
        else:
            ranks = where(nans > 0, float(n - 1), qs * (n - 1))  # a NaN: the last, a NaN
        if interpolation == "lower":
            ranks = ranks.floor()
        elif interpolation == "higher":
            ranks = ranks.ceil()
        elif interpolation == "nearest":
            ranks = ranks.round()
        ordered = ordered.expand(ranks.shape[:-1] + (n,))
        below = ew.cast(ranks, dtypes.int64)
        out = gather(ordered, -1, below)
        if interpolation in ("linear", "midpoint"):
            above = gather(ordered, -1, ew.cast(ranks.ceil(), dtypes.int64))
            weights = 0.5 if interpolation == "midpoint" else ranks - ew.cast(below, ranks.dtype)
            out = ew.lerp(out, above, weights)
        out = out.squeeze(-1)  # (Q, reduced...)
        if keepdim and x.ndim:
            out = out.reshape(out.shape[:1] + (1,) * x.ndim) if dim is None else out.unsqueeze(dim + 1)
        return out.reshape(out.shape[1:]) if q.ndim == 0 else out

    return decompose


QUANTILE = register(
    OpSpec("quantile", "reduce", ("x", "q"), _quantile_infer("quantile"), decompose=_quantile(False), accepts=FLOATING)
)
NANQUANTILE = register(
    OpSpec(
        "nanquantile",
        "reduce",
        ("x", "q"),
        _quantile_infer("nanquantile"),
        decompose=_quantile(True),
        accepts=FLOATING,
    )
)


def _quantile_call(spec, x, q, dim, keepdim, interpolation):
    name = spec.name
    if isinstance(q, Tensor):
        if q.numel() and bool(((q < 0) | (q > 1)).any()):
            raise ArgumentError(f"{name}: q values must be in the range [0, 1]")
    else:
        number = dtypes.python_number(q)
        if number is None or isinstance(number, bool):
            raise TypeError(f"{name}: q must be a float or a Tensor, got {type(q).__name__}")
        if not 0 <= number <= 1:
            raise ArgumentError(f"{name}: q must be in the range [0, 1] but got {number}")
        q = ew.scalar_tensor(float(number), x.dtype if x.dtype.is_floating_point else dtypes.float32, x.device)
    dim = None if dim is None else normalize_dim(name, dim, x.ndim)
    return apply(spec, (x, q), {"dim": dim, "keepdim": keepdim, "interpolation": interpolation})


@public(QUANTILE, methods=True)
def quantile(x, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The `q`-th quantiles of `x` along `dim` (of all elements when None); `q` a float or a 0-d
    or 1-D tensor in [0, 1], whose dim comes first in the result. Between two elements,
    `interpolation` takes linear, lower, higher, midpoint or nearest (half to even); NaN
    propagates. x: (N, C), q: (Q,), dim=1 gives (Q, N)."""
    return _quantile_call(QUANTILE, x, q, dim, keepdim, interpolation)


@public(NANQUANTILE, methods=True)
def nanquantile(x, q, dim=None, keepdim=False, *, interpolation="linear"):
    """`quantile` of the elements that are not NaN (NaN where all are)."""
    return _quantile_call(NANQUANTILE, x, q, dim, keepdim, interpolation)


# --- mode ----------------------------------------------------------------------------------------
def _mode(x, dim, keepdim):
    from somegrad.ops.creation import ones, zeros

    if x.ndim == 0:
        return ValuesIndices(x.clone(), zeros((), dtype=dtypes.int64, device=x.device))
    # Sorted, equal values form runs; each run's length is counted by run number (a scatter-add of
    # ones), and the first longest run (the smallest value) wins; its last element, in the stable
    # order, is PyTorch's index: the last occurrence.
    ordered = sort(x, dim)
    values, order = ordered.values.movedim(dim, -1), ordered.indices.movedim(dim, -1)
    n = values.shape[-1]
    edge = ones(values.shape[:-1] + (1,), dtype=dtypes.bool_, device=x.device)
    changes = values.narrow(-1, 1, n - 1) != values.narrow(-1, 0, n - 1)
    starts, ends = cat([edge, changes], -1), cat([changes, edge], -1)
    run = reduce.cumsum(starts, -1) - 1
    lengths = scatter_add(run.zeros_like(), -1, run, run.ones_like())
    longest = reduce.argmax(where(ends, gather(lengths, -1, run), 0), -1, keepdim=True)
    return _select(x, dim, keepdim, gather(order, -1, longest).movedim(-1, dim))


MODE = register(
    OpSpec(
        "mode",
        "reduce",
        ("x",),
        _along_dim_infer("mode"),
        decompose=_mode,
        outputs=2,
        doc="(values, indices) of the most frequent values along dim.",
    )
)


@public(MODE, methods=True)
def mode(x, dim=-1, keepdim=False) -> ValuesIndices:
    """`(values, indices)` of the most frequent value along `dim` (the smallest of those equally
    frequent, at its last occurrence, as PyTorch's CPU kernel); the gradient goes to the index."""
    return apply(MODE, (x,), {"dim": normalize_dim("mode", dim, x.ndim), "keepdim": keepdim})
