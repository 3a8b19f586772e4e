"""polygamma: the n-th derivative of digamma, from the Hurwitz zeta function.

psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1, with zeta(s, x) summed directly over its
first terms and the rest by the Euler-Maclaurin formula; computed in float64 and cast back. It
is an implicit composite, so its derivative (polygamma(n + 1, x)) comes from autograd.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError
from somegrad.ops.comparison import where
from somegrad.ops.dispatch import apply
from somegrad.ops.elementwise import _floating, cast, floor
from somegrad.ops.inplace import inplace
from somegrad.ops.spec import FLOATING, OpSpec, public, register

__all__ = ["polygamma"]

_SHIFT = 15
# B_2j / (2j)!, j = 1..7
_BERNOULLI = tuple(
    b / math.factorial(2 * j) for j, b in enumerate((1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6), 1)
)


def _hurwitz_zeta(s, x):
    # zeta(s, x) = sum_k (x + k)^-s, s an integer >= 2: the first _SHIFT terms directly, the tail
    # (from a = x + _SHIFT) as a^(1-s) / (s - 1) + a^-s / 2 + sum_j B_2j / (2j)! (s)_(2j-1) a^(-s-2j+1)
    total = x * 0.0
    for k in range(_SHIFT):
        total = total + (x + k) ** -s
    a = x + _SHIFT
    tail = a ** (1 - s) / (s - 1) + a**-s / 2
    rising = float(s)  # (s)_(2j-1), the rising factorial
    power = a ** (-s - 1)
    inv2 = 1 / (a * a)
    for j, coefficient in enumerate(_BERNOULLI, 1):
        tail = tail + coefficient * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        power = power * inv2
    return total + tail


def _polygamma(x, n):
    from somegrad.ops.special import digamma

    if n == 0:
        return digamma(x)
    wide = cast(x, dtypes.float64)
    pole = (wide <= 0) & (wide == floor(wide))
    safe = where(pole, 1.0, wide)
    out = _hurwitz_zeta(n + 1, safe) * ((-1) ** (n + 1) * math.factorial(n))
    # at the poles (0 and the negative integers): inf for odd n, -inf for even n, PyTorch's values at 0
    out = where(pole, math.inf if n % 2 else -math.inf, out)
    return cast(out, x.dtype)


POLYGAMMA = register(
    OpSpec(
        "polygamma",
        "elementwise",
        ("x",),
        lambda x, n: (x.shape, x.dtype),
        decompose=_polygamma,
        doc="The n-th derivative of digamma.",
        accepts=FLOATING,
    )
)


def _method(self, n):
    return polygamma(n, self)


def _inplace(self, n):
    return inplace(self, lambda t: polygamma(n, t), "polygamma_")


@public(POLYGAMMA, methods=(("polygamma", _method),), inplace=(("polygamma_", _inplace),))
def polygamma(n, input):
    """psi^(n)(input), the n-th derivative of digamma (n = 0: digamma itself); integer inputs give
    the default float dtype."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ArgumentError(f"polygamma(n, x) does not support negative n, got {n}")
    return apply(POLYGAMMA, (_floating(input),), {"n": n})
