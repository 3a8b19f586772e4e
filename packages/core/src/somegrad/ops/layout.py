"""Diagonals, rolls and windows: diagonal, diag_embed, diag, trace, tril/triu_indices, roll, Tensor.unfold,
repeat_interleave, movedim, rot90, t, select. The splits and joins (unbind, tensor_split, meshgrid, hstack, ...)
are in `somegrad.ops.splits`.

All but the index creators are composites of the movement and indexing primitives. `diagonal` is a
view where the input's layout allows (a strided slice of the flattened matrix dims), and records
one node whose backward writes the gradient back onto the diagonal of zeros (one strided write),
as `diag_embed` does forward; diag_embed's backward is `diagonal` itself: both are differentiable
to any order.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError, UnsupportedDTypeError
from somegrad.ops.creation import _place
from somegrad.ops.dispatch import apply, create
from somegrad.ops.indexing import INDEX_SELECT, index_put
from somegrad.ops.movement import CAT, FLIP, PAD, PERMUTE, flatten, narrow, permute, transpose
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import INTEGERS, NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor


def _layout(name, infer_shape, decompose, accepts=None, inputs=("input",), dtype=None):
    """An implicit composite: `infer_shape(x, **params)` gives the shape (and raises the clear
    errors); the dtype is x's unless `dtype(x)` says otherwise."""

    def infer(*tensors, **params):
        return infer_shape(*tensors, **params), (dtype or (lambda x: x.dtype))(tensors[0])

    return register(OpSpec(name, "movement", inputs, infer, decompose=decompose, accepts=accepts))


def _inverse(perm):
    return tuple(sorted(range(len(perm)), key=perm.__getitem__))


def _permuted(x, perm):
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
    y = _permuted(x, _matrix_dims_last(x.ndim, dim1, dim2))
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
    return _permuted(placed, _inverse(_matrix_dims_last(len(input_shape), dim1, dim2)))


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
    return _permuted(square, _embed_dims(square.ndim, dim1, dim2))


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


DIAG = _layout(
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


TRACE = _layout(
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


# --- tril_indices and triu_indices: creation ops with a kernel each ------------------------------
def _lower_count(row, col, offset):
    """How many (r, c) of a row x col grid have c - r <= offset."""
    return int(np.clip(np.minimum(col, np.arange(row) + offset + 1), 0, None).sum())


def _indices_infer(name, lower):
    def infer(row, col, offset, dtype):
        for what, size in (("row", row), ("col", col)):
            if size < 0:
                raise ArgumentError(f"{name}: {what} must be non-negative, got {size}")
        if dtype not in INTEGERS:
            raise UnsupportedDTypeError(f"{name}: not implemented for {dtype.name}; use an integer dtype")
        count = _lower_count(row, col, offset) if lower else row * col - _lower_count(row, col, offset - 1)
        return (2, count), dtype

    return infer


TRIL_INDICES = register(OpSpec("tril_indices", "creation", (), _indices_infer("tril_indices", True)))
TRIU_INDICES = register(OpSpec("triu_indices", "creation", (), _indices_infer("triu_indices", False)))


def _indices(spec, row, col, offset, dtype, device):
    params = {"row": int(row), "col": int(col), "offset": int(offset), "dtype": dtype or dtypes.int64}
    return create(spec, _place(device), params)


@public(TRIL_INDICES)
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle (c - r <= offset) of a row x col
    matrix, row by row: `x[tuple(tril_indices(3, 3))]` are its lower triangle's elements."""
    return _indices(TRIL_INDICES, row, col, offset, dtype, device)


@public(TRIU_INDICES)
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle (c - r >= offset), row by row."""
    return _indices(TRIU_INDICES, row, col, offset, dtype, device)


# --- roll ----------------------------------------------------------------------------------------
def _roll(x, shifts, dims):
    if dims is None:
        return _roll(x.reshape(-1), shifts, (0,)).reshape(x.shape)
    for shift, dim in zip(shifts, dims):
        size = x.shape[dim]
        s = shift % size if size else 0
        if s:
            x = apply(CAT, (narrow(x, dim, size - s, s), narrow(x, dim, 0, size - s)), {"dim": dim})
    return x


ROLL = _layout("roll", lambda x, shifts, dims: x.shape, _roll)


@public(ROLL, methods=True)
def roll(input, shifts, dims=None):
    """Elements shifted `shifts` places along `dims` (ints or tuples of one length), those pushed
    past the end coming back at the start; without dims, over the flattened tensor."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(ROLL, (input,), {"shifts": shifts, "dims": None})
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ArgumentError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(normalize_dim("roll", d, input.ndim) for d in dims)
    if input.ndim == 0:
        return apply(ROLL, (input,), {"shifts": shifts, "dims": None})
    return apply(ROLL, (input,), {"shifts": shifts, "dims": dims})


# --- Tensor.unfold: sliding windows ---------------------------------------------------------------
def _unfold_infer(x, dimension, size, step):
    if x.ndim == 0:
        return (size,)
    count = (x.shape[dimension] - size) // step + 1
    return x.shape[:dimension] + (count,) + x.shape[dimension + 1 :] + (size,)


def _unfold(x, dimension, size, step):
    if x.ndim == 0:
        return x.reshape(1)[:size]
    length = x.shape[dimension]
    count = (length - size) // step + 1
    if step >= size:
        # windows that do not overlap are a reshape of a narrowed tensor: a view, and a pad backward
        used = narrow(x, dimension, 0, min(length, count * step))
        if used.shape[dimension] < count * step:  # the last window ends before a full step
            pad = [(0, 0)] * x.ndim
            pad[dimension] = (0, count * step - used.shape[dimension])
            used = apply(PAD, (used,), {"pad": tuple(pad), "value": 0})
        split = used.reshape(x.shape[:dimension] + (count, step) + x.shape[dimension + 1 :])
        windows = narrow(split, dimension + 1, 0, size)
    else:
        from somegrad.ops.creation import arange

        index = (arange(count, device=x.device) * step).reshape(count, 1) + arange(size, device=x.device)
        picked = apply(INDEX_SELECT, (x, index.reshape(-1)), {"dim": dimension})
        windows = picked.reshape(x.shape[:dimension] + (count, size) + x.shape[dimension + 1 :])
    return windows.movedim(dimension + 1, -1)


UNFOLD = _layout("unfold", _unfold_infer, _unfold)


@public(UNFOLD, methods=True, export=False)
def unfold(self, dimension, size, step):
    """Every window of `size` elements along `dimension`, `step` apart, as a new last dim:
    x (A, L, B) with dimension 1 -> (A, (L - size) // step + 1, B, size).

    A view when the windows do not overlap (step >= size) on a contiguous input; a copy when they
    overlap, where PyTorch returns a view (of elements shared between windows)."""
    dimension = normalize_dim("unfold", dimension, self.ndim)
    size, step = int(size), int(step)
    if size < 0:
        raise ArgumentError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise ArgumentError(f"unfold: step is {step} but must be > 0")
    limit = self.shape[dimension] if self.ndim else 1
    if size > limit:
        raise ShapeError(f"unfold: maximum size for tensor at dimension {dimension} is {limit} but size is {size}")
    return apply(UNFOLD, (self,), {"dimension": dimension, "size": size, "step": step})


# --- repeat_interleave -----------------------------------------------------------------------------
def _repeat_interleave_infer(x, repeats, dim):
    total = x.shape[dim] * repeats if isinstance(repeats, int) else sum(repeats)
    return x.shape[:dim] + (total,) + x.shape[dim + 1 :]


def _repeat_interleave(x, repeats, dim):
    shape = x.shape
    if isinstance(repeats, int):
        # each element next to itself `repeats` times: a broadcast new dim merged into dim
        wide = x.reshape(shape[: dim + 1] + (1,) + shape[dim + 1 :]).expand(
            shape[: dim + 1] + (repeats,) + shape[dim + 1 :]
        )
        return wide.reshape(shape[:dim] + (shape[dim] * repeats,) + shape[dim + 1 :])
    from somegrad.ops.creation import tensor

    index = tensor(np.repeat(np.arange(shape[dim], dtype=np.int64), repeats), device=x.device)
    return apply(INDEX_SELECT, (x, index), {"dim": dim})


REPEAT_INTERLEAVE = _layout("repeat_interleave", _repeat_interleave_infer, _repeat_interleave)


def _repeat_counts(repeats, size):
    """`repeats` (an int, or a 0-d or 1-d integer tensor) as an int or a tuple of `size` ints."""
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise ArgumentError(
                f"repeat_interleave: repeats must be 0-dim or 1-dim tensor, got shape {tuple(repeats.shape)}"
            )
        if repeats.dtype not in INTEGERS:
            raise UnsupportedDTypeError(f"repeat_interleave: repeats must be integers, not {repeats.dtype.name}")
        counts = [int(v) for v in repeats.reshape(-1).tolist()]
        if any(c < 0 for c in counts):
            raise ArgumentError("repeat_interleave: repeats can not be negative")
        if len(counts) == 1:
            return counts[0]
        if len(counts) != size:
            raise ShapeError(
                "repeat_interleave: repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {len(counts)} and input.size(0) = {size}"
            )
        return tuple(counts)
    repeats = int(repeats)
    if repeats < 0:
        raise ArgumentError(f"repeat_interleave: Repeats must be non-negative, got {repeats}")
    return repeats


@public(REPEAT_INTERLEAVE, methods=True)
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (slice along `dim`) repeated `repeats` times in place: [a, b] with 2 ->
    [a, a, b, b]. `repeats` is an int or one count per element (a 1-d integer tensor, which
    is read on the host); without `dim` the input is flattened. `repeat_interleave(counts)`
    alone repeats the indices 0, 1, ...: [2, 1] -> [0, 0, 1]."""
    if repeats is None:
        if not isinstance(input, Tensor) or input.ndim > 1:
            raise ArgumentError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        from somegrad.ops.creation import arange

        counts = input.reshape(-1)
        return repeat_interleave(arange(counts.shape[0], device=input.device), counts, 0, output_size=output_size)
    if dim is None:
        input, dim = flatten(input), 0
    dim = normalize_dim("repeat_interleave", dim, input.ndim)
    if input.ndim == 0:
        input = input.reshape(1)
    counts = _repeat_counts(repeats, input.shape[dim])
    if output_size is not None:
        total = input.shape[dim] * counts if isinstance(counts, int) else sum(counts)
        if int(output_size) != total:
            raise ArgumentError(
                f"repeat_interleave: allocated size does not match required size ({output_size} != {total})"
            )
    return apply(REPEAT_INTERLEAVE, (input,), {"repeats": counts, "dim": dim})


# --- movedim (moveaxis) ---------------------------------------------------------------------------
def _moved(ndim, source, destination):
    """The permutation that puts dims `source` at positions `destination`, the others keeping their order."""
    order = [None] * ndim
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    return [next(rest) if o is None else o for o in order]


MOVEDIM = _layout(
    "movedim",
    lambda x, source, destination: tuple(x.shape[d] for d in _moved(x.ndim, source, destination)),
    lambda x, source, destination: _permuted(x, _moved(x.ndim, source, destination)),
)


def _dims(op, what, dims, ndim):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    normalized = tuple(normalize_dim(op, d, ndim) for d in dims)
    if len(set(normalized)) != len(normalized):
        raise ArgumentError(f"{op}: repeated dim in `{what}` ({list(dims)})")
    return normalized


@public(MOVEDIM, methods=("movedim", "moveaxis"), aliases=("moveaxis",))
def movedim(input, source, destination):
    """`input` with the dims `source` (an int or a tuple) moved to the positions `destination`,
    the others keeping their order (a view): x (A, B, C) -> (B, C, A) for `movedim(x, 0, 2)`.
    `moveaxis` is the same function."""
    source = _dims("movedim", "source", source, input.ndim)
    destination = _dims("movedim", "destination", destination, input.ndim)
    if len(source) != len(destination):
        raise ArgumentError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain the same "
            f"number of dims as destination ({list(destination)} dims)"
        )
    if input.ndim == 0:
        source = destination = ()
    return apply(MOVEDIM, (input,), {"source": source, "destination": destination})


# --- rot90, t, select ------------------------------------------------------------------------------
def _rot90_infer(x, k, dims):
    d0, d1 = dims
    if k % 2 == 0:
        return x.shape
    shape = list(x.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    return tuple(shape)


def _rot90(x, k, dims):
    d0, d1 = dims
    k %= 4
    if k == 0:
        return x.clone()
    if k == 2:
        return apply(FLIP, (x,), {"dims": tuple(sorted(dims))})
    flipped = apply(FLIP, (x,), {"dims": (d1,) if k == 1 else (d0,)})
    return transpose(flipped, d0, d1)


ROT90 = _layout("rot90", _rot90_infer, _rot90)


@public(ROT90, methods=True)
def rot90(input, k=1, dims=(0, 1)):
    """The input rotated by 90 degrees `k` times in the plane of `dims`, from the first dim
    towards the second: (n, m) -> (m, n) for odd k."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise ArgumentError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise ArgumentError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (normalize_dim("rot90", d, input.ndim) for d in dims)
    if d0 == d1:
        raise ArgumentError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return apply(ROT90, (input,), {"k": int(k), "dims": (d0, d1)})


def _t_infer(x):
    if x.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D (shape {tuple(x.shape)})")
    return x.shape[::-1]


T_OP = _layout("t", _t_infer, lambda x: permute(x, 1, 0) if x.ndim == 2 else x)


@public(T_OP, methods=True)
def t(input):
    """A matrix transposed (a view); 0-d and 1-d tensors as they are."""
    return apply(T_OP, (input,), {})


def _select_infer(x, dim, index):
    return x.shape[:dim] + x.shape[dim + 1 :]


SELECT = _layout("select", _select_infer, lambda x, dim, index: x[(slice(None),) * dim + (index,)])


@public(SELECT, methods=True)
def select(input, dim, index):
    """The slice at `index` along `dim`, that dim removed (a view): x (A, B, C) -> (A, C) for dim 1."""
    if input.ndim == 0:
        raise IndexError("select: cannot be applied to a 0-dim tensor")
    dim = normalize_dim("select", dim, input.ndim)
    size = input.shape[dim]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(
            f"select: index {index} out of range for tensor of size {tuple(input.shape)} at dimension {dim}"
        )
    return apply(SELECT, (input,), {"dim": dim, "index": index % size})


from somegrad.ops import splits  # noqa: E402, F401  (unbind, tensor_split, meshgrid, the stacks: the same family)
