"""Solving through a factorization: `cholesky_solve`, `cholesky_inverse` and
`linalg.cholesky_ex` (the factor and an error code per matrix, instead of an exception), and
the tensor forms `linalg.tensorinv` and `tensorsolve`. Implicit composites over inv, solve,
solve_triangular and cholesky."""

from __future__ import annotations

from typing import NamedTuple

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops.decompositions import cholesky, inv, solve, solve_triangular
from somegrad.ops.decompositions_common import LINALG_FLOATS, check_input, check_matrix
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


class CholeskyExResult(NamedTuple):
    L: Tensor
    info: Tensor


# --- cholesky_solve, cholesky_inverse -----------------------------------
def _cholesky_solve_infer(B, L, upper):
    check_matrix("cholesky_solve", B, name="B")
    check_matrix("cholesky_solve", L, square=True, name="L")
    if B.shape[-2] != L.shape[-1]:
        raise ShapeError(
            f"cholesky_solve: incompatible shapes of B {tuple(B.shape)} and L {tuple(L.shape)} "
            f"(B needs {L.shape[-1]} rows)"
        )
    batch = broadcast_shapes("cholesky_solve", tuple(B.shape[:-2]), tuple(L.shape[:-2]))
    return batch + tuple(B.shape[-2:]), B.dtype


def _cholesky_solve(B, L, upper):
    # A = L L^T (U^T U when upper): two triangular solves
    lower = L.mT if upper else L
    Y = solve_triangular(lower, B, upper=False)
    return solve_triangular(lower.mT, Y, upper=True)


CHOLESKY_SOLVE = register(
    OpSpec(
        "cholesky_solve",
        "composite",
        ("B", "L"),
        _cholesky_solve_infer,
        decompose=_cholesky_solve,
        accepts=LINALG_FLOATS,
        doc="X with A X = B, given the Cholesky factor L of A.",
    )
)


@public(CHOLESKY_SOLVE, methods=True)
def cholesky_solve(B, L, upper=False):
    """X with `A @ X = B`, given A's Cholesky factor L (A = L L^T; `upper=True`: A = U^T U):
    B (..., n, k), L (..., n, n), batch dims broadcasting. PyTorch's `torch.cholesky_solve`
    and `B.cholesky_solve(L)`."""
    check_input("cholesky_solve", L, square=True, name="L")
    check_input("cholesky_solve", B, name="B")
    return apply(CHOLESKY_SOLVE, (B, L), {"upper": bool(upper)})


def _cholesky_inverse_infer(L, upper):
    check_matrix("cholesky_inverse", L, square=True, name="L")
    return L.shape, L.dtype


def _cholesky_inverse(L, upper):
    inverse = inv(L)  # A^-1 = L^-T L^-1 (U^-1 U^-T when upper)
    return inverse @ inverse.mT if upper else inverse.mT @ inverse


CHOLESKY_INVERSE = register(
    OpSpec(
        "cholesky_inverse",
        "composite",
        ("L",),
        _cholesky_inverse_infer,
        decompose=_cholesky_inverse,
        accepts=LINALG_FLOATS,
        doc="The inverse of A given its Cholesky factor L.",
    )
)


@public(CHOLESKY_INVERSE, methods=True)
def cholesky_inverse(L, upper=False):
    """The inverse of A = L L^T (U^T U with `upper=True`) from its Cholesky factor:
    L (..., n, n) -> (..., n, n). PyTorch's `torch.cholesky_inverse` and `L.cholesky_inverse()`."""
    check_input("cholesky_inverse", L, square=True, name="L")
    return apply(CHOLESKY_INVERSE, (L,), {"upper": bool(upper)})


# --- tensorinv, tensorsolve ---------------------------------------------------------------------
def _prod(shape):
    out = 1
    for s in shape:
        out *= s
    return out


def _tensorinv_infer(A, ind):
    if ind <= 0:
        raise ArgumentError(f"linalg.tensorinv: expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = _prod(A.shape[:ind]), _prod(A.shape[ind:])
    if rows != cols:
        raise ShapeError(
            f"linalg.tensorinv: expected prod(A.shape[:ind]) == prod(A.shape[ind:]), got {rows} and {cols} "
            f"for shape {tuple(A.shape)} and ind={ind}"
        )
    return tuple(A.shape[ind:]) + tuple(A.shape[:ind]), A.dtype


def _tensorinv(A, ind):
    n = _prod(A.shape[:ind])
    return inv(A.reshape(n, n)).reshape(*A.shape[ind:], *A.shape[:ind])


LINALG_TENSORINV = register(
    OpSpec(
        "linalg_tensorinv",
        "composite",
        ("A",),
        _tensorinv_infer,
        decompose=_tensorinv,
        accepts=LINALG_FLOATS,
        doc="The inverse of A as a linear map from its last dims (from ind on) to its first ones.",
    )
)


@public(LINALG_TENSORINV, export=False)
def tensorinv(A, ind=2):
    """The tensor X with `tensordot(X, A, ind)` the identity: A as a matrix of
    prod(A.shape[:ind]) rows, inverted, shaped A.shape[ind:] + A.shape[:ind]."""
    check_input("linalg.tensorinv", A.reshape(1, -1) if A.ndim < 2 else A)
    return apply(LINALG_TENSORINV, (A,), {"ind": int(ind)})


def _dims_last(A, dims):
    dims = [d % A.ndim for d in dims]
    return A.permute([d for d in range(A.ndim) if d not in dims] + dims)


def _tensorsolve_infer(A, B, dims):
    if dims is not None:
        A = _dims_last(A, dims)
    if tuple(A.shape[: B.ndim]) != tuple(B.shape):
        raise ShapeError(f"linalg.tensorsolve: A's first dims {tuple(A.shape)} must be B's shape {tuple(B.shape)}")
    rows, cols = _prod(B.shape), _prod(A.shape[B.ndim :])
    if rows != cols:
        raise ShapeError(
            f"linalg.tensorsolve: expected a square system, got {rows} equations in {cols} unknowns "
            f"(A {tuple(A.shape)}, B {tuple(B.shape)})"
        )
    return tuple(A.shape[B.ndim :]), A.dtype


def _tensorsolve(A, B, dims):
    if dims is not None:
        A = _dims_last(A, dims)
    n = _prod(B.shape)
    X = solve(A.reshape(n, n), B.reshape(n))
    return X.reshape(*A.shape[B.ndim :])


LINALG_TENSORSOLVE = register(
    OpSpec(
        "linalg_tensorsolve",
        "composite",
        ("A", "B"),
        _tensorsolve_infer,
        decompose=_tensorsolve,
        accepts=LINALG_FLOATS,
        doc="X with tensordot(A, X, X.ndim) = B.",
    )
)


@public(LINALG_TENSORSOLVE, export=False)
def tensorsolve(A, B, dims=None):
    """X with `tensordot(A, X, X.ndim) == B`: A's first dims are B's shape, its others X's
    (`dims`: dims of A moved to the end first)."""
    check_input("linalg.tensorsolve", A.reshape(1, -1) if A.ndim < 2 else A)
    if isinstance(dims, int):
        dims = (dims,)
    return apply(LINALG_TENSORSOLVE, (A, B), {"dims": None if dims is None else tuple(dims)})


# --- cholesky_ex ---------------------------------------------------------------------------------
def _cholesky_ex_infer(A, upper, check_errors):
    check_matrix("linalg.cholesky_ex", A, square=True)
    return (A.shape, A.dtype), (A.shape[:-2], dtypes.int32)


def _first_failing_minor(A):
    """The order of the first leading minor of A (n, n; lower triangle read) that is not
    positive-definite, as LAPACK's info reports it."""
    from somegrad.linalg import LinAlgError

    for k in range(1, A.shape[-1] + 1):
        try:
            cholesky(A[:k, :k])
        except LinAlgError:
            return k
    return 0


def _cholesky_ex(A, upper, check_errors):
    from somegrad.linalg import LinAlgError
    from somegrad.ops.movement import stack

    batch, n = tuple(A.shape[:-2]), A.shape[-1]
    try:
        return CholeskyExResult(cholesky(A, upper=upper), A.new_zeros(batch, dtype=dtypes.int32))
    except LinAlgError:
        if check_errors:
            raise
    # Some matrix failed: factor them one by one (only on this path), NaN for the failed ones.
    read = A.mT if upper else A  # the triangle the factorization reads, as a lower one
    flat, factors, infos = read.reshape(-1, n, n), [], []
    for i in range(flat.shape[0]):
        info = _first_failing_minor(flat[i].detach())
        infos.append(info)
        factors.append(cholesky(flat[i]) if info == 0 else flat[i].detach().new_full((n, n), float("nan")))
    L = stack(factors).reshape(*batch, n, n)
    info = A.new_tensor(infos, dtype=dtypes.int32).reshape(batch)
    return CholeskyExResult(L.mT if upper else L, info)


LINALG_CHOLESKY_EX = register(
    OpSpec(
        "linalg_cholesky_ex",
        "composite",
        ("A",),
        _cholesky_ex_infer,
        decompose=_cholesky_ex,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(L, info): the Cholesky factor and, per matrix, 0 or the order of the first non-PD leading minor.",
    )
)


@public(LINALG_CHOLESKY_EX, export=False)
def cholesky_ex(A, *, upper=False, check_errors=False) -> CholeskyExResult:
    """`(L, info)`: `cholesky(A)` and an int32 per matrix (...), 0 where it succeeded, else
    the order of the first leading minor that is not positive-definite; no error is raised
    unless `check_errors`. Where a matrix fails its L is NaN (PyTorch leaves a partial factor)."""
    check_input("linalg.cholesky_ex", A, square=True)
    return apply(LINALG_CHOLESKY_EX, (A,), {"upper": bool(upper), "check_errors": bool(check_errors)})
