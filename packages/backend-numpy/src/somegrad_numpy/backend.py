"""The NumPy backend: device "cpu", host transfers, random numbers, and the kernel table.

float16 and bfloat16 (from ml_dtypes) are stored as such, but math on them runs in float32
and is rounded back, since NumPy has no fast (or, for bfloat16, any) kernels for most of
it; PyTorch's CPU kernels accumulate in float32 as well. The kernels, and how NumPy runs
each, are in `table.py`.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.backends import Backend
from somegrad_numpy.kernels import NATIVE, native
from somegrad_numpy.memory import keep_freed_memory
from somegrad_numpy.table import kernel_table

__all__ = ["NumpyBackend", "NATIVE", "native"]

# Significand bits (with the implicit one) of the half types, for uniform draws on their grid.
_MANTISSA_BITS = {dtypes.float16: 11, dtypes.bfloat16: 8}


class NumpyBackend(Backend):
    """Device "cpu": NumPy arrays, BLAS matmul, fused composites, PCG64 random numbers."""

    name = "numpy"
    device_type = "cpu"
    dtypes = tuple(NATIVE)

    def __init__(self):
        keep_freed_memory()  # a training step reuses its freed arrays' pages (see memory.py)
        self.kernels = kernel_table(
            dict(uniform=self._uniform, normal=self._normal, randint=self._randint, multinomial=self._multinomial)
        )
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
