"""Reductions over `dim` (an int, a tuple, or None for all) with `keepdim`, and scans.

Kernels receive `dim` as a sorted tuple of non-negative ints (argmax/argmin: an int or
None) and `keepdim` as a bool.
"""

from __future__ import annotations

import builtins

from somegrad import dtypes
from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import normalize_dim, normalize_dims, reduced_shape
from somegrad.ops.spec import BOOL, FLOATING, INEXACT, REAL, OpSpec, public, register
from somegrad.tensor import Tensor, ValuesIndices


def _reduce_infer(name, out_dtype=None, nonempty=False):
    def infer(x, dim, keepdim):
        if nonempty:
            for d in dim:
                if x.shape[d] == 0:
                    raise IndexError(
                        f"{name}: expected reduction dim {d} to have non-zero size, but the input has shape "
                        f"{tuple(x.shape)} (there is no {name} of nothing)"
                    )
        return reduced_shape(x.shape, dim, keepdim), out_dtype or x.dtype

    return infer


def reduction(name, backward=None, *, out_dtype=None, nonempty=False, decompose=None, explicit=False, accepts=None):
    infer = _reduce_infer(name, out_dtype, nonempty)
    return register(OpSpec(name, "reduce", ("x",), infer, backward, decompose, explicit, accepts=accepts))


def _expand_back(g, input_shape, dim, keepdim):
    """The reduced gradient `g` broadcast back over the reduced dims of the input."""
    if not keepdim:
        g = g.reshape(reduced_shape(input_shape, dim, True))
    return g.expand(input_shape)


def _keep(t, dim, keepdim, input_shape):
    return t if keepdim else t.reshape(reduced_shape(input_shape, dim, True))


def _prod_of_others(x, dim):
    """For each element, the product of the other elements of its slice over `dim`:
    exact (no division) and differentiable, at O(n^2) in the slice length n."""
    from somegrad.ops.creation import eye

    kept = [d for d in range(x.ndim) if d not in dim]
    moved = x.permute(kept + list(dim))
    n = 1
    for d in dim:
        n *= x.shape[d]
    flat = moved.reshape(moved.shape[: len(kept)] + (n,))
    grid = flat.unsqueeze(-2).expand(flat.shape[:-1] + (n, n))
    others = prod(ew.where(eye(n, dtype=dtypes.bool_, device=x.device), 1.0, grid), -1)
    inverse = sorted(range(x.ndim), key=(kept + list(dim)).__getitem__)
    return others.reshape(moved.shape).permute(inverse)


def _prod_backward(g, x, out, dim, keepdim):
    g, out = _keep(g, dim, keepdim, x.shape), _keep(out, dim, keepdim, x.shape)
    if is_grad_enabled():
        # Recording the gradient's own graph (create_graph): the exact form, whose
        # derivative is right even with several zeros in a slice.
        return g * _conj(_prod_of_others(x, dim))
    # g * prod / x fails where x has zeros: there the gradient is the product of the other
    # elements when x holds the only zero of its slice, and 0 when the slice has several.
    is_zero = x == 0
    others = prod(ew.where(is_zero, 1.0, x), dim, keepdim=True)
    zeros_in_slice = sum(is_zero, dim, keepdim=True)
    safe_x = ew.where(is_zero, 1.0, x)
    return ew.where(is_zero, ew.where(zeros_in_slice == 1, g * _conj(others), 0.0), g * _conj(out / safe_x))


def _conj(x):
    # the gradient of a complex product is g times the conjugate of the derivative (PyTorch's convention)
    return x.conj() if x.dtype.is_complex else x


def _extremum_backward(g, x, out, dim, keepdim):
    # Ties share the gradient evenly (PyTorch's amax/amin rule).
    g, out = _keep(g, dim, keepdim, x.shape), _keep(out, dim, keepdim, x.shape)
    mask = x == out
    return g * mask / sum(mask, dim, keepdim=True)


SUM = reduction("sum", lambda g, input_shape, dim, keepdim: _expand_back(g, input_shape, dim, keepdim))
PROD = reduction("prod", _prod_backward)
AMAX = reduction("amax", _extremum_backward, nonempty=True, accepts=REAL)
AMIN = reduction("amin", _extremum_backward, nonempty=True, accepts=REAL)
ALL = reduction("all", out_dtype=dtypes.bool_, accepts=BOOL)
ANY = reduction("any", out_dtype=dtypes.bool_, accepts=BOOL)


def _arg_infer(name):
    def infer(x, dim, keepdim):
        # Along a dim of non-zero size the result of an empty input is empty, as in PyTorch.
        if x.numel() == 0 and (dim is None or x.shape[dim] == 0):
            where = "the whole input" if dim is None else f"dim {dim}"
            raise IndexError(
                f"{name}: expected a non-empty reduction over {where}, got shape {tuple(x.shape)} "
                "(there is no position of the extremum of nothing)"
            )
        if dim is None:
            shape = tuple(1 for _ in x.shape) if keepdim else ()
        else:
            shape = reduced_shape(x.shape, (dim,), keepdim)
        return shape, dtypes.int64

    return infer


ARGMAX = register(OpSpec("argmax", "reduce", ("x",), _arg_infer("argmax"), accepts=REAL))
ARGMIN = register(OpSpec("argmin", "reduce", ("x",), _arg_infer("argmin"), accepts=REAL))


def _scan_infer(x, dim):
    return x.shape, x.dtype


CUMSUM = register(OpSpec("cumsum", "reduce", ("x",), _scan_infer, lambda g, dim: g.flip(dim).cumsum(dim).flip(dim)))


# --- explicit composites over one dim -------------------------------------------------------
def _logsumexp(x, dim, keepdim):
    # Subtracting the max keeps exp() from overflowing; a -inf/inf max is replaced by 0 so
    # rows of all -inf give -inf rather than NaN.
    if builtins.any(x.shape[d] == 0 for d in dim):  # the log of an empty sum
        from somegrad.ops.creation import full

        return full(reduced_shape(x.shape, dim, keepdim), float("-inf"), dtype=x.dtype, device=x.device)
    m = amax(x, dim, keepdim=True)
    m = ew.where(m.isfinite(), m, 0.0)
    out = sum((x - m).exp(), dim, keepdim=True).log() + m
    return out if keepdim else out.reshape(reduced_shape(x.shape, dim, False))


def _logsumexp_backward(g, x, out, dim, keepdim):
    g, out = _keep(g, dim, keepdim, x.shape), _keep(out, dim, keepdim, x.shape)
    return g * (x - out).exp()


LOGSUMEXP = register(
    OpSpec(
        "logsumexp",
        "reduce",
        ("x",),
        _reduce_infer("logsumexp"),
        _logsumexp_backward,
        _logsumexp,
        explicit=True,
        accepts=FLOATING,
    )
)


def _softmax_infer(x, dim):
    return x.shape, x.dtype


def _softmax(x, dim):
    e = (x - amax(x, (dim,), keepdim=True)).exp()
    return e / sum(e, (dim,), keepdim=True)


def _log_softmax(x, dim):
    shifted = x - amax(x, (dim,), keepdim=True)
    return shifted - sum(shifted.exp(), (dim,), keepdim=True).log()


SOFTMAX = register(
    OpSpec(
        "softmax",
        "reduce",
        ("x",),
        _softmax_infer,
        lambda g, out, dim: out * (g - (g * out).sum((dim,), keepdim=True)),
        _softmax,
        explicit=True,
        accepts=FLOATING,
    )
)
LOG_SOFTMAX = register(
    OpSpec(
        "log_softmax",
        "reduce",
        ("x",),
        _softmax_infer,
        lambda g, out, dim: g - out.exp() * g.sum((dim,), keepdim=True),
        _log_softmax,
        explicit=True,
        accepts=FLOATING,
    )
)


# --- the public functions -------------------------------------------------------------------
def _all_if_empty(dim):
    # PyTorch reduces over every dimension when given an empty dim list.
    return None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim


def _sum_dtype(x):
    return x.dtype if x.dtype.is_floating_point else dtypes.int64


@public(SUM, methods=True)
def sum(x, dim=None, keepdim=False, *, dtype=None):
    """Sum over `dim` (int, tuple, or None for all). Integers and bools sum in int64."""
    dims = normalize_dims("sum", _all_if_empty(dim), x.ndim)
    x = ew.cast(x, dtype or _sum_dtype(x))
    return apply(SUM, (x,), {"dim": dims, "keepdim": keepdim})


@public(PROD, methods=True)
def prod(x, dim=None, keepdim=False, *, dtype=None):
    """Product over `dim` (int, tuple, or None for all). Integers and bools multiply in int64.

    The gradient is exact where `x` has zeros (no division by `x`)."""
    dims = normalize_dims("prod", _all_if_empty(dim), x.ndim)  # dim=() is every dim, as for sum
    x = ew.cast(x, dtype or _sum_dtype(x))
    return apply(PROD, (x,), {"dim": dims, "keepdim": keepdim})


_LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)


def _float_only(op, x):
    if not x.dtype.is_floating_point:
        raise DTypeError(
            f"{op}: could not infer output dtype: the input has dtype {x.dtype.name}, but {op} needs a "
            f"floating point input; convert it with .float()"
        )


def _count(x, dims):
    count = 1
    for d in dims:
        count *= x.shape[d]
    return count


def _mean(x, dim, keepdim):
    if x.dtype in _LOW_PRECISION:
        # Sum in float32 and divide before rounding back, as PyTorch does: the sum of many
        # float16 values overflows long before their mean does.
        return ew.cast(_mean(ew.cast(x, dtypes.float32), dim, keepdim), x.dtype)
    # An empty mean is 0 / 0 = NaN, as in PyTorch.
    return apply(SUM, (x,), {"dim": dim, "keepdim": keepdim}) / float(_count(x, dim))


def _var(x, dim, correction, keepdim):
    if x.dtype in _LOW_PRECISION:  # in float32, as mean
        return ew.cast(_var(ew.cast(x, dtypes.float32), dim, correction, keepdim), x.dtype)
    centered = x - _mean(x, dim, True)
    # Divide by N - correction; N - correction <= 0 gives inf or NaN, as in PyTorch.
    divisor = float(builtins.max(_count(x, dim) - correction, 0))
    return apply(SUM, (centered * centered,), {"dim": dim, "keepdim": keepdim}) / divisor


def _std(x, dim, correction, keepdim):
    low_precision = x.dtype in _LOW_PRECISION
    v = _var(ew.cast(x, dtypes.float32) if low_precision else x, dim, correction, keepdim)
    # sqrt's derivative is infinite at 0, and times var's zero gradient it would make NaN
    # for a constant input; PyTorch's std has gradient 0 there. Where the variance is 0, take
    # the root of 1 instead (so no inf arises) and return 0.
    zero = v == 0
    out = ew.where(zero, 0.0, ew.where(zero, 1.0, v).sqrt())
    return ew.cast(out, x.dtype) if low_precision else out


def _moment_infer(x, dim, keepdim, correction=None):
    return reduced_shape(x.shape, dim, keepdim), x.dtype


# Implicit composites: autograd goes through sum, sub, mul and sqrt.
MEAN = register(OpSpec("mean", "reduce", ("x",), _moment_infer, decompose=_mean, accepts=INEXACT))
VAR = register(OpSpec("var", "reduce", ("x",), _moment_infer, decompose=_var, accepts=FLOATING))
STD = register(OpSpec("std", "reduce", ("x",), _moment_infer, decompose=_std, accepts=FLOATING))


@public(MEAN, methods=True)
def mean(x, dim=None, keepdim=False, *, dtype=None):
    """Mean over `dim`; floating point inputs only (as in PyTorch), or pass `dtype`."""
    if dtype is not None:
        x = ew.cast(x, dtype)
    _float_only("mean", x)
    dims = normalize_dims("mean", _all_if_empty(dim), x.ndim)
    return apply(MEAN, (x,), {"dim": dims, "keepdim": keepdim})


def _correction(correction, unbiased):
    return correction if unbiased is None else (1 if unbiased else 0)


@public(VAR, methods=True)
def var(x, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Variance over `dim` with Bessel's `correction` (1: unbiased, 0: population)."""
    _float_only("var", x)
    dims = normalize_dims("var", _all_if_empty(dim), x.ndim)
    return apply(VAR, (x,), {"dim": dims, "correction": _correction(correction, unbiased), "keepdim": keepdim})


@public(STD, methods=True)
def std(x, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """The square root of `var` (same arguments); float16 inputs are reduced in float32."""
    _float_only("std", x)
    dims = normalize_dims("std", _all_if_empty(dim), x.ndim)
    return apply(STD, (x,), {"dim": dims, "correction": _correction(correction, unbiased), "keepdim": keepdim})


@public(AMAX, methods=True)
def amax(x, dim=None, keepdim=False):
    """Maximum over `dim`; ties share the gradient evenly."""
    return apply(AMAX, (x,), {"dim": normalize_dims("amax", _all_if_empty(dim), x.ndim), "keepdim": keepdim})


@public(AMIN, methods=True)
def amin(x, dim=None, keepdim=False):
    """Minimum over `dim` (int, tuple, or None for all); ties share the gradient evenly."""
    return apply(AMIN, (x,), {"dim": normalize_dims("amin", _all_if_empty(dim), x.ndim), "keepdim": keepdim})


def _arg_dim(name, x, dim):
    if dim is None:
        return None
    dim = normalize_dim(name, dim, x.ndim)
    return dim if x.ndim else None  # a 0-d tensor's dim 0 is the whole (one-element) tensor


@public(ARGMAX, methods=True)
def argmax(x, dim=None, keepdim=False):
    """Index of the first maximum along `dim` (of the flattened input when `dim` is None)."""
    return apply(ARGMAX, (x,), {"dim": _arg_dim("argmax", x, dim), "keepdim": keepdim})


@public(ARGMIN, methods=True)
def argmin(x, dim=None, keepdim=False):
    """Index of the first minimum along `dim` (of the flattened input when `dim` is None); int64."""
    return apply(ARGMIN, (x,), {"dim": _arg_dim("argmin", x, dim), "keepdim": keepdim})


def _values_and_indices_infer(name):
    def infer(x, dim, keepdim):
        if x.ndim and x.shape[dim] == 0:
            raise IndexError(
                f"{name}: expected reduction dim {dim} to have non-zero size, but the input has shape {tuple(x.shape)}"
            )
        if not x.ndim:
            shape = ()
        elif keepdim:
            shape = x.shape[:dim] + (1,) + x.shape[dim + 1 :]
        else:
            shape = x.shape[:dim] + x.shape[dim + 1 :]
        return (shape, x.dtype), (shape, dtypes.int64)

    return infer


def _values_and_indices(arg):
    def decompose(x, dim, keepdim):
        from somegrad.ops.creation import zeros
        from somegrad.ops.indexing import gather

        if x.ndim == 0:
            return ValuesIndices(x.clone(), zeros((), dtype=dtypes.int64, device=x.device))
        indices = arg(x, dim, keepdim=True)
        values = gather(x, dim, indices)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return ValuesIndices(values, indices)

    return decompose


# (values, indices) along a dim: implicit composites with two outputs (the gradient reaches the
# positions of the indices through the gather).
MAX = register(
    OpSpec(
        "max",
        "reduce",
        ("x",),
        _values_and_indices_infer("max"),
        decompose=_values_and_indices(argmax),
        outputs=2,
        doc="(values, indices) of the maxima along dim.",
    )
)
MIN = register(
    OpSpec(
        "min",
        "reduce",
        ("x",),
        _values_and_indices_infer("min"),
        decompose=_values_and_indices(argmin),
        outputs=2,
        doc="(values, indices) of the minima along dim.",
    )
)


def _extremum(spec, whole, x, dim, keepdim):
    if dim is None:
        if x.numel() == 0:
            raise IndexOutOfRangeError(
                f"{spec.name}: expected reduction dim to be specified for an empty input of shape {tuple(x.shape)}; "
                "pass dim="
            )
        return whole(x)
    return apply(spec, (x,), {"dim": normalize_dim(spec.name, dim, x.ndim), "keepdim": keepdim})


@public(MAX, methods=True)
def max(x, dim=None, keepdim=False) -> Tensor | ValuesIndices:
    """The maximum of all elements, or `(values, indices)` along `dim` (the gradient goes
    to the position of the index, as in PyTorch). With a Tensor as `dim`: `maximum`."""
    if isinstance(dim, Tensor):
        return ew.maximum(x, dim)
    return _extremum(MAX, amax, x, dim, keepdim)


@public(MIN, methods=True)
def min(x, dim=None, keepdim=False) -> Tensor | ValuesIndices:
    """The minimum of all elements, or `(values, indices)` along `dim` (the gradient goes
    to the position of the index, as in PyTorch). With a Tensor as `dim`: `minimum`.

    `values, indices = sg.min(x, dim=1)` turns x: (N, C) into two (N,) tensors."""
    if isinstance(dim, Tensor):
        return ew.minimum(x, dim)
    return _extremum(MIN, amin, x, dim, keepdim)


def _logical_reduction(spec, x, dim, keepdim):
    out = apply(spec, (ew.cast(x, dtypes.bool_),), {"dim": normalize_dims(spec.name, dim, x.ndim), "keepdim": keepdim})
    # uint8 inputs give uint8 results (0 or 1), as in PyTorch; every other dtype gives bool.
    return ew.cast(out, dtypes.uint8) if x.dtype is dtypes.uint8 else out


@public(ALL, methods=True)
def all(x, dim=None, keepdim=False):
    """True where every element over `dim` (int, tuple, or None for all) is nonzero; a bool
    tensor (uint8 for a uint8 input, as in PyTorch)."""
    return _logical_reduction(ALL, x, dim, keepdim)


@public(ANY, methods=True)
def any(x, dim=None, keepdim=False):
    """True where some element over `dim` (int, tuple, or None for all) is nonzero; a bool
    tensor (uint8 for a uint8 input, as in PyTorch)."""
    return _logical_reduction(ANY, x, dim, keepdim)


@public(CUMSUM, methods=True)
def cumsum(x, dim, *, dtype=None):
    """Cumulative sum along `dim`, the same shape as `x`. Integers and bools sum in int64, as in PyTorch."""
    x = ew.cast(x, dtype or _sum_dtype(x))
    dim = normalize_dim("cumsum", dim, x.ndim)
    if x.ndim == 0:  # kernels scan arrays of at least one dimension (NumPy's gives shape (1,))
        return apply(CUMSUM, (x.reshape(1),), {"dim": 0}).reshape(())
    return apply(CUMSUM, (x,), {"dim": dim})


@public(LOGSUMEXP, methods=True)
def logsumexp(x, dim, keepdim=False):
    """`log(sum(exp(x), dim))`, computed stably. `dim=()` reduces every dimension with
    `keepdim=True` and is refused without it, as in PyTorch."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        # PyTorch reduces every dim for dim=() with keepdim (as sum does), and raises without it.
        if not keepdim:
            raise ArgumentError(
                f"logsumexp: dim=() without keepdim=True is refused (as in PyTorch) for an input of shape "
                f"{tuple(x.shape)}; name the dims to reduce"
            )
        dim = None
    x = ew._floating(x)
    return apply(LOGSUMEXP, (x,), {"dim": normalize_dims("logsumexp", dim, x.ndim), "keepdim": keepdim})


def _softmax_input(op, x, dim, dtype):
    """The input softmax computes on, and its dim. As in PyTorch, integer and bool inputs
    need `dtype=`: they raise, except an empty one, which comes back as it is."""
    dim = normalize_dim(op, dim, x.ndim)
    if dtype is not None:
        return ew.cast(x, dtype), dim
    if not x.dtype.is_floating_point and x.numel():
        raise UnsupportedDTypeError(
            f"{op}: not implemented for {x.dtype.name} inputs; pass dtype=somegrad.float32 or convert with .float()"
        )
    return x, dim


@public(SOFTMAX, methods=True)
def softmax(x, dim, dtype=None):
    """`exp(x) / sum(exp(x), dim)`, computed stably. x: (..., C, ...), the same shape out.

    Integer inputs need `dtype` (as in PyTorch)."""
    x, dim = _softmax_input("softmax", x, dim, dtype)
    return apply(SOFTMAX, (x,), {"dim": dim}) if x.dtype.is_floating_point else x.clone()


@public(LOG_SOFTMAX, methods=True)
def log_softmax(x, dim, dtype=None):
    """`x - logsumexp(x, dim)`, computed stably. Integer inputs need `dtype` (as in PyTorch)."""
    x, dim = _softmax_input("log_softmax", x, dim, dtype)
    return apply(LOG_SOFTMAX, (x,), {"dim": dim}) if x.dtype.is_floating_point else x.clone()
