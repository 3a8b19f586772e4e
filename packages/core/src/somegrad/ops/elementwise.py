"""Elementwise ops: unary math, binary arithmetic, casts, clamp, lerp, addcmul and addcdiv.

Each op is one declaration: its spec (with its dtype rule, `accepts`) and its derivative,
and, below, its public function, declared with `public()` together with the Tensor methods,
in-place variants and operators it gives. The public functions own PyTorch's semantics
(Python and NumPy numbers, type promotion inserted as explicit casts, integer inputs of
float-only math promoted to the default float) and call `apply`. The activations
(sigmoid, relu, gelu, ...) are declared in `somegrad.ops.activations`, the comparisons,
logical ops and `where` in `somegrad.ops.comparison`; all build on `somegrad.ops.operands`.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, UnsupportedDTypeError
from somegrad.ops.dispatch import apply
from somegrad.ops.inplace import inplace, try_inplace_kernel
from somegrad.ops.operands import (  # noqa: F401  (CAST, cast, scalar_tensor: ew.cast and friends)
    CAST,
    _binary,
    _broadcast_infer,
    _floating,
    _operand,
    _operands,
    _same,
    _to_bool,
    binary,
    cast,
    scalar_tensor,
    unary,
)
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor

# Complex inputs: where an op takes them, its backward multiplies by the conjugate of the
# derivative (PyTorch's convention, see `somegrad.ops.complex_numbers`); `conj()` of a real
# tensor is the tensor itself, so the real path costs nothing more.
COMPLEX = frozenset(dtypes.complex_dtypes)
INEXACT = FLOATING | COMPLEX
NUMBERS = NUMERIC | COMPLEX
REAL = frozenset(d for d in dtypes.all_dtypes if not d.is_complex)


def _zeros(g):
    return g.zeros_like()


# --- unary primitives -------------------------------------------------------------------
def _real_parts(x, **params):
    return x.shape, dtypes.to_real(x.dtype)


NEG = unary("neg", lambda g: -g, accepts=NUMBERS)
EXP = unary("exp", lambda g, out: g * out, accepts=FLOATING)  # complex: exp() composes it (polar)
LOG = unary("log", lambda g, x: g / x.conj(), accepts=INEXACT)
LOG1P = unary("log1p", lambda g, x: g / (x + 1), accepts=FLOATING)
EXPM1 = unary("expm1", lambda g, out: g * (out + 1), accepts=FLOATING)
SQRT = unary("sqrt", lambda g, out: g / (out.conj() * 2), accepts=INEXACT)
# |z| of a complex z is real; its gradient grad * z / |z| (sgn, 0 at 0), grad * sign(x) for real x
ABS = unary("abs", lambda g, x: g * x.sgn(), accepts=NUMBERS, infer=_real_parts)
SIGN = unary("sign", _zeros, accepts=REAL, doc="Not for complex (as PyTorch): `sgn` is z / |z|.")
SIN = unary("sin", lambda g, x: g * x.cos().conj(), accepts=INEXACT)
COS = unary("cos", lambda g, x: -g * x.sin().conj(), accepts=INEXACT)
TANH = unary("tanh", lambda g, out: g * (1 - out * out).conj(), accepts=INEXACT)


def _erf(x):
    # Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): good enough for float32
    # and below; backends provide an exact kernel for float64 (the NumPy one does).
    t = 1 / (1 + 0.3275911 * x.abs())
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return x.sign() * (1 - poly * (-x * x).exp())


ERF = register(
    OpSpec(
        "erf",
        "elementwise",
        ("x",),
        _same,
        lambda g, x: g * (2 / math.sqrt(math.pi)) * (-x * x).exp(),
        _erf,
        True,
        decomposition_tolerance=1.5e-7,
        accepts=FLOATING,
    )
)

FLOOR = unary("floor", _zeros, accepts=FLOATING)
CEIL = unary("ceil", _zeros, accepts=FLOATING)
ROUND = unary("round", _zeros, doc="Round half to even, like PyTorch.", accepts=FLOATING)

# --- binary primitives ------------------------------------------------------------------
# The binary rules compute a gradient only for an input that needs one (`needs`, the
# engine's needs_input_grad): in `x * w` with a constant w, the product for w is never formed.
ADD = binary("add", lambda g: (g, g))
SUB = binary("sub", lambda g, needs_input_grad: (g, -g if needs_input_grad[1] else None))


def _mul_backward(g, a, b, needs_input_grad):
    return (g * b.conj() if needs_input_grad[0] else None, g * a.conj() if needs_input_grad[1] else None)


def _div_backward(g, b, out, needs_input_grad):
    return (g / b.conj() if needs_input_grad[0] else None, -g * (out / b).conj() if needs_input_grad[1] else None)


def _pow_backward(g, a, b, out, needs_input_grad):
    # d/da a**b = b * a**(b - 1), taken as 0 where b == 0 (at a == 0 the formula is 0 * inf);
    # d/db a**b = a**b * log(a), taken as 0 where a == 0 and b >= 0 (both as PyTorch does);
    # conjugated for complex operands (`conj` and `real` of a real tensor are the tensor).
    da = (g * (b * a ** (b - 1)).conj()).where(b != 0, 0.0) if needs_input_grad[0] else None
    db = (g * (out * a.log()).conj()).where((a != 0) | (b.real < 0), 0.0) if needs_input_grad[1] else None
    return da, db


def _extremum_backward(first_wins):
    # Ties send half of the gradient to each side, as PyTorch does.
    def backward(g, a, b, needs_input_grad):
        tie = (a == b) * 0.5
        da = g * (first_wins(a, b) + tie) if needs_input_grad[0] else None
        db = g * (first_wins(b, a) + tie) if needs_input_grad[1] else None
        return da, db

    return backward


MUL = binary("mul", _mul_backward)
DIV = binary("div", _div_backward, accepts=INEXACT)
POW = binary("pow", _pow_backward, accepts=NUMBERS)
MAXIMUM = binary("maximum", _extremum_backward(lambda a, b: a > b), accepts=REAL)
MINIMUM = binary("minimum", _extremum_backward(lambda a, b: a < b), accepts=REAL)
FLOOR_DIVIDE = binary("floor_divide", lambda g: (g.zeros_like(), g.zeros_like()), accepts=NUMERIC)
REMAINDER = binary("remainder", lambda g, a, b: (g, -g * floor_divide(a, b)), accepts=NUMERIC)


def _clamp_infer(x, min=None, max=None):
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    return x.shape, x.dtype


def _clamp(x, min=None, max=None):
    if min is not None:
        x = maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return x


def _clamp_backward(g, x, min, max):
    inside = g.ones_like().to(dtypes.bool_)
    if min is not None:
        inside = inside & (x >= min)
    if max is not None:
        inside = inside & (x <= max)
    return g.where(inside, 0.0)


CLAMP = register(
    OpSpec("clamp", "elementwise", ("x",), _clamp_infer, _clamp_backward, _clamp, explicit=True, accepts=NUMERIC)
)


# --- implicit composites: autograd goes through the ops they are made of --------------------
RECIPROCAL = unary("reciprocal", decompose=lambda x: div(1.0, x), accepts=INEXACT)
RSQRT = unary("rsqrt", decompose=lambda x: reciprocal(sqrt(x)), accepts=INEXACT)
SQUARE = unary("square", decompose=lambda x: mul(x, x), accepts=NUMBERS)


def _lerp(start, end, weight):
    return add(start, mul(sub(end, start), weight))


def _addcmul(x, tensor1, tensor2, value=1):
    product = mul(tensor1, tensor2)
    return add(x, product if value == 1 else mul(product, value))


def _addcdiv(x, tensor1, tensor2, value=1):
    quotient = div(tensor1, tensor2)
    return add(x, quotient if value == 1 else mul(quotient, value))


LERP = register(
    OpSpec(
        "lerp", "elementwise", ("start", "end", "weight"), _broadcast_infer("lerp"), decompose=_lerp, accepts=FLOATING
    )
)
ADDCMUL = register(
    OpSpec("addcmul", "elementwise", ("x", "tensor1", "tensor2"), _broadcast_infer("addcmul"), decompose=_addcmul)
)
ADDCDIV = register(
    OpSpec(
        "addcdiv",
        "elementwise",
        ("x", "tensor1", "tensor2"),
        _broadcast_infer("addcdiv"),
        decompose=_addcdiv,
        accepts=FLOATING,
    )
)


# --- the public functions, each declared with its Tensor surface --------------------------------
def _times_alpha(op, a, b, alpha):
    """`b * alpha` in the dtype that `a` and `b` promote to: alpha takes no part in promotion
    and is not applied in b's own dtype first (as PyTorch: `float64 - int32 * 3` does not wrap)."""
    dtype = dtypes.result_type(*(v if isinstance(v, Tensor) else _operand(op, v, None) for v in (a, b)))
    if isinstance(alpha, float) and not dtype.is_floating_point:
        raise ArgumentError(f"{op}: for integral input tensors, argument alpha must not be a floating point number")
    if not isinstance(b, Tensor):
        b = _operands(op, a, b)[1]
    return cast(mul(cast(b, dtype), alpha), dtype)


# The in-place ops optimizers live on: a backend's in-place kernel when nothing is recorded
# (one pass, no temporary), else the generic compute-and-write path.
def add_(self, other, *, alpha=1):
    """In-place `self += alpha * other`; returns this tensor."""
    if try_inplace_kernel(self, "add_", (other,), {"alpha": alpha}):
        return self
    return inplace(self, lambda t: add(t, other, alpha=alpha), "add_", (other,))


@public(ADD, methods=True, inplace=[("add_", add_)], operators=("__add__", "__radd__", "__iadd__"))
def add(a, b, *, alpha=1):
    """`a + alpha * b`, broadcasting."""
    return _binary(ADD, a, b if alpha == 1 else _times_alpha("add", a, b, alpha))


def _is_bool(v):
    return v.dtype is dtypes.bool_ if isinstance(v, Tensor) else isinstance(v, bool)


def sub_(self, other, *, alpha=1):
    """In-place `self -= alpha * other`; returns this tensor."""
    if try_inplace_kernel(self, "sub_", (other,), {"alpha": alpha}):
        return self
    return inplace(self, lambda t: sub(t, other, alpha=alpha), "sub_", (other,))


@public(
    SUB,
    methods=True,
    inplace=[("sub_", sub_)],
    operators=("__sub__", "__rsub__", "__isub__"),
    aliases=("subtract",),
)
def sub(a, b, *, alpha=1):
    """`a - alpha * b`, broadcasting. Not for bool operands (as in PyTorch)."""
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with a bool operand is not supported; use `^` or "
            "logical_xor() (or `~` / logical_not() to invert a mask)"
        )
    return _binary(SUB, a, b if alpha == 1 else _times_alpha("sub", a, b, alpha))


def mul_(self, other):
    """In-place `self *= other`; returns this tensor."""
    if try_inplace_kernel(self, "mul_", (other,), {}):
        return self
    return inplace(self, lambda t: mul(t, other), "mul_", (other,))


@public(
    MUL,
    methods=True,
    inplace=[("mul_", mul_)],
    operators=("__mul__", "__rmul__", "__imul__"),
    aliases=("multiply",),
)
def mul(a, b):
    """`a * b`, broadcasting, with PyTorch's type promotion (Python numbers allowed on either side)."""
    return _binary(MUL, a, b, wide_scalars=True)


def div_(self, other, *, rounding_mode=None):
    """In-place `self /= other` (or floor/trunc division with `rounding_mode`); returns this tensor."""
    if rounding_mode is None and try_inplace_kernel(self, "div_", (other,), {}):
        return self
    return inplace(self, lambda t: div(t, other, rounding_mode=rounding_mode), "div_", (other,))


@public(
    DIV,
    methods=True,
    inplace=[("div_", div_)],
    operators=("__truediv__", "__rtruediv__", "__itruediv__"),
    aliases=("divide", "true_divide"),
)
def div(a, b, *, rounding_mode=None):
    """True division (integers give the default float dtype), or floor/trunc division."""
    if rounding_mode not in (None, "floor", "trunc"):
        raise ArgumentError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        q = div(a, b)
        # rounded toward zero, then back to the operands' dtype (integers stay integers)
        return cast(q.ceil().where(q < 0, q.floor()), dtypes.result_type(a, b))
    dtype = dtypes.result_type(a, b)
    out_dtype = dtype if dtype.is_floating_point else dtypes.get_default_dtype()
    return _binary(DIV, a, b, out_dtype=out_dtype, wide_scalars=True)


@public(POW, methods=True, inplace=True, operators=("__pow__", "__rpow__"))
def pow(a, b):
    """`a ** b`; a Python number for `b` is the common, cheaper case. Integers to negative
    integer powers are refused (PyTorch refuses them for a number; for a tensor exponent it
    returns 0 or ±1)."""
    device = next((v.device for v in (a, b) if isinstance(v, Tensor)), None)
    a, b = (
        v if isinstance(v, Tensor) or _operand("pow", v, device) is None else _operand("pow", v, device) for v in (a, b)
    )
    dtype = dtypes.result_type(a, b)
    if dtype is dtypes.bool_:
        # a ** b of booleans is 1 except 0 ** 1, and stays bool (as in PyTorch)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            broadcast_shapes("pow", a.shape, b.shape)  # the error names pow, not logical_or
        return logical_or(a, (not b) if isinstance(b, bool) else logical_not(b))
    if not dtype.is_floating_point:
        if isinstance(b, int) and not isinstance(b, bool):
            dtypes.check_value_fits("pow", b, dtype)  # an integer exponent must fit, as in PyTorch
        negative = b < 0 if isinstance(b, (bool, int)) else bool((b < 0).any())
        if negative:
            raise RuntimeError("pow: integers to negative integer powers are not allowed; use a float base")
    exponent = isinstance(b, (int, float)) and not isinstance(b, bool)
    if dtype in (dtypes.float16, dtypes.bfloat16) and exponent and isinstance(a, Tensor):
        dtypes.check_value_fits("pow", b, dtype)  # the exponent must fit the half type, as in PyTorch
    if dtype is dtypes.float32 and exponent and not dtypes.exactly_representable(b, dtype):
        # PyTorch raises float32 to a Python number in double precision: 1e-50 is not 0 there
        # (`tensor([0., 2.]) ** 1e-50` is [0, 1]), and 2**31 - 1 stays odd (`-inf ** it` is -inf).
        return cast(_binary(POW, cast(a, dtypes.float64), b), dtype)
    return _binary(POW, a, b)


def _atan2_backward(g, a, b, needs_input_grad):
    # d/da atan2(a, b) = b / (a² + b²), d/db = -a / (a² + b²)
    r2 = a * a + b * b
    return (g * b / r2 if needs_input_grad[0] else None, -g * a / r2 if needs_input_grad[1] else None)


ATAN2 = binary("atan2", _atan2_backward, accepts=FLOATING)


@public(ATAN2, methods=True, inplace=True, aliases=("arctan2",))
def atan2(input, other):
    """The angle of the point (other, input) in radians, in [-pi, pi], elementwise and broadcasting:
    `atan2(y, x)`. Integer inputs give the default float dtype."""
    dtype = dtypes.result_type(input, other)
    return _binary(ATAN2, input, other, out_dtype=dtype if dtype.is_floating_point else dtypes.get_default_dtype())


@public(MAXIMUM, methods=True, inplace=True)
def maximum(a, b):
    """Elementwise maximum of `a` and `b`, broadcasting; at ties each side gets half the gradient, as in PyTorch."""
    return _binary(MAXIMUM, a, b)


@public(MINIMUM, methods=True, inplace=True)
def minimum(a, b):
    """Elementwise minimum of `a` and `b`, broadcasting; at ties each side gets half the gradient, as in PyTorch."""
    return _binary(MINIMUM, a, b)


def _check_integer_divisor(op, a, b):
    # Float division by zero gives inf or NaN; integer division by zero is an error, as in
    # PyTorch (NumPy would return 0).
    dtype = dtypes.result_type(a, b)
    if dtype is dtypes.bool_:
        raise UnsupportedDTypeError(f"{op}: not implemented for bool operands; convert them with .int()")
    empty = any(isinstance(v, Tensor) and v.numel() == 0 for v in (a, b))  # nothing is divided
    if not dtype.is_floating_point and not empty:
        # a Python int divides after wrapping into the dtype (2**16 is 0 in int16), as in PyTorch
        zero = b % (1 << 8 * dtype.itemsize) == 0 if isinstance(b, (bool, int)) else bool((b == 0).any())
        if zero:
            raise RuntimeError(f"{op}: integer division by zero")


@public(FLOOR_DIVIDE, methods=True, operators=("__floordiv__", "__rfloordiv__"))
def floor_divide(a, b):
    """`a // b` rounded toward negative infinity (Python's `//`, PyTorch's current `floor_divide`).

    Broadcasts; the gradient is zero. Integer division by zero and bool operands raise RuntimeError.
    For example, `sg.floor_divide(sg.tensor([-7, 7]), 2)` is `tensor([-4, 3])`."""
    _check_integer_divisor("floor_divide", a, b)
    return _binary(FLOOR_DIVIDE, a, b)


@public(REMAINDER, methods=True, inplace=True, operators=("__mod__", "__rmod__", "__imod__"))
def remainder(a, b):
    """Python's modulo: the result has the sign of `b`, like PyTorch's `remainder`."""
    _check_integer_divisor("remainder", a, b)
    return _binary(REMAINDER, a, b)


def _unary_float(spec):
    def fn(x):
        return apply(spec, (_floating(x),), {})

    fn.__name__ = fn.__qualname__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}` (integer inputs give the default float dtype)."
    return public(spec, methods=True, inplace=True)(fn)


log, log1p, expm1, sqrt, sin, cos, tanh, erf = (_unary_float(s) for s in (LOG, LOG1P, EXPM1, SQRT, SIN, COS, TANH, ERF))


@public(EXP, methods=True, inplace=True)
def exp(x):
    """Elementwise `exp` (integer inputs give the default float dtype). Of a complex z = a + ib,
    `exp(a) * (cos(b) + i sin(b))`, whose gradient autograd takes through those ops."""
    if x.dtype.is_complex:
        return complex_numbers.polar(exp(complex_numbers.real(x)), complex_numbers.imag(x))
    return apply(EXP, (_floating(x),), {})


def abs_(self):
    """In-place `|self|`; returns this tensor. Not for complex tensors (|z| is real), as in PyTorch."""
    if self.dtype.is_complex:
        raise UnsupportedDTypeError("abs_: in-place abs is not supported for complex tensors; use abs()")
    return inplace(self, abs, "abs_", ())


@public(ABS, methods=True, inplace=[("abs_", abs_)], operators=("__abs__",), aliases=("absolute",))
def abs(x):
    """`|x|` elementwise, keeping the dtype (complex gives the parts' dtype: complex64 -> float32).
    Not for bool tensors (as in PyTorch)."""
    return apply(ABS, (x,), {})


@public(SIGN, methods=True, inplace=True)
def sign(x):
    """-1, 0 or 1 by the sign of `x`, keeping the dtype; 0 for NaN, as in PyTorch."""
    out = apply(SIGN, (x,), {})
    return out.where(x == x, 0.0) if x.dtype.kind == "float" else out


@public(NEG, methods=True, inplace=True, operators=("__neg__",), aliases=("negative",))
def neg(x):
    """`-x`, keeping the dtype. Not for bool tensors (as in PyTorch)."""
    if x.dtype is dtypes.bool_:
        raise RuntimeError(
            "neg: negation, the `-` operator, on a bool tensor is not supported; to invert a mask, use "
            "`~` or logical_not()"
        )
    return apply(NEG, (x,), {})


def _rounding(spec):
    def fn(x):
        return x if not x.dtype.is_floating_point else apply(spec, (x,), {})

    fn.__name__ = fn.__qualname__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}`, keeping the dtype; integer and bool tensors come back unchanged."
    return public(spec, methods=True, inplace=True)(fn)


floor, ceil = _rounding(FLOOR), _rounding(CEIL)


@public(ROUND, methods=True, inplace=True)
def round(x, decimals=0):
    """Round half to even; with `decimals`, to that many decimal places."""
    if not x.dtype.is_floating_point:
        return x
    if decimals:
        scale = 10.0**decimals
        return apply(ROUND, (x * scale,), {}) / scale
    return apply(ROUND, (x,), {})


@public(RECIPROCAL, methods=True, inplace=True)
def reciprocal(x):
    """`1 / x` elementwise (integer inputs give the default float dtype)."""
    return apply(RECIPROCAL, (_floating(x),), {})


@public(RSQRT, methods=True, inplace=True)
def rsqrt(x):
    """`1 / sqrt(x)` elementwise (integer inputs give the default float dtype)."""
    return apply(RSQRT, (_floating(x),), {})


@public(SQUARE, methods=True, inplace=True)
def square(x):
    """`x * x` elementwise, keeping the dtype; bool tensors give int64 (as `x ** 2` does in PyTorch)."""
    if x.dtype is dtypes.bool_:
        x = cast(x, dtypes.int64)
    return apply(SQUARE, (x,), {})


@public(CLAMP, methods=("clamp", "clip"), inplace=("clamp_", "clip_"), aliases=("clip",))
def clamp(x, min=None, max=None):
    """Limit `x` to [min, max]; bounds may be numbers or tensors (tensors broadcast)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            x = maximum(x, min)
        if max is not None:
            x = minimum(x, max)
        return x
    bounds = {}
    for name, bound in (("min", min), ("max", max)):
        number = dtypes.python_number(bound) if bound is not None else None
        if bound is not None and number is None:
            raise TypeError(f"clamp: {name} must be a number or a Tensor, got {type(bound).__name__}")
        bounds[name] = number
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    # The result dtype is the promotion of x and the bounds (bool with an int bound: int64,
    # an integer tensor with a float bound: the default float), and each bound must fit it.
    dtype = dtypes.result_type(x, *(b for b in bounds.values() if b is not None))
    if dtype is dtypes.bool_:
        raise UnsupportedDTypeError("clamp: not implemented for bool tensors with bool bounds")
    for name, bound in bounds.items():
        if bound is not None:
            dtypes.check_value_fits("clamp", bound, dtype)
            if dtype is dtypes.uint8 and bound < 0:
                bounds[name] = bound + 256  # wraps, as PyTorch's conversion does
    return apply(CLAMP, (cast(x, dtype),), bounds)


def lerp_(self, end, weight):
    """In-place `self += weight * (end - self)`; returns this tensor."""
    if try_inplace_kernel(self, "lerp_", (end, weight), {}):
        return self
    return inplace(self, lambda t: lerp(t, end, weight), "lerp_", (end, weight))


@public(LERP, methods=True, inplace=[("lerp_", lerp_)])
def lerp(start, end, weight):
    """`start + weight * (end - start)`, broadcasting; `weight` a number or a tensor."""
    return apply(LERP, tuple(_operands("lerp", start, end, weight)), {})


def addcmul_(self, tensor1, tensor2, *, value=1):
    """In-place `self += value * tensor1 * tensor2`; returns this tensor."""
    if try_inplace_kernel(self, "addcmul_", (tensor1, tensor2), {"value": value}):
        return self
    return inplace(self, lambda t: addcmul(t, tensor1, tensor2, value=value), "addcmul_", (tensor1, tensor2))


@public(ADDCMUL, methods=True, inplace=[("addcmul_", addcmul_)])
def addcmul(x, tensor1, tensor2, *, value=1):
    """`x + value * tensor1 * tensor2`, broadcasting."""
    return apply(ADDCMUL, tuple(_operands("addcmul", x, tensor1, tensor2)), {"value": value})


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """In-place `self += value * tensor1 / tensor2`; returns this tensor."""
    if try_inplace_kernel(self, "addcdiv_", (tensor1, tensor2), {"value": value}):
        return self
    return inplace(self, lambda t: addcdiv(t, tensor1, tensor2, value=value), "addcdiv_", (tensor1, tensor2))


@public(ADDCDIV, methods=True, inplace=[("addcdiv_", addcdiv_)])
def addcdiv(x, tensor1, tensor2, *, value=1):
    """`x + value * tensor1 / tensor2`, broadcasting (integer operands give the default float dtype)."""
    operands = _operands("addcdiv", x, tensor1, tensor2)
    return apply(ADDCDIV, tuple(_floating(t) for t in operands), {"value": value})


# The complex numbers' own ops (conj, real, imag, angle, ...) and Tensor.view(dtype).
from somegrad.ops import complex_numbers  # noqa: E402, F401

# Comparisons and the activations live in their own modules (built on the helpers above);
# they are re-exported here for `somegrad.ops` and the modules that take them from here.
from somegrad.ops.activations import gelu, leaky_relu, relu, sigmoid, silu, softplus  # noqa: E402, F401
from somegrad.ops.comparison import (  # noqa: E402, F401
    eq,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    where,
)
