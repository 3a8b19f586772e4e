"""PyTorch's older top-level forms of the factorizations, still common in code written for it:
`torch.svd(input, some, compute_uv)` (which returns V, not Vh), `torch.qr(input, some)`,
`torch.pinverse(input, rcond)`, `torch.lu`, `torch.lu_solve(b, LU, pivots)`,
`torch.triangular_solve(b, A, upper=True)` and `torch.chain_matmul`, with their Tensor methods.
Each is an implicit composite over its `linalg` counterpart."""

from __future__ import annotations

from typing import NamedTuple

from somegrad.ops.decompositions_common import LINALG_FLOATS, QRResult, check_input, check_matrix
from somegrad.ops.decompositions_factor import pinv
from somegrad.ops.decompositions_factor import qr as linalg_qr
from somegrad.ops.decompositions_factor import svd as linalg_svd
from somegrad.ops.dispatch import apply
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


class SVDResult(NamedTuple):
    """`torch.svd`'s result: V itself, where `linalg.svd` returns Vh."""

    U: Tensor
    S: Tensor
    V: Tensor


def _svd_infer(input, some, compute_uv):
    check_matrix("svd", input)
    m, n = input.shape[-2:]
    k = min(m, n)
    u, v = (k, k) if some and compute_uv else (m, n)
    batch = input.shape[:-2]
    return (batch + (m, u), input.dtype), (batch + (k,), input.dtype), (batch + (n, v), input.dtype)


def _svd(input, some, compute_uv):
    if not compute_uv:
        # only the singular values; U and V are zeros of the full shapes, as PyTorch returns
        from somegrad.ops.decompositions_factor import svdvals

        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return SVDResult(input.new_zeros(*batch, m, m), svdvals(input), input.new_zeros(*batch, n, n))
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return SVDResult(U, S, Vh.mT)


SVD = register(
    OpSpec(
        "svd",
        "composite",
        ("input",),
        _svd_infer,
        decompose=_svd,
        outputs=3,
        accepts=LINALG_FLOATS,
        doc="torch.svd: (U, S, V) with input = U diag(S) V^T.",
    )
)


@public(SVD, methods=True)
def svd(input, some=True, compute_uv=True) -> SVDResult:
    """PyTorch's `torch.svd` (and `Tensor.svd`): `(U, S, V)` with input = U diag(S) V^T, V
    itself (not its transpose, unlike `somegrad.linalg.svd`); reduced unless `some=False`;
    `compute_uv=False` returns zero U and V. Prefer `somegrad.linalg.svd`."""
    check_input("svd", input)
    return apply(SVD, (input,), {"some": bool(some), "compute_uv": bool(compute_uv)})


def _qr_infer(input, some):
    check_matrix("qr", input)
    m, n = input.shape[-2:]
    width = min(m, n) if some else m
    return (input.shape[:-2] + (m, width), input.dtype), (input.shape[:-2] + (width, n), input.dtype)


QR = register(
    OpSpec(
        "qr",
        "composite",
        ("input",),
        _qr_infer,
        decompose=lambda input, some: linalg_qr(input, "reduced" if some else "complete"),
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="torch.qr: (Q, R), reduced unless some=False.",
    )
)


@public(QR, methods=True)
def qr(input, some=True) -> QRResult:
    """PyTorch's `torch.qr` (and `Tensor.qr`): `linalg.qr(input, "reduced" if some else
    "complete")`."""
    check_input("qr", input)
    return apply(QR, (input,), {"some": bool(some)})


def _pinverse_infer(input, rcond):
    check_matrix("pinverse", input)
    return input.shape[:-2] + (input.shape[-1], input.shape[-2]), input.dtype


PINVERSE = register(
    OpSpec(
        "pinverse",
        "composite",
        ("input",),
        _pinverse_infer,
        decompose=lambda input, rcond: pinv(input, rtol=rcond),
        accepts=LINALG_FLOATS,
        doc="torch.pinverse: the pseudoinverse, singular values below rcond * the largest taken as zero.",
    )
)


@public(PINVERSE, methods=True)
def pinverse(input, rcond=1e-15):
    """PyTorch's `torch.pinverse` (and `Tensor.pinverse`): `linalg.pinv(input, rtol=rcond)`."""
    check_input("pinverse", input)
    return apply(PINVERSE, (input,), {"rcond": float(rcond)})


# --- lu, lu_solve, triangular_solve, chain_matmul ------------------------------------------------
class TriangularSolveResult(NamedTuple):
    solution: Tensor
    cloned_coefficient: Tensor


def _lu_infer(A, pivot, get_infos):
    from somegrad import dtypes

    check_matrix("lu", A)
    batch, k = A.shape[:-2], min(A.shape[-2:])
    metas = [(A.shape, A.dtype), (batch + (k,), dtypes.int32)]
    return (*metas, (batch, dtypes.int32)) if get_infos else tuple(metas)


def _lu(A, pivot, get_infos):
    from somegrad.ops.decompositions_lu import lu_factor_ex

    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


LU = register(
    OpSpec("lu", "composite", ("A",), _lu_infer, decompose=_lu, outputs=None, accepts=LINALG_FLOATS,
           doc="torch.lu: (LU, pivots[, infos]), linalg.lu_factor's packed form.")
)  # fmt: skip


@public(LU, methods=True)
def lu(A, pivot=True, get_infos=False) -> tuple:
    """PyTorch's `torch.lu` (and `Tensor.lu`): `(LU, pivots)` of `linalg.lu_factor`, with
    `infos` (0, or the first zero pivot) as a third result when `get_infos`."""
    check_input("lu", A)
    return apply(LU, (A,), {"pivot": bool(pivot), "get_infos": bool(get_infos)})


def _lu_solve_infer(b, LU_data, LU_pivots):
    from somegrad.ops.decompositions_lu import _lu_solve_infer as infer

    return infer(LU_data, LU_pivots, b, True, False)


def _lu_solve(b, LU_data, LU_pivots):
    from somegrad.ops.decompositions_lu import lu_solve as linalg_lu_solve

    return linalg_lu_solve(LU_data, LU_pivots, b)


LU_SOLVE = register(
    OpSpec(
        "lu_solve",
        "composite",
        ("b", "LU_data", "LU_pivots"),
        _lu_solve_infer,
        decompose=_lu_solve,
        accepts={"b": LINALG_FLOATS, "LU_data": LINALG_FLOATS},
        doc="torch.lu_solve: linalg.lu_solve(LU, pivots, b).",
    )
)


@public(LU_SOLVE, methods=True)
def lu_solve(b, LU_data, LU_pivots):
    """PyTorch's `torch.lu_solve(b, LU_data, LU_pivots)` (and `b.lu_solve(LU, pivots)`):
    `linalg.lu_solve(LU_data, LU_pivots, b)`."""
    check_input("lu_solve", LU_data, square=True, name="LU_data")
    return apply(LU_SOLVE, (b, LU_data, LU_pivots), {})


def _triangular_solve_infer(b, A, upper, transpose, unitriangular):
    from somegrad.ops.decompositions import _solve_triangular_infer

    shape, dtype = _solve_triangular_infer(A, b, upper, True, unitriangular)
    batch = shape[:-2]
    return (shape, dtype), (batch + tuple(A.shape[-2:]), A.dtype)


def _triangular_solve(b, A, upper, transpose, unitriangular):
    from somegrad.ops.decompositions import solve_triangular

    T = A.mT if transpose else A  # the triangle of A, transposed: the other triangle of A^T
    X = solve_triangular(T, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult(X, A.expand(*X.shape[:-2], *A.shape[-2:]).clone())


TRIANGULAR_SOLVE = register(
    OpSpec("triangular_solve", "composite", ("b", "A"), _triangular_solve_infer, decompose=_triangular_solve,
           outputs=2, accepts=LINALG_FLOATS, doc="torch.triangular_solve: (X, A) with T X = b.")
)  # fmt: skip


@public(TRIANGULAR_SOLVE, methods=True)
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False) -> TriangularSolveResult:
    """PyTorch's `torch.triangular_solve` (and `b.triangular_solve(A)`): `(X, A)` with
    `T @ X = b` (`transpose`: T^T), T the upper triangle of A (lower with upper=False)."""
    check_input("triangular_solve", A, square=True)
    params = {"upper": bool(upper), "transpose": bool(transpose), "unitriangular": bool(unitriangular)}
    return apply(TRIANGULAR_SOLVE, (b, A), params)


def _chain_matmul_infer(*matrices):
    from somegrad.ops.decompositions_products import _multi_dot_infer

    for m in matrices:
        if m.ndim != 2:
            from somegrad.errors import ShapeError

            raise ShapeError(f"chain_matmul: expected 2-D matrices, got shapes {[tuple(t.shape) for t in matrices]}")
    return (tuple(matrices[0].shape), matrices[0].dtype) if len(matrices) == 1 else _multi_dot_infer(*matrices)


def _chain_matmul(*matrices):
    from somegrad.ops.decompositions_products import multi_dot

    return matrices[0].clone() if len(matrices) == 1 else multi_dot(matrices)


CHAIN_MATMUL = register(
    OpSpec("chain_matmul", "composite", ("*matrices",), _chain_matmul_infer, decompose=_chain_matmul,
           doc="torch.chain_matmul: linalg.multi_dot of 2-D matrices.")
)  # fmt: skip


@public(CHAIN_MATMUL)
def chain_matmul(*matrices):
    """PyTorch's `torch.chain_matmul(*matrices)`: `linalg.multi_dot(matrices)` of 2-D ones."""
    return apply(CHAIN_MATMUL, tuple(matrices), {})
