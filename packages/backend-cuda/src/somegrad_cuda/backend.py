"""The CuPy backend: the shared Array API kernels over `cupy`, plus fused CUDA kernels.

CuPy's root namespace follows the NumPy 2 / Array API conventions, so most primitives are
the shared kernels from `somegrad.backends.array_api`. What is CUDA-specific lives here:
device placement (`cuda:N`), fused elementwise kernels (`cupy.ElementwiseKernel`) for the
activations, counter-based random numbers whose state is exactly restorable, and the
memory statistics of CuPy's pool.
"""

from __future__ import annotations

import cupy
import numpy as np

from somegrad import dtypes
from somegrad.backends import Backend
from somegrad.backends.array_api import array_api_kernels
from somegrad.device import Device

NATIVE = {
    dtypes.bool_: cupy.dtype(cupy.bool_),
    dtypes.uint8: cupy.dtype(cupy.uint8),
    dtypes.int8: cupy.dtype(cupy.int8),
    dtypes.int16: cupy.dtype(cupy.int16),
    dtypes.int32: cupy.dtype(cupy.int32),
    dtypes.int64: cupy.dtype(cupy.int64),
    dtypes.float16: cupy.dtype(cupy.float16),
    dtypes.float32: cupy.dtype(cupy.float32),
    dtypes.float64: cupy.dtype(cupy.float64),
    dtypes.complex64: cupy.dtype(cupy.complex64),
    dtypes.complex128: cupy.dtype(cupy.complex128),
}
try:  # bfloat16 needs a CuPy built with ml_dtypes support
    import ml_dtypes

    NATIVE[dtypes.bfloat16] = cupy.dtype(ml_dtypes.bfloat16)
except (ImportError, TypeError):
    pass


def native(dtype):
    try:
        return NATIVE[dtype]
    except KeyError:
        raise TypeError(f"the cuda backend does not support dtype {dtype.name} with this CuPy build") from None


_gelu_tanh = cupy.ElementwiseKernel(
    "T x",
    "T y",
    "T inner = (T)0.7978845608028654 * (x + (T)0.044715 * x * x * x); y = (T)0.5 * x * ((T)1 + tanh(inner));",
    "somegrad_gelu_tanh",
)
_gelu_erf = cupy.ElementwiseKernel(
    "T x", "T y", "y = (T)0.5 * x * ((T)1 + erf(x * (T)0.7071067811865476));", "somegrad_gelu_erf"
)
_sigmoid = cupy.ElementwiseKernel(
    "T x", "T y", "y = x >= (T)0 ? (T)1 / ((T)1 + exp(-x)) : exp(x) / ((T)1 + exp(x));", "somegrad_sigmoid"
)
_erf = cupy.ElementwiseKernel("T x", "T y", "y = erf(x);", "somegrad_erf")


def gelu(x, approximate):
    return _gelu_tanh(x) if approximate == "tanh" else _gelu_erf(x)


def softmax(x, dim):
    e = cupy.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def log_softmax(x, dim):
    shifted = x - x.max(axis=dim, keepdims=True)
    shifted -= cupy.log(cupy.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


def argsort(x, dim, descending, stable):
    if descending:
        key = -x.astype(cupy.float64 if x.dtype.kind == "f" else cupy.int64)
        return cupy.argsort(key, axis=dim).astype(cupy.int64)
    return cupy.argsort(x, axis=dim).astype(cupy.int64)


def index_put(x, values, key, accumulate):
    out = x.copy()
    if accumulate:
        import cupyx

        cupyx.scatter_add(out, key, values)
    else:
        out[key] = values
    return out


def matmul(a, b):
    return cupy.matmul(a, b)


class CupyBackend(Backend):
    """Device "cuda": CuPy arrays, cuBLAS matmul, fused elementwise kernels."""

    name = "cuda"
    device_type = "cuda"
    dtypes = tuple(NATIVE)

    def __init__(self):
        kernels = array_api_kernels(cupy, native)
        kernels.update(
            erf=_erf,
            sigmoid=_sigmoid,
            gelu=gelu,
            softmax=softmax,
            log_softmax=log_softmax,
            argsort=argsort,
            index_put=index_put,
            matmul=matmul,
            uniform=self._uniform,
            normal=self._normal,
            randint=self._randint,
            multinomial=self._multinomial,
        )
        for name in ("full", "arange"):
            kernels[name] = self._on_device(kernels[name])
        self.kernels = kernels
        self.seed(0x5EED)
        self._pool = cupy.get_default_memory_pool()
        self._peak = 0
        cupy.cuda.set_allocator(self._malloc)

    def _malloc(self, size):
        # CuPy's pool has no peak statistic: record it on every allocation.
        memory = self._pool.malloc(size)
        self._peak = max(self._peak, self._pool.used_bytes())
        return memory

    def device_count(self) -> int:
        return cupy.cuda.runtime.getDeviceCount()

    def canonical_device(self, device: Device) -> Device:
        index = 0 if device.index is None else device.index
        if index >= self.device_count():
            raise RuntimeError(
                f"device cuda:{index} does not exist: this machine has {self.device_count()} CUDA device(s)"
            )
        return Device("cuda", index)

    @staticmethod
    def _on_device(kernel):
        def wrapped(device, **params):
            with cupy.cuda.Device(device.index or 0):
                return kernel(device, **params)

        return wrapped

    # --- host transfers ---------------------------------------------------------------
    def from_numpy(self, array, dtype, device, copy=True):
        with cupy.cuda.Device(device.index or 0):
            return cupy.asarray(np.asarray(array, dtype=np.dtype(native(dtype))))

    def to_numpy(self, array):
        return cupy.asnumpy(array)

    def from_dlpack(self, array):
        from somegrad.ops.creation import _dtype_of_numpy
        from somegrad.tensor import Tensor

        data = cupy.from_dlpack(array)
        return Tensor._make(data, _dtype_of_numpy(data), Device("cuda", data.device.id))

    def strides(self, array):
        return tuple(s // array.itemsize for s in array.strides)

    def assign(self, destination, source):
        destination[...] = source

    def synchronize(self):
        cupy.cuda.runtime.deviceSynchronize()

    # --- memory (CuPy's pool) -------------------------------------------------------------
    def memory_allocated(self) -> int:
        return self._pool.used_bytes()

    def max_memory_allocated(self) -> int:
        return self._peak

    def reset_peak_memory_stats(self) -> None:
        self._peak = self._pool.used_bytes()

    def memory_reserved(self) -> int:
        return self._pool.total_bytes()

    def empty_cache(self) -> None:
        self._pool.free_all_blocks()

    # --- random numbers: (seed, counter), so a saved state restores exactly ----------------
    def seed(self, seed):
        self._seed, self._counter = int(seed), 0

    def get_rng_state(self):
        return {"seed": self._seed, "counter": self._counter}

    def set_rng_state(self, state):
        self._seed, self._counter = int(state["seed"]), int(state["counter"])

    def _rng(self, device):
        self._counter += 1
        with cupy.cuda.Device(device.index or 0):
            return cupy.random.default_rng([self._seed, self._counter])

    def _uniform(self, device, shape, dtype, low, high):
        draws = self._rng(device).random(shape, dtype=cupy.float64 if dtype is dtypes.float64 else cupy.float32)
        return (draws * (high - low) + low).astype(native(dtype), copy=False)

    def _normal(self, device, shape, dtype, mean, std):
        draws = self._rng(device).standard_normal(
            shape, dtype=cupy.float64 if dtype is dtypes.float64 else cupy.float32
        )
        return (draws * std + mean).astype(native(dtype), copy=False)

    def _randint(self, device, shape, dtype, low, high):
        return self._rng(device).integers(low, high, shape).astype(native(dtype), copy=False)

    def _multinomial(self, probs, num_samples, replacement):
        p = probs.astype(cupy.float64).reshape(-1, probs.shape[-1])
        p = p / p.sum(axis=1, keepdims=True)
        device = Device("cuda", probs.device.id)
        if replacement:
            cdf = cupy.cumsum(p, axis=1)
            u = self._rng(device).random((p.shape[0], num_samples))
            out = (cdf[:, None, :] <= u[:, :, None]).sum(axis=2)
            out = cupy.minimum(out, p.shape[1] - 1)
        else:
            keys = cupy.log(p) - cupy.log(-cupy.log(self._rng(device).random(p.shape)))
            out = cupy.argsort(-keys, axis=1)[:, :num_samples]
        return out.reshape(probs.shape[:-1] + (num_samples,)).astype(cupy.int64)
