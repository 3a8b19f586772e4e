"""Searching, counting and set ops: unique, unique_consecutive, searchsorted, bucketize, bincount,
histc, count_nonzero, isin, isreal, kthvalue, msort; and the top-level Tensor queries
(is_floating_point, is_nonzero, is_same_size, ...).

Each op is an implicit composite over sort (argsort and gather), cumsum, nonzero and the
scatters: vectorised, with no loop over elements. The ops whose output size depends on the
values (unique, bincount) declare a data-dependent shape (None), as nonzero does.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError, UnsupportedDTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import INTEGERS, REAL, OpSpec, public, register
from somegrad.tensor import Tensor, ValuesIndices

_NOT_BOOL = frozenset(d for d in REAL if d is not dtypes.bool_)


def _sg():
    import somegrad

    return somegrad


def _ops():
    from somegrad import ops

    return ops


def _composite(name, inputs, infer, decompose, outputs=1, accepts=None, kind="reduce"):
    return register(OpSpec(name, kind, inputs, infer, decompose=decompose, outputs=outputs, accepts=accepts))


# --- unique and unique_consecutive ----------------------------------------------------------------
def _rows(x, dim):
    """`x` with `dim` moved first and the other dims flattened: (n, m) rows to compare whole."""
    moved = x.movedim(dim, 0)
    width = 1
    for size in moved.shape[1:]:
        width *= size
    return moved.reshape(moved.shape[0], width), moved.shape


def _lexsort_rows(rows):
    """The permutation that sorts the rows of `rows` (n, m) lexicographically: stable argsorts
    from the last column to the first (a loop over columns, not elements)."""
    ops = _ops()
    order = ops.arange(rows.shape[0], device=rows.device)
    for c in range(rows.shape[1] - 1, -1, -1):
        order = order[ops.argsort(rows[:, c][order], stable=True)]
    return order


def _groups(keys, rows):
    """For `keys` in order (1-d, or (n, m) rows): the group starts mask (a new value begins)."""
    ops = _ops()
    n = keys.shape[0]
    if n == 0:
        return ops.zeros(0, dtype=dtypes.bool_, device=keys.device)
    differs = keys[1:] != keys[:-1]
    if rows:
        differs = differs.any(dim=1) if keys.shape[1] else ops.zeros(n - 1, dtype=dtypes.bool_, device=keys.device)
    first = ops.ones(1, dtype=dtypes.bool_, device=keys.device)
    return ops.cat([first, differs])


def _unique_impl(x, dim, sort, return_inverse, return_counts):
    ops = _ops()
    if dim is None:
        keys, shape = x.reshape(-1), None
    else:
        keys, shape = _rows(x, dim)
    n = keys.shape[0]
    order = None
    if sort and n:
        ordered = keys.to(dtypes.uint8) if keys.dtype is dtypes.bool_ else keys  # not every backend sorts bools
        order = ops.argsort(ordered, stable=True) if dim is None else _lexsort_rows(ordered)
        keys = keys[order]
    starts = _groups(keys, dim is not None)
    where = ops.nonzero(starts).reshape(-1)
    values = keys[where]
    if dim is not None:
        values = values.reshape((values.shape[0],) + tuple(shape[1:])).movedim(0, dim)
    out = [values]
    if return_inverse:
        group = ops.cumsum(starts.to(dtypes.int64), 0) - 1
        if order is not None:
            # the group of each element in its original place: a write through the permutation
            # (cheaper than a scatter, which must allow repeated indices)
            placed = ops.zeros(n, dtype=dtypes.int64, device=x.device)
            placed[order] = group
            group = placed
        out.append(group.reshape(x.shape) if dim is None else group)
    if return_counts:
        ends = ops.cat([where[1:], ops.full((1,), n, dtype=dtypes.int64, device=x.device)]) if n else where
        out.append(ends - where)
    return tuple(out)


def _unique_infer(x, dim, sort, return_inverse, return_counts):
    metas = [(None, x.dtype)]
    if return_inverse:
        metas.append((x.shape if dim is None else (x.shape[dim],), dtypes.int64))
    if return_counts:
        metas.append((None, dtypes.int64))
    return tuple(metas)


UNIQUE = _composite("unique", ("input",), _unique_infer, _unique_impl, outputs=None, accepts=REAL)


def _unique_dim(op, x, dim):
    """`dim` normalized, with PyTorch's refusals of 0-d inputs and of size-0 dims not selected."""
    if dim is None:
        return None
    if x.ndim == 0:
        raise IndexError(f"{op}: dim {dim} given for a 0-d tensor")
    dim = normalize_dim(op, dim, x.ndim)
    empty = [d for d, size in enumerate(x.shape) if size == 0]
    if len(empty) > 1:
        raise ArgumentError(f"{op}: Number of zero sized dimensions is more than one, so unique cannot be applied")
    if empty and empty[0] != dim:
        raise ArgumentError(
            f"{op}: There are 0 sized dimensions, and they aren't selected, so unique cannot be applied "
            f"(shape {tuple(x.shape)}, dim {dim})"
        )
    return dim


def _unique_result(x, dim, sort, return_inverse, return_counts):
    dim = _unique_dim("unique", x, dim)
    params = {"dim": dim, "sort": sort, "return_inverse": bool(return_inverse), "return_counts": bool(return_counts)}
    out = apply(UNIQUE, (x,), params)
    return out[0] if len(out) == 1 else tuple(out)


@public(UNIQUE, methods=True)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements of `input` (flattened, dim=None) or its unique slices along `dim`, in
    ascending order; with `return_inverse`, where each element (slice) went (input's shape, or
    (size of dim,)), with `return_counts`, how often each occurs. (7,) [3, 1, 3, 2, ...] -> (k,)."""
    # `sorted=False` sorts too: PyTorch allows it ("may still sort")
    return _unique_result(input, dim, True, return_inverse, return_counts)


UNIQUE_CONSECUTIVE = _composite(
    "unique_consecutive", ("input",), _unique_infer, _unique_impl, outputs=None, accepts=REAL
)


@public(UNIQUE_CONSECUTIVE, methods=True)
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (slices along `dim`) kept once: [1, 1, 2, 1] -> [1, 2, 1];
    `return_inverse` and `return_counts` as `unique`."""
    dim = _unique_dim("unique_consecutive", input, dim)
    params = {"dim": dim, "sort": False, "return_inverse": bool(return_inverse), "return_counts": bool(return_counts)}
    out = apply(UNIQUE_CONSECUTIVE, (input,), params)
    return out[0] if len(out) == 1 else tuple(out)


# --- searchsorted and bucketize ------------------------------------------------------------------
def _searchsorted_infer(sorted_sequence, values, right, out_int32):
    return values.shape, dtypes.int32 if out_int32 else dtypes.int64


def _searchsorted(sorted_sequence, values, right, out_int32):
    """Sort-based: each value's index is how many boundaries sort before it when boundaries and
    values are sorted together, values first among equals (left) or last (right)."""
    ops = _ops()
    shape = values.shape
    if sorted_sequence.ndim == 1:
        seq, vals = sorted_sequence.reshape(1, -1), values.reshape(1, -1)
    else:
        seq, vals = sorted_sequence.reshape(-1, sorted_sequence.shape[-1]), values.reshape(-1, shape[-1])
    n, m = seq.shape[-1], vals.shape[-1]
    joined = ops.cat([seq, vals] if right else [vals, seq], dim=1)
    order = ops.argsort(joined, dim=1, stable=True)
    is_value = (order >= n) if right else (order < m)
    boundaries_before = ops.cumsum((~is_value).to(dtypes.int64), 1)
    # a value's slot in `order`: the inverse permutation (a write through it, row by row of the
    # flattened rows), read at the value's own position
    rows, width = order.shape
    offsets = ops.arange(rows, device=order.device).reshape(rows, 1) * width
    inverse = ops.zeros(rows * width, dtype=dtypes.int64, device=order.device)
    inverse[(order + offsets).reshape(-1)] = ops.arange(rows * width, device=order.device)
    inverse = inverse.reshape(rows, width) - offsets
    slots = inverse[:, n:] if right else inverse[:, :m]
    index = ops.gather(boundaries_before, 1, slots).reshape(shape)
    return index.to(dtypes.int32) if out_int32 else index


SEARCHSORTED = _composite(
    "searchsorted", ("sorted_sequence", "values"), _searchsorted_infer, _searchsorted, accepts=_NOT_BOOL
)


def _check_ordered(op, t):
    if t.dtype is dtypes.bool_ or t.dtype.is_complex:
        raise UnsupportedDTypeError(f"\"{op}\" not implemented for '{t.dtype.name}'")


@public(SEARCHSORTED)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value of `input`, the index in the last dim of `sorted_sequence` where it would be
    inserted to keep the order: the first such (left) or the last (`right=True` or `side="right"`).
    `sorted_sequence` (n,) with any `input`, or (..., n) with `input` (..., m) of the same leading dims;
    `sorter`: the indices that sort an unsorted sequence. A number gives a 0-d result."""
    sg = _sg()
    if side is not None:
        if side not in ("left", "right"):
            raise ArgumentError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise ArgumentError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    if not isinstance(input, Tensor):
        input = sg.tensor(input, dtype=sorted_sequence.dtype, device=sorted_sequence.device)
    for t in (sorted_sequence, input):
        _check_ordered("searchsorted", t)
    if sorted_sequence.ndim == 0:
        raise ShapeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions")
    if sorted_sequence.ndim > 1 and (
        input.ndim != sorted_sequence.ndim or input.shape[:-1] != sorted_sequence.shape[:-1]
    ):
        raise ShapeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
            f"tensor and input value tensor must match, but we got boundaries tensor {list(sorted_sequence.shape)} "
            f"and input value tensor {list(input.shape)}"
        )
    if sorter is not None:
        if sorter.dtype is not dtypes.int64 or sorter.shape != sorted_sequence.shape:
            raise ArgumentError(
                "torch.searchsorted(): sorter must be an int64 tensor of the boundaries' shape, got "
                f"{sorter.dtype.name} {list(sorter.shape)} for {list(sorted_sequence.shape)}"
            )
        sorted_sequence = sg.gather(sorted_sequence, -1, sorter)
    common = dtypes.promote_types(sorted_sequence.dtype, input.dtype)
    return apply(
        SEARCHSORTED,
        (sorted_sequence.to(common), input.to(common)),
        {"right": bool(right), "out_int32": bool(out_int32)},
    )


BUCKETIZE = _composite(
    "bucketize",
    ("input", "boundaries"),
    lambda x, b, right, out_int32: (x.shape, dtypes.int32 if out_int32 else dtypes.int64),
    lambda x, b, right, out_int32: _searchsorted(b, x, right, out_int32),
    accepts=_NOT_BOOL,
)


@public(BUCKETIZE)
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of `input` among the 1-d ascending `boundaries`: i with
    boundaries[i-1] < x <= boundaries[i] (`right=True`: boundaries[i-1] <= x < boundaries[i])."""
    sg = _sg()
    if not isinstance(input, Tensor):
        input = sg.tensor(input, dtype=boundaries.dtype, device=boundaries.device)
    for t in (input, boundaries):
        _check_ordered("bucketize", t)
    if boundaries.ndim != 1:
        raise ShapeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    common = dtypes.promote_types(boundaries.dtype, input.dtype)
    return apply(
        BUCKETIZE, (input.to(common), boundaries.to(common)), {"right": bool(right), "out_int32": bool(out_int32)}
    )


# --- bincount, histc, count_nonzero --------------------------------------------------------------
def _bincount_dtype(weights):
    if weights is None:
        return dtypes.int64
    return dtypes.float32 if weights.dtype is dtypes.float32 else dtypes.float64


def _bincount_infer(input, *weights, minlength):
    return None, _bincount_dtype(weights[0] if weights else None)


def _bincount(input, *weights, minlength):
    ops = _ops()
    length = max(int(input.max().item()) + 1 if input.shape[0] else 0, minlength)
    dtype = _bincount_dtype(weights[0] if weights else None)
    source = weights[0].to(dtype) if weights else ops.ones(input.shape[0], dtype=dtype, device=input.device)
    return ops.zeros(length, dtype=dtype, device=input.device).scatter_add(0, input.to(dtypes.int64), source)


BINCOUNT = _composite("bincount", ("input", "*weights"), _bincount_infer, _bincount, kind="index")


@public(BINCOUNT, methods=True)
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., max(input) occurs in the 1-d non-negative integer `input`
    (at least `minlength` bins); with `weights` (same length), the sum of each value's weights
    (float32 for float32 weights, else float64). (n,) -> (max(max(input) + 1, minlength),)."""
    if input.dtype not in INTEGERS and input.dtype is not dtypes.bool_:
        raise UnsupportedDTypeError(f"\"bincount_cpu\" not implemented for '{input.dtype.name}'")
    if input.ndim != 1 or (input.shape[0] and int(input.min().item()) < 0):
        raise ArgumentError("bincount only supports 1-d non-negative integral inputs.")
    if int(minlength) < 0:
        raise ArgumentError("minlength should be >= 0")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise ShapeError("weights should be 1-d and have the same length as input")
    inputs = (input,) if weights is None else (input, weights)
    return apply(BINCOUNT, inputs, {"minlength": int(minlength)})


def _histc(x, bins, min, max):
    ops = _ops()
    flat = x.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and flat.shape[0]:
        lo, hi = float(flat.min().item()), float(flat.max().item())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = (flat >= lo) & (flat <= hi)
    kept = flat[inside].to(dtypes.float64)
    index = ((kept - lo) * (bins / (hi - lo))).floor().to(dtypes.int64).clamp(0, bins - 1)
    ones = ops.ones(index.shape[0], dtype=x.dtype, device=x.device)
    return ops.zeros(bins, dtype=x.dtype, device=x.device).scatter_add(0, index, ones)


HISTC = _composite("histc", ("input",), lambda x, bins, min, max: ((bins,), x.dtype), _histc, kind="index")


@public(HISTC, methods=True)
def histc(input, bins=100, min=0, max=0):
    """The histogram of `input` (any shape, floating): `bins` equal-width bins over [min, max]
    (the data's own range where min == max); elements outside are ignored. -> (bins,)."""
    if input.dtype.kind != "float":
        raise UnsupportedDTypeError(f"\"histogram_cpu\" not implemented for '{input.dtype.name}'")
    if int(bins) <= 0:
        raise ArgumentError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise ArgumentError("torch.histc: max must be larger than min")
    return apply(HISTC, (input,), {"bins": int(bins), "min": min, "max": max})


def _count_dims(x, dim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(normalize_dim("count_nonzero", d, x.ndim) for d in dims) if x.ndim else ()


def _count_nonzero_infer(x, dim):
    if dim is None:
        return (), dtypes.int64
    return tuple(s for d, s in enumerate(x.shape) if d not in dim), dtypes.int64


COUNT_NONZERO = _composite(
    "count_nonzero",
    ("input",),
    _count_nonzero_infer,
    lambda x, dim: (x != 0).to(dtypes.int64).sum(dim=dim if dim else None) if dim != () else (x != 0).to(dtypes.int64),
)


@public(COUNT_NONZERO, methods=True)
def count_nonzero(input, dim=None):
    """How many elements are nonzero, over `dim` (an int or a tuple) or all: (A, B) dim=1 -> (A,) int64."""
    return apply(COUNT_NONZERO, (input,), {"dim": _count_dims(input, dim)})


# --- isin, isreal --------------------------------------------------------------------------------
def _isin(elements, test_elements, invert):
    ops = _ops()
    test = ops.sort(test_elements.reshape(-1)).values
    if test.shape[0] == 0:
        found = ops.zeros(elements.shape, dtype=dtypes.bool_, device=elements.device)
    else:
        index = _searchsorted(test, elements, False, False).clamp(max=test.shape[0] - 1)
        found = test[index.reshape(-1)].reshape(elements.shape) == elements
    return ~found if invert else found


ISIN = _composite(
    "isin",
    ("elements", "test_elements"),
    lambda e, t, invert: (e.shape, dtypes.bool_),
    _isin,
    accepts=REAL,
)  # not elementwise: the result has `elements`'s shape, whatever `test_elements`'s


@public(ISIN)
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of `elements` occurs in `test_elements` (either may be a number);
    `invert=True`: where it does not. The result has `elements`'s shape. `assume_unique` is a
    hint only (the sort-based search needs no uniqueness)."""
    sg = _sg()
    scalar = not isinstance(elements, Tensor)
    if scalar and not isinstance(test_elements, Tensor):
        raise TypeError("isin: expected at least one of elements and test_elements to be a Tensor")
    if scalar:
        elements = sg.tensor(elements, device=test_elements.device)
    if not isinstance(test_elements, Tensor):
        test_elements = sg.tensor(test_elements, device=elements.device)
    common = dtypes.promote_types(elements.dtype, test_elements.dtype)
    return apply(ISIN, (elements.to(common), test_elements.to(common)), {"invert": bool(invert)})


ISREAL = _composite(
    "isreal",
    ("input",),
    lambda x: (x.shape, dtypes.bool_),
    lambda x: (x.imag == 0) if x.dtype.is_complex else _ops().ones(x.shape, dtype=dtypes.bool_, device=x.device),
    kind="elementwise",
)


@public(ISREAL, methods=True)
def isreal(input):
    """True where an element has no imaginary part (everywhere for a real dtype); bool, input's shape."""
    return apply(ISREAL, (input,), {})


# --- kthvalue, msort -----------------------------------------------------------------------------
def _kthvalue_infer(x, k, dim, keepdim):
    if x.ndim == 0:
        return ((), x.dtype), ((), dtypes.int64)
    shape = x.shape[:dim] + ((1,) if keepdim else ()) + x.shape[dim + 1 :]
    return (shape, x.dtype), (shape, dtypes.int64)


def _kthvalue(x, k, dim, keepdim):
    ops = _ops()
    if x.ndim == 0:
        return ValuesIndices(x.clone(), ops.zeros((), dtype=dtypes.int64, device=x.device))
    order = ops.argsort(x, dim=dim, stable=True)
    indices = ops.narrow(order, dim, k - 1, 1)
    values = ops.gather(x, dim, indices)  # autograd goes through the gather
    if not keepdim:
        indices, values = indices.squeeze(dim), values.squeeze(dim)
    return ValuesIndices(values, indices)


KTHVALUE = _composite("kthvalue", ("input",), _kthvalue_infer, _kthvalue, outputs=2, accepts=REAL)


@public(KTHVALUE, methods=True)
def kthvalue(input, k, dim=-1, keepdim=False) -> ValuesIndices:
    """`(values, indices)` of the k-th smallest element (k from 1) along `dim`: (A, B) dim=1 -> (A,)
    each, (A, 1) with `keepdim`. The values are differentiable."""
    dim = normalize_dim("kthvalue", dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    if not 1 <= int(k) <= size:
        raise ArgumentError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return apply(KTHVALUE, (input,), {"k": int(k), "dim": dim, "keepdim": bool(keepdim)})


MSORT = _composite(
    "msort", ("input",), lambda x: (x.shape, x.dtype), lambda x: _ops().sort(x, dim=0).values, accepts=REAL
)


@public(MSORT, methods=True)
def msort(input):
    """`input` sorted along dim 0 (ascending): `sort(input, dim=0).values`."""
    return apply(MSORT, (input,), {})


# --- the top-level Tensor queries (plain functions, as PyTorch's torch.is_* are) ----------------
def is_floating_point(input) -> bool:
    """Whether `input`'s dtype is a floating-point one (not complex, as PyTorch)."""
    return input.is_floating_point()


def is_complex(input) -> bool:
    """Whether `input`'s dtype is a complex one."""
    return input.is_complex()


def is_signed(input) -> bool:
    """Whether `input`'s dtype can hold negative values (not bool, not unsigned integers)."""
    return input.is_signed()


def is_nonzero(input) -> bool:
    """Whether the one element of `input` is nonzero; RuntimeError for none or several elements."""
    return input.is_nonzero()


def is_same_size(input, other) -> bool:
    """Whether `input` and `other` have the same shape."""
    return input.is_same_size(other)


def is_conj(input) -> bool:
    """Whether `input` is a lazily conjugated view (never: conjugation is computed)."""
    return input.is_conj()


def is_neg(input) -> bool:
    """Whether `input` is a lazily negated view (never: negation is computed)."""
    return input.is_neg()


def resolve_conj(input):
    """`input` with any lazy conjugation materialised: `input` itself here."""
    return input.resolve_conj()


def resolve_neg(input):
    """`input` with any lazy negation materialised: `input` itself here."""
    return input.resolve_neg()


def detach(input):
    """A tensor sharing `input`'s data, cut from the graph."""
    return input.detach()
