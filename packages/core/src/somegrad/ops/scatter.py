"""Writing into a tensor by index: scatter, scatter_reduce, index_add, index_copy, index_fill,
index_reduce, index_put, put (and take, its read; by mask, and reading along a dim: `somegrad.ops.masked`).

`scatter` and `scatter_reduce` are primitives (their kernels are in
`somegrad.backends.array_api_scatter`); the others compose them, `scatter_add`, `gather` and
indexing, so autograd sees through them. Every function checks its arguments as PyTorch does,
with PyTorch's exception classes, before anything runs; each has the Tensor method and the
in-place variant that PyTorch has (`x.scatter_(1, index, src)`).
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.creation import full_like, zeros, zeros_like
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import (
    GATHER,
    INDEX_PUT,
    SCATTER_ADD,
    _index_tensor,
    _pad_to,
    check_fits,
    normalize_key,
    put_at_keys,
    setitem,
)
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import INDEX, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = [
    "scatter",
    "scatter_reduce",
    "index_add",
    "index_copy",
    "index_fill",
    "index_reduce",
    "index_put",
    "take",
    "put",
]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _in_place(op, target, compute, others):
    from somegrad.ops.inplace import inplace

    return inplace(target, compute, op, [t for t in others if isinstance(t, Tensor)])


def _gather(t, index, dim):
    return apply(GATHER, (t, index), {"dim": dim})


def _scatter_add(t, index, src, dim):
    return apply(SCATTER_ADD, (t, index, src), {"dim": dim})


def _scatter_value(t, index, value, dim):
    """`t.scatter(dim, index, value)` for a number, at the kernel level (t of at least one dim)."""
    return apply(SCATTER, (t, index, ew.scalar_tensor(value, t.dtype, t.device).expand(index.shape)), {"dim": dim})


def _check_scatter_shapes(op, x, index, src, dim):
    """PyTorch's rule: index, self and src have as many dims, and index is no larger than src,
    nor than self apart from dimension `dim`."""
    if index.ndim != x.ndim:
        raise ShapeError(
            f"{op}: index tensor must have the same number of dimensions as self tensor, got index of shape "
            f"{tuple(index.shape)} for self of shape {tuple(x.shape)}"
        )
    if src.ndim != index.ndim:
        raise ShapeError(
            f"{op}: index tensor must have the same number of dimensions as src tensor, got index of shape "
            f"{tuple(index.shape)} for src of shape {tuple(src.shape)}"
        )
    for d in range(x.ndim):
        if index.shape[d] > src.shape[d] or (d != dim and index.shape[d] > x.shape[d]):
            raise ShapeError(
                f"{op}: expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart from "
                f"dimension {dim} and to be no larger size than src {list(src.shape)}"
            )
    if src.dtype is not x.dtype:
        raise DTypeError(f"{op}: expected self.dtype to be equal to src.dtype, got {x.dtype.name} and {src.dtype.name}")


def _at_least_1d(fn, x, index, src, **params):
    """The kernels take arrays of at least one dimension: run a 0-d call as 1-d."""
    if x.ndim == 0 and index.ndim == 0 and src.ndim == 0:
        return fn(x.reshape(1), index.reshape(1), src.reshape(1), **params).reshape(())
    return fn(x, index, src, **params)


def _src_operand(op, x, index, src):
    """src as a tensor: a Python number becomes x's dtype, expanded to index's shape."""
    if isinstance(src, Tensor):
        return src
    number = dtypes.python_number(src)
    if number is None:
        raise TypeError(f"{op}: expected a Tensor or a number as src (value), got {type(src).__name__}")
    return ew.scalar_tensor(number, x.dtype, x.device).expand(index.shape)


# --- scatter -----------------------------------------------------------------------------------
def _scatter_infer(x, index, src, dim):
    _check_scatter_shapes("scatter", x, index, src, dim)
    return x.shape, x.dtype


def _scatter_backward(g, index, src, dim, needs_input_grad):
    # self keeps its gradient where nothing was written; src gets it where it was written
    grad_x = _scatter_value(g, index, 0, dim) if needs_input_grad[0] else None
    grad_src = _pad_to(_gather(g, index, dim), src.shape) if needs_input_grad[2] else None
    return grad_x, None, grad_src


SCATTER = register(
    OpSpec("scatter", "index", ("x", "index", "src"), _scatter_infer, _scatter_backward, accepts={"index": INDEX})
)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    """In-place `scatter`."""
    return _in_place("scatter_", self, lambda t: scatter(t, dim, index, src, value=value, reduce=reduce), (src,))


@public(SCATTER, methods=True, inplace=[("scatter_", scatter_)])
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of `input` with `src` written at `index` along `dim`: for dim 1,
    `out[i][index[i][j]] = src[i][j]`. `src` may be a number (`value=`, written everywhere
    `index` points). `reduce="add"` or `"multiply"` combines instead of writing (PyTorch's
    deprecated form of `scatter_reduce`). Of repeated indices one write wins, unspecified which.

        input: (N, M), index: (n, m) int64 with n <= N, src: at least (n, m) -> (N, M)"""
    if (src is None) == (value is None):
        raise TypeError("scatter: expected exactly one of src (a Tensor) and value (a number)")
    dim = normalize_dim("scatter", dim, input.ndim)
    index = _index_tensor("scatter", input, index, dim)
    src = _src_operand("scatter", input, index, src if value is None else value)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ArgumentError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    return _at_least_1d(lambda x, i, s: apply(SCATTER, (x, i, s), {"dim": dim}), input, index, src)


# --- scatter_reduce ----------------------------------------------------------------------------
def _scatter_reduce_infer(x, index, src, dim, reduce, include_self):
    _check_scatter_shapes("scatter_reduce", x, index, src, dim)
    return x.shape, x.dtype


def _scatter_reduce_backward(g, x, index, src, out, dim, reduce, include_self):
    # PyTorch's gradients: amax/amin share it evenly among the elements equal to the result
    # (self's included), prod divides the result by each factor, computed without the division
    # where one factor is zero.
    params = {"dim": dim, "reduce": reduce, "include_self": include_self}
    src_shape = src.shape
    src = src[tuple(slice(0, s) for s in index.shape)]
    if reduce == "sum":
        grad_x, grad_src = g, _gather(g, index, dim)
    elif reduce == "mean":
        count = full_like(g, 1.0 if include_self else 0.0)
        count = _scatter_add(count, index, full_like(src, 1.0), dim)
        count = count.where(count != 0, 1.0)
        grad_x, grad_src = g / count, _gather(g, index, dim) / _gather(count, index, dim)
    elif reduce == "prod":
        x_nonzero = x.where(x != 0, 1.0)
        grad_x = g * apply(SCATTER_REDUCE, (x_nonzero, index, src), params) / x_nonzero
        src_zero = src == 0
        zeros_there = _gather(_scatter_add(zeros_like(x), index, ew.cast(src_zero, x.dtype), dim), index, dim)
        single_zero = src_zero & (zeros_there == 1)
        without_it = apply(SCATTER_REDUCE, (x, index, src.where(~single_zero, 1.0)), params)
        grad_src = ew.where(
            single_zero,
            _gather(g * without_it, index, dim),
            _gather(g * out, index, dim) / src.where(~src_zero, 1.0),
        )
    else:  # amax, amin
        x_is = ew.cast(x == out, g.dtype)
        src_is = ew.cast(src == _gather(out, index, dim), g.dtype)
        shared = g / _scatter_add(x_is, index, src_is, dim)
        grad_x, grad_src = x_is * shared, src_is * _gather(shared, index, dim)
    if not include_self:
        grad_x = _scatter_value(grad_x, index, 0, dim)
    return grad_x, None, _pad_to(grad_src, src_shape)


SCATTER_REDUCE = register(
    OpSpec(
        "scatter_reduce",
        "index",
        ("x", "index", "src"),
        _scatter_reduce_infer,
        _scatter_reduce_backward,
        accepts={"index": INDEX},
    )
)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place `scatter_reduce`."""
    return _in_place(
        "scatter_reduce_", self, lambda t: scatter_reduce(t, dim, index, src, reduce, include_self=include_self), (src,)
    )


@public(SCATTER_REDUCE, methods=True, inplace=[("scatter_reduce_", scatter_reduce_)])
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """A copy of `input` where each element that `index` points to along `dim` is reduced
    ("sum", "prod", "mean", "amax" or "amin") with the src elements sent there, and with its
    own value unless `include_self=False`. The mean of integers rounds down, as in PyTorch.

        input: (N, M), index: (n, m) int64, src: at least (n, m) -> (N, M)"""
    if reduce not in _REDUCTIONS:
        raise ArgumentError(
            f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    dim = normalize_dim("scatter_reduce", dim, input.ndim)
    index = _index_tensor("scatter_reduce", input, index, dim)
    params = {"dim": dim, "reduce": reduce, "include_self": bool(include_self)}
    return _at_least_1d(lambda x, i, s: apply(SCATTER_REDUCE, (x, i, s), params), input, index, src)


# --- index_add / index_copy / index_fill ------------------------------------------------------
def _check_index_source(op, x, index, source, dim, count_error=ShapeError):
    if index.ndim > 1:
        raise IndexError(f"{op}: index is supposed to be a vector, got shape {tuple(index.shape)}")
    if source.dtype is not x.dtype:
        raise DTypeError(f"{op}: self ({x.dtype.name}) and source ({source.dtype.name}) must have the same dtype")
    if max(source.ndim, 1) != max(x.ndim, 1) or any(
        s != t for d, (s, t) in enumerate(zip(x.shape, source.shape)) if d != dim
    ):
        raise ShapeError(
            f"{op}: source tensor shape must match self tensor shape, excluding the specified dimension; "
            f"got self.shape = {list(x.shape)} source.shape = {list(source.shape)}"
        )
    along = source.shape[dim] if source.ndim else 1
    if index.numel() != along:
        raise count_error(
            f"{op}: number of indices ({index.numel()}) should be equal to source.size(dim) ({along}), for dim {dim}"
        )


def _along(index, like, dim):
    """The 1-d `index` as a gather/scatter index of `like`'s shape, the same along every other dim."""
    shape = [1] * like.ndim
    shape[dim] = -1
    return index.reshape(shape).expand(like.shape)


def _rows_infer(x, index, source, dim, **params):
    return x.shape, x.dtype


def _index_add(x, index, source, dim, alpha):
    if x.ndim == 0:
        return _index_add(x.reshape(1), index.reshape(1), source.reshape(1), 0, alpha).reshape(())
    if x.dtype is dtypes.bool_:  # adding bools is or-ing them
        return _index_add(ew.cast(x, dtypes.int64), index, ew.cast(source, dtypes.int64), dim, 1) != 0
    if alpha != 1:
        source = source * alpha
    return _scatter_add(x, _along(index.reshape(-1), source, dim), source, dim)


INDEX_ADD = register(
    OpSpec("index_add", "index", ("x", "index", "source"), _rows_infer, decompose=_index_add, accepts={"index": INDEX})
)


def _integer_index(op, x, index, dim, allowed=(dtypes.int32, dtypes.int64), error=DTypeError, wrap=False):
    """`index` as an in-range int64 tensor for dimension `dim` of x (negative ones wrapped if `wrap`)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a Tensor, got {type(index).__name__}")
    if index.dtype not in allowed:
        names = "/".join(d.name for d in allowed)
        raise error(f"{op}: expected dtype {names} for index, got {index.dtype.name}")
    size = x.shape[dim] if x.ndim else 1
    low = int(index.min().item()) if wrap and index.numel() else 0
    if low < 0:
        if low < -size:
            raise IndexError(f"{op}: index {low} is out of bounds for dimension {dim} with size {size}")
        index = ew.where(index < 0, index + size, index)
    return _index_tensor(op, x, index, dim, out_of_range=IndexOutOfRangeError)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place `index_add`."""
    return _in_place("index_add_", self, lambda t: index_add(t, dim, index, source, alpha=alpha), (source,))


@public(INDEX_ADD, methods=True, inplace=[("index_add_", index_add_)])
def index_add(input, dim, index, source, *, alpha=1):
    """A copy of `input` with `alpha * source[k]` added to the slice `index[k]` along `dim`
    (repeated indices add up). Index int32 or int64.

        input: (N, M), dim 0, index: (k,), source: (k, M) -> (N, M)"""
    dim = normalize_dim("index_add", dim, input.ndim)
    index = _integer_index("index_add", input, index, dim)
    _check_index_source("index_add", input, index, source, dim)
    if not input.dtype.is_floating_point:
        alpha = int(alpha)  # PyTorch truncates a float alpha for integer tensors
    return apply(INDEX_ADD, (input, index, source), {"dim": dim, "alpha": alpha})


def _index_copy(x, index, source, dim):
    if x.ndim == 0:
        return _index_copy(x.reshape(1), index.reshape(1), source.reshape(1), 0).reshape(())
    return apply(SCATTER, (x, _along(index.reshape(-1), source, dim), source), {"dim": dim})


INDEX_COPY = register(
    OpSpec(
        "index_copy", "index", ("x", "index", "source"), _rows_infer, decompose=_index_copy, accepts={"index": INDEX}
    )
)


def index_copy_(self, dim, index, source):
    """In-place `index_copy`."""
    return _in_place("index_copy_", self, lambda t: index_copy(t, dim, index, source), (source,))


@public(INDEX_COPY, methods=True, inplace=[("index_copy_", index_copy_)])
def index_copy(input, dim, index, source):
    """A copy of `input` with the slice `index[k]` along `dim` replaced by `source[k]`. Index int64.

    input: (N, M), dim 0, index: (k,), source: (k, M) -> (N, M)"""
    dim = normalize_dim("index_copy", dim, input.ndim)
    index = _integer_index("index_copy", input, index, dim, allowed=(dtypes.int64,))
    _check_index_source("index_copy", input, index, source, dim, count_error=IndexError)
    return apply(INDEX_COPY, (input, index, source), {"dim": dim})


def _index_fill(x, index, value, dim):
    if x.ndim == 0:
        return _index_fill(x.reshape(1), index.reshape(1), value, 0).reshape(())
    size = x.shape[dim]
    chosen = _scatter_value(zeros(size, dtype=dtypes.bool_, device=x.device), index.reshape(-1), True, 0)
    shape = [1] * x.ndim
    shape[dim] = size
    return ew.where(chosen.reshape(shape), value, x)


def _index_fill_infer(x, index, value, dim):
    return x.shape, x.dtype


INDEX_FILL = register(
    OpSpec(
        "index_fill",
        "index",
        ("x", "index", "value"),
        _index_fill_infer,
        decompose=_index_fill,
        accepts={"index": INDEX},
    )
)


def index_fill_(self, dim, index, value):
    """In-place `index_fill`."""
    return _in_place("index_fill_", self, lambda t: index_fill(t, dim, index, value), (value,))


@public(INDEX_FILL, methods=True, inplace=[("index_fill_", index_fill_)])
def index_fill(input, dim, index, value):
    """A copy of `input` with `value` (a number or a 0-d tensor, which gets the gradient) in
    the slices `index` along `dim`; negative indices count from the end. Index int64.

        input: (N, M), dim 1, index: (k,) -> (N, M)"""
    dim = normalize_dim("index_fill", dim, input.ndim)
    if isinstance(index, Tensor) and index.ndim > 1:
        raise ShapeError(f"index_fill: index has to be a vector or a scalar, got shape {tuple(index.shape)}")
    index = _integer_index("index_fill", input, index, dim, allowed=(dtypes.int64,), error=IndexError, wrap=True)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ArgumentError(
                f"index_fill: only supports a 0-dimensional value tensor, got one of shape {tuple(value.shape)}"
            )
        value = ew.cast(value, input.dtype)
    else:
        number = dtypes.python_number(value)
        if number is None:
            raise TypeError(f"index_fill: value must be a number or a 0-d Tensor, got {type(value).__name__}")
        value = ew.scalar_tensor(number, input.dtype, input.device)
    return apply(INDEX_FILL, (input, index, value), {"dim": dim})


def _index_reduce(x, index, source, dim, reduce, include_self):
    if x.ndim == 0:
        return _index_reduce(x.reshape(1), index.reshape(1), source.reshape(1), 0, reduce, include_self).reshape(())
    params = {"dim": dim, "reduce": reduce, "include_self": include_self}
    return apply(SCATTER_REDUCE, (x, _along(index.reshape(-1), source, dim), source), params)


INDEX_REDUCE = register(
    OpSpec(
        "index_reduce",
        "index",
        ("x", "index", "source"),
        _rows_infer,
        decompose=_index_reduce,
        accepts={"index": INDEX},
    )
)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """In-place `index_reduce`."""
    return _in_place(
        "index_reduce_",
        self,
        lambda t: index_reduce(t, dim, index, source, reduce, include_self=include_self),
        (source,),
    )


@public(INDEX_REDUCE, methods=True, inplace=[("index_reduce_", index_reduce_)])
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """A copy of `input` whose slice `index[k]` along `dim` is reduced ("prod", "mean", "amax"
    or "amin") with `source[k]`, and with its own value unless `include_self=False`: the
    `scatter_reduce` of whole slices. Index int32 or int64.

        input: (N, M), dim 0, index: (k,), source: (k, M) -> (N, M)"""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ArgumentError(f"index_reduce: expected reduce to be one of prod, mean, amax or amin but got {reduce}")
    dim = normalize_dim("index_reduce", dim, input.ndim)
    if not isinstance(index, Tensor) or index.dtype not in (dtypes.int32, dtypes.int64):
        got = index.dtype.name if isinstance(index, Tensor) else type(index).__name__
        raise DTypeError(f"index_reduce: expected dtype int32/int64 for index, got {got}")
    size = input.shape[dim] if input.ndim else 1
    if index.numel() and not (0 <= int(index.min().item()) and int(index.max().item()) < size):
        raise IndexError(f"index_reduce: index out of range in self (dimension {dim} of size {size})")
    index = ew.cast(index, dtypes.int64)
    _check_index_source("index_reduce", input, index, source, dim)
    return apply(
        INDEX_REDUCE, (input, index, source), {"dim": dim, "reduce": reduce, "include_self": bool(include_self)}
    )


# --- take / put: flat indices --------------------------------------------------------------
def _flat_index(op, x, index):
    """`index` into the flattened x as in-range int64 (negative ones count from the end)."""
    if not isinstance(index, Tensor) or index.dtype is not dtypes.int64:
        got = index.dtype.name if isinstance(index, Tensor) else type(index).__name__
        raise DTypeError(f"{op}: expected a long tensor for index, but got {got}")
    size = x.numel()
    if index.numel():
        low, high = int(index.min().item()), int(index.max().item())
        if low < -size or high >= size:
            bad = high if high >= size else low
            raise IndexError(f"{op}: out of range: tried to access index {bad} on a tensor of {size} elements")
        if low < 0:
            index = ew.where(index < 0, index + size, index)
    return index


def _take_infer(x, index):
    return index.shape, x.dtype


def _take(x, index):
    return _gather(x.reshape(-1), index.reshape(-1), 0).reshape(index.shape)


TAKE = register(OpSpec("take", "index", ("x", "index"), _take_infer, decompose=_take, accepts={"index": INDEX}))


@public(TAKE, methods=True)
def take(input, index):
    """The elements of the flattened `input` at `index` (int64; negative counts from the end),
    in index's shape.

        input: (N, M), index: (k, l) -> (k, l)"""
    return apply(TAKE, (input, _flat_index("take", input, index)), {})


def _put_infer(x, index, source, accumulate):
    return x.shape, x.dtype


def _put(x, index, source, accumulate):
    flat, index, source = x.reshape(-1), index.reshape(-1), source.reshape(-1)
    written = _scatter_add(flat, index, source, 0) if accumulate else apply(SCATTER, (flat, index, source), {"dim": 0})
    return written.reshape(x.shape)


PUT = register(OpSpec("put", "index", ("x", "index", "source"), _put_infer, decompose=_put, accepts={"index": INDEX}))


def put_(self, index, source, accumulate=False):
    """In-place `put`."""
    return _in_place("put_", self, lambda t: put(t, index, source, accumulate), (source,))


@public(PUT, methods=True, inplace=[("put_", put_)])
def put(input, index, source, accumulate=False):
    """A copy of `input` with the elements of `source` written at the flat positions `index`
    (int64; negative counts from the end) of the flattened input, or added there with
    `accumulate=True` (repeated indices adding up).

        input: (N, M), index: (k,), source: (k,) -> (N, M)"""
    index = _flat_index("put", input, index)
    if source.dtype is not input.dtype:
        raise DTypeError(
            f"put: self and source expected to have the same dtype, got {input.dtype.name} and {source.dtype.name}"
        )
    if source.numel() != index.numel():
        raise IndexError(
            f"put: expected source and index to have the same number of elements, but got source.numel() = "
            f"{source.numel()}, index.numel() = {index.numel()}"
        )
    return apply(PUT, (input, index, source), {"accumulate": bool(accumulate)})


# --- index_put ---------------------------------------------------------------------------------
def _index_keys(op, x, indices, values):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: indices must be a tuple of Tensors, got {type(indices).__name__}")
    for position, k in enumerate(indices):
        if not isinstance(k, Tensor):
            raise TypeError(f"{op}: expected a Tensor as element {position} of indices, got {type(k).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"{op}: values must be a Tensor, got {type(values).__name__}")
    if values.dtype is not x.dtype:
        raise DTypeError(
            f"{op}: index put requires the source and destination dtypes match, got {x.dtype.name} for the "
            f"destination and {values.dtype.name} for the source"
        )
    basic, advanced = normalize_key(x, tuple(indices))
    check_fits(op, x, basic, advanced, values)
    return basic, advanced


def index_put_(self, indices, values, accumulate=False):
    """In-place `index_put`: `x.index_put_((rows, cols), v)` is `x[rows, cols] = v` (or `+=`,
    repeated indices adding up, with `accumulate=True`)."""
    basic, advanced = _index_keys("index_put_", self, indices, values)
    return _in_place("index_put_", self, lambda t: put_at_keys(t, basic, advanced, values, accumulate), (values,))


# INDEX_PUT, the op of `x[key] = value`, is declared in `somegrad.ops.indexing`; its public
# surface is here, with `Tensor.__setitem__` beside PyTorch's function.
@public(INDEX_PUT, methods=("index_put", ("__setitem__", setitem)), inplace=[("index_put_", index_put_)])
def index_put(input, indices, values, accumulate=False):
    """A copy of `input` with `values` at `input[indices]`, `indices` a tuple of int64/int32 or
    bool tensors (one per leading dim, as in advanced indexing); `accumulate=True` adds them
    there instead, repeated indices adding up.

        input: (N, M), indices: ((k,), (k,)), values: broadcast to (k,) -> (N, M)"""
    basic, advanced = _index_keys("index_put", input, indices, values)
    return put_at_keys(input, basic, advanced, values, accumulate)


# masked_select, masked_scatter and take_along_dim: declared with the index writes they build on
from somegrad.ops import masked  # noqa: E402, F401
