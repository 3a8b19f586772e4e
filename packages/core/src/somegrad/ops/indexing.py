"""Indexing: `x[key]`, `x[key] = v`, gather/scatter_add, index_select, masked_fill, nonzero.

A user's key (ints, slices, None, Ellipsis, integer or bool tensors, lists) is normalised
here, once, into one or two *kernel keys*, each a tuple that is either

* basic: ints, `slice(start, stop, step)` with non-negative bounds, and None; or
* advanced: `slice(None)` and int64 index arrays of the backend (in-bounds, non-negative).

Integers are applied first, as a basic index, and the index tensors then (PyTorch's order,
which differs from NumPy's when a slice separates an int from an index tensor).
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import broadcast_shapes, normalize_dim
from somegrad.ops.spec import BOOL, INDEX, OpSpec, public, register
from somegrad.tensor import Tensor


def _key_shape(shape, key):
    """The shape of `x[key]` for a kernel key (see the module docstring)."""
    out, advanced, advanced_at, dim = [], [], None, 0
    for k in key:
        if k is None:
            out.append(1)
        elif isinstance(k, int):
            dim += 1
        elif isinstance(k, slice):
            out.append(len(range(*k.indices(shape[dim]))))
            dim += 1
        else:
            advanced.append(tuple(k.shape))
            advanced_at = len(out) if advanced_at is None else advanced_at
            dim += 1
    out.extend(shape[dim:])
    if advanced:
        # Index arrays separated by a slice put their dims first (NumPy's and PyTorch's rule).
        positions = [i for i, k in enumerate(key) if not (k is None or isinstance(k, (int, slice)))]
        if positions[-1] - positions[0] + 1 != len(positions):
            advanced_at = 0
        out[advanced_at:advanced_at] = broadcast_shapes("index", *advanced)
    return tuple(out)


def _getitem_infer(x, key):
    return _key_shape(x.shape, key), x.dtype


def _index_put_infer(x, values, key, accumulate):
    target = _key_shape(x.shape, key)
    try:
        broadcast_shapes("index_put", values.shape, target)
    except ShapeError:
        raise ShapeError(
            f"index_put: shape mismatch: value tensor of shape {tuple(values.shape)} cannot be broadcast "
            f"to indexing result of shape {target}"
        ) from None
    if broadcast_shapes("index_put", values.shape, target) != target:
        raise ShapeError(f"index_put: value of shape {tuple(values.shape)} does not fit the indexed shape {target}")
    return x.shape, x.dtype


def _box(key, input_shape):
    """For a key of ints and step-1 slices (`qkv[0]`, split, chunk, narrow): the zero padding
    that puts the selected box back in place, and g's shape with the dims that ints removed
    restored as size 1. None for any other key."""
    if not key or len(key) > len(input_shape):
        return None
    widths, shape = [], []
    for k, size in zip(key, input_shape):
        if type(k) is int:
            start, stop = k, k + 1
        elif isinstance(k, slice) and k.step == 1:
            start, stop = k.start, k.stop
        else:
            return None
        widths.append((start, size - stop))
        shape.append(stop - start)
    rest = input_shape[len(key) :]
    return tuple(widths) + ((0, 0),) * len(rest), tuple(shape) + tuple(rest)


def _getitem_backward(g, input_shape, key):
    box = _box(key, input_shape)
    if box is not None:
        # The gradient is g padded with zeros. Outside create_graph the engine keeps it unpadded
        # until it meets the other pieces' (a BoxGradient); a differentiable one pads now, one
        # allocation instead of zeros + a scatter.
        from somegrad.autograd.grad_mode import is_grad_enabled
        from somegrad.autograd.graph import BoxGradient

        widths, shape = box
        piece = BoxGradient(g.reshape(shape), widths)
        return piece.dense() if is_grad_enabled() else piece
    return index_put_at_key(_zeros(g, input_shape), g, key, accumulate=True)


GETITEM = register(OpSpec("getitem", "index", ("x",), _getitem_infer, _getitem_backward, view=True))
INDEX_PUT = register(
    OpSpec(
        "index_put",
        "index",
        ("x", "values"),
        _index_put_infer,
        lambda g, key, accumulate: (
            g if accumulate else index_put_at_key(g, _zeros(g, ()), key, accumulate=False),
            apply(GETITEM, (g,), {"key": key}),
        ),
    )
)


def _zeros(like, shape):
    from somegrad.ops.creation import zeros

    return zeros(shape, dtype=like.dtype, device=like.device)


def index_put_at_key(x, values, key, accumulate=False):
    """A copy of `x` with `values` written at a kernel `key` (added there if `accumulate`,
    repeated indices adding up). `somegrad.index_put` is the PyTorch form, over index tensors."""
    return apply(INDEX_PUT, (x, values), {"key": key, "accumulate": accumulate})


index_put = index_put_at_key  # the name the pooling and convolution backwards import it by


# --- normalising user keys -------------------------------------------------------------------
def _index_array(x, index, dim):
    """A user's index tensor for dimension `dim` of `x` as an in-bounds int64 backend array."""
    if index.device != x.device:
        raise RuntimeError(f"index: indices are on {index.device} but the indexed tensor is on {x.device}")
    if index.dtype.is_floating_point:
        raise IndexError(f"index: tensors used as indices must be long, int, byte or bool, got {index.dtype.name}")
    size = x.shape[dim]
    if index.numel():
        low, high = int(index.min().item()), int(index.max().item())
        if low < -size or high >= size:
            bad = high if high >= size else low
            raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
        if low < 0:
            index = ew.where(index < 0, index + size, index)
    return ew.cast(index, dtypes.int64)._data


def _expand_key(x, key):
    from somegrad.ops.creation import tensor

    if not isinstance(key, tuple):
        key = (key,)
    items = []
    for k in key:
        if isinstance(k, (list, tuple)) or (hasattr(k, "__array__") and not isinstance(k, Tensor)):
            k = tensor(k, device=x.device)
            if k.dtype.is_floating_point and k.numel() == 0:
                k = ew.cast(k, dtypes.int64)
        elif isinstance(k, bool):
            k = tensor(k, device=x.device)
        elif not (k is None or k is Ellipsis or isinstance(k, (int, slice)) or isinstance(k, Tensor)):
            if hasattr(k, "__index__"):
                k = int(k.__index__())
            else:
                raise TypeError(f"index: unsupported index of type {type(k).__name__}: {k!r}")
        items.append(k)
    # how many dims of x the key uses: None and ... use none, a bool mask as many as it has
    consumed = sum(
        0 if k is None or k is Ellipsis else k.ndim if isinstance(k, Tensor) and k.dtype is dtypes.bool_ else 1
        for k in items
    )
    if sum(k is Ellipsis for k in items) > 1:
        raise IndexError("index: an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(f"index: too many indices for tensor of dimension {x.ndim} (got {consumed})")
    at = next((i for i, k in enumerate(items) if k is Ellipsis), None)
    if at is not None:
        items[at : at + 1] = [slice(None)] * (x.ndim - consumed)
    return items


def normalize_key(x, key):
    """`(basic, advanced)` kernel keys for `x[key]`; `advanced` is None without index tensors."""
    items = _expand_key(x, key)
    basic, advanced, dim = [], [], 0
    for k in items:
        if k is None:
            basic.append(None)
            advanced.append(slice(None))
        elif isinstance(k, int):
            size = x.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
            basic.append(k % size)
            dim += 1
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError(f"index: slice step must be positive, got {k.step} (use .flip() to reverse)")
            start, stop, step = k.indices(x.shape[dim])
            basic.append(slice(start, max(start, stop), step))
            advanced.append(slice(None))
            dim += 1
        elif k.dtype is dtypes.bool_:
            mask_shape = x.shape[dim : dim + k.ndim]
            if tuple(k.shape) != tuple(mask_shape):
                raise IndexError(
                    f"index: the boolean mask of shape {tuple(k.shape)} does not match the indexed "
                    f"dimensions {tuple(mask_shape)} of the tensor of shape {tuple(x.shape)} (starting at dim {dim})"
                )
            if k.ndim == 0:
                raise IndexError("index: a 0-d boolean index is not supported; use x.unsqueeze(0) or a 1-d mask")
            positions = nonzero(k)
            for j in range(k.ndim):
                basic.append(slice(0, x.shape[dim], 1))
                advanced.append(positions[:, j]._data)
                dim += 1
        else:
            basic.append(slice(0, x.shape[dim], 1))
            advanced.append(_index_array(x, k, dim))
            dim += 1
    has_arrays = any(not isinstance(k, slice) for k in advanced)
    return tuple(basic), (tuple(advanced) if has_arrays else None)


def _selects_everything(basic, shape):
    return len(basic) == len(shape) and all(k == slice(0, s, 1) for k, s in zip(basic, shape))


@public(GETITEM, operators=("__getitem__",))
def getitem(x, key):
    """`x[key]`: ints, slices, None, Ellipsis, and integer or bool tensors (or lists) as PyTorch takes them.

    Basic keys give views where the backend allows; integer and bool tensors select elements
    (advanced indexing, with PyTorch's order of dims)."""
    basic, advanced = normalize_key(x, key)
    if not _selects_everything(basic, x.shape):
        x = apply(GETITEM, (x,), {"key": basic})
    if advanced is not None:
        x = apply(GETITEM, (x,), {"key": advanced})
    return x


def put_at_keys(x, basic, advanced, value, accumulate=False):
    """A copy of `x` with `value` (of x's dtype, broadcast to the indexed shape) written at the
    kernel keys of `normalize_key`: the basic key's view first, the index arrays within it."""
    if advanced is None:
        return index_put_at_key(x, value, basic, accumulate)
    if _selects_everything(basic, x.shape):
        return index_put_at_key(x, value, advanced, accumulate)
    view = apply(GETITEM, (x,), {"key": basic})
    return index_put_at_key(x, index_put_at_key(view, value, advanced, accumulate), basic)


def _indexed_shape(x, basic, advanced):
    indexed = _key_shape(x.shape, basic)
    return _key_shape(indexed, advanced) if advanced is not None else indexed


def strip_leading_ones(x, basic, advanced, value):
    """`value` without the leading size-1 dims it has beyond the indexed shape's rank: PyTorch
    assigns `x[...] = b` of shape (1, 1) into a (2,) selection."""
    rank = len(_indexed_shape(x, basic, advanced))
    extra = 0
    while value.ndim - extra > rank and value.shape[extra] == 1:
        extra += 1
    return value.reshape(value.shape[extra:]) if extra else value


def check_fits(op, x, basic, advanced, value):
    """A ShapeError unless `value` broadcasts to the shape that the keys select of `x`."""
    indexed = _indexed_shape(x, basic, advanced)
    try:
        fits = broadcast_shapes(op, value.shape, indexed) == indexed
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{op}: shape mismatch: value tensor of shape {tuple(value.shape)} cannot be broadcast to "
            f"indexing result of shape {indexed}"
        )


# x[key] = value is index_put written into x; `Tensor.__setitem__` is declared with index_put
# (in `somegrad.ops.scatter`), the op's public function
def setitem(x, key, value) -> None:
    """`x[key] = value`, in place; differentiable when `x` is not a leaf that requires grad."""
    basic, advanced = normalize_key(x, key)
    if not isinstance(value, Tensor):
        number = dtypes.python_number(value)
        if number is None:
            raise TypeError(f"setitem: expected a Tensor or a Python number as the value, got {type(value).__name__}")
        from somegrad.ops.creation import check_assigned_value

        check_assigned_value("setitem", number, x.dtype)  # x[0] = nan into an integer tensor raises
        value = ew.scalar_tensor(number, x.dtype, x.device)
    if value.device != x.device:
        raise RuntimeError(f"setitem: the value is on {value.device} but the tensor is on {x.device}")
    value = strip_leading_ones(x, basic, advanced, ew.cast(value, x.dtype))
    check_fits("setitem", x, basic, advanced, value)

    from somegrad.ops.inplace import inplace

    inplace(x, lambda target: put_at_keys(target, basic, advanced, value), "setitem", (value,))


# --- gather / scatter and friends ------------------------------------------------------------
def _gather_infer(x, index, dim):
    if index.ndim != x.ndim:
        raise ShapeError(
            f"gather: index must have as many dimensions as the input ({x.ndim}), got shape {tuple(index.shape)}"
        )
    for d in range(x.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise ShapeError(
                f"gather: index shape {tuple(index.shape)} is larger than input shape {tuple(x.shape)} at dimension {d}"
            )
    return index.shape, x.dtype


def _scatter_add_infer(x, index, src, dim):
    if not (index.ndim == x.ndim == src.ndim):
        raise ShapeError(
            f"scatter_add: input {tuple(x.shape)}, index {tuple(index.shape)} and src {tuple(src.shape)} "
            "must have the same number of dimensions"
        )
    for d in range(x.ndim):
        if index.shape[d] > src.shape[d] or (d != dim and index.shape[d] > x.shape[d]):
            raise ShapeError(
                f"scatter_add: index shape {tuple(index.shape)} does not fit input {tuple(x.shape)} / "
                f"src {tuple(src.shape)} at dimension {d}"
            )
    return x.shape, x.dtype


GATHER = register(
    OpSpec(
        "gather",
        "index",
        ("x", "index"),
        _gather_infer,
        lambda g, index, input_shape, dim: (scatter_add(_zeros(g, input_shape), dim, index, g), None),
        accepts={"index": INDEX},
    )
)
SCATTER_ADD = register(
    OpSpec(
        "scatter_add",
        "index",
        ("x", "index", "src"),
        _scatter_add_infer,
        lambda g, index, src, dim: (g, None, _pad_to(gather(g, dim, index), src.shape)),
        accepts={"index": INDEX},
    )
)


def _pad_to(t, shape):
    if tuple(t.shape) == tuple(shape):
        return t
    from somegrad.ops.movement import pad

    widths = []
    for have, want in zip(reversed(t.shape), reversed(shape)):
        widths += [0, want - have]
    return pad(t, widths)


def _index_tensor(op, x, index, dim, out_of_range=IndexOutOfRangeError):
    if index.dtype.is_floating_point or index.dtype is dtypes.bool_:
        raise DTypeError(f"{op}: index must be an integer tensor, got {index.dtype.name}")
    if index.device != x.device:
        raise RuntimeError(f"{op}: index is on {index.device} but the input is on {x.device}")
    if index.numel():
        low, high = int(index.min().item()), int(index.max().item())
        size = x.shape[dim] if x.ndim else 1
        if low < 0 or high >= size:
            raise out_of_range(
                f"{op}: index {low if low < 0 else high} is out of bounds for dimension {dim} with size {size}"
            )
    return ew.cast(index, dtypes.int64)


@public(GATHER, methods=True)
def gather(input, dim, index, *, sparse_grad=False):
    """`out[i][j] = input[index[i][j]][j]` for dim 0 (and so on), like `torch.gather`. The
    gradient is dense whatever `sparse_grad` says (somegrad has no sparse tensors)."""
    x = input
    dim = normalize_dim("gather", dim, x.ndim)
    index = _index_tensor("gather", x, index, dim)
    if x.ndim == 0 and index.ndim == 0:  # kernels take arrays of at least one dimension
        return apply(GATHER, (x.reshape(1), index.reshape(1)), {"dim": 0}).reshape(())
    return apply(GATHER, (x, index), {"dim": dim})


@public(SCATTER_ADD, methods=True, inplace=True)
def scatter_add(input, dim, index, src):
    """A copy of `input` with `src` added at `index` along `dim` (repeated indices add up)."""
    x = input
    dim = normalize_dim("scatter_add", dim, x.ndim)
    index = _index_tensor("scatter_add", x, index, dim)
    if src.dtype is not x.dtype:
        raise DTypeError(
            f"scatter_add: expected self.dtype to be equal to src.dtype, got {x.dtype.name} and {src.dtype.name}"
        )
    if x.ndim == 0 and index.ndim == 0 and src.ndim == 0:  # as gather
        return apply(SCATTER_ADD, (x.reshape(1), index.reshape(1), src.reshape(1)), {"dim": 0}).reshape(())
    return apply(SCATTER_ADD, (x, index, src), {"dim": dim})


def _index_select(x, index, dim):
    if x.ndim == 0:
        return x.clone()
    return getitem(x, (slice(None),) * dim + (index.reshape(-1),))


def _index_select_infer(x, index, dim):
    if x.ndim == 0:
        return x.shape, x.dtype
    return x.shape[:dim] + (index.numel(),) + x.shape[dim + 1 :], x.dtype


INDEX_SELECT = register(
    OpSpec(
        "index_select",
        "index",
        ("x", "index"),
        _index_select_infer,
        decompose=_index_select,
        accepts={"index": INDEX},
    )
)


@public(INDEX_SELECT, methods=True)
def index_select(input, dim, index):
    """The slices of `input` at `index` (int32 or int64, 0-d or 1-d) along `dim`."""
    x = input
    dim = normalize_dim("index_select", dim, x.ndim)
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be 0-d or 1-d, got shape {tuple(index.shape)}")
    if index.dtype not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"index_select: index must be int32 or int64, got {index.dtype.name}")
    index = _index_tensor("index_select", x, index, dim, out_of_range=IndexError)
    if x.ndim == 0:
        if index.numel() != 1:
            raise IndexOutOfRangeError(f"index_select: a 0-d input takes exactly one index, got {index.numel()}")
    return apply(INDEX_SELECT, (x, index), {"dim": dim})


def _masked_fill_infer(x, mask, value):
    return broadcast_shapes("masked_fill", x.shape, mask.shape), x.dtype


MASKED_FILL = register(
    OpSpec(
        "masked_fill",
        "index",
        ("x", "mask", "value"),
        _masked_fill_infer,
        decompose=lambda x, mask, value: ew.where(mask, value, x),
        accepts={"mask": BOOL},
        doc="x with the 0-d value where mask is true, broadcasting x and mask.",
    )
)


@public(MASKED_FILL, methods=True, inplace=True)
def masked_fill(input, mask, value):
    """`input` with `value` (a number or a 0-d tensor) wherever `mask` is true, broadcasting the two.

    The value must fit x's dtype, as in PyTorch: NaN into an integer tensor, 300 into uint8 or
    70000 into float16 raise `ValueOverflowError`."""
    x = input
    if mask.dtype is not dtypes.bool_:
        raise DTypeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype.name}")
    broadcast_shapes("masked_fill", x.shape, mask.shape)
    number = dtypes.python_number(value)
    if number is not None:
        dtypes.check_value_fits("masked_fill", number, x.dtype)
        value = ew.scalar_tensor(number, x.dtype, x.device)
    elif isinstance(value, Tensor):
        if value.ndim != 0:
            raise ArgumentError(
                f"masked_fill: only supports a 0-dimensional value tensor, got one of shape {tuple(value.shape)}"
            )
        if value.dtype is not x.dtype:
            dtypes.check_value_fits("masked_fill", value.item(), x.dtype)
            value = value.to(x.dtype)
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d Tensor, got {type(value).__name__}")
    return apply(MASKED_FILL, (x, mask, value), {})


def _nonzero_infer(x):
    return None, dtypes.int64


NONZERO = register(OpSpec("nonzero", "index", ("x",), _nonzero_infer, doc="(N, ndim) indices of nonzero elements."))


def _argwhere(self):
    return nonzero(self)


@public(NONZERO, methods=("nonzero", ("argwhere", _argwhere)), aliases=("argwhere",))
def nonzero(input, *, as_tuple=False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero elements, shape (N, input.ndim); with `as_tuple=True`, one
    1-d tensor of N indices per dim (a 0-d input gives one), as `torch.nonzero`."""
    positions = apply(NONZERO, (input,), {})
    if not as_tuple:
        return positions
    if input.ndim == 0:  # (positions of shape (1, 0) or (0, 0)): index 0 once, or not at all
        return (_zeros(positions, (positions.shape[0],)),)
    return tuple(positions[:, d] for d in range(input.ndim))
