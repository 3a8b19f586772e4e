"""The functions PyTorch has in `torch.special` only (not as `torch.*` or Tensor methods): ndtr,
log_ndtr, ndtri, erfcx, xlog1py and entr. Declared here with `export=False`; a `somegrad.special`
namespace exports them beside the special functions that are top-level too.

All are composites in float64 over erfc/erfinv (`somegrad.ops.special`), so every backend has
them and autograd gives their derivatives.
"""

from __future__ import annotations

import math

from somegrad.ops.comparison import isnan, where
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import _floating, exp, log, log1p
from somegrad.ops.operands import _broadcast_infer
from somegrad.ops.spec import FLOATING, OpSpec, public, register
from somegrad.ops.special import _ERFC_SPLIT, _ERFC_TERMS, _float_operands, _in_float64, erfc

__all__ = ["ndtr", "log_ndtr", "ndtri", "erfcx", "xlog1py", "entr"]

_SQRT2 = math.sqrt(2.0)
_INF, _NAN = math.inf, math.nan


def _same(x, **params):
    return x.shape, x.dtype


def _unary(name, decompose, doc):
    # where erf itself is a decomposition (good to 1.5e-7), these inherit its error, amplified
    return register(
        OpSpec(
            name,
            "elementwise",
            ("x",),
            _same,
            decompose=_in_float64(decompose),
            doc=doc,
            decomposition_tolerance=1e-5,
            accepts=FLOATING,
        )
    )


def _ndtr(x):
    return erfc(-x / _SQRT2) / 2


def _log_ndtr(x):
    # log(erfc(-x / sqrt 2) / 2) holds its precision in the lower tail (erfc is accurate there)
    # until erfc underflows; past -30 the asymptotic series of the Mills ratio takes over
    far = x < -30
    t = where(far, x, 0.0)
    direct = log(erfc(-where(far, 0.0, x) / _SQRT2) / 2)
    inv2 = 1 / (t * t)
    series = log1p(-inv2 * (1 - 3 * inv2 * (1 - 5 * inv2)))
    asymptotic = -t * t / 2 - log(-t) - 0.5 * math.log(2 * math.pi) + series
    return where(far, asymptotic, direct)


def _erfc_inverse(target):
    # y >= 0 with erfc(y) = target, target in (0, 1]: Winitzki's start (1 - x^2 formed as
    # target (2 - target), exact in the tail), then Newton steps on log erfc, which is nearly
    # quadratic, so the steps neither crawl nor overshoot where erfc is tiny
    a = 0.147
    ln = log(target * (2 - target))
    first = 2 / (math.pi * a) + ln / 2
    y = ((first * first - ln / a).sqrt() - first).sqrt()
    log_target = log(target)
    for _ in range(5):
        value = erfc(y)
        slope = -2 / math.sqrt(math.pi) * exp(-y * y) / value
        y = y - (log(value) - log_target) / slope
    return y


def _ndtri(p):
    # -sqrt 2 erfcinv(2p) below 1/2, sqrt 2 erfcinv(2 (1 - p)) above (1 - p is exact there)
    lower = p < 0.5
    inside = (p > 0) & (p < 1)
    target = where(inside, where(lower, 2 * p, 2 * (1 - p)), 1.0)
    y = _erfc_inverse(target) * _SQRT2
    out = where(lower, -y, y)
    out = where(p == 0, -_INF, where(p == 1, _INF, out))
    return where(inside | (p == 0) | (p == 1), out, _NAN)


def _erfcx(x):
    # exp(x^2) erfc(x): 1 / (sqrt(pi) K(x)) from erfc's continued fraction K above the split (no
    # exp(x^2) there to overflow), the product below it (inf for very negative x, as it is)
    tail = x >= _ERFC_SPLIT
    t = where(tail, x, _ERFC_SPLIT)
    fraction = t
    for k in range(_ERFC_TERMS, 0, -1):
        fraction = t + (k / 2) / fraction
    upper = where(t == _INF, 0.0, 1 / (fraction * math.sqrt(math.pi)))
    low = where(tail, 0.0, x)
    return where(tail, upper, exp(low * low) * erfc(low))


def _entr(x):
    # -x log x; 0 at 0, -inf below 0, NaN stays NaN
    positive = x > 0
    zero_or_below = where(x < 0, -_INF, where(positive, 0.0, x))  # one operand a tensor: x's device
    out = where(positive, -x * log(where(positive, x, 1.0)), zero_or_below)
    return where(isnan(x), _NAN, out)


NDTR = _unary("ndtr", _ndtr, "The standard normal CDF.")
LOG_NDTR = _unary("log_ndtr", _log_ndtr, "The log of the standard normal CDF, accurate in the lower tail.")
NDTRI = _unary("ndtri", _ndtri, "The inverse of the standard normal CDF.")
ERFCX = _unary("erfcx", _erfcx, "The scaled complementary error function exp(x^2) erfc(x).")
ENTR = _unary("entr", _entr, "The elementwise entropy term -x log x.")


def _xlog1py(a, b):
    zero = a == 0
    out = where(zero, 0.0, a * log1p(where(zero, 0.0, b)))
    return where(isnan(b), _NAN, out)


XLOG1PY = register(
    OpSpec("xlog1py", "elementwise", ("a", "b"), _broadcast_infer("xlog1py"), decompose=_xlog1py, accepts=FLOATING)
)


def _public_unary(spec):
    def fn(input):
        return apply(spec, (_floating(input),), {})

    fn.__name__ = fn.__qualname__ = spec.name
    fn.__doc__ = f"`{spec.name}`: {spec.doc} Integer inputs give the default float dtype."
    return public(spec, export=False)(fn)


ndtr = _public_unary(NDTR)
log_ndtr = _public_unary(LOG_NDTR)
ndtri = _public_unary(NDTRI)
erfcx = _public_unary(ERFCX)
entr = _public_unary(ENTR)


@public(XLOG1PY, export=False)
def xlog1py(input, other):
    """`input * log1p(other)`, 0 where `input` is 0 (NaN where `other` is NaN); either side may be
    a Python number."""
    if not hasattr(input, "dtype") and not hasattr(other, "dtype"):
        raise TypeError("xlog1py: expected at least one Tensor argument")
    return apply(XLOG1PY, _float_operands("xlog1py", input, other), {})
