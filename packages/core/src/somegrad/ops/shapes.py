"""Shape rules shared by the op families: broadcasting and `dim` normalisation.

Each raises the clear error an op's user sees, naming the op.
"""

from __future__ import annotations

from somegrad.errors import ArgumentError, ShapeError

__all__ = ["broadcast_shapes", "normalize_dim", "normalize_dims", "reduced_shape", "as_shape"]


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape `shapes` broadcast to, like PyTorch; a `ShapeError` (a RuntimeError, as PyTorch
    raises) naming `op` if they don't."""
    first = shapes[0]
    if len(shapes) == 2:
        second = shapes[1]
        if first == second or not second:
            return first
        if not first:
            return second
    elif all(s == first for s in shapes):
        return first
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -axis:
                d = s[axis]
                if d != 1:
                    if size != 1 and d != size:
                        shown = " and ".join(str(tuple(s)) for s in shapes)
                        raise ShapeError(
                            f"{op}: shapes {shown} cannot be broadcast together: size {size} and "
                            f"size {d} differ at dimension {axis} (sizes must match or be 1)"
                        )
                    size = d
        result.append(size)
    return tuple(result)


def normalize_dim(op: str, dim: int, ndim: int) -> int:
    """`dim` as a non-negative index into `ndim` dimensions (0-d tensors accept 0 and -1)."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-bound}, {bound - 1}], but got {dim})"
        )
    return dim % bound if ndim else 0


def normalize_dims(op: str, dim, ndim: int) -> tuple[int, ...]:
    """`dim` (None, an int, or a tuple/list of ints) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = normalize_dim(op, dim, ndim)  # validated for 0-d tensors too (0 and -1 only)
        return (dim,) if ndim else ()
    if not isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {type(dim).__name__}")
    dims = tuple(normalize_dim(op, d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise ArgumentError(f"{op}: dim {tuple(dim)} names a dimension more than once")
    return tuple(sorted(dims)) if ndim else ()


def reduced_shape(shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool) -> tuple[int, ...]:
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def as_shape(op: str, size) -> tuple[int, ...]:
    """A size given as ints, a tuple or list of ints: `zeros(2, 3)` or `zeros((2, 3))`."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = []
    for s in size:
        if hasattr(s, "item") and not isinstance(s, int):
            s = s.item()
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"{op}: sizes must be ints, got {size!r}")
        if s < 0:
            raise ShapeError(f"{op}: sizes must be non-negative, got {tuple(size)}")
        shape.append(s)
    return tuple(shape)
