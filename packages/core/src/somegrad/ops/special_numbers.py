"""Number-theoretic and floating-point-format functions: gcd, lcm, ldexp, frexp, nextafter, logspace,
and the dtype facts `iinfo` and `finfo`.

All are composites. gcd runs Euclid's algorithm on every element at once, in a loop over its
steps (at most 93 for int64, the Fibonacci bound), not over the elements; frexp and nextafter
find the exponent with log2 and correct it by one where rounding moved it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from somegrad import dtypes
from somegrad.errors import UnsupportedDTypeError
from somegrad.ops.comparison import where
from somegrad.ops.creation import ARANGE, linspace
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import _operands, abs, cast, floor, mul, pow, remainder
from somegrad.ops.operands import _broadcast_infer
from somegrad.ops.pointwise import log2
from somegrad.ops.spec import FLOATING, INTEGERS, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = ["gcd", "lcm", "ldexp", "frexp", "nextafter", "logspace", "iinfo", "finfo", "Frexp"]


class Frexp(NamedTuple):
    """What `frexp` returns: `.mantissa` and `.exponent`."""

    mantissa: Tensor
    exponent: Tensor


# --- gcd, lcm ------------------------------------------------------------------------------------------
_EUCLID_STEPS = 100  # Euclid on int64 takes at most 92 steps (consecutive Fibonacci numbers)


def _gcd(a, b):
    a, b = abs(a), abs(b)
    for _ in range(_EUCLID_STEPS):
        going = b != 0
        if not bool(going.any().item()):
            break
        a, b = where(going, b, a), where(going, remainder(a, where(going, b, 1)), 0)
    return a


def _lcm(a, b):
    g = _gcd(a, b)
    return where(g == 0, 0, abs((a // where(g == 0, 1, g)) * b))


GCD = register(OpSpec("gcd", "elementwise", ("a", "b"), _broadcast_infer("gcd"), decompose=_gcd, accepts=INTEGERS))
LCM = register(OpSpec("lcm", "elementwise", ("a", "b"), _broadcast_infer("lcm"), decompose=_lcm, accepts=INTEGERS))


def _integer_operands(op, a, b):
    a, b = _operands(op, a, b)
    if a.dtype.kind not in ("int", "uint"):
        raise UnsupportedDTypeError(f"{op}: not implemented for {a.dtype.name} inputs; it takes integer tensors")
    return a, b


@public(GCD, methods=True, inplace=True)
def gcd(input, other):
    """The greatest common divisor of each pair, non-negative (gcd(0, 0) = 0); integer tensors, broadcasting."""
    return apply(GCD, _integer_operands("gcd", input, other), {})


@public(LCM, methods=True, inplace=True)
def lcm(input, other):
    """The least common multiple of each pair, non-negative (0 where either is 0); integer tensors."""
    return apply(LCM, _integer_operands("lcm", input, other), {})


# --- ldexp, frexp, nextafter ---------------------------------------------------------------------------
LDEXP = register(
    OpSpec(
        "ldexp",
        "elementwise",
        ("x", "exponent"),
        _broadcast_infer("ldexp"),
        decompose=lambda x, exponent: mul(x, pow(2.0, exponent)),
        accepts=FLOATING,
    )
)


@public(LDEXP, methods=True, inplace=True)
def ldexp(input, other):
    """`input * 2 ** other`, broadcasting; integer inputs give the default float dtype."""
    x, e = _operands("ldexp", input, other)
    if not x.dtype.is_floating_point:
        x, e = cast(x, dtypes.get_default_dtype()), cast(e, dtypes.get_default_dtype())
    return apply(LDEXP, (x, e), {})


def _exponent(x):
    # the e with |x| = m 2^e, 0.5 <= m < 1, for finite nonzero x (log2 may round across a power of 2)
    magnitude = abs(x)
    safe = where((magnitude == 0) | ~(magnitude < math.inf), 1.0, magnitude)
    e = floor(log2(safe)) + 1
    m = _scale_down(safe, e)
    return where(m >= 1, e + 1, where(m < 0.5, e - 1, e))


def _scale_down(x, e):
    # x / 2^e in two halvings: 2^e alone overflows at the ends of the range (e = 1024, -1074)
    half = floor(e / 2)
    return x / pow(2.0, half) / pow(2.0, e - half)


def _frexp(x):
    finite_nonzero = (x != 0) & (abs(x) < math.inf)
    e = where(finite_nonzero, _exponent(x), 0.0)
    mantissa = where(finite_nonzero, _scale_down(x, e), x)
    return Frexp(mantissa, cast(e, dtypes.int32))


FREXP = register(
    OpSpec(
        "frexp",
        "elementwise",
        ("x",),
        lambda x: ((x.shape, x.dtype), (x.shape, dtypes.int32)),
        decompose=_frexp,
        outputs=2,
        accepts=FLOATING,
    )
)


@public(FREXP, methods=True)
def frexp(input) -> tuple[Tensor, Tensor]:
    """`(mantissa, exponent)` with `input = mantissa * 2 ** exponent` and 0.5 <= |mantissa| < 1 (0 and
    0 for 0; the input and 0 for inf and NaN); the exponent is int32. Floating inputs only."""
    if not input.dtype.is_floating_point:
        raise UnsupportedDTypeError(f"frexp: only supports floating-point dtypes, got {input.dtype.name}")
    return apply(FREXP, (input,), {})


def _precision(dtype):
    return {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}[dtype.name]


def _nextafter(x, y):
    p = _precision(x.dtype)
    info = finfo(x.dtype)
    smallest = info.tiny * 2.0 ** (1 - p)  # the smallest subnormal
    up = y > x
    away = (up & (x > 0)) | (~up & (x < 0))  # the step makes |x| larger
    e = _exponent(x)
    # the gap above |x| is 2^(e - p); below an exact power of two it is half of that
    power_of_two = abs(x) == pow(2.0, e - 1)
    gap = pow(2.0, where(~away & power_of_two, e - p - 1, e - p))
    gap = where(gap < smallest, smallest, gap)
    gap = where(x == 0, smallest, gap)
    out = x + where(up, gap, -gap)
    out = where(abs(x) == math.inf, where(away, x, x.sign() * info.max), out)
    out = where(x == y, y, out)
    return where((x != x) | (y != y), math.nan, out)


NEXTAFTER = register(
    OpSpec(
        "nextafter",
        "elementwise",
        ("a", "b"),
        _broadcast_infer("nextafter"),
        decompose=_nextafter,
        accepts=frozenset((dtypes.float32, dtypes.float64, dtypes.float16, dtypes.bfloat16)),
    )
)


@public(NEXTAFTER, methods=True, inplace=True)
def nextafter(input, other):
    """The next floating-point value after `input` towards `other`, elementwise and broadcasting."""
    a, b = _operands("nextafter", input, other)
    if not a.dtype.is_floating_point:
        raise UnsupportedDTypeError(f"nextafter: not implemented for {a.dtype.name} inputs")
    return apply(NEXTAFTER, (a, b), {})


# --- logspace -----------------------------------------------------------------------------------------
@public(ARANGE, form=True)
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """`base ** linspace(start, end, steps)`: `steps` values spaced evenly on a log scale."""
    dtype = dtype or dtypes.get_default_dtype()
    if dtype is dtypes.bool_:
        raise UnsupportedDTypeError("logspace: not implemented for bool")
    exponents = linspace(start, end, steps, dtype=dtypes.float64, device=device)
    out = cast(pow(float(base), exponents), dtype)
    return out.requires_grad_(True) if requires_grad else out


# --- iinfo, finfo -------------------------------------------------------------------------------------------
class iinfo:  # noqa: N801  (PyTorch's name)
    """The range of an integer dtype: `bits`, `min`, `max`, `dtype` (the name), as `torch.iinfo`."""

    def __init__(self, type):
        if not isinstance(type, dtypes.DType) or type.kind not in ("int", "uint"):
            raise TypeError(f"iinfo: {type!r} is not an integer dtype; use finfo for floating ones")
        self.bits = type.itemsize * 8
        self.min, self.max = dtypes.integer_bounds(type)
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, bits={self.bits}, dtype={self.dtype})"


_BFLOAT16 = {
    "bits": 16,
    "eps": 0.0078125,
    "max": 3.3895313892515355e38,
    "tiny": 1.1754943508222875e-38,
    "resolution": 0.01,
}


class finfo:  # noqa: N801  (PyTorch's name)
    """The format of a floating dtype (default: the default dtype): `bits`, `eps`, `max`, `min`,
    `tiny` (= `smallest_normal`), `resolution`, `dtype` (the name), as `torch.finfo`."""

    def __init__(self, type=None):
        if type is None:
            type = dtypes.get_default_dtype()
        if not isinstance(type, dtypes.DType) or type.kind != "float":
            raise TypeError(f"finfo: {type!r} is not a floating dtype; use iinfo for integer ones")
        if type is dtypes.bfloat16:
            facts = _BFLOAT16
        else:
            info = np.finfo(type.name)
            facts = {
                "bits": int(info.bits),
                "eps": float(info.eps),
                "max": float(info.max),
                "tiny": float(info.tiny),
                "resolution": 10.0 ** -int(info.precision),
            }
        self.bits, self.eps, self.max = facts["bits"], facts["eps"], facts["max"]
        self.min = -self.max
        self.tiny = self.smallest_normal = facts["tiny"]
        self.resolution = facts["resolution"]
        self.dtype = type.name

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, "
            f"smallest_normal={self.smallest_normal}, tiny={self.tiny}, dtype={self.dtype})"
        )
