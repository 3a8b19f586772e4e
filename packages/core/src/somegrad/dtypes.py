"""somegrad's dtypes and PyTorch's type promotion rules.

A `DType` is a small immutable description (name, kind, size). Backends map each one to
their own array dtype; the core never treats a numpy dtype as the contract.

Promotion follows PyTorch, not NumPy:

* between tensors of the same participation class, the usual lattice
  (`bool < uint8/int8 < int16 < int32 < int64 < float16/bfloat16 < float32 < float64`, with
  `uint8 + int8 -> int16` and `float16 + bfloat16 -> float32`);
* tensors with dimensions outrank 0-d tensors, which outrank Python scalars, except that a
  lower-ranked operand of a *higher category* (bool < integer < floating < complex) lifts the
  result to that category: `int32_tensor + 2.5 -> float32` (the default dtype), `float16_tensor
  + 2.5 -> float16`, `int8_tensor + 1000 -> int8`, `float64_tensor + 1j -> complex128` (a
  floating operand keeps its precision when a complex one lifts it: `float32_tensor +
  complex128_0d -> complex64`).

complex64 and complex128 hold a float32 and a float64 pair. `DType.is_floating_point` is True
for them too: it says a dtype carries gradients and keeps its values through float-only math;
`DType.is_complex` tells them apart (PyTorch's `dtype.is_floating_point`, and somegrad's
`Tensor.is_floating_point()`, are False for complex). somegrad has no complex32: float16 and
bfloat16 lift to complex64.
"""

from __future__ import annotations

import math
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
    "complex64",
    "complex128",
    "all_dtypes",
    "complex_dtypes",
    "to_complex",
    "to_real",
    "floating_dtypes",
    "integer_dtypes",
    "from_name",
    "promote_types",
    "result_type",
    "get_default_dtype",
    "get_default_complex_dtype",
    "set_default_dtype",
    "integer_bounds",
    "float_max",
    "python_number",
    "value_fits",
    "check_value_fits",
    "exactly_representable",
]


@dataclass(frozen=True, eq=False)
class DType:
    """A tensor element type: `name`, `kind` ("bool", "int", "uint", "float" or "complex") and `itemsize`."""

    name: str
    kind: str
    itemsize: int

    @property
    def is_floating_point(self) -> bool:
        """True for the floating point and the complex dtypes: those that carry gradients
        (see the module docstring; `is_complex` tells complex apart)."""
        return self.kind == "float" or self.kind == "complex"

    @property
    def is_complex(self) -> bool:
        return self.kind == "complex"

    @property
    def is_signed(self) -> bool:
        return self.kind in ("int", "float", "complex")

    @property
    def category(self) -> int:
        """0 for bool, 1 for integers, 2 for floating point, 3 for complex (the order promotion lifts by)."""
        return _CATEGORY[self.kind]

    def __repr__(self) -> str:
        return f"somegrad.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


_CATEGORY = {"bool": 0, "uint": 1, "int": 1, "float": 2, "complex": 3}

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
complex64 = DType("complex64", "complex", 8)
complex128 = DType("complex128", "complex", 16)

all_dtypes = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
floating_dtypes = (float16, bfloat16, float32, float64)
integer_dtypes = (uint8, int8, int16, int32, int64)
complex_dtypes = (complex64, complex128)

_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float16: complex64, bfloat16: complex64, float32: complex64, float64: complex128}


def to_real(dtype: DType) -> DType:
    """The dtype of a complex dtype's parts (float32 for complex64); a real dtype itself."""
    return _REAL_OF.get(dtype, dtype)


def to_complex(dtype: DType) -> DType:
    """The complex dtype whose parts are the floating `dtype` (complex128 for float64; complex64
    for the half types, as somegrad has no complex32); a complex dtype itself."""
    if dtype.is_complex:
        return dtype
    try:
        return _COMPLEX_OF[dtype]
    except KeyError:
        raise TypeError(f"to_complex: expected a floating point dtype, got {dtype.name}") from None


_BY_NAME = {d.name: d for d in all_dtypes}
_ALIASES = {
    "float": float32,
    "double": float64,
    "half": float16,
    "long": int64,
    "int": int32,
    "short": int16,
    "bool_": bool_,
    "cfloat": complex64,
    "cdouble": complex128,
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
    if a.kind == "complex" or b.kind == "complex":
        # the complex type whose parts hold both: complex64 + float64 -> complex128
        parts = [to_real(d) for d in (a, b) if d.kind in ("float", "complex")]
        return complex128 if any(p.itemsize == 8 for p in parts) else complex64
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


_INTEGER_BOUNDS = {
    uint8: (0, 2**8 - 1),
    int8: (-(2**7), 2**7 - 1),
    int16: (-(2**15), 2**15 - 1),
    int32: (-(2**31), 2**31 - 1),
    int64: (-(2**63), 2**63 - 1),
}
_FLOAT_MAX = {
    float16: 65504.0,
    bfloat16: 3.3895313892515355e38,
    float32: 3.4028234663852886e38,
    float64: 1.7976931348623157e308,
}


def integer_bounds(dtype: DType) -> tuple[int, int]:
    """The smallest and largest value of an integer dtype: `(-128, 127)` for int8."""
    return _INTEGER_BOUNDS[dtype]


def float_max(dtype: DType) -> float:
    """The largest finite value of a floating point dtype: 65504.0 for float16."""
    return _FLOAT_MAX[dtype]


def python_number(value):
    """`value` as a Python bool, int, float or complex when it is one, or a NumPy scalar of those
    kinds (`np.float32(3)` gives 3.0, `np.int64(2)` gives 2, `np.complex64(1j)` gives 1j); None
    for anything else."""
    if isinstance(value, (bool, int, float, complex)):
        return value if type(value) in (bool, int, float, complex) else value.item()
    kind_of = type(value)
    if kind_of.__module__ == "numpy" and kind_of.__name__ != "ndarray" and hasattr(value, "item"):
        kind = getattr(getattr(value, "dtype", None), "kind", "")
        if kind in "biufc" and kind:
            return value.item()
    return None


# (significand bits, smallest exponent of a normal number as math.frexp gives it)
_SIGNIFICAND = {float16: (11, -13), bfloat16: (8, -125), float32: (24, -125), float64: (53, -1021)}


def exactly_representable(value, dtype: DType) -> bool:
    """Whether the Python number `value` is exactly a value of the floating dtype `dtype` (NaN
    and the infinities are): `exactly_representable(2049, float16)` is False (float16 holds 2048
    and 2050), `exactly_representable(0.5, bfloat16)` True."""
    try:
        as_float = float(value)
    except OverflowError:
        return False
    if as_float != value:  # an int that not even float64 holds
        return False
    if as_float == 0 or not math.isfinite(as_float):
        return True
    if abs(as_float) > _FLOAT_MAX[dtype]:
        return False
    bits, min_exponent = _SIGNIFICAND[dtype]
    significand, exponent = math.frexp(as_float)
    bits -= max(0, min_exponent - exponent)  # subnormals have fewer bits
    return bits > 0 and math.ldexp(significand, bits).is_integer()


def value_fits(value, dtype: DType) -> bool:
    """Whether the Python number `value` converts to `dtype` without overflow, by PyTorch's rule:
    bools always fit; into an integer dtype, NaN and inf never, and other numbers when they lie
    within its range, where uint8 also takes ints down to -255 (they wrap, as `a + 255 * b`
    stands for `a - b`); into a floating dtype, anything but finite values past its largest.

    `value_fits(300, uint8)` is False, `value_fits(-1, uint8)` True (it becomes 255),
    `value_fits(2.7, int8)` True (it becomes 2), `value_fits(1e40, float32)` False."""
    if isinstance(value, complex):
        if not dtype.is_complex and value.imag != 0:
            return False  # PyTorch: a complex number with an imaginary part fits no real dtype
        if dtype.is_complex:
            return value_fits(value.real, to_real(dtype)) and value_fits(value.imag, to_real(dtype))
        value = value.real
    if isinstance(value, bool) or dtype is bool_:
        return True
    if dtype.is_complex:
        return value_fits(value, to_real(dtype))
    if dtype.is_floating_point:
        if isinstance(value, float) and (value != value or value in (math.inf, -math.inf)):
            return True
        return -_FLOAT_MAX[dtype] <= value <= _FLOAT_MAX[dtype]
    low, high = _INTEGER_BOUNDS[dtype]
    if isinstance(value, float):
        # compared as C++ compares a double with the limit converted to double
        return float(low) <= value <= float(high)
    if dtype.kind == "uint":
        return -high <= value <= high
    return low <= value <= high


def check_value_fits(op: str, value, dtype: DType) -> None:
    """Raise `ValueOverflowError` (a RuntimeError) naming `op` unless `value_fits(value, dtype)`."""
    if not value_fits(value, dtype):
        from somegrad.errors import ValueOverflowError

        raise ValueOverflowError(f"{op}: value {value!r} cannot be converted to type {dtype.name} without overflow")


# Process-wide, as in PyTorch: threads (data loader workers) see the same default.
_default_dtype = float32


def get_default_dtype() -> DType:
    """The dtype of new floating point tensors (float32 unless changed)."""
    return _default_dtype


def get_default_complex_dtype() -> DType:
    """The dtype of new complex tensors (from Python complex numbers): complex128 when the
    default dtype is float64, else complex64 (as PyTorch)."""
    return complex128 if _default_dtype is float64 else complex64


def set_default_dtype(dtype: DType) -> None:
    """Set the dtype of new floating point tensors: float16, bfloat16, float32 or float64."""
    global _default_dtype
    if not isinstance(dtype, DType) or dtype.kind != "float":
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
    if isinstance(value, complex):
        return get_default_complex_dtype()
    raise TypeError(f"expected a Python bool, int, float or complex, got {type(value).__name__}")


def _combine_categories(higher: DType | None, lower: DType | None) -> DType | None:
    # PyTorch's rule for merging participation classes: a lower class only matters when
    # it brings a higher category (or when the higher class is bool).
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        # a floating operand keeps its precision: float64_tensor + 1j is complex128
        return to_complex(higher) if higher.kind == "float" else lower
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
        if isinstance(op, (bool, int, float, complex)):
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
