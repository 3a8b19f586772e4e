"""Splits and joins of the layout family: unbind, tensor_split (hsplit, vsplit, dsplit), meshgrid,
hstack, vstack, dstack, column_stack, atleast_1d/2d/3d.

Each is an implicit composite of narrow, getitem, reshape, expand and cat, so the pieces are
views where those are, and gradients flow through the primitives.
"""

from __future__ import annotations

import warnings

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.movement import CAT, joined, narrow
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


def _pieces(name, infer_pieces, decompose):
    """A multi-output implicit composite: `infer_pieces(x, **params)` gives each piece's shape."""

    def infer(x, **params):
        return tuple((shape, x.dtype) for shape in infer_pieces(x, **params))

    return register(OpSpec(name, "movement", ("input",), infer, decompose=decompose, outputs=None))


# --- unbind --------------------------------------------------------------------------------------
def _unbind_infer(x, dim):
    return [x.shape[:dim] + x.shape[dim + 1 :]] * x.shape[dim]


UNBIND = _pieces(
    "unbind", _unbind_infer, lambda x, dim: tuple(x[(slice(None),) * dim + (i,)] for i in range(x.shape[dim]))
)


@public(UNBIND, methods=True)
def unbind(input, dim=0) -> tuple[Tensor, ...]:
    """The slices along `dim`, that dim removed (views): x (3, A, B) -> three (A, B) tensors."""
    if input.ndim == 0:
        raise IndexError(f"unbind: dimension specified as {dim} but tensor has no dimensions")
    return apply(UNBIND, (input,), {"dim": normalize_dim("unbind", dim, input.ndim)})


# --- tensor_split, hsplit, vsplit, dsplit --------------------------------------------------------
def _tensor_split_infer(x, bounds, dim):
    return [x.shape[:dim] + (length,) + x.shape[dim + 1 :] for _, length in bounds]


def _tensor_split(x, bounds, dim):
    return tuple(narrow(x, dim, start, length) for start, length in bounds)


TENSOR_SPLIT = _pieces("tensor_split", _tensor_split_infer, _tensor_split)


def _bounds(op, size, indices_or_sections):
    """(start, length) of each piece: `sections` nearly equal pieces (the first size % sections
    one longer), or the pieces between `indices`, sliced as Python slices them."""
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.dtype not in dtypes.integer_dtypes:
            raise DTypeError(
                f"{op}: indices_or_sections must be an integer tensor, got {indices_or_sections.dtype.name}"
            )
        if indices_or_sections.ndim > 1:
            raise ArgumentError(f"{op}: indices_or_sections must be a 0-d or 1-d tensor")
        values = indices_or_sections.tolist()
        indices_or_sections = values if isinstance(values, list) else int(values)
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise ArgumentError(f"{op}: number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        lengths = [small + 1] * extra + [small] * (sections - extra)
        starts = [sum(lengths[:i]) for i in range(sections)]
        return tuple(zip(starts, lengths))
    bounds, previous = [], 0
    for index in [*(int(i) for i in indices_or_sections), None]:
        start, stop, _ = slice(previous, index).indices(size)
        bounds.append((start, max(0, stop - start)))
        previous = index
    return tuple(bounds)


@public(TENSOR_SPLIT, methods=True)
def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None) -> tuple[Tensor, ...]:
    """Views of `input` along `dim`: `sections` pieces of nearly equal size (an int), or the
    pieces between the given `indices` (`[2, 5]`: [:2], [2:5], [5:]); a 0-d integer tensor is
    sections, a 1-d one indices. `sections=` and `indices=` name the two forms, as PyTorch's
    overloads do."""
    given = [v for v in (indices_or_sections, sections, indices) if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split: expected exactly one of indices_or_sections, sections and indices")
    indices_or_sections = given[0]
    if input.ndim == 0:
        raise ShapeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = normalize_dim("tensor_split", dim, input.ndim)
    bounds = _bounds("tensor_split", input.shape[dim], indices_or_sections)
    return apply(TENSOR_SPLIT, (input,), {"bounds": bounds, "dim": dim})


def _directional_split(name, min_ndim, dim_of):
    def infer(x, bounds):
        return _tensor_split_infer(x, bounds, dim_of(x))

    spec = _pieces(name, infer, lambda x, bounds: _tensor_split(x, bounds, dim_of(x)))

    def split(input, indices_or_sections) -> tuple[Tensor, ...]:
        if input.ndim < min_ndim:
            raise ShapeError(
                f"{name} requires a tensor with at least {min_ndim} dimension, but got a tensor with "
                f"{input.ndim} dimensions!"
            )
        dim = dim_of(input)
        size = input.shape[dim]
        if isinstance(indices_or_sections, int) and (indices_or_sections <= 0 or size % indices_or_sections):
            raise ArgumentError(
                f"{name} attempted to split along dimension {dim}, but the size of the dimension {size} is not "
                f"divisible by the split_size {indices_or_sections}!"
            )
        return apply(spec, (input,), {"bounds": _bounds(name, size, indices_or_sections)})

    split.__name__ = split.__qualname__ = name
    return spec, split


HSPLIT, _hsplit = _directional_split("hsplit", 1, lambda x: 0 if x.ndim == 1 else 1)
VSPLIT, _vsplit = _directional_split("vsplit", 2, lambda x: 0)
DSPLIT, _dsplit = _directional_split("dsplit", 3, lambda x: 2)
_hsplit.__doc__ = "`tensor_split` along dim 1 (dim 0 of a 1-D tensor); an int must divide the size."
_vsplit.__doc__ = "`tensor_split` along dim 0 of a tensor of 2 or more dims; an int must divide the size."
_dsplit.__doc__ = "`tensor_split` along dim 2 of a tensor of 3 or more dims; an int must divide the size."
hsplit = public(HSPLIT, methods=True)(_hsplit)
vsplit = public(VSPLIT, methods=True)(_vsplit)
dsplit = public(DSPLIT, methods=True)(_dsplit)


# --- meshgrid ------------------------------------------------------------------------------------
def _grid_shape(tensors, indexing):
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and len(shape) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    return tuple(shape)


def _meshgrid_infer(*tensors, indexing):
    shape = _grid_shape(tensors, indexing)
    return tuple((shape, t.dtype) for t in tensors)


def _meshgrid(*tensors, indexing):
    shape = _grid_shape(tensors, indexing)
    grids = []
    for i, t in enumerate(tensors):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(tensors) >= 2 else i
        along = [1] * len(tensors)
        along[axis] = t.numel()
        grids.append(t.reshape(tuple(along)).expand(shape))
    return tuple(grids)


MESHGRID = register(OpSpec("meshgrid", "movement", ("*tensors",), _meshgrid_infer, decompose=_meshgrid, outputs=None))


@public(MESHGRID)
def meshgrid(*tensors, indexing=None) -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d or 1-d tensors of sizes (n1, n2, ...): each output has shape
    (n1, n2, ...) ("ij") or (n2, n1, ...) ("xy", Cartesian) and holds its tensor broadcast
    along the other dims (views). Without `indexing`, "ij" with a warning, as PyTorch."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ArgumentError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn(
            "meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f'meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0D or 1D tensor in the tensor list but got shape {tuple(t.shape)}")
        if t.dtype is not tensors[0].dtype:
            raise DTypeError("meshgrid expects all tensors to have the same dtype")
    return apply(MESHGRID, tuple(tensors), {"indexing": indexing})


# --- atleast_1d, atleast_2d, atleast_3d --------------------------------------------------------
def _atleast_shape(x, ndim):
    shape = x.shape
    if len(shape) >= ndim:
        return shape
    if ndim == 3 and len(shape) == 2:
        return shape + (1,)
    if ndim == 3:
        return (1,) + (shape or (1,)) + (1,)
    return (1,) * (ndim - len(shape)) + shape


def _atleast(ndim):
    name = f"atleast_{ndim}d"
    spec = register(
        OpSpec(
            name,
            "movement",
            ("input",),
            lambda x: (_atleast_shape(x, ndim), x.dtype),
            decompose=lambda x: x.reshape(_atleast_shape(x, ndim)),
        )
    )

    def atleast(*tensors) -> Tensor | tuple[Tensor, ...]:
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(apply(spec, (t,), {}) for t in tensors[0])
        if len(tensors) == 1:
            return apply(spec, (tensors[0],), {})
        return tuple(apply(spec, (t,), {}) for t in tensors)

    atleast.__name__ = atleast.__qualname__ = name
    atleast.__doc__ = f"Each tensor viewed with at least {ndim} dims (one tensor, or a tuple for several or a list)."
    return spec, atleast


ATLEAST_1D, _atleast_1d = _atleast(1)
ATLEAST_2D, _atleast_2d = _atleast(2)
ATLEAST_3D, _atleast_3d = _atleast(3)
atleast_1d = public(ATLEAST_1D)(_atleast_1d)
atleast_2d = public(ATLEAST_2D)(_atleast_2d)
atleast_3d = public(ATLEAST_3D)(_atleast_3d)


# --- hstack, vstack, dstack, column_stack ------------------------------------------------------
def _column_shape(x):
    return (x.numel(), 1) if x.ndim < 2 else x.shape


_STACKS = {
    # name: (the shape each tensor is viewed as, the dim joined along given the views' ndim)
    "hstack": (lambda x: _atleast_shape(x, 1), lambda ndim: 0 if ndim == 1 else 1),
    "vstack": (lambda x: _atleast_shape(x, 2), lambda ndim: 0),
    "dstack": (lambda x: _atleast_shape(x, 3), lambda ndim: 2),
    "column_stack": (_column_shape, lambda ndim: 1),
}


def _promoted(tensors):
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    return dtype


def _stack_op(name):
    view_shape, dim_of = _STACKS[name]

    def infer(*tensors):
        dim = dim_of(len(view_shape(tensors[0])))  # the first tensor's, before any is skipped (as PyTorch)
        shapes = joined([view_shape(t) for t in tensors], shape_of=lambda shape: shape)
        first = shapes[0]
        for i, shape in enumerate(shapes):
            if len(shape) != len(first) or any(a != b for d, (a, b) in enumerate(zip(shape, first)) if d != dim):
                raise ShapeError(
                    f"{name}: sizes of tensors must match except in dimension {dim}; got shapes "
                    f"{', '.join(str(tuple(t.shape)) for t in tensors)} (tensor {i} differs)"
                )
        return first[:dim] + (sum(s[dim] for s in shapes),) + first[dim + 1 :], _promoted(tensors)

    def decompose(*tensors):
        dtype = _promoted(tensors)
        dim = dim_of(len(view_shape(tensors[0])))
        views = joined([ew.cast(t.reshape(view_shape(t)), dtype) for t in tensors])
        return views[0] if len(views) == 1 else apply(CAT, tuple(views), {"dim": dim})

    spec = register(OpSpec(name, "movement", ("*tensors",), infer, decompose=decompose))

    def join(tensors):
        tensors = tuple(tensors)
        if not tensors:
            raise ArgumentError(f"{name} expects a non-empty TensorList")
        return apply(spec, tensors, {})

    join.__name__ = join.__qualname__ = name
    return spec, join


HSTACK, _hstack = _stack_op("hstack")
VSTACK, _vstack = _stack_op("vstack")
DSTACK, _dstack = _stack_op("dstack")
COLUMN_STACK, _column_stack = _stack_op("column_stack")
_hstack.__doc__ = "Join along dim 1 (dim 0 for 1-D tensors; 0-d ones count as 1-D): (n, a), (n, b) -> (n, a + b)."
_vstack.__doc__ = "Join along dim 0, 0-d and 1-D tensors made (1, n) rows first: (a, n), (b, n) -> (a + b, n)."
_dstack.__doc__ = (
    "Join along dim 2, each tensor viewed as 3-D first (`atleast_3d`): (n, m, a), (n, m, b) -> (n, m, a + b)."
)
_column_stack.__doc__ = "Join along dim 1, 0-d and 1-D tensors made (n, 1) columns first: (n,), (n, 2) -> (n, 3)."
hstack = public(HSTACK)(_hstack)
vstack = public(VSTACK, aliases=("row_stack",))(_vstack)
dstack = public(DSTACK)(_dstack)
column_stack = public(COLUMN_STACK)(_column_stack)


from somegrad.ops import joins  # noqa: E402, F401  (tile, ravel, fliplr, broadcast_tensors, block_diag, ...)
