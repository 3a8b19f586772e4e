"""Products, distances and integrals over tensors: kron, cdist, dist, trapezoid (trapz) and
cumulative_trapezoid.

All are implicit composites over broadcasting, `linalg.vector_norm`, `sum` and `cumsum`, so their
gradients (to any order) come from autograd; the norm's derivative is 0 where a distance is 0, as
PyTorch's is.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, ShapeError
from somegrad.ops.decompositions_norms import vector_norm
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import _floating, cast, mul
from somegrad.ops.reduce import cumsum
from somegrad.ops.shapes import broadcast_shapes, normalize_dim
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = ["kron", "cdist", "dist", "trapezoid", "cumulative_trapezoid"]


# --- kron ------------------------------------------------------------------------------------------
def _kron_shapes(a, b):
    ndim = max(a.ndim, b.ndim)
    return (1,) * (ndim - a.ndim) + tuple(a.shape), (1,) * (ndim - b.ndim) + tuple(b.shape)


def _kron_infer(a, b):
    if a.dtype is not b.dtype:
        raise DTypeError(f"kron: expected both inputs to have the same dtype, got {a.dtype.name} and {b.dtype.name}")
    sa, sb = _kron_shapes(a, b)
    return tuple(m * n for m, n in zip(sa, sb)), a.dtype


def _kron(a, b):
    # a (a1, ..., an) and b (b1, ..., bn) as (a1, 1, a2, 1, ...) and (1, b1, 1, b2, ...): their
    # product, read row-major, is the Kronecker product of shape (a1 b1, ..., an bn)
    sa, sb = _kron_shapes(a, b)
    spread_a = a.reshape(tuple(d for m in sa for d in (m, 1)))
    spread_b = b.reshape(tuple(d for n in sb for d in (1, n)))
    return mul(spread_a, spread_b).reshape(tuple(m * n for m, n in zip(sa, sb)))


KRON = register(OpSpec("kron", "linalg", ("a", "b"), _kron_infer, decompose=_kron, accepts=NUMERIC))


@public(KRON, methods=True)
def kron(input, other):
    """The Kronecker product: (a1, ..., an) and (b1, ..., bn) give (a1 b1, ..., an bn); the shorter
    shape is padded with leading 1s. Promotes the dtypes."""
    dtype = dtypes.result_type(input, other)
    return apply(KRON, (cast(input, dtype), cast(other, dtype)), {})


# --- cdist, dist -------------------------------------------------------------------------------------
def _cdist_infer(x1, x2, p):
    for name, x in (("x1", x1), ("x2", x2)):
        if x.ndim < 2:
            raise ShapeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(
            f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    batch = broadcast_shapes("cdist", tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    return (*batch, x1.shape[-2], x2.shape[-2]), x1.dtype


def _cdist(x1, x2, p):
    # (..., P, 1, M) - (..., 1, R, M), normed over M
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), ord=p, dim=-1)


CDIST = register(OpSpec("cdist", "linalg", ("x1", "x2"), _cdist_infer, decompose=_cdist, accepts=FLOATING))


@public(CDIST)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R), batch dims broadcasting. `compute_mode` is accepted for PyTorch's signature;
    the distances are always computed directly (exact, no matrix-product shortcut)."""
    if p < 0:
        raise ArgumentError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in (
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
    ):
        raise ArgumentError(f"cdist: {compute_mode} is not a valid value for compute_mode")
    if x1.dtype is not x2.dtype:
        raise DTypeError(f"cdist: X1 and X2 must have the same dtype, got {x1.dtype.name} and {x2.dtype.name}")
    if not x1.dtype.is_floating_point:
        raise DTypeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype.name}")
    return apply(CDIST, (x1, x2), {"p": float(p)})


def _dist_infer(a, b, p):
    broadcast_shapes("dist", a.shape, b.shape)
    return (), a.dtype


DIST = register(
    OpSpec(
        "dist",
        "reduce",
        ("a", "b"),
        _dist_infer,
        decompose=lambda a, b, p: vector_norm(a - b, ord=p),
        accepts=FLOATING,
    )
)


@public(DIST, methods=True)
def dist(input, other, p=2):
    """The p-norm of `input - other` (broadcasting), a 0-d tensor."""
    if input.dtype is not other.dtype:
        raise DTypeError(
            f"dist: expected both inputs to have the same dtype, got {input.dtype.name} and {other.dtype.name}"
        )
    if not input.dtype.is_floating_point:
        raise DTypeError(f"dist: only supports floating-point dtypes, got {input.dtype.name}")
    return apply(DIST, (input, other), {"p": float(p)})


# --- trapezoid, cumulative_trapezoid ------------------------------------------------------------------
def _trapezoid_parts(op, y, x, dx, dim):
    """The interval widths and the averages of neighbouring y along `dim`, both with `dim` last."""
    dim = normalize_dim(op, dim, y.ndim)
    y = y.movedim(dim, -1)
    n = y.shape[-1]
    mean = (y[..., 1:] + y[..., : max(n - 1, 0)]) / 2
    if x is None:
        return mean, dx
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(
                f"{op}: There must be one `x` value for each sample point; x has {x.shape[0]} values and y has "
                f"{n} along dim {dim}"
            )
        widths = x[1:] - x[: max(n - 1, 0)]
    else:
        x = x.movedim(dim if x.ndim == y.ndim else normalize_dim(op, dim, x.ndim), -1)
        widths = x[..., 1:] - x[..., : max(x.shape[-1] - 1, 0)]
    return mean, widths


def _trapezoid_infer(y, x=None, dx=1.0, dim=-1):
    dim = normalize_dim("trapezoid", dim, y.ndim)
    shape = tuple(s for i, s in enumerate(y.shape) if i != dim)
    dtype = y.dtype if x is None else dtypes.promote_types(y.dtype, x.dtype)
    return shape, dtype


def _trapezoid(y, x=None, dx=1.0, dim=-1):
    mean, widths = _trapezoid_parts("trapezoid", y, x, dx, dim)
    return (mean * widths).sum(-1)


def _cumulative_infer(y, x=None, dx=1.0, dim=-1):
    dim = normalize_dim("cumulative_trapezoid", dim, y.ndim)
    shape = tuple(max(s - 1, 0) if i == dim else s for i, s in enumerate(y.shape))
    dtype = y.dtype if x is None else dtypes.promote_types(y.dtype, x.dtype)
    return shape, dtype


def _cumulative_trapezoid(y, x=None, dx=1.0, dim=-1):
    d = normalize_dim("cumulative_trapezoid", dim, y.ndim)
    mean, widths = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    return cumsum(mean * widths, -1).movedim(-1, d)


# x is an optional input: the specs take it as a parameter (a Tensor or None), and autograd goes
# through the ops the decomposition is made of
TRAPEZOID = register(OpSpec("trapezoid", "reduce", ("y",), _trapezoid_infer, decompose=_trapezoid))
CUMULATIVE_TRAPEZOID = register(
    OpSpec("cumulative_trapezoid", "scan", ("y",), _cumulative_infer, decompose=_cumulative_trapezoid)
)


def _trapezoid_args(op, y, x, dx):
    if x is not None and dx is not None:
        raise ArgumentError(f"{op}: received both x and dx; expected one or neither")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{op}: x must be a Tensor (give a constant spacing as dx=), got {type(x).__name__}")
    if y.dtype is dtypes.bool_:
        y = cast(y, dtypes.int64)
    if x is not None and x.dtype is dtypes.bool_:
        x = cast(x, dtypes.int64)
    if x is not None and y.dtype is not x.dtype:
        dtype = dtypes.promote_types(y.dtype, x.dtype)
        y, x = cast(y, dtype), cast(x, dtype)
    return y, x, 1.0 if dx is None else dx


@public(TRAPEZOID, aliases=("trapz",))
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along `dim`: sum((x[i+1] - x[i]) (y[i] + y[i+1]) / 2); `x` (1-D of
    y's length along dim, or y's shape) or the constant spacing `dx` (default 1). y (..., n, ...)
    -> y's shape without dim."""
    y, x, dx = _trapezoid_args("trapezoid", y, x, dx)
    if x is None and not y.dtype.is_floating_point and isinstance(dx, float):
        y = _floating(y)
    return apply(TRAPEZOID, (y,), {"x": x, "dx": dx, "dim": dim})


@public(CUMULATIVE_TRAPEZOID)
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal rule along `dim`: y (..., n, ...) -> (..., n - 1, ...)."""
    y, x, dx = _trapezoid_args("cumulative_trapezoid", y, x, dx)
    if x is None and not y.dtype.is_floating_point and isinstance(dx, float):
        y = _floating(y)
    return apply(CUMULATIVE_TRAPEZOID, (y,), {"x": x, "dx": dx, "dim": dim})
