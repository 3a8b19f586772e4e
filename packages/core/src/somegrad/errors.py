"""The exception classes somegrad raises for bad input.

PyTorch raises `RuntimeError` for most mistakes in shapes, dtypes and argument values, and code
written for PyTorch catches that. somegrad raises the same class, through subclasses that are also
the class it raised before (`ValueError` for shapes and values, `TypeError` for dtypes), so that
both `except RuntimeError` and the older `except ValueError` keep working:

    try:
        sg.ones(2, 3) @ sg.ones(2, 3)
    except RuntimeError as exc:   # also a ValueError
        print(exc)                # matmul: shapes (2, 3) and (2, 3) cannot be multiplied ...

Where PyTorch raises `IndexError` (a dim or an index out of range) or `TypeError` (an argument
of the wrong Python type), somegrad raises that plain class.
"""

from __future__ import annotations

__all__ = [
    "ShapeError",
    "ArgumentError",
    "DTypeError",
    "UnsupportedDTypeError",
    "IndexOutOfRangeError",
    "ValueOverflowError",
]


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit an op: operands that do not broadcast, matmul's inner sizes, a
    reshape to a different number of elements, a window larger than its input."""


class ArgumentError(RuntimeError, ValueError):
    """An argument value the op does not take: an unknown `rounding_mode`, a zero step, a
    duplicate dim, a negative size."""


class DTypeError(RuntimeError, TypeError):
    """A dtype the op does not take (`mean` of an integer tensor), or operands whose dtypes do
    not combine."""


class UnsupportedDTypeError(DTypeError, NotImplementedError):
    """An op that has no implementation for this dtype (`linspace(..., dtype=bool)`), raised as
    PyTorch's `NotImplementedError` ("not implemented for 'Bool'"), a RuntimeError too."""


class IndexOutOfRangeError(RuntimeError, IndexError):
    """An index past the end of a dimension in `gather` or `scatter_add`, or `max()` of an empty
    tensor without a dim: PyTorch reports these as RuntimeError where plain indexing and
    reductions over an empty dim raise IndexError."""


class ValueOverflowError(RuntimeError, ValueError):
    """A Python number that the target dtype cannot hold: NaN, inf or an out-of-range value
    written into an integer tensor, `1e40` into a float32 one (PyTorch's "value cannot be
    converted to type ... without overflow", a RuntimeError; a ValueError too, which PyTorch
    raises for Python ints beyond int64)."""
