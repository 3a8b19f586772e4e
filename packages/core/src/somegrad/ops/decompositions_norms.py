"""Vector and matrix norms: `linalg.vector_norm`, `linalg.matrix_norm` and `linalg.norm`,
which picks one of them as PyTorch does.

`vector_norm` is an explicit composite: one node with PyTorch's backward (`norm_backward`),
stable where the norm is zero and sharing the gradient of the inf-norms between ties:

    ord 2:   g x / ||x||            (0 where ||x|| = 0)
    ord 1:   g sign(x)
    ord inf: g sign(x) [|x| = ||x||] / #ties
    ord p:   g x |x|^(p-2) / ||x||^(p-1)
    ord 0:   0

`matrix_norm` decomposes: 'fro' into vector_norm, the induced 1 and inf norms into sums of
absolute values and their extremum, 'nuc', 2 and -2 into the singular values.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops.comparison import where
from somegrad.ops.decompositions_common import check_input
from somegrad.ops.decompositions_factor import svdvals
from somegrad.ops.dispatch import apply
from somegrad.ops.reduce import amax, amin
from somegrad.ops.shapes import normalize_dim, normalize_dims, reduced_shape
from somegrad.ops.spec import FLOATING, OpSpec, public, register


# --- vector_norm ---------------------------------------------------------------------------------
def _vector_norm_infer(x, ord, dim, keepdim):
    if x.dtype not in FLOATING:
        raise RuntimeError(
            f"linalg.vector_norm: expected a floating point tensor as input, got {x.dtype.name} "
            f"(shape {tuple(x.shape)})"
        )
    if (ord < 0 or math.isinf(ord)) and (x.numel() == 0 and (not dim or any(x.shape[d] == 0 for d in dim))):
        shown = "inf" if ord == math.inf else ("-inf" if ord == -math.inf else f"{ord:g}")
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {shown} norm on an empty tensor because the operation "
            f"does not have an identity (input of shape {tuple(x.shape)})"
        )
    return reduced_shape(x.shape, dim or tuple(range(x.ndim)), keepdim), x.dtype


def _vector_norm(x, ord, dim, keepdim):
    if x.dtype in (dtypes.float16, dtypes.bfloat16):
        # accumulated in float32 and rounded once, as PyTorch's kernels do
        return _vector_norm(x.float(), ord, dim, keepdim).to(x.dtype)
    dim = dim or None
    if ord == 2:
        return (x * x).sum(dim, keepdim).sqrt()
    a = x.abs()
    if ord == math.inf:
        return amax(a, dim, keepdim)
    if ord == -math.inf:
        return amin(a, dim, keepdim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim)
    if ord == 1:
        return a.sum(dim, keepdim)
    return (a**ord).sum(dim, keepdim) ** (1.0 / ord)


def _vector_norm_backward(g, x, out, ord, dim, keepdim):
    dims = dim or tuple(range(x.ndim))
    if not keepdim:
        kept = reduced_shape(x.shape, dims, True)
        g, out = g.reshape(kept), out.reshape(kept)
    if ord == 0:
        return x.zeros_like()
    if ord == 1:
        return x.sign() * g
    zero = out == 0
    if ord == 2:
        return g * x / where(zero, 1.0, out)  # x is 0 wherever its norm is
    a = x.abs()
    if math.isinf(ord):
        ties = (a == out) | a.isnan()
        return x.sign() * (g / ties.sum(dims, keepdim=True)) * ties
    if ord < 1:
        scaled = x.sign() * where(x == 0, 0.0, where(x == 0, 1.0, a) ** (ord - 1))
        return scaled * g * out ** (1 - ord)
    scale = where(zero, 0.0, g / where(zero, 1.0, out) ** (ord - 1))
    scaled = x.sign() * a ** (ord - 1) if ord < 2 else x * a ** (ord - 2)
    return scaled * scale


LINALG_VECTOR_NORM = register(
    OpSpec(
        "linalg_vector_norm",
        "reduce",
        ("x",),
        _vector_norm_infer,
        _vector_norm_backward,
        _vector_norm,
        explicit=True,
        accepts=FLOATING,
        doc="The vector ord-norm over dim (every element for dim ()).",
    )
)


def _check_ord(ord):
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg.vector_norm: ord must be a number (a float, inf or -inf), got {ord!r}")
    return float(ord)


@public(LINALG_VECTOR_NORM, export=False)
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector `ord`-norm, `sum(|x|^ord)^(1/ord)`, over `dim` (an int, a tuple, or None
    and () for every element): x (..., n, ...) -> the reduced shape. `ord` is any number, inf
    (max |x|), -inf (min |x|) or 0 (the count of nonzeros). `dtype`: compute in that dtype."""
    ord = _check_ord(ord)
    if x.dtype not in FLOATING:
        _vector_norm_infer(x, ord, (), keepdim)  # refuses integer inputs (with dtype= too), as PyTorch
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, list):
        dim = tuple(dim)
    dims = () if dim is None or dim == () else normalize_dims("linalg.vector_norm", dim, x.ndim)
    if dims == tuple(range(x.ndim)):
        dims = ()
    return apply(LINALG_VECTOR_NORM, (x,), {"ord": ord, "dim": dims, "keepdim": keepdim})


# --- matrix_norm ---------------------------------------------------------------------------------
_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def _matrix_dims(op, A, ord, dim):
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        raise ArgumentError(f"{op}: order {ord} not supported (expected one of 'fro', 'nuc', inf, -inf, 1, -1, 2, -2)")
    if A.ndim < 2:
        raise ShapeError(f"{op}: the input tensor A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ArgumentError(f"{op}: dim must be a 2-tuple of ints, got {dim!r}")
    rows, cols = (normalize_dim(op, d, A.ndim) for d in dim)
    if rows == cols:
        raise ArgumentError(f"{op}: dims must be different, got {tuple(dim)}")
    if ord not in ("fro", 1, -1, math.inf, -math.inf):
        check_input(op, A)  # through the singular values: float32 and float64 only
    return rows, cols


def _matrix_norm_infer(A, ord, dim, keepdim):
    rows, cols = _matrix_dims("linalg.matrix_norm", A, ord, dim)
    return reduced_shape(A.shape, tuple(sorted((rows, cols))), keepdim), A.dtype


def _matrix_norm(A, ord, dim, keepdim):
    rows, cols = dim
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        extremum = amax if ord > 0 else amin
        summed, over = (rows, cols) if abs(ord) == 1 else (cols, rows)
        out = extremum(A.abs().sum(summed, keepdim=True), over, keepdim=True)
    else:
        # the two dims last, in order: the singular values of those matrices
        order = [d for d in range(A.ndim) if d not in (rows, cols)] + [rows, cols]
        S = svdvals(A.permute(order))
        out = S.sum(-1) if ord == "nuc" else (amax(S, -1) if ord == 2 else amin(S, -1))
        for d in sorted((rows, cols)):
            out = out.unsqueeze(d)
    return out if keepdim else out.squeeze(tuple(sorted((rows, cols))))


LINALG_MATRIX_NORM = register(
    OpSpec(
        "linalg_matrix_norm",
        "reduce",
        ("A",),
        _matrix_norm_infer,
        decompose=_matrix_norm,
        accepts=FLOATING,
        doc="A matrix norm over the two dims in dim: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2.",
    )
)


@public(LINALG_MATRIX_NORM, export=False)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm of the matrices over the two dims `dim`: A (..., m, n) -> (...).
    `ord`: 'fro' (Frobenius), 'nuc' (the sum of the singular values), 2 / -2 (the largest /
    smallest singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (row sums)."""
    if dtype is not None:
        A = A.to(dtype)
    rows, cols = _matrix_dims("linalg.matrix_norm", A, ord, dim)
    return apply(LINALG_MATRIX_NORM, (A,), {"ord": ord, "dim": (rows, cols), "keepdim": keepdim})


# --- linalg.norm ---------------------------------------------------------------------------------
def _norm_form(A, ord, dim):
    """("vector" or "matrix", ord, dim) as `linalg.norm` picks it, or PyTorch's error."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 1:
            if isinstance(ord, str):
                raise ArgumentError(f"linalg.norm: a string ord ({ord!r}) is a matrix norm, but dim names one dim")
            return "vector", 2 if ord is None else ord, dim
        if len(dim) == 2:
            return "matrix", "fro" if ord is None else ord, dim
        raise ArgumentError(f"linalg.norm: if dim is specified, it must be of length 1 or 2, got {list(dim)}")
    if ord is None:
        return "vector", 2, None
    if A.ndim == 1 and not isinstance(ord, str):
        return "vector", ord, None
    if A.ndim == 2:
        return "matrix", ord, (-2, -1)
    raise ShapeError(
        f"linalg.norm: if dim is not specified but ord is, the input must be 1D or 2D, got {A.ndim}D "
        f"(shape {tuple(A.shape)})"
    )


def _linalg_norm_infer(A, ord, dim, keepdim):
    kind, ord, dim = _norm_form(A, ord, dim)
    if kind == "matrix":
        return _matrix_norm_infer(A, ord, dim, keepdim)
    dims = () if dim is None else normalize_dims("linalg.norm", dim, A.ndim)
    return _vector_norm_infer(A, _check_ord(ord), dims, keepdim)


def _linalg_norm(A, ord, dim, keepdim):
    kind, ord, dim = _norm_form(A, ord, dim)
    if kind == "matrix":
        return matrix_norm(A, ord, dim, keepdim)
    return vector_norm(A, ord, dim, keepdim)


LINALG_NORM = register(
    OpSpec(
        "linalg_norm",
        "reduce",
        ("A",),
        _linalg_norm_infer,
        decompose=_linalg_norm,
        accepts=FLOATING,
        doc="A vector or matrix norm, picked from ord, dim and the input's dims as PyTorch does.",
    )
)


@public(LINALG_NORM, export=False)
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """`linalg.norm`: a vector norm when `dim` is an int or 1-tuple, or when dim is None and A
    is 1-D (every element for ord=None: the 2-norm of A flattened); a matrix norm when dim is a
    2-tuple, or when dim is None and A is 2-D."""
    if dtype is not None:
        A = A.to(dtype)
    _norm_form(A, ord, dim)
    if isinstance(dim, list):
        dim = tuple(dim)
    return apply(LINALG_NORM, (A,), {"ord": ord, "dim": dim, "keepdim": keepdim})
