"""`somegrad.accelerator`: the device to train on when there is one, like `torch.accelerator`.

    device = sg.accelerator.current_accelerator() or sg.device("cpu")
    model.to(device)

The accelerator is "cuda" when a GPU is usable, else the first backend plugin, in the
order plugins registered, whose backend says it is one (`is_accelerator = True` on the
backend object) and loads here. A plugin that computes on the host under its own device
name (an Array API library wrapped as a backend) is not an accelerator.

Differs from PyTorch: PyTorch names the accelerator its build was compiled for, even on a
machine where it cannot run (a CUDA build without a GPU), and `check_available=True` adds
the runtime check. somegrad has no compile time: its backends are plugins that either load
or do not, so `current_accelerator()` always makes that check.
"""

from __future__ import annotations

from somegrad import backends
from somegrad.device import Device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]


def _is_accelerator(info) -> bool:
    if info.device_type == "cpu" or info.backend is None:
        return False
    return bool(getattr(info.backend, "is_accelerator", info.device_type == "cuda"))


def current_accelerator(check_available: bool = False) -> Device | None:
    """The accelerator's device (index None), or None when only the CPU is usable."""
    infos = [info for info in backends.backends() if info.status == "available"]  # loads each once
    infos.sort(key=lambda info: info.device_type != "cuda")  # stable: cuda first, then registration order
    for info in infos:
        if _is_accelerator(info):
            return Device(info.device_type)
    return None


def is_available() -> bool:
    """Whether an accelerator (a GPU, or a plugin's device) is installed and usable."""
    return current_accelerator() is not None


def device_count() -> int:
    """How many devices the accelerator has (0 without one)."""
    device = current_accelerator()
    return 0 if device is None else backends.backend_for(device).device_count()


def current_device_index() -> int:
    """The index of the accelerator device that tensors without an index go to: always 0, since
    somegrad places `"cuda"` on device 0 (PyTorch's `set_device_index` has no counterpart)."""
    if current_accelerator() is None:
        raise RuntimeError("accelerator.current_device_index: no accelerator is available")
    return 0


def synchronize(device=None) -> None:
    """Wait until all queued work on the accelerator has finished (nothing to do without one)."""
    accelerator = current_accelerator() if device is None else Device(device)
    if accelerator is not None:
        backends.backend_for(accelerator).synchronize()
