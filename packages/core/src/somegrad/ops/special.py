"""Special functions and more elementwise math: erfc, erfinv, logit, xlogy, lgamma, digamma,
heaviside, fmax/fmin, float_power, deg2rad/rad2deg, signbit, clamp_min/clamp_max, positive, rsub.

All are composites over existing ops, so every backend has them without a kernel. lgamma (a
Lanczos series), digamma (a recurrence and the asymptotic series), erfc (a continued fraction in
the tail) and erfinv (Newton's method on erf) compute in float64 whatever the input's float dtype,
then cast back: their series cancel too much in float32. lgamma, erfc and erfinv are explicit
composites with PyTorch's derivative; digamma is implicit (its derivative, the trigamma function,
comes from autograd through the series, to any order).
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, UnsupportedDTypeError
from somegrad.ops.comparison import isnan, where
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import (
    _floating,
    _operands,
    abs,
    cast,
    clamp,
    erf,
    exp,
    floor,
    log,
    mul,
    pow,
    round,
    sin,
    sub,
)
from somegrad.ops.inplace import inplace
from somegrad.ops.operands import _broadcast_infer
from somegrad.ops.pointwise import copysign, tan
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = [
    "erfc",
    "erfinv",
    "logit",
    "xlogy",
    "lgamma",
    "digamma",
    "heaviside",
    "fmax",
    "fmin",
    "float_power",
    "deg2rad",
    "rad2deg",
    "signbit",
    "clamp_min",
    "clamp_max",
    "positive",
    "rsub",
    "i0",
    "mvlgamma",
]

_INF, _NAN = math.inf, math.nan
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _same(x, **params):
    return x.shape, x.dtype


def _in_float64(fn):
    """`fn` computed in float64 and cast back to the input's dtype."""

    def decompose(x, **params):
        return cast(fn(cast(x, dtypes.float64), **params), x.dtype)

    return decompose


def _float_op(name, decompose, backward=None, doc="", tolerance=0.0):
    return register(
        OpSpec(
            name,
            "elementwise",
            ("x",),
            _same,
            backward,
            decompose,
            backward is not None,
            doc=doc,
            decomposition_tolerance=tolerance,
            accepts=FLOATING,
        )
    )


# --- erfc and erfinv -------------------------------------------------------------------------------
_ERFC_SPLIT = 2.0  # below: 1 - erf(x) (relative error under 1e-14 there); above: the continued fraction
_ERFC_TERMS = 60


def _erfc(x):
    # erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))) for x > 0,
    # evaluated from the bottom, on the tail's elements only (the op is explicit: no autograd
    # runs through this, so selecting and writing back costs nothing but the work itself)
    tail = x >= _ERFC_SPLIT
    out = 1 - erf(where(tail, 0.0, x))
    if not bool(tail.any().item()):
        return out
    t = x[tail]
    fraction = t
    for k in range(_ERFC_TERMS, 0, -1):
        fraction = t + (k / 2) / fraction
    out[tail] = where(t == _INF, 0.0, exp(-t * t) / (fraction * math.sqrt(math.pi)))
    return out


def _erfc_backward(g, x):
    return -g * _TWO_OVER_SQRT_PI * exp(-x * x)


def _erfinv(x):
    # A start good to ~1e-3 (Winitzki's closed form), then Newton steps on erf(y) = x, or on
    # erfc(y) = 1 - |x| in the tails, where 1 - |x| is exact and erf(y) is too close to 1.
    a = 0.147
    inside = abs(x) < 1
    safe = where(inside, x, 0.0)
    ln = log(1 - safe * safe)
    first = 2 / (math.pi * a) + ln / 2
    y = copysign(((first * first - ln / a).sqrt() - first).sqrt(), safe)
    magnitude, target = abs(y), 1 - abs(safe)
    for _ in range(4):  # quadratic convergence from 2e-3; the fourth step settles the far tail
        slope = _TWO_OVER_SQRT_PI * exp(-magnitude * magnitude)
        magnitude = magnitude + (_erfc(magnitude) - target) / slope
    y = copysign(magnitude, safe)
    return where(inside, y, where(abs(x) == 1, x * _INF, _NAN))


def _erfinv_backward(g, out):
    return g * (math.sqrt(math.pi) / 2) * exp(out * out)


# where erf itself is a decomposition (good to 1.5e-7, see `somegrad.ops.elementwise`), erfc below
# the split and erfinv inherit its error, the latter divided by erf's slope
ERFC = _float_op("erfc", _in_float64(_erfc), _erfc_backward, "1 - erf(x), accurate in the tail.", 1.5e-7)
ERFINV = register(
    OpSpec(
        "erfinv",
        "elementwise",
        ("x",),
        _same,
        _erfinv_backward,
        _in_float64(_erfinv),
        True,
        doc="The inverse of erf on (-1, 1); +-inf at +-1, NaN outside.",
        decomposition_tolerance=1e-5,
        accepts=FLOATING,
    )
)


# --- lgamma and digamma ----------------------------------------------------------------------------
# Lanczos' approximation with g = 7 and 9 coefficients: relative error about 1e-15 for x >= 0.5.
_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)


def _sin_pi(x):
    # sin(pi x) with the argument reduced first (exact: x - round(x) is), so that it is 0 at the
    # integers and accurate for large |x|; the sign flips with each unit of round(x).
    n = round(x)
    r = x - n
    parity = n - 2 * floor(n / 2)
    return sin(r * math.pi) * (1 - 2 * parity)


def _lgamma_right(z):
    # log Gamma(z) for z >= 0.5
    z = z - 1
    series = _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], 1):
        series = series + c / (z + i)
    t = z + (_LANCZOS_G + 0.5)
    return _HALF_LOG_2PI + (z + 0.5) * log(t) - t + log(series)


def _lgamma(x):
    # the reflection formula log|Gamma(x)| = log(pi / |sin(pi x)|) - log Gamma(1 - x) below 0.5;
    # inf at the poles (0 and the negative integers) and at +-inf, as in PyTorch
    left = x < 0.5
    right = _lgamma_right(where(left, 1 - x, x).clamp(min=0.5))
    pole = left & (x == floor(x))
    reflected = math.log(math.pi) - log(abs(_sin_pi(where(pole, 0.5, x)))) - right
    out = where(left, reflected, right)
    return where(pole | (abs(x) == _INF), _INF, out)


_DIGAMMA_SHIFT = 10
# the asymptotic series' coefficients B_2k / (2k) of 1 / z^2k, k = 1..7
_DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_right(z):
    # digamma(z) for z >= 0.5: shift up by the recurrence digamma(z) = digamma(z + 1) - 1 / z,
    # then the asymptotic series, whose truncation error at z >= 10.5 is below 1e-17
    shifted = z + _DIGAMMA_SHIFT
    inv2 = 1 / (shifted * shifted)
    series = 0.0
    for c in reversed(_DIGAMMA_SERIES):
        series = (series + c) * inv2
    out = log(shifted) - 0.5 / shifted - series
    for k in range(_DIGAMMA_SHIFT):
        out = out - 1 / (z + k)
    return out


def _digamma(x):
    # reflection below 0.5: digamma(x) = digamma(1 - x) - pi / tan(pi x); -inf at 0 and NaN at the
    # negative integers, as in PyTorch. Masked-out branches get safe stand-ins (their gradients
    # would otherwise be 0 * inf = NaN).
    left = x < 0.5
    pole = left & (x == floor(x))
    right = _digamma_right(where(left, 1 - where(pole, 0.0, x), x).clamp(min=0.5))
    reduced = where(left & ~pole, x - round(x), 0.25)
    reflected = right - math.pi / tan(reduced * math.pi)
    out = where(left, reflected, right)
    out = where(pole & (x == 0), -_INF, where(pole, _NAN, out))
    return where(x == _INF, _INF, where(x == -_INF, _NAN, out))


def _lgamma_backward(g, x):
    return g * digamma(x)


LGAMMA = _float_op("lgamma", _in_float64(_lgamma), _lgamma_backward, "log |Gamma(x)|.")
DIGAMMA = _float_op("digamma", _in_float64(_digamma), doc="The derivative of lgamma.")


def _i0(x):
    # the power series sum ((x/2)^2k / k!^2) below 15, the asymptotic series
    # e^|x| / sqrt(2 pi |x|) sum(((2k-1)!!)^2 / (k! (8|x|)^k)) above (its terms shrink until k ~ 2|x|)
    a = abs(x)
    small = a < 15
    s = where(small, a, 0.0)
    q = s * s / 4
    term, series = q * 0 + 1, q * 0 + 1
    for k in range(1, 60):
        term = term * q / (k * k)
        series = series + term
    big = where(small, 15.0, a)
    inv = 1 / (8 * big)
    coefficient, asymptotic = big * 0 + 1, big * 0 + 1
    for k in range(1, 25):
        coefficient = coefficient * ((2 * k - 1) ** 2) * inv / k
        asymptotic = asymptotic + coefficient
    large = exp(big) / (2 * math.pi * big).sqrt() * asymptotic
    return where(small, series, large)


I0 = _float_op("i0", _in_float64(_i0), doc="The modified Bessel function of the first kind, of order 0.")


def _mvlgamma(x, p):
    out = lgamma(x)
    for i in range(1, p):
        out = out + lgamma(x - i / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


MVLGAMMA = register(OpSpec("mvlgamma", "elementwise", ("x",), _same, decompose=_mvlgamma, accepts=FLOATING))


# --- logit, xlogy ------------------------------------------------------------------------------------
def _logit(x, eps):
    if eps is not None:
        x = clamp(x, min=eps, max=1 - eps)
    return log(x / (1 - x))


def _logit_backward(g, x, eps):
    # PyTorch's: g / (x (1 - x)); NaN outside [0, 1] without eps, 0 outside [eps, 1 - eps] with it
    grad = g / (x * (1 - x))
    if eps is None:
        return where((x < 0) | (x > 1), _NAN, grad)
    return where((x < eps) | (x > 1 - eps), 0.0, grad)


LOGIT = register(OpSpec("logit", "elementwise", ("x",), _same, _logit_backward, _logit, True, accepts=FLOATING))


def _xlogy(a, b):
    # 0 where a == 0 (unless b is NaN), a * log(b) elsewhere; b is 1 where masked out, so that
    # log(0) is never formed there
    zero = a == 0
    out = where(zero, 0.0, a * log(where(zero, 1.0, b)))
    return where(isnan(b), _NAN, out)


def _xlogy_backward(g, a, b, needs_input_grad):
    # PyTorch's derivative: log(b) for a, also where a == 0 (but 0 where b <= 0 there too); a / b for b
    grad_a = None
    if needs_input_grad[0]:
        masked = (a == 0) & (b <= 0)
        grad_a = where(masked, 0.0, g * log(where(masked, 1.0, b)))
    grad_b = g * a / b if needs_input_grad[1] else None
    return grad_a, grad_b


XLOGY = register(
    OpSpec(
        "xlogy",
        "elementwise",
        ("a", "b"),
        _broadcast_infer("xlogy"),
        _xlogy_backward,
        _xlogy,
        True,
        accepts=FLOATING,
    )
)


# --- heaviside, fmax, fmin, float_power -----------------------------------------------------------
def _heaviside(x, values):
    return where(x == 0, values, cast(x > 0, x.dtype))


def _heaviside_infer(x, values):
    if x.dtype is not values.dtype:
        raise DTypeError(
            f"heaviside is not yet implemented for tensors with different dtypes: input has {x.dtype.name} and "
            f"values has {values.dtype.name}"
        )
    return _broadcast_infer("heaviside")(x, values)


HEAVISIDE = register(
    OpSpec("heaviside", "elementwise", ("x", "values"), _heaviside_infer, decompose=_heaviside, accepts=NUMERIC)
)


def _nan_ignoring(greater):
    def decompose(a, b):
        # at ties and where b is NaN the first input wins (and gets the gradient), as in PyTorch
        keep = (a >= b if greater else a <= b) | isnan(b)
        return where(keep, a, b)

    return decompose


FMAX = register(
    OpSpec("fmax", "elementwise", ("a", "b"), _broadcast_infer("fmax"), decompose=_nan_ignoring(True), accepts=NUMERIC)
)
FMIN = register(
    OpSpec("fmin", "elementwise", ("a", "b"), _broadcast_infer("fmin"), decompose=_nan_ignoring(False), accepts=NUMERIC)
)

FLOAT_POWER = register(
    OpSpec(
        "float_power",
        "elementwise",
        ("a", "b"),
        _broadcast_infer("float_power"),
        decompose=lambda a, b: pow(a, b),
        accepts=frozenset({dtypes.float64}),
    )
)


# --- deg2rad, rad2deg, signbit, clamp_min/max, positive ------------------------------------------
_DEG = math.pi / 180.0
DEG2RAD = _float_op("deg2rad", lambda x: mul(x, _DEG))
RAD2DEG = _float_op("rad2deg", lambda x: mul(x, 1 / _DEG))


def _signbit(x):
    if x.dtype is dtypes.bool_:
        return x != x
    if not x.dtype.is_floating_point:
        return x < 0
    return copysign(1.0, x) < 0  # -0.0 and NaNs with the sign bit set count too


SIGNBIT = register(
    OpSpec("signbit", "elementwise", ("x",), lambda x: (x.shape, dtypes.bool_), decompose=_signbit, accepts=None)
)


def _bound_infer(name):
    def infer(x, bound):
        return _broadcast_infer(name)(x, bound)[0], x.dtype

    return infer


def _bound(lower):
    def decompose(x, bound):
        # x where it is inside (ties included: x gets the whole gradient there, as in PyTorch) or
        # NaN; the bound elsewhere (a NaN bound gives NaN)
        if x.dtype.is_floating_point:
            keep = (x >= bound if lower else x <= bound) | isnan(x)
        else:
            keep = x >= bound if lower else x <= bound
        return where(keep, x, bound)

    return decompose


CLAMP_MIN = register(
    OpSpec("clamp_min", "elementwise", ("x", "min"), _bound_infer("clamp_min"), decompose=_bound(True), accepts=NUMERIC)
)
CLAMP_MAX = register(
    OpSpec(
        "clamp_max", "elementwise", ("x", "max"), _bound_infer("clamp_max"), decompose=_bound(False), accepts=NUMERIC
    )
)

RSUB = register(
    OpSpec(
        "rsub",
        "elementwise",
        ("a", "b"),
        _broadcast_infer("rsub"),
        decompose=lambda a, b, alpha: sub(b, a, alpha=alpha),
        accepts=NUMERIC,
    )
)
POSITIVE = register(OpSpec("positive", "elementwise", ("x",), _same, decompose=lambda x: x.view_as(x)))


# --- the public functions -------------------------------------------------------------------------------
def _float_unary(spec, aliases=()):
    def fn(x):
        return apply(spec, (_floating(x),), {})

    fn.__name__ = fn.__qualname__ = spec.name
    fn.__doc__ = f"Elementwise `{spec.name}` (integer and bool inputs give the default float dtype): {spec.doc}"
    names = (spec.name, *aliases)
    return public(spec, methods=names, inplace=tuple(n + "_" for n in names), aliases=aliases)(fn)


erfc = _float_unary(ERFC)
erfinv = _float_unary(ERFINV)
lgamma = _float_unary(LGAMMA)
digamma = _float_unary(DIGAMMA)
deg2rad = _float_unary(DEG2RAD)
rad2deg = _float_unary(RAD2DEG)


i0 = _float_unary(I0)


@public(MVLGAMMA, methods=True, inplace=True)
def mvlgamma(input, p):
    """The multivariate log-gamma of dimension `p`: sum over i < p of lgamma(input - i / 2), plus
    p (p - 1) / 4 log(pi). Below (p - 1) / 2 it is the sum of log |Gamma| (inf at the poles), as in
    PyTorch, which no longer refuses such inputs."""
    if not isinstance(p, int) or p < 1:
        raise ArgumentError(f"mvlgamma: p has to be greater than or equal to 1, got {p}")
    return apply(MVLGAMMA, (_floating(input),), {"p": p})


@public(LOGIT, methods=True, inplace=True)
def logit(input, eps=None):
    """`log(p / (1 - p))`; with `eps`, `input` is clamped to [eps, 1 - eps] first (the gradient is
    0 outside it). Integer inputs give the default float dtype."""
    return apply(LOGIT, (_floating(input),), {"eps": None if eps is None else float(eps)})


def _float_operands(op, a, b):
    operands = _operands(op, a, b)
    if not operands[0].dtype.is_floating_point:
        operands = [cast(t, dtypes.get_default_dtype()) for t in operands]
    return tuple(operands)


@public(XLOGY, methods=True, inplace=True)
def xlogy(input, other):
    """`input * log(other)`, 0 where `input` is 0 (NaN where `other` is NaN), broadcasting; either
    side may be a Python number. Integer inputs give the default float dtype."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy: expected at least one Tensor argument")
    return apply(XLOGY, _float_operands("xlogy", input, other), {})


@public(HEAVISIDE, methods=True, inplace=True)
def heaviside(input, values):
    """The step function: 0 where `input` < 0, 1 where > 0 and `values` where it is 0; both tensors of
    one dtype, broadcasting. Not differentiable (as in PyTorch)."""
    for name, value in (("input", input), ("values", values)):
        if not isinstance(value, Tensor):
            raise TypeError(f"heaviside: {name} must be a Tensor, got {type(value).__name__}")
    return apply(HEAVISIDE, (input, values), {})


def _real_operands(op, a, b):
    operands = _operands(op, a, b)
    if operands[0].dtype is dtypes.bool_:
        raise UnsupportedDTypeError(f"{op}: not implemented for bool tensors")
    return tuple(operands)


@public(FMAX, methods=True)
def fmax(input, other):
    """The elementwise maximum that ignores NaN (NaN only where both are NaN), broadcasting."""
    return apply(FMAX, _real_operands("fmax", input, other), {})


@public(FMIN, methods=True)
def fmin(input, other):
    """The elementwise minimum that ignores NaN (NaN only where both are NaN), broadcasting."""
    return apply(FMIN, _real_operands("fmin", input, other), {})


def _float_power_inplace(self, exponent):
    if self.dtype is not dtypes.float64:
        raise DTypeError(
            f"float_power_: the base given to float_power_ has dtype {self.dtype.name} but the operation's result "
            "requires dtype float64"
        )
    return inplace(self, lambda t: float_power(t, exponent), "float_power_", (exponent,))


@public(FLOAT_POWER, methods=True, inplace=(("float_power_", _float_power_inplace),))
def float_power(input, exponent):
    """`input ** exponent` computed in float64 whatever the dtypes (either side may be a number)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power: expected at least one Tensor argument")
    a, b = _operands("float_power", input, exponent, compute_dtype=dtypes.float64)
    return apply(FLOAT_POWER, (a, b), {})


@public(SIGNBIT, methods=True)
def signbit(input):
    """True where the sign bit of `input` is set (-0.0 included); a bool tensor of the same shape."""
    return apply(SIGNBIT, (input,), {})


def _bounded(spec, name):
    def fn(input, bound):
        if not isinstance(bound, Tensor) and dtypes.python_number(bound) is None:
            raise TypeError(f"{name}: {name[-3:]} must be a number or a Tensor, got {type(bound).__name__}")
        x, b = _operands(name, input, bound)
        if x.dtype is dtypes.bool_:
            raise UnsupportedDTypeError(f"{name}: not implemented for bool tensors with bool bounds")
        return apply(spec, (x, b), {})

    fn.__name__ = fn.__qualname__ = name
    which = "below" if name == "clamp_min" else "above"
    fn.__doc__ = f"`input` limited {which} by `{name[-3:]}` (a number or a broadcasting tensor)."
    return public(spec, methods=True, inplace=True)(fn)


clamp_min = _bounded(CLAMP_MIN, "clamp_min")
clamp_max = _bounded(CLAMP_MAX, "clamp_max")


@public(POSITIVE, methods=True)
def positive(input):
    """`input` itself (a view), as `+input`; not for bool tensors (as in PyTorch)."""
    if input.dtype is dtypes.bool_:
        raise UnsupportedDTypeError("positive: the `+` operator, on a bool tensor is not supported.")
    return apply(POSITIVE, (input,), {})


@public(RSUB)
def rsub(input, other, *, alpha=1):
    """`other - alpha * input` (sub with the operands swapped), broadcasting; `other` may be a number."""
    return apply(RSUB, tuple(_operands("rsub", input, other)), {"alpha": alpha})


# the number-theoretic and float-format functions live beside these (importing declares them)
from somegrad.ops import special_gamma, special_numbers, special_products, special_scipy  # noqa: E402, F401
from somegrad.ops.special_numbers import finfo, iinfo  # noqa: E402, F401  (exported by somegrad)
