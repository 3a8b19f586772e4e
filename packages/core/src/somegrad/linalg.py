"""`somegrad.linalg`: PyTorch's `torch.linalg` (norms, det, inv, solve, cholesky, qr, svd, eigh).

    import somegrad as sg
    A = sg.randn(4, 3, 3, dtype=sg.float64)     # a batch of 4 matrices
    sg.linalg.det(A)                            # (4,)
    U, S, Vh = sg.linalg.svd(A)                 # (4, 3, 3), (4, 3), (4, 3, 3)
    sg.linalg.solve(A, sg.randn(4, 3))          # (4, 3): a vector right-hand side per matrix

Every function takes batches of matrices (leading dims are batch dims), in float32 or float64,
and is differentiable where PyTorch's is, with PyTorch's formulas (the ops are declared in
`somegrad.ops.decompositions`). A singular matrix given to `inv` or `solve`, or a matrix that is
not positive-definite given to `cholesky`, raises `LinAlgError`, a RuntimeError, as in PyTorch.
"""

from __future__ import annotations

from somegrad.ops.decompositions import cholesky, det, inv, slogdet, solve, solve_triangular
from somegrad.ops.decompositions_factor import eigh, eigvalsh, lstsq, matrix_rank, pinv, qr, svd, svdvals
from somegrad.ops.decompositions_lu import inv_ex, lu, lu_factor, lu_factor_ex, lu_solve, solve_ex
from somegrad.ops.decompositions_norms import matrix_norm, norm, vector_norm
from somegrad.ops.decompositions_products import (
    cond,
    cross,
    householder_product,
    matrix_exp,
    matrix_power,
    multi_dot,
    vander,
    vecdot,
)
from somegrad.ops.decompositions_solve import cholesky_ex, tensorinv, tensorsolve
from somegrad.ops.linalg import matmul

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]


class LinAlgError(RuntimeError):
    """A linear algebra function met an input it cannot handle: a singular matrix given to `inv`
    or `solve`, a matrix that is not positive-definite given to `cholesky`, an SVD or eigen
    decomposition that did not converge. A RuntimeError, as PyTorch's `torch.linalg.LinAlgError`."""


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices over the last two dims: `somegrad.diagonal` with
    PyTorch's linalg defaults (dim1=-2, dim2=-1). A (..., m, n) -> (..., min(m, n))."""
    from somegrad import diagonal as diagonal_of

    return diagonal_of(A, offset=offset, dim1=dim1, dim2=dim2)
