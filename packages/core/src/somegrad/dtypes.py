"""somegrad's dtypes and PyTorch's type promotion rules.

A `DType` is a small immutable description (name, kind, size). Backends map each one to
their own array dtype; the core never treats a numpy dtype as the contract.

Promotion follows PyTorch, not NumPy:

* between tensors of the same participation class, the usual lattice
  (`bool < uint8/int8 < int16 < int32 < int64 < float16/bfloat16 < float32 < float64`, with
  `uint8 + int8 -> int16` and `float16 + bfloat16 -> float32`);
* tensors with dimensions outrank 0-d tensors, which outrank Python scalars, except that a
  lower-ranked operand of a *higher category* (bool < integer < floating) lifts the result to
  that category: `int32_tensor + 2.5 -> float32` (the default dtype), `float16_tensor + 2.5 ->
  float16`, `int8_tensor + 1000 -> int8`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DType",
    "bool_",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "all_dtypes",
    "floating_dtypes",
    "integer_dtypes",
    "from_name",
    "promote_types",
    "result_type",
    "get_default_dtype",
    "set_default_dtype",
]


@dataclass(frozen=True, eq=False)
class DType:
    """A tensor element type: `name`, `kind` ("bool", "int", "uint" or "float") and `itemsize`."""

    name: str
    kind: str
    itemsize: int

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "float"

    @property
    def is_signed(self) -> bool:
        return self.kind in ("int", "float")

    @property
    def category(self) -> int:
        """0 for bool, 1 for integers, 2 for floating point (the order promotion lifts by)."""
        return _CATEGORY[self.kind]

    def __repr__(self) -> str:
        return f"somegrad.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


_CATEGORY = {"bool": 0, "uint": 1, "int": 1, "float": 2}

bool_ = DType("bool", "bool", 1)
uint8 = DType("uint8", "uint", 1)
int8 = DType("int8", "int", 1)
int16 = DType("int16", "int", 2)
int32 = DType("int32", "int", 4)
int64 = DType("int64", "int", 8)
float16 = DType("float16", "float", 2)
bfloat16 = DType("bfloat16", "float", 2)
float32 = DType("float32", "float", 4)
float64 = DType("float64", "float", 8)

all_dtypes = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
floating_dtypes = (float16, bfloat16, float32, float64)
integer_dtypes = (uint8, int8, int16, int32, int64)

_BY_NAME = {d.name: d for d in all_dtypes}
_ALIASES = {
    "float": float32,
    "double": float64,
    "half": float16,
    "long": int64,
    "int": int32,
    "short": int16,
    "bool_": bool_,
}


def from_name(name: str) -> DType:
    """The DType called `name` ("float32", "int64", ... or an alias like "long")."""
    dtype = _BY_NAME.get(name) or _ALIASES.get(name)
    if dtype is None:
        raise TypeError(f"unknown dtype {name!r}; expected one of {sorted(_BY_NAME)}")
    return dtype


# The promotion lattice, as PyTorch's table: the smallest type that holds both.
_INT_ORDER = [int8, int16, int32, int64]


def _promote_pair(a: DType, b: DType) -> DType:
    if a is b:
        return a
    if a.kind == "bool":
        return b
    if b.kind == "bool":
        return a
    if a.kind == "float" or b.kind == "float":
        if a.kind != "float":
            return b
        if b.kind != "float":
            return a
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a.itemsize >= b.itemsize else b
    # two integers
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if _INT_ORDER.index(a) >= _INT_ORDER.index(b) else b


_PROMOTION = {(a, b): _promote_pair(a, b) for a in all_dtypes for b in all_dtypes}


def promote_types(a: DType, b: DType) -> DType:
    """The smallest dtype both `a` and `b` convert to without losing their category."""
    return _PROMOTION[(a, b)]


# Process-wide, as in PyTorch: threads (data loader workers) see the same default.
_default_dtype = float32


def get_default_dtype() -> DType:
    """The dtype of new floating point tensors (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: DType) -> None:
    """Set the dtype of new floating point tensors: float16, bfloat16, float32 or float64."""
    global _default_dtype
    if not isinstance(dtype, DType) or not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating point dtype, got {dtype!r}")
    _default_dtype = dtype


def scalar_dtype(value) -> DType:
    """The dtype a Python scalar gets when it becomes a tensor on its own."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return get_default_dtype()
    raise TypeError(f"expected a Python bool, int or float, got {type(value).__name__}")


def _combine_categories(higher: DType | None, lower: DType | None) -> DType | None:
    # PyTorch's rule for merging participation classes: a lower class only matters when
    # it brings a higher category (or when the higher class is bool).
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> DType:
    """The dtype of an elementwise op over `operands` (tensors and Python scalars).

    Example: `result_type(int32_tensor, 2.5)` is float32; `result_type(float16_tensor, 2)`
    is float16; `result_type(int8_tensor_1d, int64_tensor_0d)` is int8.
    """
    dim_result = zero_result = scalar_result = None
    for op in operands:
        if isinstance(op, (bool, int, float)):
            kind = scalar_dtype(op)
            scalar_result = kind if scalar_result is None else promote_types(scalar_result, kind)
        elif op.ndim == 0:
            zero_result = op.dtype if zero_result is None else promote_types(zero_result, op.dtype)
        else:
            dim_result = op.dtype if dim_result is None else promote_types(dim_result, op.dtype)
    result = _combine_categories(dim_result, _combine_categories(zero_result, scalar_result))
    if result is None:
        raise TypeError("result_type: expected at least one tensor or Python number")
    return result
