"""`somegrad.cuda`: is a GPU there, and what is it doing (like `torch.cuda`).

These functions ask the backend registered for device type "cuda" (the somegrad-cuda
plugin); the core itself knows nothing about CUDA.
"""

from __future__ import annotations

from somegrad import backends
from somegrad.device import Device

__all__ = [
    "is_available",
    "device_count",
    "synchronize",
    "memory_allocated",
    "max_memory_allocated",
    "reset_peak_memory_stats",
    "memory_reserved",
    "empty_cache",
    "manual_seed",
]


def _backend():
    return backends.backend_for(Device("cuda"))


def is_available() -> bool:
    """True when a cuda backend is installed and a GPU is usable."""
    try:
        _backend()
    except RuntimeError:
        return False
    return True


def device_count() -> int:
    return _backend().device_count() if is_available() else 0


def synchronize() -> None:
    """Wait until all queued GPU work has finished."""
    _backend().synchronize()


def memory_allocated() -> int:
    """Bytes currently held by tensors on the GPU."""
    return _backend().memory_allocated()


def max_memory_allocated() -> int:
    """The peak of `memory_allocated()` since start (or the last `reset_peak_memory_stats`)."""
    return _backend().max_memory_allocated()


def reset_peak_memory_stats() -> None:
    _backend().reset_peak_memory_stats()


def memory_reserved() -> int:
    """Bytes the allocator holds, used or cached."""
    return _backend().memory_reserved()


def empty_cache() -> None:
    """Return cached, unused GPU memory to the driver."""
    _backend().empty_cache()


def manual_seed(seed: int) -> None:
    _backend().seed(seed)
