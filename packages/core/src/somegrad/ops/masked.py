"""Selections and writes by mask, and reads along a dim: masked_select, masked_scatter,
take_along_dim (their index-writing relatives are in `somegrad.ops.scatter`).

All three are implicit composites over indexing, gather and where, so autograd sees through them."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import DTypeError, IndexOutOfRangeError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import GATHER, _index_tensor, getitem
from somegrad.ops.scatter import _in_place
from somegrad.ops.shapes import broadcast_shapes, normalize_dim
from somegrad.ops.spec import BOOL, INDEX, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = ["masked_select", "masked_scatter", "take_along_dim"]


def _gather(t, index, dim):
    return apply(GATHER, (t, index), {"dim": dim})


# --- masks -------------------------------------------------------------------------------------
def _check_mask(op, mask, wording="expected a bool tensor as the mask"):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: mask must be a Tensor, got {type(mask).__name__}")
    if mask.dtype is not dtypes.bool_:
        raise DTypeError(f"{op}: {wording}, got {mask.dtype.name}")


def _masked_select_infer(x, mask):
    broadcast_shapes("masked_select", x.shape, mask.shape)
    return None, x.dtype  # as many elements as the mask has true ones


def _masked_select(x, mask):
    shape = broadcast_shapes("masked_select", x.shape, mask.shape) or (1,)  # no 0-d bool index
    return getitem(x.expand(shape), mask.expand(shape))


MASKED_SELECT = register(
    OpSpec(
        "masked_select", "index", ("x", "mask"), _masked_select_infer, decompose=_masked_select, accepts={"mask": BOOL}
    )
)


@public(MASKED_SELECT, methods=True)
def masked_select(input, mask):
    """The elements of `input` where `mask` is true, the two broadcast, as a 1-d tensor in
    row-major order.

        input: (N, M), mask: (N, M) or broadcastable -> (number of true elements,)"""
    _check_mask("masked_select", mask)
    return apply(MASKED_SELECT, (input, mask), {})


def _masked_scatter_infer(x, mask, source):
    return broadcast_shapes("masked_scatter", x.shape, mask.shape), x.dtype


def _masked_scatter(x, mask, source):
    from somegrad.ops.indexing import index_select

    shape = broadcast_shapes("masked_scatter", x.shape, mask.shape)
    if source.numel() == 0:  # the mask has no true element
        return ew.where(mask, x, x)
    flat_mask = mask.expand(shape).reshape(-1)
    # the k-th true element of the mask takes the k-th element of source
    taken = ew.cast(flat_mask, dtypes.int64).cumsum(0) - 1
    taken = taken.clamp(0, source.numel() - 1)
    return ew.where(mask, index_select(source.reshape(-1), 0, taken).reshape(shape), x)


MASKED_SCATTER = register(
    OpSpec(
        "masked_scatter",
        "index",
        ("x", "mask", "source"),
        _masked_scatter_infer,
        decompose=_masked_scatter,
        accepts={"mask": BOOL},
    )
)


def masked_scatter_(self, mask, source):
    """In-place `masked_scatter` (the mask broadcasts to self)."""
    return _in_place("masked_scatter_", self, lambda t: masked_scatter(t, mask, source), (source,))


@public(MASKED_SCATTER, methods=True, inplace=[("masked_scatter_", masked_scatter_)])
def masked_scatter(input, mask, source):
    """A copy of `input` (broadcast with `mask`) whose elements where `mask` is true are the
    first elements of `source`, in row-major order.

        input: (N, M), mask: (N, M) bool, source: at least mask.sum() elements -> (N, M)"""
    _check_mask("masked_scatter", mask, "only supports boolean masks")
    if source.dtype is not input.dtype:
        raise DTypeError(
            f"masked_scatter: expected self and source to have the same dtype, got {input.dtype.name} and "
            f"{source.dtype.name}"
        )
    shape = broadcast_shapes("masked_scatter", input.shape, mask.shape)
    count = int(mask.expand(shape).sum().item()) if mask.numel() else 0
    if count > source.numel():
        raise ShapeError(
            f"masked_scatter: the number of elements of source ({source.numel()}) is less than the number of "
            f"true elements in the mask ({count})"
        )
    return apply(MASKED_SCATTER, (input, mask, source), {})


# --- take_along_dim ----------------------------------------------------------------------------
def _take_along_dim_infer(x, indices, dim):
    if dim is None:
        return (indices.numel(),), x.dtype
    batch = broadcast_shapes("take_along_dim", _without(x.shape, dim), _without(indices.shape, dim))
    return batch[:dim] + (indices.shape[dim],) + batch[dim + 1 :], x.dtype


def _without(shape, dim):
    return shape[:dim] + (1,) + shape[dim + 1 :]


def _take_along_dim(x, indices, dim):
    if dim is None:
        return _gather(x.reshape(-1), indices.reshape(-1), 0)
    batch = broadcast_shapes("take_along_dim", _without(x.shape, dim), _without(indices.shape, dim))
    x = x.expand(batch[:dim] + (x.shape[dim],) + batch[dim + 1 :])
    indices = indices.expand(batch[:dim] + (indices.shape[dim],) + batch[dim + 1 :])
    return _gather(x, indices, dim)


TAKE_ALONG_DIM = register(
    OpSpec(
        "take_along_dim",
        "index",
        ("x", "indices"),
        _take_along_dim_infer,
        decompose=_take_along_dim,
        accepts={"indices": INDEX},
    )
)


@public(TAKE_ALONG_DIM, methods=True)
def take_along_dim(input, indices, dim=None):
    """The values of `input` at `indices` along `dim`, broadcasting the other dims (as
    NumPy's take_along_axis); with `dim=None`, at the flat `indices` of the flattened input.

        input: (N, M), indices: (N, k) int64, dim 1 -> (N, k)"""
    if not isinstance(indices, Tensor) or indices.dtype is not dtypes.int64:
        got = indices.dtype.name if isinstance(indices, Tensor) else type(indices).__name__
        raise DTypeError(f"take_along_dim: dtype of indices should be int64, got {got}")
    if dim is None:
        flat = input.reshape(-1)
        index = _index_tensor("take_along_dim", flat, indices.reshape(-1), 0, out_of_range=IndexOutOfRangeError)
        return apply(TAKE_ALONG_DIM, (input, index.reshape(indices.shape)), {"dim": None})
    if input.ndim != indices.ndim:
        raise ShapeError(
            f"take_along_dim: input and indices should have the same number of dimensions, got {input.ndim} "
            f"and {indices.ndim}"
        )
    dim = normalize_dim("take_along_dim", dim, input.ndim)
    if input.ndim == 0:
        return _take_along_dim(input.reshape(1), indices.reshape(1), 0).reshape(())
    indices = _index_tensor("take_along_dim", input, indices, dim, out_of_range=IndexOutOfRangeError)
    return apply(TAKE_ALONG_DIM, (input, indices), {"dim": dim})
