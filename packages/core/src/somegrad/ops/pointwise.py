"""The rest of PyTorch's elementwise math: trig, inverse trig and hyperbolic functions, log2/log10/exp2,
sinc, copysign, fmod, trunc, frac, hypot, logaddexp(2), isinf/isposinf/isneginf, nan_to_num, isclose,
allclose.

The one-input functions are primitives (one Array API call each, see
`somegrad.backends.array_api_pointwise`) with their derivative beside them; exp2, sinc, frac,
logaddexp2, the inf tests, nan_to_num and isclose are implicit composites (autograd goes through
the ops they are made of); fmod is an explicit composite with PyTorch's derivative. Integer and
bool inputs of the float math give the default float dtype, as in PyTorch.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, UnsupportedDTypeError
from somegrad.ops.comparison import isfinite, isnan, where
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import (
    _binary,
    _check_integer_divisor,
    _floating,
    _operands,
    abs,
    binary,
    cast,
    div,
    mul,
    pow,
    remainder,
    sin,
    sub,
    unary,
)
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = [
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "log2",
    "log10",
    "exp2",
    "sinc",
    "copysign",
    "fmod",
    "trunc",
    "frac",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "isinf",
    "isposinf",
    "isneginf",
    "nan_to_num",
    "isclose",
    "allclose",
]

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_INF = math.inf


def _zeros(g):
    return g.zeros_like()


# --- one-input primitives, each with its derivative -----------------------------------------
TAN = unary("tan", lambda g, out: g * (1 + out * out), accepts=FLOATING)
ASIN = unary("asin", lambda g, x: g / (1 - x * x).sqrt(), accepts=FLOATING)
ACOS = unary("acos", lambda g, x: -g / (1 - x * x).sqrt(), accepts=FLOATING)
ATAN = unary("atan", lambda g, x: g / (1 + x * x), accepts=FLOATING)
SINH = unary("sinh", lambda g, x: g * x.cosh(), accepts=FLOATING)
COSH = unary("cosh", lambda g, x: g * x.sinh(), accepts=FLOATING)
ASINH = unary("asinh", lambda g, x: g / (x * x + 1).sqrt(), accepts=FLOATING)
ACOSH = unary("acosh", lambda g, x: g / (x * x - 1).sqrt(), accepts=FLOATING)
ATANH = unary("atanh", lambda g, x: g / (1 - x * x), accepts=FLOATING)
LOG2 = unary("log2", lambda g, x: g / (x * _LN2), accepts=FLOATING)
LOG10 = unary("log10", lambda g, x: g / (x * _LN10), accepts=FLOATING)
TRUNC = unary("trunc", _zeros, doc="Round toward zero.", accepts=FLOATING)


# --- one-input composites ----------------------------------------------------------------------
def _sinc(x):
    # sin(pi x) / (pi x), 1 at 0; the zeros are replaced by 1 before the division too, so that
    # the masked-out branch has a finite derivative (0 / 0 there would make the gradient NaN).
    # sinc(+-inf) is NaN, as sin(inf) is, but without the kernel meeting inf (NumPy warns there).
    zero, infinite = x == 0, abs(x) == _INF
    scaled = where(zero | infinite, 1.0, x) * math.pi
    return where(infinite, math.nan, where(zero, 1.0, sin(scaled) / scaled))


EXP2 = unary("exp2", decompose=lambda x: pow(2.0, x), accepts=FLOATING)
SINC = unary("sinc", decompose=_sinc, accepts=FLOATING)
FRAC = unary("frac", decompose=lambda x: sub(x, trunc(x)), accepts=FLOATING)


def _bool_shape(x, **params):
    return x.shape, dtypes.bool_


def _inf_test(sign):
    def decompose(x):
        if not x.dtype.is_floating_point:
            return x != x  # integers and bools hold no infinity
        if sign == 0:
            return abs(x) == _INF
        return x == sign * _INF

    return decompose


ISINF = unary("isinf", decompose=_inf_test(0), infer=_bool_shape)
ISPOSINF = unary("isposinf", decompose=_inf_test(1), infer=_bool_shape)
ISNEGINF = unary("isneginf", decompose=_inf_test(-1), infer=_bool_shape)


def _nan_to_num(x, nan, posinf, neginf):
    if not x.dtype.is_floating_point:
        return x.clone()
    out = where(x == _INF, posinf, x)
    out = where(x == -_INF, neginf, out)
    return where(isnan(x), nan, out)


def _same_shape(x, **params):
    return x.shape, x.dtype


NAN_TO_NUM = register(OpSpec("nan_to_num", "elementwise", ("x",), _same_shape, decompose=_nan_to_num))


# --- two-input primitives and composites ------------------------------------------------------
def _copysign_backward(g, a, out):
    # d/da copysign(a, b) is +-1 (whether the sign changed), 0 at a == 0 as in PyTorch; b gets 0.
    return g * (out.sign() * a.sign()), g.zeros_like()


def _hypot_backward(g, a, b, out, needs_input_grad):
    return (g * a / out if needs_input_grad[0] else None, g * b / out if needs_input_grad[1] else None)


def _logaddexp_backward(g, a, b, out, needs_input_grad):
    # d/da log(e^a + e^b) = e^a / (e^a + e^b) = e^(a - out)
    return (g * (a - out).exp() if needs_input_grad[0] else None, g * (b - out).exp() if needs_input_grad[1] else None)


COPYSIGN = binary("copysign", _copysign_backward, accepts=FLOATING)
HYPOT = binary("hypot", _hypot_backward, accepts=FLOATING)
LOGADDEXP = binary("logaddexp", _logaddexp_backward, accepts=FLOATING)
LOGADDEXP2 = binary(
    "logaddexp2", decompose=lambda a, b: div(logaddexp(mul(a, _LN2), mul(b, _LN2)), _LN2), accepts=FLOATING
)


def _fmod(a, b):
    # fmod(a, b) = sign(a) * (|a| mod |b|): Python's modulo of non-negative operands is C's fmod,
    # exactly (no a - trunc(a / b) * b, which rounds).
    magnitude = remainder(abs(a), abs(b))
    if a.dtype.is_floating_point:
        return copysign(magnitude, a)
    return where(a < 0, -magnitude, magnitude)


def _fmod_backward(g, a, b, needs_input_grad):
    grad_b = -g * div(a, b, rounding_mode="trunc") if needs_input_grad[1] else None
    return (g if needs_input_grad[0] else None), grad_b


FMOD = register(
    OpSpec(
        "fmod",
        "elementwise",
        ("a", "b"),
        lambda a, b: (broadcast_shapes("fmod", a.shape, b.shape), a.dtype),
        _fmod_backward,
        _fmod,
        explicit=True,
        accepts=NUMERIC,
    )
)


def _isclose_infer(a, b, rtol, atol, equal_nan, name="isclose"):
    if a.dtype is not b.dtype:
        raise DTypeError(
            f"{name}: expected both inputs to have the same dtype, but input has {a.dtype.name} and other has "
            f"{b.dtype.name}; convert one with .to()"
        )
    for tolerance_name, tolerance in (("rtol", rtol), ("atol", atol)):
        if tolerance < 0:
            raise ArgumentError(f"{name}: {tolerance_name} must be greater than or equal to zero, but got {tolerance}")
    return broadcast_shapes(name, a.shape, b.shape), dtypes.bool_


def _isclose(a, b, rtol, atol, equal_nan):
    close = a == b  # also where both are the same infinity
    if equal_nan and a.dtype.is_floating_point:
        close = close | (isnan(a) & isnan(b))
    if rtol == 0 and atol == 0:
        return close
    if a.dtype is dtypes.bool_:
        a, b = cast(a, dtypes.get_default_dtype()), cast(b, dtypes.get_default_dtype())
    # |a - b| <= atol + |rtol * b|, in the inputs' dtype (as PyTorch: float32 stays float32)
    allowed = abs(mul(b, rtol)) + atol
    actual = abs(sub(a, b))
    return close | (isfinite(actual) & (actual <= allowed))


ISCLOSE = register(OpSpec("isclose", "elementwise", ("a", "b"), _isclose_infer, decompose=_isclose))


def _allclose_infer(a, b, rtol, atol, equal_nan):
    _isclose_infer(a, b, rtol, atol, equal_nan, name="allclose")
    return (), dtypes.bool_


def _allclose(a, b, rtol, atol, equal_nan):
    return _isclose(a, b, rtol, atol, equal_nan).all()


ALLCLOSE = register(
    OpSpec(
        "allclose",
        "reduce",
        ("a", "b"),
        _allclose_infer,
        decompose=_allclose,
        doc="Whether isclose holds everywhere, as a 0-d bool tensor.",
    )
)


# --- the public functions -------------------------------------------------------------------------
def _float_math(spec, aliases=()):
    """The public function of a one-input float op, with its method, in-place variant and
    PyTorch's aliases (`arcsin`, `Tensor.arcsin`, `Tensor.arcsin_`)."""

    def fn(x):
        return apply(spec, (_floating(x),), {})

    fn.__name__ = fn.__qualname__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}` (integer and bool inputs give the default float dtype)."
    names = (spec.name, *aliases)
    return public(spec, methods=names, inplace=tuple(n + "_" for n in names), aliases=aliases)(fn)


tan = _float_math(TAN)
asin = _float_math(ASIN, ("arcsin",))
acos = _float_math(ACOS, ("arccos",))
atan = _float_math(ATAN, ("arctan",))
sinh = _float_math(SINH)
cosh = _float_math(COSH)
asinh = _float_math(ASINH, ("arcsinh",))
acosh = _float_math(ACOSH, ("arccosh",))
atanh = _float_math(ATANH, ("arctanh",))
log2 = _float_math(LOG2)
log10 = _float_math(LOG10)
exp2 = _float_math(EXP2)


@public(SINC, methods=True, inplace=True)
def sinc(x):
    """The normalized sinc, `sin(pi x) / (pi x)`, 1 at 0 (integer inputs give the default float dtype)."""
    return apply(SINC, (_floating(x),), {})


@public(TRUNC, methods=("trunc", "fix"), inplace=("trunc_", "fix_"), aliases=("fix",))
def trunc(x):
    """Round toward zero, keeping the dtype (integer tensors come back as copies; bool ones are
    refused, as in PyTorch); gradient 0."""
    if x.dtype is dtypes.bool_:
        raise UnsupportedDTypeError("trunc: not implemented for bool tensors; convert them with .float()")
    if not x.dtype.is_floating_point:
        return x.clone()
    return apply(TRUNC, (x,), {})


def _float_only(op, *values):
    dtype = dtypes.result_type(*values)
    if not dtype.is_floating_point:
        raise UnsupportedDTypeError(f"{op}: not implemented for {dtype.name} inputs; convert them with .float()")
    return dtype


@public(FRAC, methods=True, inplace=True)
def frac(x):
    """The fractional part `x - trunc(x)`, with the sign of `x`; floating inputs only, as in PyTorch."""
    _float_only("frac", x)
    return apply(FRAC, (x,), {})


@public(COPYSIGN, methods=True, inplace=True)
def copysign(input, other):
    """`|input|` with the sign of `other` (-0.0 counts as negative), broadcasting; integer inputs give the
    default float dtype. The gradient flows to `input` only."""
    dtype = dtypes.result_type(input, other)
    return _binary(COPYSIGN, input, other, out_dtype=dtype if dtype.is_floating_point else dtypes.get_default_dtype())


@public(FMOD, methods=True, inplace=True)
def fmod(input, other):
    """C's fmod: the remainder of truncated division, with the sign of `input` (`remainder`
    takes the sign of `other`). Integer division by zero raises, as in PyTorch."""
    _check_integer_divisor("fmod", input, other)
    return apply(FMOD, tuple(_operands("fmod", input, other)), {})


@public(HYPOT, methods=True, inplace=True)
def hypot(input, other):
    """`sqrt(input**2 + other**2)` without overflow in the squares, broadcasting; floating inputs only."""
    _float_only("hypot", input, other)
    return _binary(HYPOT, input, other)


@public(LOGADDEXP, methods=True)
def logaddexp(input, other):
    """`log(exp(input) + exp(other))`, computed stably, broadcasting; floating inputs only."""
    _float_only("logaddexp", input, other)
    return _binary(LOGADDEXP, input, other)


@public(LOGADDEXP2, methods=True)
def logaddexp2(input, other):
    """`log2(2**input + 2**other)`, computed stably, broadcasting; floating inputs only."""
    _float_only("logaddexp2", input, other)
    return _binary(LOGADDEXP2, input, other)


@public(ISINF, methods=True)
def isinf(x):
    """True where `x` is +inf or -inf; a bool tensor of the same shape (all False for integers)."""
    return apply(ISINF, (x,), {})


@public(ISPOSINF, methods=True)
def isposinf(x):
    """True where `x` is +inf; a bool tensor of the same shape."""
    return apply(ISPOSINF, (x,), {})


@public(ISNEGINF, methods=True)
def isneginf(x):
    """True where `x` is -inf; a bool tensor of the same shape."""
    return apply(ISNEGINF, (x,), {})


@public(NAN_TO_NUM, methods=True, inplace=True)
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """`x` with NaN replaced by `nan`, +inf by `posinf` and -inf by `neginf` (by default the largest
    and the lowest finite value of the dtype); integer and bool tensors come back as copies.
    The gradient flows where `x` is finite."""
    if x.dtype.is_floating_point:
        largest = dtypes.float_max(x.dtype)
        # a replacement past the dtype's range becomes inf, as PyTorch's conversion makes it
        nan, posinf, neginf = (
            float(v) if -largest <= v <= largest or v != v else math.copysign(_INF, v)
            for v in (nan, largest if posinf is None else posinf, -largest if neginf is None else neginf)
        )
    return apply(NAN_TO_NUM, (x,), {"nan": nan, "posinf": posinf, "neginf": neginf})


def _tensor_pair(op, input, other):
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")


@public(ISCLOSE, methods=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where `|input - other| <= atol + rtol * |other|` (or both are equal, infinities
    included; NaNs are equal with `equal_nan`); a bool tensor of the broadcast shape. Both inputs
    must have the same dtype, as in PyTorch."""
    _tensor_pair("isclose", input, other)
    return apply(ISCLOSE, (input, other), {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})


@public(ALLCLOSE, methods=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether `isclose(input, other, ...)` holds for every element: a Python bool."""
    _tensor_pair("allclose", input, other)
    return bool(apply(ALLCLOSE, (input, other), {"rtol": rtol, "atol": atol, "equal_nan": equal_nan}).item())
