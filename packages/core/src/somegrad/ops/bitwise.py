"""Bitwise ops: and, or, xor and not (logical on bool tensors, bitwise on integers, as in
PyTorch) and the shifts `<<` and `>>` on integers."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import UnsupportedDTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import clamp, floor_divide, mul, pow
from somegrad.ops.operands import _operands, binary, cast, scalar_tensor, unary
from somegrad.ops.spec import INTEGERS, INTEGRAL, public


# --- shifts: integers only, as in PyTorch; a shift past the width gives 0 (or -1 to the right) ---
def _shift_left(a, b):
    bits = 8 * a.dtype.itemsize
    # 2 ** width wraps to 0 in the integer dtype, so a shift past the width is 0, as in PyTorch
    shifted = mul(a, pow(scalar_tensor(2, a.dtype, a.device), clamp(b, 0, bits)))
    return shifted.where(b >= 0, 0)


def _shift_right(a, b):
    bits = 8 * a.dtype.itemsize
    # a negative shift fills with the sign, as one past the width does (PyTorch's result)
    steps = clamp(b, 0, bits - 1).where(b >= 0, bits - 1)
    first = clamp(steps, max=bits - 2)  # 2 ** (bits - 1) does not fit a signed dtype: two divisions
    two = scalar_tensor(2, a.dtype, a.device)
    return floor_divide(floor_divide(a, pow(two, first)), pow(two, steps - first))


LEFT_SHIFT = binary("bitwise_left_shift", decompose=_shift_left, accepts=INTEGERS)
RIGHT_SHIFT = binary("bitwise_right_shift", decompose=_shift_right, accepts=INTEGERS)


def _shift(spec, a, b):
    operands = _operands(spec.name, a, b)
    dtype = operands[0].dtype
    if dtype.is_floating_point:
        raise UnsupportedDTypeError(f"{spec.name}: not implemented for {dtype.name}; shifts take integer tensors")
    if dtype is dtypes.bool_:
        operands = [cast(t, dtypes.int64) for t in operands]
    return apply(spec, tuple(operands), {})


@public(LEFT_SHIFT, methods=True, operators=("__lshift__", "__rlshift__"))
def bitwise_left_shift(a, b):
    """`a << b` for integer tensors (as `a * 2 ** b`, wrapping); a shift past the width gives 0."""
    return _shift(LEFT_SHIFT, a, b)


@public(RIGHT_SHIFT, methods=True, operators=("__rshift__", "__rrshift__"))
def bitwise_right_shift(a, b):
    """`a >> b` for integer tensors, rounding toward negative infinity (an arithmetic shift)."""
    return _shift(RIGHT_SHIFT, a, b)


# --- bitwise ops: integer and bool tensors (bool: the logical ops, as in PyTorch) ----------------
BITWISE_AND = binary("bitwise_and", accepts=INTEGRAL)
BITWISE_OR = binary("bitwise_or", accepts=INTEGRAL)
BITWISE_XOR = binary("bitwise_xor", accepts=INTEGRAL)
BITWISE_NOT = unary("bitwise_not", accepts=INTEGRAL)


def _bitwise(spec, a, b):
    operands = _operands(spec.name, a, b)
    if operands[0].dtype.is_floating_point:
        raise UnsupportedDTypeError(
            f"{spec.name}: not implemented for {operands[0].dtype.name}; bitwise ops take integer and bool tensors"
        )
    return apply(spec, tuple(operands), {})


@public(BITWISE_AND, methods=True, inplace=True, operators=("__and__", "__rand__", "__iand__"))
def bitwise_and(a, b):
    """`a & b` elementwise, broadcasting: bitwise for integers, logical and for bool tensors."""
    return _bitwise(BITWISE_AND, a, b)


@public(BITWISE_OR, methods=True, inplace=True, operators=("__or__", "__ror__", "__ior__"))
def bitwise_or(a, b):
    """`a | b` elementwise, broadcasting: bitwise for integers, logical or for bool tensors."""
    return _bitwise(BITWISE_OR, a, b)


@public(BITWISE_XOR, methods=True, inplace=True, operators=("__xor__", "__rxor__", "__ixor__"))
def bitwise_xor(a, b):
    """`a ^ b` elementwise, broadcasting: bitwise for integers, logical xor for bool tensors."""
    return _bitwise(BITWISE_XOR, a, b)


@public(BITWISE_NOT, methods=True, inplace=True, operators=("__invert__",))
def bitwise_not(x):
    """`~x` elementwise: the bits inverted for integers (`~5` is -6), logical not for bool."""
    if x.dtype.is_floating_point:
        raise UnsupportedDTypeError(
            f"bitwise_not: not implemented for {x.dtype.name}; it takes integer and bool tensors"
        )
    return apply(BITWISE_NOT, (x,), {})
