"""Rolls, windows and moves: tril/triu_indices, roll, Tensor.unfold, repeat_interleave, movedim,
rot90, t, select. The diagonals (diagonal, diag_embed, diag, trace, ...) are in
`somegrad.ops.diagonals`, the splits and joins (unbind, tensor_split, meshgrid, hstack, ...) in
`somegrad.ops.splits`: one family, three modules.

All but the index creators are implicit composites of the movement and indexing primitives.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError, UnsupportedDTypeError
from somegrad.ops import diagonals  # noqa: F401  (registers the diagonals)
from somegrad.ops.creation import _place
from somegrad.ops.diagonals import layout_op, permuted
from somegrad.ops.dispatch import apply, create
from somegrad.ops.indexing import INDEX_SELECT
from somegrad.ops.movement import CAT, FLIP, PAD, flatten, narrow, permute, transpose
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import INTEGERS, OpSpec, public, register
from somegrad.tensor import Tensor


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


ROLL = layout_op("roll", lambda x, shifts, dims: x.shape, _roll)


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


UNFOLD = layout_op("unfold", _unfold_infer, _unfold)


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


REPEAT_INTERLEAVE = layout_op("repeat_interleave", _repeat_interleave_infer, _repeat_interleave)


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


MOVEDIM = layout_op(
    "movedim",
    lambda x, source, destination: tuple(x.shape[d] for d in _moved(x.ndim, source, destination)),
    lambda x, source, destination: permuted(x, _moved(x.ndim, source, destination)),
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


ROT90 = layout_op("rot90", _rot90_infer, _rot90)


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


T_OP = layout_op("t", _t_infer, lambda x: permute(x, 1, 0) if x.ndim == 2 else x)


@public(T_OP, methods=True)
def t(input):
    """A matrix transposed (a view); 0-d and 1-d tensors as they are."""
    return apply(T_OP, (input,), {})


def _select_infer(x, dim, index):
    return x.shape[:dim] + x.shape[dim + 1 :]


SELECT = layout_op("select", _select_infer, lambda x, dim, index: x[(slice(None),) * dim + (index,)])


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
