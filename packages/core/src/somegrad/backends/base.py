"""What a backend is: a device type, host transfers, a random generator and a kernel table.

Kernels are plain functions over the backend's raw arrays, keyed by op name in
`Backend.kernels` (its keys are the backend's capabilities). They know nothing of autograd,
promotion or validation: the op layer has already checked shapes and cast every input to one
dtype. Their calling convention, per op kind:

* elementwise, reduce, movement, index, matmul: `kernel(*arrays, **params)` with the op's
  keyword parameters (`dim` is a tuple of non-negative ints, dtypes are `somegrad.DType`);
* variadic ops (`cat`): `kernel(list_of_arrays, **params)`;
* creation and random ops: `kernel(device=Device, shape=tuple, dtype=DType, **params)`.

A kernel returns a new array (or a view where the op is a view op), of the shape and dtype
the op's spec inferred; the dispatcher checks the shape.
"""

from __future__ import annotations

from somegrad.device import Device

__all__ = ["Backend", "BackendUnavailable"]


class BackendUnavailable(RuntimeError):
    """Raised by a backend factory when it cannot run here (no GPU, missing library)."""


class Backend:
    """Base class for backends. Subclasses set `name`, `device_type`, `kernels`, `dtypes`
    and implement the host transfer and random-state methods."""

    name: str = "?"
    device_type: str = "?"
    #: op name -> kernel function
    kernels: dict = {}
    #: the somegrad dtypes this backend supports
    dtypes: tuple = ()

    def device_count(self) -> int:
        return 1

    def canonical_device(self, device: Device) -> Device:
        """The device as tensors report it ("cuda" -> "cuda:0" on multi-device backends)."""
        return device

    def from_numpy(self, array, dtype, device: Device):
        """A backend array holding a copy of the host numpy `array`, converted to `dtype`."""
        raise NotImplementedError

    def to_numpy(self, array):
        """A host numpy array with the contents of `array` (may share memory on the CPU)."""
        raise NotImplementedError

    def strides(self, array) -> tuple[int, ...]:
        """The strides of `array` in elements (for `Tensor.stride()`)."""
        raise NotImplementedError

    def assign(self, destination, source) -> None:
        """Write `source` (same shape and dtype) into `destination`, in place."""
        destination[...] = source

    def owns_memory(self, array) -> bool:
        """True when `array` is not a view into another array's memory. The autograd engine
        then hands a gradient that nothing else references to a leaf's `.grad` without a
        copy. The default, False, always copies, which is correct for any backend."""
        return False

    def seed(self, seed: int) -> None:
        """Reseed this backend's random generator(s)."""
        raise NotImplementedError

    def get_rng_state(self) -> dict:
        """The random generator's state as a JSON-serialisable dict."""
        raise NotImplementedError

    def set_rng_state(self, state: dict) -> None:
        raise NotImplementedError

    def synchronize(self) -> None:
        """Wait for queued work to finish (a no-op on synchronous backends)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} device_type={self.device_type!r}>"
