"""Sorting: argsort (the primitive), sort and topk built on it with gather."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, UnsupportedDTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import gather
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import REAL, OpSpec, public, register
from somegrad.tensor import ValuesIndices


def _argsort_infer(x, dim, descending, stable):
    return x.shape, dtypes.int64


ARGSORT = register(
    OpSpec("argsort", "reduce", ("x",), _argsort_infer, doc="Indices that sort x along dim (stable).", accepts=REAL)
)


@public(ARGSORT, methods=True)
def argsort(x, dim=-1, descending=False, stable=True):
    """The indices that sort `x` along `dim`; ties keep their order (stable sort)."""
    dim = normalize_dim("argsort", dim, x.ndim)
    if x.ndim == 0:
        return x.zeros_like().to(dtypes.int64)
    return apply(ARGSORT, (x,), {"dim": dim, "descending": descending, "stable": True})


def _sort_infer(x, dim, descending):
    return (x.shape, x.dtype), (x.shape, dtypes.int64)


def _sort(x, dim, descending):
    indices = argsort(x, dim, descending)
    return ValuesIndices(gather(x, dim, indices) if x.ndim else x, indices)


# Two outputs, an implicit composite: autograd goes through the gather.
SORT = register(
    OpSpec(
        "sort",
        "reduce",
        ("x",),
        _sort_infer,
        decompose=_sort,
        outputs=2,
        doc="(values, indices) sorted along dim.",
        accepts=REAL,
    )
)


@public(SORT, methods=True)
def sort(x, dim=-1, descending=False, stable=True) -> ValuesIndices:
    """`(values, indices)` of `x` sorted along `dim` (stable: ties keep their order)."""
    dim = normalize_dim("sort", dim, x.ndim)
    return apply(SORT, (x,), {"dim": dim, "descending": descending})


def _topk_infer(x, k, dim, largest):
    size = x.shape[dim] if x.ndim else 1
    if not 0 <= k <= size:
        raise ArgumentError(f"topk: k ({k}) is out of range for dimension {dim} of size {size}")
    if x.dtype is dtypes.bool_:
        raise UnsupportedDTypeError("topk: not implemented for bool tensors; convert them with .int()")
    shape = x.shape[:dim] + (k,) + x.shape[dim + 1 :] if x.ndim else ()
    return (shape, x.dtype), (shape, dtypes.int64)


def _topk(x, k, dim, largest):
    if x.ndim == 0:  # the one element and its index, for k 0 or 1 alike (as PyTorch)
        return ValuesIndices(x.clone(), argsort(x))
    indices = argsort(x, dim, descending=largest).narrow(dim, 0, k)
    return ValuesIndices(gather(x, dim, indices), indices)


TOPK = register(
    OpSpec(
        "topk",
        "reduce",
        ("x",),
        _topk_infer,
        decompose=_topk,
        outputs=2,
        doc="The k largest (or smallest) values along dim and their indices.",
        accepts=REAL,
    )
)


@public(TOPK, methods=True)
def topk(x, k, dim=-1, largest=True, sorted=True) -> ValuesIndices:
    """The `k` largest (or smallest) values along `dim` and their indices (always sorted)."""
    dim = normalize_dim("topk", dim, x.ndim)
    return apply(TOPK, (x,), {"k": k, "dim": dim, "largest": largest})
