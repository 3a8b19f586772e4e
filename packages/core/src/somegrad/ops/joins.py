"""More of the layout family: tile, ravel, fliplr, flipud, broadcast_tensors, broadcast_shapes,
cartesian_prod, combinations, block_diag, diagflat and scalar_tensor.

All are implicit composites over repeat, reshape, flip, expand, meshgrid, pad, cat and diag
(views where those are), so gradients flow through the primitives.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops import shapes as _shapes
from somegrad.ops.creation import FULL, full
from somegrad.ops.diagonals import diag
from somegrad.ops.dispatch import apply
from somegrad.ops.movement import CAT, FLIP, PAD, REPEAT, flatten
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


def _op(name, infer_shape, decompose, inputs=("input",), dtype=None, outputs=1):
    def infer(*tensors, **params):
        if outputs != 1:
            return infer_shape(*tensors, **params)
        return infer_shape(*tensors, **params), dtype(tensors) if dtype else tensors[0].dtype

    return register(OpSpec(name, "movement", inputs, infer, decompose=decompose, outputs=outputs))


# --- tile, ravel, fliplr, flipud -----------------------------------------------------------------
def _tile_sizes(x, dims):
    return (1,) * (x.ndim - len(dims)) + tuple(dims)


TILE = _op(
    "tile",
    lambda x, dims: REPEAT.infer(x, sizes=_tile_sizes(x, dims))[0],
    lambda x, dims: apply(REPEAT, (x,), {"sizes": _tile_sizes(x, dims)}),
)


@public(TILE, methods=True)
def tile(input, dims):
    """`input` repeated `dims[i]` times along each dim; fewer dims than input's are padded with 1s
    in front (more add leading dims): (2, 3) with (2,) -> (2, 6), with (2, 1, 1) -> (2, 2, 3)."""
    dims = (dims,) if isinstance(dims, int) else tuple(int(d) for d in dims)
    if any(d < 0 for d in dims):
        raise ArgumentError(f"tile: Trying to create tensor with negative dimension: {list(dims)}")
    return apply(TILE, (input,), {"dims": dims})


RAVEL = _op("ravel", lambda x: (x.numel(),), lambda x: flatten(x))


@public(RAVEL, methods=True)
def ravel(input):
    """`input` flattened to 1-d (a view where the layout allows, else a copy): (A, B) -> (A * B,)."""
    return apply(RAVEL, (input,), {})


def _flip_lr_ud(name, min_ndim, dim):
    spec = _op(name, lambda x: x.shape, lambda x: apply(FLIP, (x,), {"dims": (dim,)}))

    def flipped(input):
        if input.ndim < min_ndim:
            raise ShapeError(f"Input must be >= {min_ndim}-d.")
        return apply(spec, (input,), {})

    flipped.__name__ = flipped.__qualname__ = name
    flipped.__doc__ = (
        f"`input` with dim {dim} reversed ({'left and right' if dim else 'up and down'}); {min_ndim}-d or more."
    )
    return spec, flipped


FLIPLR, _fliplr = _flip_lr_ud("fliplr", 2, 1)
FLIPUD, _flipud = _flip_lr_ud("flipud", 1, 0)
fliplr = public(FLIPLR, methods=True)(_fliplr)
flipud = public(FLIPUD, methods=True)(_flipud)


# --- broadcast_shapes, broadcast_tensors ---------------------------------------------------------
def broadcast_shapes(*shapes) -> tuple[int, ...]:
    """The shape that tensors of `shapes` (tuples or ints) broadcast to; RuntimeError if they don't."""
    shapes = tuple((s,) if isinstance(s, int) else tuple(int(d) for d in s) for s in shapes)
    if not shapes:
        return ()
    return _shapes.broadcast_shapes("broadcast_shapes", *shapes)


def _broadcast_infer(*tensors):
    shape = _shapes.broadcast_shapes("broadcast_tensors", *(t.shape for t in tensors))
    return tuple((shape, t.dtype) for t in tensors)


def _broadcast(*tensors):
    shape = _shapes.broadcast_shapes("broadcast_tensors", *(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


BROADCAST_TENSORS = _op("broadcast_tensors", _broadcast_infer, _broadcast, inputs=("*tensors",), outputs=None)


@public(BROADCAST_TENSORS)
def broadcast_tensors(*tensors) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views): (3, 1), (4,) -> (3, 4), (3, 4)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        return ()
    return apply(BROADCAST_TENSORS, tuple(tensors), {})


# --- cartesian_prod, combinations ----------------------------------------------------------------
def _cartesian(*tensors):
    if len(tensors) == 1:
        return tensors[0] * 1 if tensors[0].dtype is not dtypes.bool_ else tensors[0].clone()
    from somegrad.ops.movement import stack
    from somegrad.ops.splits import meshgrid

    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


def _cartesian_infer(*tensors):
    for t in tensors:
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expect a 1D vector, but got shape {list(t.shape)}")
        if t.dtype is not tensors[0].dtype:
            raise TypeError("cartesian_prod: expects all tensors to have the same dtype")
    size = int(np.prod([t.shape[0] for t in tensors]))
    return ((size,) if len(tensors) == 1 else (size, len(tensors))), tensors[0].dtype


CARTESIAN_PROD = register(OpSpec("cartesian_prod", "movement", ("*tensors",), _cartesian_infer, decompose=_cartesian))


@public(CARTESIAN_PROD)
def cartesian_prod(*tensors):
    """Every tuple of one element from each 1-d tensor, in order: (n1,), (n2,) -> (n1 * n2, 2); one tensor: itself."""
    if not tensors:
        raise ArgumentError("cartesian_prod expects a non-empty TensorList")
    return apply(CARTESIAN_PROD, tuple(tensors), {})


def _combination_index(n, r, with_replacement):
    """The (k, r) index tuples of the r-combinations of range(n), in lexicographic order: the
    row-major grid of r indices, kept where they increase (or do not decrease)."""
    grid = np.indices((n,) * r).reshape(r, -1).T
    steps = np.diff(grid, axis=1)
    keep = (steps >= 0).all(axis=1) if with_replacement else (steps > 0).all(axis=1)
    return grid[keep]


def _combinations(x, r, with_replacement):
    from somegrad.ops.creation import tensor

    if r == 0:
        return x[:0]
    index = _combination_index(x.shape[0], r, with_replacement)
    return x[tensor(index.reshape(-1), device=x.device)].reshape(index.shape[0], r)


def _combinations_infer(x, r, with_replacement):
    if r == 0:
        return (0,)
    return (len(_combination_index(x.shape[0], r, with_replacement)), r)


COMBINATIONS = _op("combinations", _combinations_infer, _combinations)


@public(COMBINATIONS)
def combinations(input, r=2, with_replacement=False):
    """The length-`r` combinations of the elements of the 1-d `input`, as `itertools.combinations`
    (`combinations_with_replacement` with `with_replacement=True`): (n,) -> (C(n, r), r)."""
    if input.ndim != 1:
        raise ShapeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if int(r) < 0:
        raise ArgumentError(f"Expect a non-negative number, but got {r}")
    return apply(COMBINATIONS, (input,), {"r": int(r), "with_replacement": bool(with_replacement)})


# --- block_diag, diagflat ------------------------------------------------------------------------
def _as_block(t):
    return t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t


def _block_dtype(tensors):
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    return dtype


def _block_diag_infer(*tensors):
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {t.ndim} dimensions"
            )
    blocks = [_as_block(t).shape for t in tensors]
    return (sum(b[0] for b in blocks), sum(b[1] for b in blocks)), _block_dtype(tensors)


def _block_diag(*tensors):
    dtype = _block_dtype(tensors)
    blocks = [_as_block(t).to(dtype) for t in tensors]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:  # one pad per tensor: each block's rows, zeros left and right of it
        rows.append(apply(PAD, (b,), {"pad": ((0, 0), (left, width - left - b.shape[1])), "value": 0}))
        left += b.shape[1]
    return rows[0] if len(rows) == 1 else apply(CAT, tuple(rows), {"dim": 0})


BLOCK_DIAG = register(OpSpec("block_diag", "movement", ("*tensors",), _block_diag_infer, decompose=_block_diag))


@public(BLOCK_DIAG)
def block_diag(*tensors):
    """The tensors (0-d, 1-d as one row, or 2-d) as blocks on the diagonal of one matrix, zeros
    elsewhere: (2, 3), (1, 2) -> (3, 5); the dtypes promoted."""
    if not tensors:
        return full((1, 0), 0, dtype=dtypes.get_default_dtype())
    return apply(BLOCK_DIAG, tuple(tensors), {})


def _diagflat_infer(x, offset):
    n = x.numel() + abs(offset)
    return (n, n)


DIAGFLAT = _op("diagflat", _diagflat_infer, lambda x, offset: diag(flatten(x), offset))


@public(DIAGFLAT, methods=True)
def diagflat(input, offset=0):
    """A square matrix with the flattened `input` on its diagonal `offset`: (A, B) -> (A*B + |offset|,) * 2."""
    return apply(DIAGFLAT, (input,), {"offset": int(offset)})


# --- scalar_tensor -------------------------------------------------------------------------------
@public(FULL, form=True)
def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number `s`, of the default float dtype unless `dtype` is given."""
    if isinstance(s, Tensor):
        s = s.item()
    return full((), s, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)
