"""The LU decomposition with partial pivoting: `linalg.lu_factor`, `linalg.lu`, `linalg.lu_solve`
and `lu_unpack`, and the `_ex` forms that report singular matrices in an `info` per matrix
instead of raising (`lu_factor_ex`, `inv_ex`, `solve_ex`).

The Array API has no LU, so `lu_factor` is a composite: Gaussian elimination column by column
(a Python loop over the min(m, n) columns, each step vectorised over the batch), choosing as
pivot the row of largest |value| (the first of ties), as LAPACK's getrf does, so the pivots and
factors are PyTorch's. Its result is LAPACK's packed form: L's multipliers below the diagonal
(unit diagonal implied), U on and above it, and the 1-based row swapped with row j at step j.
Autograd goes through the elimination (the pivot choice is an index, the arithmetic is
differentiable), which gives the gradient PyTorch's formula gives.
"""

from __future__ import annotations

from typing import NamedTuple

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops.comparison import where
from somegrad.ops.creation import arange
from somegrad.ops.decompositions import solve_triangular
from somegrad.ops.decompositions_common import LINALG_FLOATS, check_input, check_matrix, identity
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import gather
from somegrad.ops.movement import cat
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


class LUFactorResult(NamedTuple):
    LU: Tensor
    pivots: Tensor


class LUResult(NamedTuple):
    P: Tensor
    L: Tensor
    U: Tensor


def _swap_index(m, j, p, like):
    """Per batch element, the row order that swaps rows j and p (..., ) of m rows: (..., m)."""
    rows = arange(m, device=like.device)
    p = p.unsqueeze(-1)
    return where(rows == j, p, where(rows == p, j, rows))


def _apply_swaps(rows, pivots, m):
    """The row order (..., m) that LAPACK's pivots (..., k), 1-based, produce from `rows`."""
    order = rows
    for j in range(pivots.shape[-1]):
        index = _swap_index(m, j, pivots[..., j] - 1, pivots)
        order = gather(order, -1, index)
    return order


# --- lu_factor -----------------------------------------------------------------------------------
def _lu_factor_infer(A, pivot):
    check_matrix("linalg.lu_factor", A)
    if not pivot:
        raise ArgumentError("linalg.lu_factor: LU without pivoting is not implemented on CPU (as in PyTorch)")
    return (A.shape, A.dtype), (A.shape[:-2] + (min(A.shape[-2:]),), dtypes.int32)


def _lu_factor(A, pivot):
    m, n = A.shape[-2:]
    W, pivots = A, []
    column = arange(n, device=A.device)
    for j in range(min(m, n)):
        p = W[..., j:, j].abs().argmax(-1) + j  # LAPACK's idamax: the first largest
        pivots.append(p)
        index = _swap_index(m, j, p, A).unsqueeze(-1).expand(*W.shape)
        W = gather(W, -2, index)
        if j == m - 1:
            break
        head = W[..., j, j].unsqueeze(-1)
        # a zero pivot leaves its column as it is (LAPACK reports it in info and goes on)
        factors = where(head == 0, 0.0, W[..., j + 1 :, j] / where(head == 0, 1.0, head)).unsqueeze(-1)
        # eliminate below the pivot (U's columns only: those before j hold L's multipliers),
        # and keep the multipliers in the column they zeroed
        pivot_row = W[..., j : j + 1, :] * (column >= j)
        below = W[..., j + 1 :, :] - factors * pivot_row + factors * (column == j)
        W = cat([W[..., : j + 1, :], below], -2)
    from somegrad.ops.movement import stack

    if pivots:
        pivot_rows = (stack(pivots, -1) + 1).to(dtypes.int32)
    else:
        pivot_rows = A.new_zeros(*A.shape[:-2], 0, dtype=dtypes.int32)
    return LUFactorResult(W, pivot_rows)


LINALG_LU_FACTOR = register(
    OpSpec(
        "linalg_lu_factor",
        "composite",
        ("A",),
        _lu_factor_infer,
        decompose=_lu_factor,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(LU, pivots): the LU decomposition with partial pivoting in LAPACK's packed form.",
    )
)


@public(LINALG_LU_FACTOR, export=False)
def lu_factor(A, *, pivot=True) -> LUFactorResult:
    """`(LU, pivots)` of A (..., m, n): LU (..., m, n) holds L's multipliers below the
    diagonal (its unit diagonal implied) and U on and above it; pivots (..., min(m, n)), int32,
    1-based: row j was swapped with row pivots[j] at step j. Feed them to `lu_solve` or
    `lu_unpack`."""
    check_input("linalg.lu_factor", A)
    return apply(LINALG_LU_FACTOR, (A,), {"pivot": bool(pivot)})


# --- lu_unpack, lu -------------------------------------------------------------------------------
def _lu_unpack_infer(LU, pivots):
    check_matrix("lu_unpack", LU, name="LU")
    m, n = LU.shape[-2:]
    k = min(m, n)
    if tuple(pivots.shape) != tuple(LU.shape[:-2]) + (k,):
        raise ShapeError(f"lu_unpack: pivots must have shape {tuple(LU.shape[:-2]) + (k,)}, got {tuple(pivots.shape)}")
    batch = LU.shape[:-2]
    return (batch + (m, m), LU.dtype), (batch + (m, k), LU.dtype), (batch + (k, n), LU.dtype)


def _lu_unpack(LU, pivots):
    m, n = LU.shape[-2:]
    k = min(m, n)
    rows = arange(m, device=LU.device).expand(*pivots.shape[:-1], m)
    order = _apply_swaps(rows, pivots.to(dtypes.int64), m)  # row i of L U is row order[i] of A
    # P with A = P L U: P[order[i], i] = 1
    P = (order.unsqueeze(-1) == arange(m, device=LU.device)).to(LU.dtype).mT
    L = LU[..., :, :k].tril(-1) + identity(max(m, k), LU)[:m, :k]
    U = LU[..., :k, :].triu()
    return LUResult(P, L, U)


LU_UNPACK = register(
    OpSpec(
        "lu_unpack",
        "composite",
        ("LU", "pivots"),
        _lu_unpack_infer,
        decompose=_lu_unpack,
        outputs=3,
        accepts={"LU": LINALG_FLOATS, "pivots": frozenset((dtypes.int32, dtypes.int64))},
        doc="(P, L, U) from lu_factor's packed form.",
    )
)


@public(LU_UNPACK)
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True) -> LUResult:
    """`(P, L, U)` with A = P L U from `lu_factor`'s `(LU, pivots)`: P (..., m, m), L
    (..., m, k) unit lower triangular, U (..., k, n). PyTorch's `torch.lu_unpack`."""
    return apply(LU_UNPACK, (LU_data, LU_pivots), {})


def _lu_infer(A, pivot):
    (shape, dtype), _ = _lu_factor_infer(A, pivot)
    m, n = A.shape[-2:]
    k, batch = min(m, n), A.shape[:-2]
    return (batch + (m, m), dtype), (batch + (m, k), dtype), (batch + (k, n), dtype)


LINALG_LU = register(
    OpSpec(
        "linalg_lu",
        "composite",
        ("A",),
        _lu_infer,
        decompose=lambda A, pivot: lu_unpack(*lu_factor(A, pivot=pivot)),
        outputs=3,
        accepts=LINALG_FLOATS,
        doc="(P, L, U) with A = P L U.",
    )
)


@public(LINALG_LU, export=False)
def lu(A, *, pivot=True) -> LUResult:
    """`(P, L, U)` with A = P L U: A (..., m, n) -> P (..., m, m) a permutation, L
    (..., m, k) unit lower triangular, U (..., k, n) upper triangular, k = min(m, n)."""
    check_input("linalg.lu", A)
    return apply(LINALG_LU, (A,), {"pivot": bool(pivot)})


# --- lu_solve ------------------------------------------------------------------------------------
def _lu_solve_infer(LU, pivots, B, left, adjoint):
    check_matrix("linalg.lu_solve", LU, square=True, name="LU")
    check_matrix("linalg.lu_solve", B, name="B")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise ShapeError(
            f"linalg.lu_solve: incompatible shapes of LU {tuple(LU.shape)} and B {tuple(B.shape)} "
            f"for the equation {'AX' if left else 'XA'} = B"
        )
    batch = broadcast_shapes("linalg.lu_solve", tuple(LU.shape[:-2]), tuple(B.shape[:-2]))
    return batch + tuple(B.shape[-2:]), LU.dtype


def _lu_solve(LU, pivots, B, left, adjoint):
    if not left:  # X A = B: A^T X^T = B^T
        return _lu_solve(LU, pivots, B.mT, True, not adjoint).mT
    n = LU.shape[-1]
    rows = arange(n, device=LU.device).expand(*pivots.shape[:-1], n)
    order = _apply_swaps(rows, pivots.to(dtypes.int64), n)
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B, P^T B = the rows of B in `order`
        index = order.unsqueeze(-1).expand(*order.shape, B.shape[-1])
        permuted = gather(B.expand(*index.shape[:-2], *B.shape[-2:]), -2, index)
        Y = solve_triangular(LU, permuted, upper=False, unitriangular=True)
        return solve_triangular(LU, Y, upper=True)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B
    Y = solve_triangular(LU.mT, B, upper=False)
    Z = solve_triangular(LU.mT, Y, upper=True, unitriangular=True)
    inverse = arange(n, device=LU.device).expand(*order.shape)
    inverse = gather(inverse, -1, order.argsort(-1))  # where each row went
    index = inverse.unsqueeze(-1).expand(*inverse.shape, Z.shape[-1])
    return gather(Z, -2, index)


LINALG_LU_SOLVE = register(
    OpSpec(
        "linalg_lu_solve",
        "composite",
        ("LU", "pivots", "B"),
        _lu_solve_infer,
        decompose=_lu_solve,
        accepts={"LU": LINALG_FLOATS, "pivots": frozenset((dtypes.int32, dtypes.int64)), "B": LINALG_FLOATS},
        doc="X with A X = B from A's lu_factor.",
    )
)


@public(LINALG_LU_SOLVE, export=False)
def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with `A @ X = B` from A's `lu_factor` (`left=False`: X A = B; `adjoint=True`: A^T in
    place of A): LU (..., n, n), pivots (..., n), B (..., n, k)."""
    check_input("linalg.lu_solve", LU, square=True, name="LU")
    return apply(LINALG_LU_SOLVE, (LU, pivots, B), {"left": bool(left), "adjoint": bool(adjoint)})


# --- the _ex forms: an error code per matrix instead of an exception -----------------------------
class LUFactorExResult(NamedTuple):
    LU: Tensor
    pivots: Tensor
    info: Tensor


class InvExResult(NamedTuple):
    inverse: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    result: Tensor
    info: Tensor


def _info(LU):
    """LAPACK's info of a packed LU (..., m, n): the 1-based index of the first zero on U's
    diagonal, 0 where there is none (int32, (...))."""
    k = min(LU.shape[-2:])
    zero = (LU[..., :k, :k] * identity(k, LU)).sum(-1) == 0
    first = zero.to(dtypes.int32).argmax(-1).to(dtypes.int32) + 1
    return where(zero.any(-1), first, 0).to(dtypes.int32)


def _raise_failed(op, info):
    from somegrad.linalg import LinAlgError

    failed = [i for i, v in enumerate(info.reshape(-1).tolist()) if v]
    if failed:
        raise LinAlgError(
            f"{op}: (batch element {failed[0]}) the diagonal element {info.reshape(-1)[failed[0]].item()} is zero, "
            "the input matrix is singular"
        )


def _lu_factor_ex_infer(A, pivot, check_errors):
    first, second = _lu_factor_infer(A, pivot)
    return first, second, (A.shape[:-2], dtypes.int32)


def _lu_factor_ex(A, pivot, check_errors):
    LU, pivots = lu_factor(A, pivot=pivot)
    info = _info(LU)
    if check_errors:
        _raise_failed("linalg.lu_factor_ex", info)
    return LUFactorExResult(LU, pivots, info)


LINALG_LU_FACTOR_EX = register(
    OpSpec(
        "linalg_lu_factor_ex",
        "composite",
        ("A",),
        _lu_factor_ex_infer,
        decompose=_lu_factor_ex,
        outputs=3,
        accepts=LINALG_FLOATS,
        doc="(LU, pivots, info): lu_factor and LAPACK's info per matrix.",
    )
)


@public(LINALG_LU_FACTOR_EX, export=False)
def lu_factor_ex(A, *, pivot=True, check_errors=False) -> LUFactorExResult:
    """`(LU, pivots, info)`: `lu_factor(A)` and an int32 per matrix (...), 0 or the 1-based
    index of the first zero pivot (a singular matrix); raises only with `check_errors`."""
    check_input("linalg.lu_factor_ex", A)
    return apply(LINALG_LU_FACTOR_EX, (A,), {"pivot": bool(pivot), "check_errors": bool(check_errors)})


def _guarded(op, A, compute, check_errors):
    """`compute(A)` and the info per matrix; where a matrix is singular its result is NaN."""
    from somegrad.linalg import LinAlgError

    try:
        return compute(A), A.new_zeros(*A.shape[:-2], dtype=dtypes.int32)
    except LinAlgError:
        pass
    info = _info(lu_factor(A.detach()).LU)
    if check_errors:
        _raise_failed(op, info)
    bad = (info > 0).unsqueeze(-1).unsqueeze(-1)
    out = compute(where(bad, identity(A.shape[-1], A), A))  # the singular ones replaced, NaN below
    bad = (info > 0).reshape(*info.shape, *([1] * (out.ndim - info.ndim)))
    return out.masked_fill(bad, float("nan")), info


def _inv_ex_infer(A, check_errors):
    check_matrix("linalg.inv_ex", A, square=True)
    return (A.shape, A.dtype), (A.shape[:-2], dtypes.int32)


def _inv_ex(A, check_errors):
    from somegrad.ops.decompositions import inv

    return InvExResult(*_guarded("linalg.inv_ex", A, inv, check_errors))


LINALG_INV_EX = register(
    OpSpec(
        "linalg_inv_ex",
        "composite",
        ("A",),
        _inv_ex_infer,
        decompose=_inv_ex,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(inverse, info): inv and LAPACK's info per matrix, no exception.",
    )
)


@public(LINALG_INV_EX, export=False)
def inv_ex(A, *, check_errors=False) -> InvExResult:
    """`(inverse, info)`: `inv(A)` and an int32 per matrix, 0 or the 1-based index of the
    first zero pivot of its LU; a singular matrix's inverse is NaN (PyTorch leaves whatever
    LAPACK left) and nothing is raised unless `check_errors`."""
    check_input("linalg.inv_ex", A, square=True)
    return apply(LINALG_INV_EX, (A,), {"check_errors": bool(check_errors)})


def _solve_ex_batch(A, B):
    from somegrad.ops.decompositions import _is_vector_rhs

    rhs_batch = B.shape[:-1] if _is_vector_rhs(A, B) else B.shape[:-2]
    return broadcast_shapes("linalg.solve_ex", tuple(A.shape[:-2]), tuple(rhs_batch))


def _solve_ex_infer(A, B, left, check_errors):
    check_matrix("linalg.solve_ex", A, square=True)
    batch = _solve_ex_batch(A, B)
    from somegrad.ops.decompositions import _is_vector_rhs

    tail = B.shape[-1:] if _is_vector_rhs(A, B) else B.shape[-2:]
    return (batch + tuple(tail), A.dtype), (batch, dtypes.int32)


def _solve_ex(A, B, left, check_errors):
    from somegrad.ops.decompositions import solve

    X, info = _guarded("linalg.solve_ex", A, lambda a: solve(a, B, left=left), check_errors)
    return SolveExResult(X, info.expand(*_solve_ex_batch(A, B)))


LINALG_SOLVE_EX = register(
    OpSpec(
        "linalg_solve_ex",
        "composite",
        ("A", "B"),
        _solve_ex_infer,
        decompose=_solve_ex,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(result, info): solve and LAPACK's info per matrix, no exception.",
    )
)


@public(LINALG_SOLVE_EX, export=False)
def solve_ex(A, B, *, left=True, check_errors=False) -> SolveExResult:
    """`(result, info)`: `solve(A, B, left=left)` and an int32 per matrix of the batch, 0 or
    the 1-based index of the first zero pivot of A's LU; NaN results where A is singular, and
    no exception unless `check_errors`."""
    check_input("linalg.solve_ex", A, square=True)
    return apply(LINALG_SOLVE_EX, (A, B), {"left": bool(left), "check_errors": bool(check_errors)})
