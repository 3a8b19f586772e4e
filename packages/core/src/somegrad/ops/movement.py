"""Movement ops: reshape, permute, expand, flip, pad, cat, copy (the primitives), and the
implicit composites built on them (transpose, squeeze, flatten, stack, narrow, tril, ...;
movedim and the diagonals, rolls and splits are in `somegrad.ops.layout`).

reshape, permute and expand may return views: on backends that allow it their result shares
memory with the input (and its version counter, so in-place changes are seen by autograd).
Each public function is declared with its op and its Tensor methods (`public()`).
"""

from __future__ import annotations

import builtins
import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import as_shape, normalize_dim, normalize_dims
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


def _reshape_infer(x, shape):
    if math.prod(shape) != math.prod(x.shape):
        raise ShapeError(
            f"reshape: shape {shape} is invalid for input of shape {tuple(x.shape)} ({x.numel()} elements)"
        )
    return shape, x.dtype


def _permute_infer(x, dims):
    if sorted(dims) != list(range(x.ndim)):
        raise ArgumentError(
            f"permute: dims {dims} is not a permutation of the {x.ndim} dimensions of shape {tuple(x.shape)}"
        )
    return tuple(x.shape[d] for d in dims), x.dtype


def _expand_infer(x, shape):
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the target shape {shape} has fewer dimensions than the input shape {tuple(x.shape)}")
    for i, size in enumerate(x.shape):
        if size != 1 and size != shape[lead + i]:
            raise ShapeError(
                f"expand: the input size {size} at dimension {i} must match the target size "
                f"{shape[lead + i]} (or be 1); input shape {tuple(x.shape)}, target {shape}"
            )
    return shape, x.dtype


def _flip_infer(x, dims):
    return x.shape, x.dtype


def _pad_infer(x, pad, value):
    if len(pad) != x.ndim:
        raise ShapeError(f"pad: expected one (before, after) pair per dimension, got {pad} for shape {tuple(x.shape)}")
    return tuple(s + b + a for s, (b, a) in zip(x.shape, pad)), x.dtype


def _pad_backward(g, pad, input_shape):
    return g[tuple(slice(b, b + s) for s, (b, a) in zip(input_shape, pad))]


def _cat_infer(*tensors, dim):
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != dim):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ShapeError(
                f"cat: sizes of tensors must match except in dimension {dim}; got shapes {shapes} (tensor {i} differs)"
            )
    size = builtins.sum(t.shape[dim] for t in tensors)
    return first.shape[:dim] + (size,) + first.shape[dim + 1 :], first.dtype


def _cat_backward(g, tensors, dim):
    grads, start = [], 0
    for t in tensors:
        size = t.shape[dim]
        grads.append(g.narrow(dim, start, size))
        start += size
    return tuple(grads)


def _same(x):
    return x.shape, x.dtype


RESHAPE = register(
    OpSpec("reshape", "movement", ("x",), _reshape_infer, lambda g, input_shape: g.reshape(input_shape), view=True)
)
PERMUTE = register(
    OpSpec(
        "permute",
        "movement",
        ("x",),
        _permute_infer,
        lambda g, dims: g.permute(tuple(sorted(range(len(dims)), key=dims.__getitem__))),
        view=True,
    )
)
# The engine sums each gradient down to its input's shape, which is exactly expand's backward.
EXPAND = register(OpSpec("expand", "movement", ("x",), _expand_infer, lambda g: g, view=True))
FLIP = register(OpSpec("flip", "movement", ("x",), _flip_infer, lambda g, dims: g.flip(dims)))
PAD = register(OpSpec("pad", "movement", ("x",), _pad_infer, _pad_backward))
CAT = register(OpSpec("cat", "movement", ("*tensors",), _cat_infer, _cat_backward))
COPY = register(OpSpec("copy", "movement", ("x",), _same, lambda g: g, doc="A contiguous copy."))


def _composite(name, infer_shape, decompose, inputs=("x",)):
    """An implicit composite movement op: `infer_shape(x, **params)` gives its shape (and raises
    the clear errors), the dtype is x's, and `decompose` is the op, in the primitives."""

    def infer(*tensors, **params):
        return infer_shape(*tensors, **params), tensors[0].dtype

    return register(OpSpec(name, "movement", inputs, infer, decompose=decompose))


# --- public functions -----------------------------------------------------------------------
@public(RESHAPE, methods=True)
def reshape(x, *shape):
    """`x` with a new shape of the same number of elements; one size may be -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    if any(s < -1 for s in shape):
        raise ArgumentError(f"reshape: invalid shape {shape} for input of shape {tuple(x.shape)}: sizes must be >= -1")
    if -1 in shape:
        if shape.count(-1) > 1:
            raise ArgumentError(f"reshape: only one dimension can be inferred (-1), got {shape}")
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or x.numel() % known:
            raise ShapeError(f"reshape: shape {shape} is invalid for input of shape {tuple(x.shape)}")
        shape = tuple(x.numel() // known if s == -1 else s for s in shape)
    if shape == x.shape:
        return x
    return apply(RESHAPE, (x,), {"shape": shape})


@public(PERMUTE, methods=True)
def permute(x, *dims):
    """`x` with its dimensions reordered to `dims` (a view): `permute(x, 0, 2, 1)` or `permute(x, (0, 2, 1))`.

    x: (A, B, C) with dims (2, 0, 1) gives (C, A, B)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    if len(dims) != x.ndim:
        raise ArgumentError(f"permute: expected {x.ndim} dims for shape {tuple(x.shape)}, got {tuple(dims)}")
    dims = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
    if dims == tuple(range(x.ndim)):
        return x
    return apply(PERMUTE, (x,), {"dims": dims})


def _swapped(x, dim0, dim1):
    if x.ndim == 0:
        return ()
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dim1, dim0
    return tuple(dims)


def _transpose(x, dim0, dim1):
    if x.ndim == 0 or dim0 == dim1:  # dims 0 and -1 of a 0-d tensor: nothing to swap
        return x
    return apply(PERMUTE, (x,), {"dims": _swapped(x, dim0, dim1)})  # dims are valid: skip permute's checks


TRANSPOSE = _composite(
    "transpose", lambda x, dim0, dim1: tuple(x.shape[d] for d in _swapped(x, dim0, dim1)), _transpose
)


@public(TRANSPOSE, methods=("transpose", "swapaxes", "swapdims"), aliases=("swapaxes", "swapdims"))
def transpose(x, dim0, dim1):
    """`x` with dimensions `dim0` and `dim1` swapped (a view); x: (N, C, L) -> (N, L, C) for `transpose(x, 1, 2)`.

    `swapaxes` and `swapdims` are the same function."""
    dim0, dim1 = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    if x.ndim == 0:
        dim0 = dim1 = 0
    return apply(TRANSPOSE, (x,), {"dim0": dim0, "dim1": dim1})


@public(EXPAND, methods=True)
def expand(x, *shape):
    """A broadcast view of `x` with `shape`; -1 keeps a size."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the target shape {shape} has fewer dimensions than the input shape {tuple(x.shape)}")
    shape = as_shape("expand", tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape)))
    if shape == x.shape:
        return x
    return apply(EXPAND, (x,), {"shape": shape})


BROADCAST_TO = _composite(
    "broadcast_to", lambda x, shape: _expand_infer(x, shape)[0], lambda x, shape: expand(x, shape)
)


@public(BROADCAST_TO, methods=True)
def broadcast_to(x, shape):
    """A broadcast view of `x` with `shape`, like `expand(x, shape)`; -1 keeps a size."""
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the target shape {shape} has fewer dimensions than the input shape {tuple(x.shape)}")
    shape = as_shape("expand", tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape)))
    return apply(BROADCAST_TO, (x,), {"shape": shape})


def _squeezed(x, dim):
    return tuple(s for i, s in enumerate(x.shape) if not (i in dim and s == 1))


SQUEEZE = _composite("squeeze", _squeezed, lambda x, dim: reshape(x, _squeezed(x, dim)))


@public(SQUEEZE, methods=True)
def squeeze(x, dim=None):
    """Remove size-1 dimensions (all of them, or those in `dim`)."""
    return apply(SQUEEZE, (x,), {"dim": normalize_dims("squeeze", dim, x.ndim)})


def _unsqueezed(x, dim):
    return x.shape[:dim] + (1,) + x.shape[dim:]


UNSQUEEZE = _composite("unsqueeze", _unsqueezed, lambda x, dim: reshape(x, _unsqueezed(x, dim)))


@public(UNSQUEEZE, methods=True)
def unsqueeze(x, dim):
    """`x` with a size-1 dimension inserted at `dim` (a view); x: (N, C) -> (N, 1, C) for `dim=1`."""
    return apply(UNSQUEEZE, (x,), {"dim": normalize_dim("unsqueeze", dim, x.ndim + 1)})


def _flattened(x, start_dim, end_dim):
    if x.ndim == 0:
        return (1,)
    return x.shape[:start_dim] + (math.prod(x.shape[start_dim : end_dim + 1]),) + x.shape[end_dim + 1 :]


FLATTEN = _composite("flatten", _flattened, lambda x, start_dim, end_dim: reshape(x, _flattened(x, start_dim, end_dim)))


@public(FLATTEN, methods=True)
def flatten(x, start_dim=0, end_dim=-1):
    """`x` with dims `start_dim` to `end_dim` merged into one; x: (N, C, H, W) -> (N, C*H*W) for `start_dim=1`.

    A 0-d tensor becomes shape (1,)."""
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end and x.ndim:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return apply(FLATTEN, (x,), {"start_dim": start, "end_dim": end})


def _unflattened(x, dim, sizes):
    if math.prod(sizes) != x.shape[dim]:
        raise ShapeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({x.shape[dim]}) "
            f"in the input tensor of shape {tuple(x.shape)}"
        )
    return x.shape[:dim] + tuple(sizes) + x.shape[dim + 1 :]


UNFLATTEN = _composite("unflatten", _unflattened, lambda x, dim, sizes: reshape(x, _unflattened(x, dim, sizes)))


@public(UNFLATTEN, methods=True)
def unflatten(x, dim, sizes):
    """`x` with dimension `dim` split into `sizes` (one may be -1); x: (N, C*H*W) -> (N, C, H, W)
    for `unflatten(x, 1, (C, H, W))`."""
    if x.ndim == 0:
        raise ShapeError("unflatten: dimension specified as 0 but tensor has no dimensions")
    dim = normalize_dim("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise ArgumentError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise ArgumentError(f"unflatten: only one dimension can be inferred, got sizes {list(sizes)}")
    if -1 in sizes:  # one size inferred, as reshape does
        known = math.prod(s for s in sizes if s != -1)
        if known == 0 or x.shape[dim] % known:
            raise ShapeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                f"({x.shape[dim]}) in the input tensor of shape {tuple(x.shape)}"
            )
        sizes = tuple(x.shape[dim] // known if s == -1 else s for s in sizes)
    return apply(UNFLATTEN, (x,), {"dim": dim, "sizes": sizes})


@public(FLIP, methods=True)
def flip(x, dims):
    """A copy of `x` with the order of elements reversed along each of `dims`."""
    dims = normalize_dims("flip", dims, x.ndim)
    return apply(FLIP, (x,), {"dims": dims}) if dims else x


@public(PAD)
def pad(x, pad, mode="constant", value=0.0):
    """Constant padding, PyTorch's convention: `pad` lists (left, right) pairs starting
    from the LAST dimension: `pad(x, (1, 1, 2, 2))` pads the last dim by 1 and the one
    before it by 2 on each side."""
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ArgumentError(
            f"pad: expected an even number of at most {2 * x.ndim} values for shape {tuple(x.shape)}, got {tuple(pad)}"
        )
    if any(p < 0 for p in pad):
        raise ArgumentError(f"pad: negative padding {tuple(pad)} is not supported")
    if x.ndim == 0:  # nothing to pad (and NumPy's pad takes no widths for a 0-d array)
        return clone(x)
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return apply(PAD, (x,), {"pad": tuple(pairs), "value": value})


def joined(items, shape_of=lambda t: t.shape):
    """The tensors (or shapes, with `shape_of`) that a concatenation joins: PyTorch's legacy rule
    skips 1-D empty tensors (shape (0,)) beside others, whatever those others' shapes."""
    kept = [t for t in items if tuple(shape_of(t)) != (0,)]
    return kept if kept and len(kept) < len(items) else items


@public(CAT, aliases=("concat", "concatenate"))
def cat(tensors, dim=0):
    """Concatenate tensors of the same shape (except along `dim`), promoting dtypes; 1-D empty
    tensors are skipped (PyTorch's legacy rule)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise ShapeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; use stack")
    tensors = [ew.cast(t, dtype) for t in tensors]
    tensors = joined(tensors)
    dim = normalize_dim("cat", dim, tensors[0].ndim)
    if len(tensors) == 1:
        return tensors[0]
    return apply(CAT, tuple(tensors), {"dim": dim})


def _stacked(*tensors, dim):
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: expects each tensor to be equal size, got shapes {sorted(shapes)}")
    first = tensors[0].shape
    return first[:dim] + (len(tensors),) + first[dim:]


STACK = _composite(
    "stack", _stacked, lambda *tensors, dim: cat([unsqueeze(t, dim) for t in tensors], dim), inputs=("*tensors",)
)


@public(STACK)
def stack(tensors, dim=0):
    """Join tensors of one shape along a new dimension `dim`, promoting dtypes.

    N tensors of shape (A, B) give (N, A, B) for `dim=0`."""
    tensors = list(tensors)
    if not tensors:
        raise ArgumentError("stack: expected a non-empty list of tensors")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    dim = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return apply(STACK, tuple(ew.cast(t, dtype) for t in tensors), {"dim": dim})


def _narrowed(x, dim, start, length):
    return x.shape[:dim] + (length,) + x.shape[dim + 1 :]


NARROW = _composite(
    "narrow",
    _narrowed,
    lambda x, dim, start, length: x[(slice(None),) * dim + (slice(start, start + length),)],
)


def _diff_infer(x, n, dim):
    if x.ndim == 0:
        raise ShapeError("diff: expects input to be at least one-dimensional")
    if n < 0:
        raise ArgumentError(f"diff: order must be non-negative but got {n}")
    return x.shape[:dim] + (builtins.max(0, x.shape[dim] - n),) + x.shape[dim + 1 :], x.dtype


def _diff(x, n, dim):
    for _ in range(n):
        size = x.shape[dim]
        if size == 0:
            break
        later, earlier = narrow(x, dim, 1, size - 1), narrow(x, dim, 0, size - 1)
        x = ew.logical_xor(later, earlier) if x.dtype is dtypes.bool_ else later - earlier
    return x


DIFF = _composite("diff", lambda x, n, dim: _diff_infer(x, n, dim)[0], _diff)


@public(DIFF, methods=True)
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along `dim`: `x[1:] - x[:-1]`, n times (xor for bool), after
    `prepend` and `append` are concatenated along `dim`; the size along `dim` shrinks by n."""
    if input.ndim == 0:
        raise ShapeError("diff: expects input to be at least one-dimensional")
    dim = normalize_dim("diff", dim, input.ndim)
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, input, append) if t is not None]
        input = cat([t if t.ndim else t.expand(input.shape[:dim] + (1,) + input.shape[dim + 1 :]) for t in parts], dim)
    return apply(DIFF, (input,), {"n": n, "dim": dim})


@public(NARROW, methods=True)
def narrow(x, dim, start, length):
    """The `length` elements from `start` along `dim` (a view); a negative `start` counts
    from the end. The range must fit, as in PyTorch."""
    dim = normalize_dim("narrow", dim, x.ndim)
    if x.ndim == 0:
        raise ShapeError("narrow: cannot be applied to a 0-dim tensor")
    size = x.shape[dim]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start ({start}) is out of range for dimension {dim} of size {size}")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension {dim} of size {size}")
    return apply(NARROW, (x,), {"dim": dim, "start": start, "length": length})


def _split_infer(x, sizes, dim):
    if builtins.sum(sizes) != x.shape[dim]:
        raise ShapeError(f"split: sizes {list(sizes)} do not add up to {x.shape[dim]}, the size of dimension {dim}")
    return tuple((x.shape[:dim] + (s,) + x.shape[dim + 1 :], x.dtype) for s in sizes)


def _split(x, sizes, dim):
    pieces, start = [], 0
    for s in sizes:
        pieces.append(narrow(x, dim, start, s))
        start += s
    return tuple(pieces)


# As many outputs as pieces (views of x), an implicit composite of narrow.
SPLIT = register(
    OpSpec("split", "movement", ("x",), _split_infer, decompose=_split, outputs=None, doc="Pieces of x along dim.")
)


def _split_sizes(size, split_size_or_sections):
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ArgumentError(f"split: split_size must be positive, got {step}")
        return tuple(builtins.min(step, size - s) for s in range(0, size, step)) or (0,)
    sizes = tuple(split_size_or_sections)
    if any(not isinstance(s, int) or s < 0 for s in sizes):
        raise ArgumentError(f"split: sizes must be non-negative ints, got {list(sizes)}")
    return sizes


@public(SPLIT, methods=True)
def split(x, split_size_or_sections, dim=0) -> tuple[Tensor, ...]:
    """Split into pieces of `split_size` (the last may be smaller) or of the given sizes."""
    dim = normalize_dim("split", dim, x.ndim)
    sizes = _split_sizes(x.shape[dim], split_size_or_sections)
    return apply(SPLIT, (x,), {"sizes": sizes, "dim": dim})


def _chunk_step(x, chunks, dim):
    return builtins.max(1, -(-x.shape[dim] // chunks))


def _chunk_infer(x, chunks, dim):
    return _split_infer(x, _split_sizes(x.shape[dim], _chunk_step(x, chunks, dim)), dim)


CHUNK = register(
    OpSpec(
        "chunk",
        "movement",
        ("x",),
        _chunk_infer,
        decompose=lambda x, chunks, dim: _split(x, _split_sizes(x.shape[dim], _chunk_step(x, chunks, dim)), dim),
        outputs=None,
        doc="At most `chunks` pieces of x along dim, each ceil(size / chunks) long but the last.",
    )
)


@public(CHUNK, methods=True)
def chunk(x, chunks, dim=0) -> tuple[Tensor, ...]:
    """Split `x` into at most `chunks` pieces along `dim`, each of size `ceil(size / chunks)` but the last.

    Like PyTorch, fewer than `chunks` pieces come back when the size does not allow more."""
    dim = normalize_dim("chunk", dim, x.ndim)
    if not isinstance(chunks, int) or chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be a positive int, got {chunks!r}")
    return apply(CHUNK, (x,), {"chunks": chunks, "dim": dim})


CONTIGUOUS = _composite("contiguous", lambda x: x.shape, lambda x: x if x.is_contiguous() else apply(COPY, (x,), {}))


@public(CONTIGUOUS, methods=True, export=False)
def contiguous(x):
    """`x` itself if it is contiguous, else a contiguous copy."""
    return x if x.is_contiguous() else apply(COPY, (x,), {})


def _copy_(self, source, non_blocking=False):
    """Copy `source` (broadcast to this shape, converted to this dtype and device) into this tensor."""
    from somegrad.autograd.grad_mode import is_grad_enabled
    from somegrad.ops.creation import tensor
    from somegrad.ops.inplace import inplace

    if not isinstance(source, Tensor):
        source = tensor(source, dtype=self.dtype, device=self.device)

    def compute(target):
        moved = source.to(target.device).to(target.dtype)
        if target.requires_grad and is_grad_enabled():
            # recorded: the old values get a zero gradient, as PyTorch's CopyBackwards gives them
            return ew.where(target.ones_like().to(dtypes.bool_), moved, target)
        return expand(moved, target.shape) + target.zeros_like() if moved.shape != target.shape else clone(moved)

    return inplace(self, compute, "copy_", (source,))


@public(COPY, methods=True, inplace=[("copy_", _copy_)])
def clone(x):
    """A copy of `x` in new (contiguous) memory; gradients flow back to `x`."""
    return apply(COPY, (x,), {})


def _repeat(x, sizes):
    x = reshape(x, (1,) * (len(sizes) - x.ndim) + x.shape)
    expanded = expand(
        reshape(x, tuple(d for s in x.shape for d in (1, s))), tuple(d for r, s in zip(sizes, x.shape) for d in (r, s))
    )
    return reshape(expanded, tuple(r * s for r, s in zip(sizes, x.shape)))


def _repeated(x, sizes):
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    return tuple(r * s for r, s in zip(sizes, shape))


REPEAT = _composite("repeat", _repeated, _repeat)


@public(REPEAT, methods=True, export=False)
def repeat(x, *sizes):
    """Tile `x`: `repeat(x, 2, 3)` repeats the last dim 3 times and the one before 2."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    if len(sizes) < x.ndim:
        raise ArgumentError(f"repeat: got {len(sizes)} repeat sizes for a tensor with {x.ndim} dims")
    return apply(REPEAT, (x,), {"sizes": as_shape("repeat", tuple(sizes))})  # non-negative ints


def _triangle_mask(x, diagonal, lower):
    from somegrad.ops.creation import arange

    rows = arange(x.shape[-2], device=x.device).reshape(-1, 1)
    cols = arange(x.shape[-1], device=x.device)
    return (cols - rows <= diagonal) if lower else (cols - rows >= diagonal)


def _triangle(name, lower):
    def shape(x, diagonal):
        if x.ndim < 2:
            raise ShapeError(f"{name}: input must have at least 2 dimensions, got shape {tuple(x.shape)}")
        return x.shape

    def decompose(x, diagonal):
        return ew.where(_triangle_mask(x, diagonal, lower), x, ew.scalar_tensor(0, x.dtype, x.device))

    return _composite(name, shape, decompose)


TRIL, TRIU = _triangle("tril", True), _triangle("triu", False)


@public(TRIL, methods=True, inplace=True)
def tril(x, diagonal=0):
    """The lower triangle of the last two dims (the rest set to 0)."""
    return apply(TRIL, (x,), {"diagonal": int(diagonal)})


@public(TRIU, methods=True, inplace=True)
def triu(x, diagonal=0):
    """The upper triangle of the last two dims (the rest set to 0); `diagonal` > 0 moves it up, < 0 down."""
    return apply(TRIU, (x,), {"diagonal": int(diagonal)})
