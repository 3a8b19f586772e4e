"""The linear algebra behind `somegrad.linalg`: norms, det, inv, solve, cholesky, qr, svd, eigh.

Every op takes a batch of matrices `(..., m, n)` (leading dims are batch dims, as in PyTorch),
in float32 or float64. This module declares the determinant (det, slogdet, logdet), the
inverse, `solve` and `solve_triangular`, the Cholesky factorization and the top-level `norm`;
the others:

* `decompositions_lu`: lu_factor, lu, lu_solve, lu_unpack (Gaussian elimination, composite);
* `decompositions_solve`: cholesky_solve, cholesky_inverse, cholesky_ex, tensorinv, tensorsolve;
* `decompositions_factor`: the QR, SVD and symmetric eigen decompositions, and pinv,
  matrix_rank and lstsq built on them;
* `decompositions_norms`: vector_norm, matrix_norm and linalg.norm;
* `decompositions_products`: matrix_power, matrix_exp, multi_dot, vecdot, cond;
* `decompositions_legacy`: PyTorch's older top-level svd, qr and pinverse;
* `decompositions_common`: the dtype rule, shape checks, LinAlgError conversion, result tuples.

The primitives' kernels are one call each of the Array API's `linalg` extension
(`somegrad.backends.array_api_linalg`); everything else is a composite over them.

The backward formulas are PyTorch's (`derivatives.yaml`), written in differentiable ops so that
second derivatives work:

    det:      gA = g det(A) A^-T            (through the SVD's cofactors when A is singular)
    inv:      gA = -A^-T g A^-T
    solve:    gB = A^-T g,  gA = -gB X^T    (X = A^-1 B)
    cholesky: gA = sym(L^-T phi(L^T g) L^-1), phi: the lower triangle, diagonal halved (Murray)
"""

from __future__ import annotations

from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops.comparison import where
from somegrad.ops.decompositions_common import LINALG_FLOATS, SlogdetResult, check_input, check_matrix, identity, run
from somegrad.ops.decompositions_factor import svd
from somegrad.ops.decompositions_norms import _matrix_norm_infer, _vector_norm_infer, matrix_norm, vector_norm
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import broadcast_shapes, normalize_dims
from somegrad.ops.spec import FLOATING, OpSpec, public, register


def _square_infer(op, shape_of=lambda A: A.shape[:-2]):
    def infer(A):
        check_matrix(op, A, square=True)
        return shape_of(A), A.dtype

    return infer


# --- det -----------------------------------------------------------------------------------------
def _cofactors(A):
    """The transposed adjugate of A, det(A) A^-T, through the SVD A = U diag(S) V^T: it is
    det(U) det(V) U diag(prod_{j != i} S_j) V^T, defined for singular A too."""
    U, S, Vh = svd(A, full_matrices=False)
    n = S.shape[-1]
    others = S.unsqueeze(-2).expand(S.shape[:-1] + (n, n))
    products = others.masked_fill(identity(n, S).bool(), 1.0).prod(-1)
    signs = (det(U) * det(Vh)).unsqueeze(-1).unsqueeze(-1)
    return signs * (U * products.unsqueeze(-2)) @ Vh


def _det_backward(g, A, out):
    g = g.unsqueeze(-1).unsqueeze(-1)
    from somegrad.linalg import LinAlgError

    try:
        return g * out.unsqueeze(-1).unsqueeze(-1) * inv(A).mT
    except LinAlgError:  # singular: the cofactors are still defined
        return g * _cofactors(A)


LINALG_DET = register(
    OpSpec(
        "linalg_det",
        "matmul",
        ("A",),
        _square_infer("linalg.det"),
        _det_backward,
        accepts=LINALG_FLOATS,
        doc="The determinant of each square matrix.",
    )
)


@public(LINALG_DET, methods=True)
def det(A):
    """The determinant of each square matrix: A (..., n, n) -> (...). Also `somegrad.det` and
    `Tensor.det()`, as in PyTorch."""
    check_input("linalg.det", A, square=True)
    return run(LINALG_DET, (A,), {}, "linalg.det", "the determinant could not be computed")


# --- slogdet -------------------------------------------------------------------------------------
def _slogdet_packed_backward(g, A):
    # The sign is piecewise constant: only log|det| has a gradient, A^-T.
    return g.narrow(-1, 1, 1).unsqueeze(-1) * inv(A).mT


LINALG_SLOGDET_PACKED = register(
    OpSpec(
        "linalg_slogdet_packed",
        "matmul",
        ("A",),
        _square_infer("linalg.slogdet", lambda A: A.shape[:-2] + (2,)),
        _slogdet_packed_backward,
        accepts=LINALG_FLOATS,
        doc="sign and log|det| of each square matrix, stacked on a last dim of 2.",
    )
)


def _slogdet_infer(A):
    check_matrix("linalg.slogdet", A, square=True)
    return (A.shape[:-2], A.dtype), (A.shape[:-2], A.dtype)


def _slogdet(A):
    packed = run(LINALG_SLOGDET_PACKED, (A,), {}, "linalg.slogdet", "the determinant could not be computed")
    return SlogdetResult(packed[..., 0], packed[..., 1])


LINALG_SLOGDET = register(
    OpSpec(
        "linalg_slogdet",
        "composite",
        ("A",),
        _slogdet_infer,
        decompose=_slogdet,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(sign, log|det|) of each square matrix.",
    )
)


@public(LINALG_SLOGDET, methods=True)
def slogdet(A) -> SlogdetResult:
    """`(sign, logabsdet)` of each square matrix, det(A) = sign * exp(logabsdet), computed
    without overflow: A (..., n, n) -> (...), (...). A singular matrix gives (0, -inf)."""
    check_input("linalg.slogdet", A, square=True)
    return apply(LINALG_SLOGDET, (A,), {})


def _logdet_infer(A):
    check_matrix("logdet", A, square=True)
    return A.shape[:-2], A.dtype


def _logdet(A):
    sign, logabsdet = slogdet(A)
    # log det: NaN for a negative determinant, -inf for a zero one, as in PyTorch
    return where(sign < 0, float("nan"), logabsdet)


LOGDET = register(
    OpSpec(
        "logdet",
        "composite",
        ("A",),
        _logdet_infer,
        decompose=_logdet,
        accepts=LINALG_FLOATS,
        doc="log(det(A)) of each square matrix (NaN where the determinant is negative).",
    )
)


@public(LOGDET, methods=True)
def logdet(input):
    """`log(det(A))` for A (..., n, n) -> (...): NaN where det(A) < 0, -inf where it is 0.
    `slogdet` gives the log of |det| and its sign."""
    check_input("logdet", input, square=True)
    return apply(LOGDET, (input,), {})


# --- inv -----------------------------------------------------------------------------------------
LINALG_INV = register(
    OpSpec(
        "linalg_inv",
        "matmul",
        ("A",),
        _square_infer("linalg.inv", lambda A: A.shape),
        lambda g, out: -(out.mT @ g @ out.mT),
        accepts=LINALG_FLOATS,
        doc="The inverse of each square matrix.",
    )
)


@public(LINALG_INV, form=True)
def inverse(input):
    """`somegrad.inverse(A)` and `A.inverse()`: `somegrad.linalg.inv`, PyTorch's alias."""
    return inv(input)


@public(LINALG_INV, methods=(("inverse", inverse),), export=False)
def inv(A):
    """The inverse of each square matrix: A (..., n, n) -> (..., n, n). A singular matrix
    raises `somegrad.linalg.LinAlgError` (a RuntimeError), as in PyTorch."""
    check_input("linalg.inv", A, square=True)
    return run(LINALG_INV, (A,), {}, "linalg.inv", "the input matrix is singular, it has no inverse")


# --- solve ---------------------------------------------------------------------------------------
def _solve_infer(A, B):
    check_matrix("linalg.solve", A, square=True)
    if B.ndim != A.ndim or B.shape[:-2] != A.shape[:-2] or B.shape[-2] != A.shape[-1]:
        raise ShapeError(
            f"linalg.solve: the kernel takes A (..., n, n) and B (..., n, k) with the same batch dims, "
            f"got shapes {tuple(A.shape)} and {tuple(B.shape)}"
        )
    return B.shape, A.dtype


def _solve_backward(g, A, out, needs_input_grad):
    gB = solve(A.mT, g)
    return (-(gB @ out.mT) if needs_input_grad[0] else None, gB)


LINALG_SOLVE = register(
    OpSpec(
        "linalg_solve",
        "matmul",
        ("A", "B"),
        _solve_infer,
        _solve_backward,
        accepts=LINALG_FLOATS,
        doc="X with A X = B, for batches of square A (..., n, n) and B (..., n, k).",
    )
)


def _is_vector_rhs(A, B):
    # PyTorch's rule: B is a (batch of) vector(s) when it is 1-D, or has one dim fewer than A
    # and A's shape without its last dim.
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


@public(LINALG_SOLVE, export=False)
def solve(A, B, *, left=True):
    """X with `A @ X = B` (`left=False`: `X @ A = B`), for square A (..., n, n) and B
    (..., n, k), or B (..., n) a vector (PyTorch's rule: B 1-D, or shaped as A without its last
    dim); batch dims broadcast. A singular A raises `somegrad.linalg.LinAlgError`."""
    check_input("linalg.solve", A, square=True)
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve: expected A and B to have the same dtype, but found A of type {A.dtype.name} "
            f"and B of type {B.dtype.name} instead"
        )
    vector = _is_vector_rhs(A, B)
    if not vector and B.ndim < 2:
        raise ShapeError(f"linalg.solve: B must have at least 1 dimension, got shape {tuple(B.shape)}")
    if not left:
        if vector:
            raise ShapeError("linalg.solve: vector B is only supported with left=True")
        return solve(A.mT, B.mT).mT
    if vector:
        B = B.unsqueeze(-1)
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ShapeError(
            f"linalg.solve: incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
            f"{B.shape[-2]}x{B.shape[-1]}); shapes {tuple(A.shape)} and {tuple(B.shape)}"
        )
    batch = broadcast_shapes("linalg.solve", tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    A = A if tuple(A.shape[:-2]) == batch else A.expand(*batch, n, n)
    B = B if tuple(B.shape[:-2]) == batch else B.expand(*batch, *B.shape[-2:])
    X = run(LINALG_SOLVE, (A, B), {}, "linalg.solve", "the solver failed because the input matrix is singular")
    return X.squeeze(-1) if vector else X


def _solve_triangular_infer(A, B, upper, left, unitriangular):
    check_matrix("linalg.solve_triangular", A, square=True)
    check_matrix("linalg.solve_triangular", B, name="B")
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != A.shape[-1]:
        side = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"linalg.solve_triangular: incompatible shapes of A and B for the equation {side}: "
            f"{tuple(A.shape)} and {tuple(B.shape)}"
        )
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.solve_triangular: expected A and B to have the same dtype, got {A.dtype.name} and {B.dtype.name}"
        )
    batch = broadcast_shapes("linalg.solve_triangular", tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    return batch + tuple(B.shape[-2:]), A.dtype


def _solve_triangular(A, B, upper, left, unitriangular):
    # Only the triangle is read (and not its diagonal when unitriangular): autograd through
    # triu/tril gives the gradient PyTorch's has, zero outside the triangle.
    T = A.triu() if upper else A.tril()
    if unitriangular:
        T = T - diag_embed_of_diagonal(T) + identity(T.shape[-1], T)
    return solve(T, B, left=left)


LINALG_SOLVE_TRIANGULAR = register(
    OpSpec(
        "linalg_solve_triangular",
        "composite",
        ("A", "B"),
        _solve_triangular_infer,
        decompose=_solve_triangular,
        accepts=LINALG_FLOATS,
        doc="X with T X = B (X T = B when not left) for the upper or lower triangle T of A.",
    )
)


@public(LINALG_SOLVE_TRIANGULAR, export=False)
def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with `T @ X = B` (`left=False`: `X @ T = B`), T the upper (`upper=True`) or lower
    triangle of A (..., n, n), its diagonal taken as ones with `unitriangular`; B (..., n, k)
    (..., k, n when not left), batch dims broadcasting. The other triangle is never read."""
    check_input("linalg.solve_triangular", A, square=True)
    check_matrix("linalg.solve_triangular", B, name="B")
    params = {"upper": bool(upper), "left": bool(left), "unitriangular": bool(unitriangular)}
    return apply(LINALG_SOLVE_TRIANGULAR, (A, B), params)


# --- cholesky ------------------------------------------------------------------------------------
def _cholesky_backward(g, out):
    # Murray (2016), arXiv:1602.07527, as PyTorch: gA = L^-T phi(L^T g) L^-1, symmetrised.
    phi = (out.mT @ g).tril()
    phi = phi - 0.5 * diag_embed_of_diagonal(phi)
    inverse = inv(out)  # one inversion serves both sides
    gA = inverse.mT @ phi @ inverse
    return 0.5 * (gA + gA.mT)


def diag_embed_of_diagonal(X):
    """X with everything but its diagonal zeroed: (..., n, n) -> (..., n, n)."""
    return X * identity(X.shape[-1], X)


def _cholesky_infer(A):
    check_matrix("linalg.cholesky", A, square=True)
    return A.shape, A.dtype


LINALG_CHOLESKY = register(
    OpSpec(
        "linalg_cholesky",
        "matmul",
        ("A",),
        _cholesky_infer,
        _cholesky_backward,
        accepts=LINALG_FLOATS,
        doc="The lower triangular L with A = L L^T (the kernel reads A's lower triangle).",
    )
)


@public(LINALG_CHOLESKY, methods=True)
def cholesky(A, upper=False):
    """The Cholesky factor of symmetric positive-definite matrices: A (..., n, n) -> L
    (..., n, n) lower triangular with A = L L^T (`upper=True`: U = L^T, A = U^T U). Only
    the lower triangle of A is read (the upper one with `upper=True`), as in PyTorch; a matrix
    that is not positive-definite raises `somegrad.linalg.LinAlgError`. Also `somegrad.cholesky`
    and `Tensor.cholesky(upper=False)`."""
    check_input("linalg.cholesky", A, square=True)
    failure = "the factorization could not be completed because the input is not positive-definite"
    if upper:
        return run(LINALG_CHOLESKY, (A.mT,), {}, "linalg.cholesky", failure).mT
    L = run(LINALG_CHOLESKY, (A,), {}, "linalg.cholesky", failure)
    return L


# --- the top-level norm --------------------------------------------------------------------------
def _norm_form(x, p, dim):
    """("vector" or "matrix", ord, dim) as `torch.norm` picks them."""
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return "vector", 2.0, dim
        return "matrix", p, tuple(range(x.ndim)) if dim is None else dim
    return "vector", 2.0 if p is None else p, dim


def _vector_dims(x, dim):
    return () if dim is None or dim == () else normalize_dims("norm", dim, x.ndim)


def _norm_infer(x, p, dim, keepdim):
    kind, ord, dim = _norm_form(x, p, dim)
    if kind == "matrix":
        return _matrix_norm_infer(x, ord, dim, keepdim)
    return _vector_norm_infer(x, float(ord), _vector_dims(x, dim), keepdim)


def _norm(x, p, dim, keepdim):
    kind, ord, dim = _norm_form(x, p, dim)
    if kind == "matrix":
        return matrix_norm(x, ord, dim, keepdim)
    return vector_norm(x, ord, dim, keepdim)


NORM = register(
    OpSpec(
        "norm",
        "reduce",
        ("x",),
        _norm_infer,
        decompose=_norm,
        accepts=FLOATING,
        doc="torch.norm: a vector norm over dim, or the nuclear / Frobenius matrix norm.",
    )
)


@public(NORM, methods=True)
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """PyTorch's `torch.norm` (and `Tensor.norm`): with a number `p`, the vector p-norm over
    `dim` (an int, a tuple, or None for every element); `p="fro"` the 2-norm over dim (one or
    two dims, or all); `p="nuc"` the nuclear norm of the matrices over the two dims in `dim`.
    Prefer `somegrad.linalg.vector_norm` and `matrix_norm`, as PyTorch advises."""
    if isinstance(p, str) and p not in ("fro", "nuc"):
        raise ArgumentError(f"linalg.matrix_norm: order {p!r} not supported (norm takes a number, 'fro' or 'nuc')")
    if isinstance(dim, list):
        dim = tuple(dim)
    if not input.dtype.is_floating_point:
        _vector_norm_infer(input, 2.0, (), keepdim)  # refuses integer inputs (with dtype= too), as PyTorch
    if dtype is not None:
        input = input.to(dtype)
    return apply(NORM, (input,), {"p": p, "dim": dim, "keepdim": keepdim})


# The modules built on this one register on import (their ops are part of somegrad.linalg).
from somegrad.ops import (  # noqa: E402, F401
    decompositions_legacy,
    decompositions_lu,
    decompositions_products,
    decompositions_solve,  # noqa: E402, F401
)
