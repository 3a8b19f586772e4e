"""The NumPy backend: the shared Array API kernels plus NumPy fast paths.

float16 and bfloat16 (from ml_dtypes) are stored as such, but math on them runs in float32
and is rounded back, since NumPy has no fast (or, for bfloat16, any) kernels for most of
it; PyTorch's CPU kernels accumulate in float32 as well.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from somegrad import dtypes
from somegrad.backends import Backend
from somegrad.backends.array_api import array_api_kernels
from somegrad_numpy import inplace_kernels, nn_kernels
from somegrad_numpy.memory import keep_freed_memory

NATIVE = {
    dtypes.bool_: np.dtype(np.bool_),
    dtypes.uint8: np.dtype(np.uint8),
    dtypes.int8: np.dtype(np.int8),
    dtypes.int16: np.dtype(np.int16),
    dtypes.int32: np.dtype(np.int32),
    dtypes.int64: np.dtype(np.int64),
    dtypes.float16: np.dtype(np.float16),
    dtypes.bfloat16: np.dtype(ml_dtypes.bfloat16),
    dtypes.float32: np.dtype(np.float32),
    dtypes.float64: np.dtype(np.float64),
}
_HALF = frozenset((NATIVE[dtypes.float16], NATIVE[dtypes.bfloat16]))
_F32 = np.dtype(np.float32)


# Significand bits (with the implicit one) of the half types, for uniform draws on their grid.
_MANTISSA_BITS = {dtypes.float16: 11, dtypes.bfloat16: 8}


def native(dtype):
    return NATIVE[dtype]


def _in_float32(kernel):
    """Run `kernel` in float32 when its first input is float16/bfloat16, rounding back."""

    def wrapped(x, *args, **params):
        if x.dtype in _HALF:
            half = x.dtype
            args = tuple(a.astype(_F32) if isinstance(a, np.ndarray) and a.dtype == half else a for a in args)
            out = kernel(x.astype(_F32), *args, **params)
            return out.astype(half) if out.dtype == _F32 else out
        return kernel(x, *args, **params)

    wrapped.__name__ = getattr(kernel, "__name__", "kernel")
    return wrapped


def _quiet(kernel):
    """NumPy warns on overflow, 0/0 and log(0); PyTorch returns inf/NaN silently, and so do we.
    (Also keeps 0-d results arrays, like `_scalar_result`, in the same call.)"""

    # errstate as a decorator: thread-safe, and cheaper per call than a `with` block
    silenced = np.errstate(all="ignore")(kernel)

    def wrapped(*args, **params):
        return np.asarray(silenced(*args, **params))

    wrapped.__name__ = getattr(kernel, "__name__", "kernel")
    return wrapped


# --- fast paths and the kernels NumPy needs spelled differently ----------------------------------
def _erf_series(a, terms):
    # erf(a) = 2/sqrt(pi) * sum_n (-1)^n a^(2n+1) / (n! (2n+1)), each term from the last.
    minus_a2 = -a * a
    term, total = a.copy(), a.copy()
    for n in range(1, terms):
        term *= minus_a2
        term *= 1.0 / n
        total += term * (1.0 / (2 * n + 1))
    return total * (2 / math.sqrt(math.pi))


def _erf64(a):
    # Below 2.5 the Taylor series; above, erfc by its continued fraction
    # erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated
    # from a fixed depth inwards. Both agree with math.erf to ~1e-14.
    small, big = np.minimum(a, 2.5), np.maximum(a, 2.5)
    fraction = big.copy()
    for k in range(80, 0, -1):
        np.divide(k / 2, fraction, out=fraction)
        fraction += big
    tail = 1 - np.exp(-big * big) / math.sqrt(math.pi) / fraction
    return np.where(a <= 2.5, _erf_series(small, 60), tail)


def _erf32(a):
    # Numerical Recipes' erfc Chebyshev fit (relative error < 1.2e-7), and the series
    # near 0 where 1 - erfc would lose the relative precision of small values.
    t = 1 / (1 + 0.5 * a)
    poly = t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + poly))))
    erfc = t * np.exp(poly - a * a)
    return np.where(a < 0.5, _erf_series(np.minimum(a, 0.5), 9), 1 - erfc)


def erf(x):
    """erf without a Python loop over elements: float64 to ~1e-14, other dtypes to float32 precision."""
    flat = x.reshape(-1)  # 1-d, so that the in-place steps never meet a NumPy scalar
    a = np.abs(flat)
    out = _erf64(a) if x.dtype == np.float64 else _erf32(a.astype(np.float32))
    return np.copysign(out, flat).astype(x.dtype).reshape(x.shape)


def sigmoid(x):
    # exp of a negative number only, so nothing overflows for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _zeros_to_broadcast(x):
    """Zeros of x's trailing dimensions, at least a few hundred of them where x has that many.

    `np.maximum(x, 0)` broadcasts a 0-d zero, a path NumPy runs without SIMD (about 3x slower
    here than two arrays); a block of zeros that every row of x meets runs the vector loop.
    Small arrays keep the 0-d zero, which costs less than allocating the block.
    """
    if x.size < 1024:
        return 0
    start, size = x.ndim, 1
    while start > 0 and size < 256:
        start -= 1
        size *= x.shape[start]
    return np.zeros(x.shape[start:], dtype=x.dtype) if size <= 1 << 16 else 0


def relu(x):
    return np.maximum(x, _zeros_to_broadcast(x))


def relu_backward(g, out):
    return np.multiply(g, out > 0)


gelu = nn_kernels.gelu  # beside its backward, gelu_backward


def silu(x):
    return (x * sigmoid(x)).astype(x.dtype, copy=False)


def softplus(x, beta, threshold):
    bx = x * beta
    stable = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    return np.where(bx > threshold, x, stable).astype(x.dtype, copy=False)


def leaky_relu(x, negative_slope):
    return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


def clamp(x, min, max):
    return np.clip(x, min, max).astype(x.dtype, copy=False)


# `initial=-inf` lets the max of an empty dim be -inf instead of raising (as PyTorch: softmax
# of an empty dim is empty, logsumexp over it is -inf).
def softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def log_softmax(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


def logsumexp(x, dim, keepdim):
    m = x.max(axis=dim, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.exp(x - m).sum(axis=dim, keepdims=True)) + m
    return out if keepdim else out.reshape([s for i, s in enumerate(x.shape) if i not in dim])


def argsort(x, dim, descending, stable):
    if descending:
        # A stable sort of the negated keys keeps equal elements in their original order.
        floating = x.dtype.kind == "f" or x.dtype in _HALF  # ml_dtypes' bfloat16 has kind "V"
        key = -x.astype(np.float64 if floating else np.int64)
        return np.argsort(key, axis=dim, kind="stable")
    return np.argsort(x, axis=dim, kind="stable")


def sign(x):
    return np.sign(x) if x.dtype != np.bool_ else x.copy()


def cumsum(x, dim):
    return np.cumsum(x, axis=dim, dtype=x.dtype)


def getitem(x, key):
    # The trailing Ellipsis makes NumPy return a 0-d view rather than a scalar copy when every
    # dim gets an int, so that x[0] of a 1-d tensor is a view (writable) as in PyTorch.
    return x[key + (Ellipsis,)]


def index_put(x, values, key, accumulate):
    out = x.copy()
    if not accumulate:
        out[key] = values
    elif all(k is None or isinstance(k, (int, slice)) for k in key):
        out[key] += values  # a basic key names each element once: no repeats to add up
    else:
        np.add.at(out, key, values)
    return out


def gather(x, index, dim):
    x = x[tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))]
    return np.take_along_axis(x, index, axis=dim)


def scatter_add(x, index, src, dim):
    out = x.copy()
    grid = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
    grid[dim] = index
    np.add.at(out, tuple(grid), src[tuple(slice(0, s) for s in index.shape)])
    return out


def nonzero(x):
    return np.argwhere(x).astype(np.int64, copy=False)


def matmul(a, b):
    return np.matmul(a, b)


def pad(x, pad, value):
    return np.pad(x, pad, mode="constant", constant_values=value)


def copy(x):
    return np.ascontiguousarray(x).copy() if not x.flags.c_contiguous else x.copy()


def full(device, shape, dtype, fill_value):
    # Through a 0-d array so that out-of-range ints wrap as in PyTorch (`int8_tensor + 1000`);
    # np.full raises OverflowError for them.
    return np.full(shape, np.asarray(fill_value).astype(NATIVE[dtype]), dtype=NATIVE[dtype])


def arange(device, start, stop, step, dtype):
    count = max(0, math.ceil((stop - start) / step))
    return (start + np.arange(count, dtype=np.float64 if NATIVE[dtype].kind == "f" else np.int64) * step).astype(
        NATIVE[dtype]
    )


def _reduce(fn, float32_accumulate=True):
    def kernel(x, dim, keepdim):
        if float32_accumulate and x.dtype in _HALF:
            return np.asarray(fn(x.astype(_F32), axis=dim, keepdims=keepdim)).astype(x.dtype)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim))

    return kernel


def _argreduce(fn):
    def kernel(x, dim, keepdim):
        if x.dtype in _HALF:
            x = x.astype(_F32)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim)).astype(np.int64, copy=False)

    return kernel


def _scalar_result(kernel):
    # NumPy turns 0-d results into scalars; somegrad keeps arrays.
    def wrapped(*args, **params):
        return np.asarray(kernel(*args, **params))

    wrapped.__name__ = getattr(kernel, "__name__", "kernel")
    return wrapped


class NumpyBackend(Backend):
    """Device "cpu": NumPy arrays, BLAS matmul, fused composites, PCG64 random numbers."""

    name = "numpy"
    device_type = "cpu"
    dtypes = tuple(NATIVE)

    def __init__(self):
        keep_freed_memory()  # a training step reuses its freed arrays' pages (see memory.py)
        kernels = array_api_kernels(np, native)
        kernels.update(
            erf=erf,
            sigmoid=sigmoid,
            relu=relu,
            relu_backward=relu_backward,
            gelu=gelu,
            silu=silu,
            softplus=softplus,
            leaky_relu=leaky_relu,
            clamp=clamp,
            softmax=softmax,
            log_softmax=log_softmax,
            logsumexp=logsumexp,
            argsort=argsort,
            sign=sign,
            cumsum=cumsum,
            getitem=getitem,
            index_put=index_put,
            gather=gather,
            scatter_add=scatter_add,
            nonzero=nonzero,
            matmul=matmul,
            pad=pad,
            copy=copy,
            full=full,
            arange=arange,
            # the ufuncs' own reduce: np.sum and friends add a Python layer of argument handling
            sum=_reduce(np.add.reduce),
            prod=_reduce(np.multiply.reduce),
            amax=_reduce(np.maximum.reduce, False),
            amin=_reduce(np.minimum.reduce, False),
            all=_reduce(np.all, False),
            any=_reduce(np.any, False),
            argmax=_argreduce(np.argmax),
            argmin=_argreduce(np.argmin),
        )
        kernels.update(nn_kernels.KERNELS)
        float_math = (
            "exp",
            "log",
            "log1p",
            "expm1",
            "sqrt",
            "sin",
            "cos",
            "tanh",
            "erf",
            "div",
            "pow",
            "sigmoid",
            "gelu",
            "silu",
            "softplus",
            "softmax",
            "log_softmax",
            "logsumexp",
            "matmul",
            "cumsum",
            "remainder",
            "floor_divide",
        )
        for name in float_math:
            kernels[name] = _in_float32(kernels[name])
        # The kernels whose float results can be inf or NaN from finite or infinite inputs
        # (inf - inf, an overflowing sum or cast): PyTorch returns them without a warning.
        quiet = {
            "add",
            "sub",
            "div",
            "mul",
            "sum",
            "prod",
            "cumsum",
            "matmul",
            "cast",
            "log",
            "pow",
            "exp",
            "floor_divide",
            "remainder",
            "expm1",
            "softplus",
            "log_softmax",
            "logsumexp",
            "sigmoid",
            "gelu",
            "silu",
            "log1p",
            "sqrt",
            "softmax",
        }
        for name, kernel in list(kernels.items()):
            if name in quiet:
                kernels[name] = _quiet(kernel)
            elif name not in ("full", "arange", "getitem", "reshape", "permute", "expand", "linear_backward"):
                kernels[name] = _scalar_result(kernel)
        kernels.update(uniform=self._uniform, normal=self._normal, randint=self._randint, multinomial=self._multinomial)
        kernels.update(inplace_kernels.KERNELS)  # they return None or NotImplemented, never arrays
        self.kernels = kernels
        self.seed(0x5EED)

    # --- host transfers ------------------------------------------------------------------
    def from_numpy(self, array, dtype, device, copy=True):
        target = NATIVE[dtype]
        with np.errstate(all="ignore"):  # 1e30 as float16 is inf, without a warning, as in PyTorch
            if copy:
                return np.array(array, dtype=target, copy=True)
            return np.asarray(array, dtype=target)

    def to_numpy(self, array):
        return array

    def strides(self, array):
        return tuple(s // array.itemsize for s in array.strides)

    def owns_memory(self, array):
        return array.base is None and array.flags.writeable

    def assign(self, destination, source):
        np.copyto(destination, source)

    # --- random numbers ----------------------------------------------------------------
    def seed(self, seed):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def get_rng_state(self):
        return self.rng.bit_generator.state

    def set_rng_state(self, state):
        self.rng.bit_generator.state = state

    def _uniform(self, device, shape, dtype, low, high):
        if dtype in _MANTISSA_BITS:
            # Rounding a float32 draw to a half type can give 1.0; draw on the half type's
            # own grid instead, so [0, 1) stays half-open (as PyTorch does).
            bits = _MANTISSA_BITS[dtype]
            draws = self.rng.integers(0, 2**bits, shape).astype(np.float32) * np.float32(2.0**-bits)
        else:
            draws = self.rng.random(shape, dtype=np.float64 if dtype is dtypes.float64 else np.float32)
        if (low, high) != (0.0, 1.0):
            draws = draws * (high - low) + low
        return np.asarray(draws).astype(NATIVE[dtype], copy=False)

    def _normal(self, device, shape, dtype, mean, std):
        draws = self.rng.standard_normal(shape, dtype=np.float64 if dtype is dtypes.float64 else np.float32)
        if (mean, std) != (0.0, 1.0):
            draws = draws * std + mean
        return np.asarray(draws).astype(NATIVE[dtype], copy=False)

    def _randint(self, device, shape, dtype, low, high):
        return np.asarray(self.rng.integers(low, high, shape)).astype(NATIVE[dtype], copy=False)

    def _multinomial(self, probs, num_samples, replacement):
        p = probs.astype(np.float64).reshape(-1, probs.shape[-1])
        if (p < 0).any() or not np.isfinite(p).all():
            raise ValueError("multinomial: probabilities must be finite and non-negative")
        totals = p.sum(axis=1, keepdims=True)
        if (totals <= 0).any():
            raise ValueError("multinomial: each row of probabilities must have a positive sum")
        p = p / totals
        if replacement:
            cdf = np.cumsum(p, axis=1)
            u = self.rng.random((p.shape[0], num_samples)) * cdf[:, -1:]
            out = np.stack([np.searchsorted(row, draws, side="right") for row, draws in zip(cdf, u)])
            out = np.minimum(out, p.shape[1] - 1)
        else:
            # Gumbel top-k: the k largest of log(p) + Gumbel noise are a sample without replacement.
            with np.errstate(divide="ignore"):  # log(0) = -inf: zero-probability categories come last
                keys = np.log(p) - np.log(-np.log(self.rng.random(p.shape)))
            out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
        return out.reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64)
