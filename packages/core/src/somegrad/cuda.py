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
    "manual_seed_all",
    "seed",
    "seed_all",
    "initial_seed",
    "current_device",
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
    """Seed the GPU's generator; silently does nothing without a GPU, as in PyTorch (so a
    script can seed every device unconditionally)."""
    global _initial_seed
    seed = int(seed)
    if is_available():
        _backend().seed(seed)
        _initial_seed = seed


def manual_seed_all(seed: int) -> None:
    """Seed the generators of every GPU: the cuda backend has one generator for all of its
    devices, so this is `manual_seed`. Nothing happens without a GPU."""
    manual_seed(seed)


def seed() -> None:
    """Seed the GPU's generator with fresh entropy (nothing happens without a GPU)."""
    from somegrad.random import _fresh_seed

    manual_seed(_fresh_seed())


seed_all = seed
_initial_seed: int | None = None


def initial_seed() -> int:
    """The seed the GPU's generator was last given (by this module or `sg.manual_seed`)."""
    state = _backend().get_rng_state()
    return int(state.get("seed", _initial_seed or 0))


def current_device() -> int:
    """The index of the device that `"cuda"` without an index means: always 0 in somegrad."""
    if not is_available():
        raise RuntimeError("cuda.current_device: no CUDA device is available")
    return 0
