"""The backend: the core's shared Array API kernels over array_api_strict, plus random numbers.

Only the primitive ops are implemented (`somegrad.ops.primitives()`); every composite
(softmax, layer_norm, conv2d, ...) runs its reference decomposition in the core.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.backends import Backend, BackendUnavailable
from somegrad.backends.array_api import array_api_kernels

try:
    import array_api_strict as xp
except ImportError as exc:  # reported by `somegrad info` as the reason the backend is unavailable
    xp = None
    _import_error = exc

# array-api-strict has no float16 or bfloat16: the standard does not define them.
_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")


def _numpy_dtype(dtype):
    return np.dtype(dtype.name)


class ArrayStrictBackend(Backend):
    """Device "strict": array_api_strict arrays, random numbers drawn on the host."""

    name = "arraystrict"
    device_type = "strict"

    def __init__(self):
        if xp is None:
            raise BackendUnavailable(f"array-api-strict is not installed ({_import_error})")
        self.native_dtypes = {getattr(dtypes, "bool_" if n == "bool" else n): getattr(xp, n) for n in _NAMES}
        self.dtypes = tuple(self.native_dtypes)
        kernels = array_api_kernels(xp, self.native)
        # The standard's indexing is narrower than NumPy's (no index arrays beside slices, no
        # assignment through index arrays): these kernels stay within it. (The shared
        # scatter_add already does.)
        kernels.update(getitem=self._getitem, index_put=self._index_put)
        kernels.update(
            uniform=self._uniform,
            normal=self._normal,
            randint=self._randint,
            multinomial=self._multinomial,
        )
        # NumPy, underneath, warns when a result is inf or NaN (inf - inf, an overflowing sum);
        # PyTorch does not, and the conformance suite holds every backend to that.
        self.kernels = {name: np.errstate(all="ignore")(kernel) for name, kernel in kernels.items()}
        self.seed(0)

    def native(self, dtype):
        try:
            return self.native_dtypes[dtype]
        except KeyError:
            raise TypeError(f"the arraystrict backend does not support {dtype.name}") from None

    # --- host transfers ------------------------------------------------------------------
    def from_numpy(self, array, dtype, device, copy=True):
        with np.errstate(all="ignore"):  # 1e300 as float32 is inf, without a warning
            return xp.asarray(np.array(array, dtype=_numpy_dtype(dtype), copy=True))

    def to_numpy(self, array):
        return np.from_dlpack(array) if array.dtype != xp.bool else np.from_dlpack(xp.astype(array, xp.uint8)) != 0

    def strides(self, array):
        # The standard has no strides; arrays are reported as C-contiguous.
        return tuple(math.prod(array.shape[i + 1 :]) for i in range(array.ndim))

    def assign(self, destination, source):
        destination[...] = source

    # --- random numbers: the standard has none, so draw on the host ----------------------
    def seed(self, seed):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def get_rng_state(self):
        return self.rng.bit_generator.state

    def set_rng_state(self, state):
        self.rng.bit_generator.state = state

    def _host(self, array, dtype):
        return xp.asarray(np.asarray(array, dtype=_numpy_dtype(dtype)))

    def _uniform(self, device, shape, dtype, low, high):
        return self._host(self.rng.uniform(low, high, shape), dtype)

    def _normal(self, device, shape, dtype, mean, std):
        return self._host(self.rng.normal(mean, std, shape), dtype)

    def _randint(self, device, shape, dtype, low, high):
        return self._host(self.rng.integers(low, high, shape), dtype)

    def _multinomial(self, probs, num_samples, replacement):
        p = self.to_numpy(probs).astype(np.float64)
        rows = p.reshape(-1, p.shape[-1])
        totals = rows.sum(axis=1, keepdims=True)
        if (totals <= 0).any():
            raise ValueError("multinomial: each row of probabilities must have a positive sum")
        rows = rows / totals
        out = np.stack([self.rng.choice(row.shape[0], num_samples, replace=replacement, p=row) for row in rows])
        return self._host(out.reshape(p.shape[:-1] + (num_samples,)), dtypes.int64)

    # --- indexing within the standard ------------------------------------------------------
    def _getitem(self, x, key):
        if not any(_is_array(k) for k in key):
            # Basic keys: the standard wants every dimension named, so close the key with `...`.
            return x[tuple(key) + (...,)] if sum(k is not None for k in key) < x.ndim else x[tuple(key)]
        # Advanced keys: `slice(None)` and index arrays. Bring the indexed dims to the front,
        # flatten them, and `take` along the flat dim with a flat index. Ints next to index
        # arrays index like 0-d arrays.
        key = tuple(xp.asarray(k, dtype=xp.int64) if isinstance(k, int) else k for k in key)
        axes = [d for d, k in enumerate(key) if _is_array(k)]
        arrays = xp.broadcast_arrays(*[k for k in key if _is_array(k)])
        sizes = [x.shape[d] for d in axes]
        rest = [d for d in range(x.ndim) if d not in axes]
        moved = xp.permute_dims(x, tuple(axes + rest))
        flat_x = xp.reshape(moved, (math.prod(sizes),) + tuple(x.shape[d] for d in rest))
        flat_index = xp.zeros(arrays[0].shape, dtype=xp.int64)
        for array, size in zip(arrays, sizes):
            flat_index = flat_index * size + array
        out = xp.take(flat_x, xp.reshape(flat_index, (-1,)), axis=0)
        batch = tuple(arrays[0].shape)
        out = xp.reshape(out, batch + tuple(x.shape[d] for d in rest))
        if axes == list(range(axes[0], axes[-1] + 1)) and axes[0] > 0:
            # Adjacent index arrays keep their place (NumPy's and PyTorch's rule).
            lead, nb = axes[0], len(batch)
            order = tuple(range(nb, nb + lead)) + tuple(range(nb)) + tuple(range(nb + lead, out.ndim))
            out = xp.permute_dims(out, order)
        return out

    def _positions(self, shape):
        return xp.reshape(xp.arange(math.prod(shape), dtype=xp.int64), shape)

    def _scatter(self, x, targets, values, accumulate):
        """`x` with `values` written (or added) at the flat positions `targets`, by comparing
        every position with every target: the standard has no scatter."""
        flat = xp.reshape(x, (-1,))
        targets, values = xp.reshape(targets, (-1,)), xp.reshape(values, (-1,))
        if targets.shape[0] == 0:
            return x
        hits = xp.reshape(xp.arange(flat.shape[0], dtype=xp.int64), (-1, 1)) == xp.reshape(targets, (1, -1))
        if x.dtype == xp.bool:
            written = xp.any(hits & xp.reshape(values, (1, -1)), axis=1)
            out = (flat | written) if accumulate else xp.where(xp.any(hits, axis=1), written, flat)
        else:
            zero = xp.zeros((), dtype=x.dtype)
            written = xp.sum(xp.where(hits, xp.reshape(values, (1, -1)), zero), axis=1, dtype=x.dtype)
            out = flat + written if accumulate else xp.where(xp.any(hits, axis=1), written, flat)
        return xp.reshape(out, x.shape)

    def _index_put(self, x, values, key, accumulate):
        targets = self._getitem(self._positions(x.shape), key)
        values = xp.broadcast_to(values, targets.shape)
        return self._scatter(x, targets, values, accumulate)


def _is_array(k):
    return not isinstance(k, (int, slice, type(None), type(Ellipsis)))
