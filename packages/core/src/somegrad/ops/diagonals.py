"""The diagonals of the layout family: diagonal, diag_embed, diag, trace, diagonal_scatter and
Tensor.fill_diagonal_, with the family's op factory (`layout_op`).

`diagonal` is a view where the input's layout allows (a strided slice of the flattened matrix
dims) and records one node, whose backward writes the gradient onto the diagonal of zeros (one
strided write), as `diag_embed` does forward; diag_embed's backward is `diagonal` itself: both
are differentiable to any order.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError, UnsupportedDTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import index_put
from somegrad.ops.movement import PERMUTE
from somegrad.ops.operands import scalar_tensor
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import NUMERIC, OpSpec, public, register


def layout_op(name, infer_shape, decompose, accepts=None, inputs=("input",), dtype=None):
    """An implicit composite: `infer_shape(x, **params)` gives the shape (and raises the clear
    errors); the dtype is x's unless `dtype(x)` says otherwise."""

    def infer(*tensors, **params):
        return infer_shape(*tensors, **params), (dtype or (lambda x: x.dtype))(tensors[0])

    return register(OpSpec(name, "movement", inputs, infer, decompose=decompose, accepts=accepts))


def inverse_permutation(perm):
    """The permutation that undoes `perm`."""
    return tuple(sorted(range(len(perm)), key=perm.__getitem__))


def permuted(x, perm):
    """x permuted by `perm` (x itself for the identity)."""
    return apply(PERMUTE, (x,), {"dims": tuple(perm)}) if tuple(perm) != tuple(range(len(perm))) else x


def _diagonal_length(n, m, offset):
    return max(0, min(n + min(offset, 0), m - max(offset, 0)))


# --- diagonal and diag_embed: each the other's backward ----------------------------------------
def _matrix_dims_last(ndim, dim1, dim2):
    """The permutation that moves dim1 and dim2 (in that order) after the other dims."""
    return [d for d in range(ndim) if d not in (dim1, dim2)] + [dim1, dim2]


def _diagonal_infer(x, offset, dim1, dim2):
    n, m = x.shape[dim1], x.shape[dim2]
    rest = tuple(s for d, s in enumerate(x.shape) if d not in (dim1, dim2))
    return rest + (_diagonal_length(n, m, offset),), x.dtype


def _diagonal(x, offset, dim1, dim2):
    # the matrix dims last and flattened: the diagonal is every (m + 1)-th element from its start,
    # a strided slice, so a view wherever the reshape is one
    n, m = x.shape[dim1], x.shape[dim2]
    y = permuted(x, _matrix_dims_last(x.ndim, dim1, dim2))
    flat = y.reshape(y.shape[:-2] + (n * m,))
    length = _diagonal_length(n, m, offset)
    start = offset if offset >= 0 else -offset * m
    if length == 0:
        return flat[..., 0:0]
    return flat[..., start : start + (length - 1) * (m + 1) + 1 : m + 1]


def _on_diagonal(x, rows, cols, offset):
    """Zeros of shape (..., rows, cols) with x (..., L) on their diagonal `offset`: one strided
    write into the flattened matrices (an index_put, whose gradient is the diagonal again)."""
    from somegrad.ops.creation import zeros

    batch, length = x.shape[:-1], x.shape[-1]
    flat = zeros(batch + (rows * cols,), dtype=x.dtype, device=x.device)
    if length:
        start = offset if offset >= 0 else -offset * cols
        key = tuple(slice(0, s, 1) for s in batch) + (slice(start, start + (length - 1) * (cols + 1) + 1, cols + 1),)
        flat = index_put(flat, x, key)
    return flat.reshape(batch + (rows, cols))


def _diagonal_backward(g, input_shape, offset, dim1, dim2):
    placed = _on_diagonal(g, input_shape[dim1], input_shape[dim2], offset)
    return permuted(placed, inverse_permutation(_matrix_dims_last(len(input_shape), dim1, dim2)))


DIAGONAL = register(
    OpSpec(
        "diagonal",
        "movement",
        ("input",),
        _diagonal_infer,
        _diagonal_backward,
        decompose=_diagonal,
        explicit=True,
        view=True,
        doc="The diagonal of dims dim1 and dim2, moved last; a view where the layout allows.",
    )
)


def _embed_dims(ndim, dim1, dim2):
    """The permutation that puts the last two dims of an ndim-d tensor at dim1 and dim2."""
    batch = iter(range(ndim - 2))
    return [ndim - 2 if d == dim1 else ndim - 1 if d == dim2 else next(batch) for d in range(ndim)]


def _diag_embed_infer(x, offset, dim1, dim2):
    size = x.shape[-1] + abs(offset) if x.ndim else abs(offset) + 1
    shape = list(x.shape[:-1])
    for d in sorted((dim1, dim2)):
        shape.insert(d, size)
    return tuple(shape), x.dtype


def _diag_embed(x, offset, dim1, dim2):
    x = x.reshape(x.shape or (1,))
    size = x.shape[-1] + abs(offset)
    square = _on_diagonal(x, size, size, offset)
    return permuted(square, _embed_dims(square.ndim, dim1, dim2))


DIAG_EMBED = register(
    OpSpec(
        "diag_embed",
        "movement",
        ("input",),
        _diag_embed_infer,
        lambda g, offset, dim1, dim2: diagonal(g, offset, dim1, dim2),
        decompose=_diag_embed,
        explicit=True,
        doc="Matrices whose diagonal `offset` (in dims dim1, dim2) holds the last dim of x.",
    )
)


def _distinct_dims(op, dim1, dim2, ndim):
    d1, d2 = normalize_dim(op, dim1, ndim), normalize_dim(op, dim2, ndim)
    if d1 == d2:
        raise ArgumentError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


@public(DIAGONAL, methods=True)
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` (> 0 above, < 0 below the main one) of the matrices in dims dim1 and
    dim2, as the last dim: x (A, n, m) with dim1=1, dim2=2 -> (A, min(n, m)) for offset 0.

    A view of `input` (in-place changes reach it) wherever its layout allows, as contiguous
    inputs and their slices do; a copy otherwise, where PyTorch always returns a view."""
    if input.ndim < 2:
        raise ShapeError(f"diagonal: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    dim1, dim2 = _distinct_dims("diagonal", dim1, dim2, input.ndim)
    return apply(DIAGONAL, (input,), {"offset": int(offset), "dim1": dim1, "dim2": dim2})


@public(DIAG_EMBED, methods=True)
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last dim of `input` on their diagonal `offset`, in the new dims dim1 and
    dim2: x (A, n) -> (A, n + |offset|, n + |offset|) with the defaults."""
    dim1, dim2 = _distinct_dims("diag_embed", dim1, dim2, input.ndim + 1)
    return apply(DIAG_EMBED, (input,), {"offset": int(offset), "dim1": dim1, "dim2": dim2})


def _diag_infer(x, offset):
    if x.ndim == 1:
        return _diag_embed_infer(x, offset, 0, 1)[0]
    if x.ndim == 2:
        return _diagonal_infer(x, offset, 0, 1)[0]
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D (shape {tuple(x.shape)})")


DIAG = layout_op(
    "diag",
    _diag_infer,
    lambda x, offset: diag_embed(x, offset, 0, 1) if x.ndim == 1 else diagonal(x, offset, 0, 1),
)


@public(DIAG, methods=True)
def diag(input, diagonal=0):
    """A 1-D input (n,) becomes the (n + |d|, n + |d|) matrix with it on diagonal d; a 2-D input
    gives its diagonal d (a 1-D tensor)."""
    return apply(DIAG, (input,), {"offset": int(diagonal)})


def _trace_infer(x):
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {x.ndim} (shape {tuple(x.shape)})")
    return ()


TRACE = layout_op(
    "trace",
    _trace_infer,
    lambda x: diagonal(x).sum(),
    accepts=NUMERIC,
    dtype=lambda x: x.dtype if x.dtype.is_floating_point else dtypes.int64,
)


@public(TRACE, methods=True)
def trace(input):
    """The sum of the main diagonal of a matrix: (n, m) -> (); integers sum in int64."""
    if input.dtype is dtypes.bool_:
        raise UnsupportedDTypeError("trace: not implemented for bool")
    return apply(TRACE, (input,), {})


# --- diagonal_scatter and fill_diagonal_ ---------------------------------------------------------
def _diagonal_key(batch, n, m, offset):
    """The kernel key of diagonal `offset` in matrices (n, m) flattened to (..., n * m)."""
    length = _diagonal_length(n, m, offset)
    start = offset if offset >= 0 else -offset * m
    step = slice(start, start + (length - 1) * (m + 1) + 1, m + 1) if length else slice(0, 0, 1)
    return tuple(slice(0, s, 1) for s in batch) + (step,)


def _diagonal_scatter_infer(x, src, offset, dim1, dim2):
    expected = _diagonal_infer(x, offset, dim1, dim2)[0]
    if tuple(src.shape) != expected:
        raise ShapeError(
            f"diagonal_scatter: source has shape {tuple(src.shape)}, but the diagonal of the input of shape "
            f"{tuple(x.shape)} has shape {expected}"
        )
    return x.shape, x.dtype


def _diagonal_scatter(x, src, offset, dim1, dim2):
    n, m = x.shape[dim1], x.shape[dim2]
    perm = _matrix_dims_last(x.ndim, dim1, dim2)
    y = permuted(x, perm)
    flat = y.reshape(y.shape[:-2] + (n * m,))
    placed = index_put(flat, src, _diagonal_key(y.shape[:-2], n, m, offset))
    return permuted(placed.reshape(y.shape), inverse_permutation(perm))


DIAGONAL_SCATTER = register(
    OpSpec(
        "diagonal_scatter",
        "movement",
        ("input", "src"),
        _diagonal_scatter_infer,
        decompose=_diagonal_scatter,
        accepts={"src": None},
    )
)


@public(DIAGONAL_SCATTER, methods=True)
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of `input` with its diagonal (as `diagonal(input, offset, dim1, dim2)` takes it)
    replaced by `src`, of that diagonal's shape; gradients flow to both."""
    if input.ndim < 2:
        raise ShapeError(f"diagonal_scatter: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    dim1, dim2 = _distinct_dims("diagonal_scatter", dim1, dim2, input.ndim)
    if src.dtype is not input.dtype:
        src = src.to(input.dtype)
    return apply(DIAGONAL_SCATTER, (input, src), {"offset": int(offset), "dim1": dim1, "dim2": dim2})


def _fill_diagonal_infer(x, fill_value, wrap):
    if x.ndim < 2:
        raise ShapeError(f"fill_diagonal_: dimensions must larger than 1, got shape {tuple(x.shape)}")
    if x.ndim > 2 and len(set(x.shape)) != 1:
        raise ShapeError(f"fill_diagonal_: all dimensions of input must be of equal length, got shape {tuple(x.shape)}")
    return x.shape


def _fill_diagonal(x, fill_value, wrap):
    # in the flattened tensor the diagonal is every (sum of strides)-th element; `wrap` lets a
    # tall matrix's diagonal start again below its first square
    strides = [1]
    for size in reversed(x.shape[1:]):
        strides.insert(0, strides[0] * size)
    step = sum(strides)
    total = x.numel()
    stop = total if wrap and x.ndim == 2 else min(total, min(x.shape) * step)
    flat = x.reshape(total)
    value = scalar_tensor(fill_value, x.dtype, x.device)
    return index_put(flat, value, (slice(0, stop, step),)).reshape(x.shape) if stop else x.clone()


FILL_DIAGONAL = layout_op("fill_diagonal", _fill_diagonal_infer, _fill_diagonal)


def fill_diagonal_(self, fill_value, wrap=False):
    """Write `fill_value` onto the main diagonal of this tensor (2-D, or n-D with equal sizes:
    the elements [i, i, ..., i]), in place; with `wrap`, a tall matrix's diagonal starts again
    after each square block (every N + 1 rows)."""
    from somegrad.ops.inplace import inplace

    dtypes.check_value_fits("fill_diagonal_", fill_value, self.dtype)
    return inplace(
        self, lambda t: apply(FILL_DIAGONAL, (t,), {"fill_value": fill_value, "wrap": bool(wrap)}), "fill_diagonal_"
    )


@public(FILL_DIAGONAL, inplace=[("fill_diagonal_", fill_diagonal_)], export=False)
def fill_diagonal(self, fill_value, wrap=False):
    """`fill_diagonal_` out of place (no PyTorch name: Tensor.fill_diagonal_ is the surface)."""
    return apply(FILL_DIAGONAL, (self,), {"fill_value": fill_value, "wrap": bool(wrap)})
