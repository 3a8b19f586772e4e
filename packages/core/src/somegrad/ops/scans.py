"""Cumulative ops along a dim: cumprod, cummax, cummin, logcumsumexp (cumsum is in `reduce`).

`cumprod` is a primitive with PyTorch's gradient, exact where the input has zeros; `cummax`
and `cummin` gather at the index of the running extremum (a primitive scan of indices), so
their gradient reaches the selected elements; `logcumsumexp` is a log-step scan of a stable
log-add-exp, differentiable to any order.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import gather
from somegrad.ops.movement import PAD
from somegrad.ops.reduce import _sum_dtype
from somegrad.ops.shapes import normalize_dim
from somegrad.ops.spec import FLOATING, NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor, ValuesIndices

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp"]


def _shift(t, dim, steps, value):
    """`t` moved `steps` places forward along `dim`, the first places filled with `value`."""
    size = t.shape[dim]
    widths = tuple((steps, 0) if d == dim else (0, 0) for d in range(t.ndim))
    return apply(PAD, (t.narrow(dim, 0, size - steps),), {"pad": widths, "value": value})


def _linear_scan(a, b, dim):
    """r with r[t] = b[t] + a[t] * r[t-1] along `dim` (r[-1] = 0), in log2(n) steps of Tensor
    ops: each element holds the affine map r[t-w] -> a r[t-w] + b, composed with the one w
    places before it while w doubles (Hillis-Steele)."""
    steps = 1
    while steps < a.shape[dim]:
        b = b + a * _shift(b, dim, steps, 0.0)
        a = a * _shift(a, dim, steps, 0.0)
        steps *= 2
    return b


def _cumprod_backward(g, x, out, dim):
    # d out[j] / d x[i] = prod_{m <= j, m != i} x[m]. Without zeros that is out[j] / x[i], so the
    # gradient is the reversed cumsum of g * out over x (PyTorch's formula). With zeros it is
    # written without division: (prod_{m < i} x[m]) * R[i], where R[i] = sum_{j >= i} g[j]
    # prod_{i < m <= j} x[m] obeys R[i] = g[i] + x[i+1] R[i+1], a linear scan from the end.
    # Both are Tensor ops, so double backward is exact too.
    if x.numel() == 0:
        return g
    if not bool((x == 0).any().item()):
        return (g * out).flip(dim).cumsum(dim).flip(dim) / x
    before = cumprod(_shift(x, dim, 1, 1.0), dim)
    following = _shift(x.flip(dim), dim, 1, 0.0)  # x[i+1] at i, counted from the end
    return before * _linear_scan(following, g.flip(dim), dim).flip(dim)


def _scan_infer(x, dim):
    return x.shape, x.dtype


CUMPROD = register(OpSpec("cumprod", "reduce", ("x",), _scan_infer, _cumprod_backward, accepts=NUMERIC))


@public(CUMPROD, methods=True, inplace=True)
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along `dim`, the same shape as `input`. Integers and bools multiply in
    int64, as in PyTorch; the gradient is exact where the input has zeros.

        x: (N, M) -> (N, M), out[i][j] = prod_{k <= j} x[i][k] for dim=1"""
    x = ew.cast(input, dtype or _sum_dtype(input))
    dim = normalize_dim("cumprod", dim, x.ndim)
    if x.ndim == 0:
        return apply(CUMPROD, (x.reshape(1),), {"dim": 0}).reshape(())
    return apply(CUMPROD, (x,), {"dim": dim})


# --- cummax / cummin ---------------------------------------------------------------------------
def _indices_infer(x, dim):
    return x.shape, dtypes.int64


CUMMAX_INDICES = register(
    OpSpec(
        "cummax_indices",
        "reduce",
        ("x",),
        _indices_infer,
        doc="The index of the running maximum along dim (the last of ties; NaN propagates).",
    )
)
CUMMIN_INDICES = register(
    OpSpec(
        "cummin_indices",
        "reduce",
        ("x",),
        _indices_infer,
        doc="The index of the running minimum along dim (the last of ties; NaN propagates).",
    )
)


def _running(indices_spec):
    def decompose(x, dim):
        if x.ndim == 0:
            values, indices = decompose(x.reshape(1), 0)
            return ValuesIndices(values.reshape(()), indices.reshape(()))
        indices = apply(indices_spec, (x,), {"dim": dim})
        return ValuesIndices(gather(x, dim, indices), indices)

    return decompose


def _values_indices_infer(x, dim):
    return (x.shape, x.dtype), (x.shape, dtypes.int64)


# Two outputs, implicit composites: the gradient goes through the gather to the selected elements.
CUMMAX = register(
    OpSpec("cummax", "reduce", ("x",), _values_indices_infer, decompose=_running(CUMMAX_INDICES), outputs=2)
)
CUMMIN = register(
    OpSpec("cummin", "reduce", ("x",), _values_indices_infer, decompose=_running(CUMMIN_INDICES), outputs=2)
)


@public(CUMMAX, methods=True)
def cummax(input, dim) -> ValuesIndices:
    """`(values, indices)`: the running maximum along `dim` and where it was taken; of equal
    values the last one's index, as in PyTorch; a NaN propagates, with its index.

        x: (N, M) -> values (N, M), indices (N, M) int64"""
    return apply(CUMMAX, (input,), {"dim": normalize_dim("cummax", dim, input.ndim)})


@public(CUMMIN, methods=True)
def cummin(input, dim) -> ValuesIndices:
    """`(values, indices)`: the running minimum along `dim` and where it was taken (see `cummax`)."""
    return apply(CUMMIN, (input,), {"dim": normalize_dim("cummin", dim, input.ndim)})


# --- logcumsumexp ------------------------------------------------------------------------------
def _logaddexp(a, b):
    # The larger operand is taken out of the exponentials (as in logsumexp) and held constant: the
    # expression does not depend on it, so its gradient is exactly softmax(a, b). An infinite
    # maximum is replaced by 0, so that -inf with -inf is -inf and inf stays inf (no inf - inf).
    m = ew.maximum(a, b).detach()
    m = m.where(m.isfinite(), 0.0)
    return m + ((a - m).exp() + (b - m).exp()).log()


def _logcumsumexp(x, dim):
    if x.ndim == 0:
        return x.clone()
    steps = 1
    while steps < x.shape[dim]:
        x = _logaddexp(x, _shift(x, dim, steps, float("-inf")))
        steps *= 2
    return x


LOGCUMSUMEXP = register(
    OpSpec("logcumsumexp", "reduce", ("x",), _scan_infer, decompose=_logcumsumexp, accepts=FLOATING)
)


@public(LOGCUMSUMEXP, methods=True)
def logcumsumexp(input, dim):
    """`log(cumsum(exp(input), dim))`, computed stably (no overflow for large inputs, no
    underflow of the early terms). Floating point inputs only, as in PyTorch.

        x: (N, M) -> (N, M)"""
    if not isinstance(input, Tensor):
        raise TypeError(f"logcumsumexp: expected a Tensor, got {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise UnsupportedDTypeError(f"logcumsumexp: not implemented for {input.dtype.name} tensors (floating only)")
    return apply(LOGCUMSUMEXP, (input,), {"dim": normalize_dim("logcumsumexp", dim, input.ndim)})
