"""The backend registry: which backend serves which device type, and its status.

Backends come from plugins (see `somegrad.plugins`). Each registration names the backend,
the device type it serves and a factory; the factory runs the first time the device is used.
`backends()` lists every registration with its status: "available", "unavailable" (the
factory raised `BackendUnavailable`, e.g. no GPU) or "broken" (anything else went wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from somegrad.backends.base import Backend, BackendUnavailable
from somegrad.device import Device

__all__ = [
    "Backend",
    "BackendUnavailable",
    "BackendInfo",
    "backends",
    "get_backend",
    "backend_for",
    "default_device",
    "set_default_device",
    "reset",
]


@dataclass
class BackendInfo:
    """One registered backend: its name, device type, status and the reason when not available."""

    name: str
    device_type: str
    factory: Callable[[], Backend] | None
    plugin: str | None = None
    status: str = "registered"
    reason: str = ""
    backend: Backend | None = field(default=None, repr=False)

    def load(self) -> Backend | None:
        if self.status == "registered" and self.factory is not None:
            try:
                self.backend = self.factory()
                self.status = "available"
                from somegrad.random import seed_new_backend

                seed_new_backend(self.backend)
            except BackendUnavailable as exc:
                self.status, self.reason = "unavailable", str(exc)
            except Exception as exc:
                self.status, self.reason = "broken", f"{type(exc).__name__}: {exc}"
        return self.backend


_registry: dict[str, BackendInfo] | None = None
_by_device_type: dict[str, BackendInfo] = {}
_default_device = Device("cpu")


def _add(registry: dict[str, BackendInfo], info: BackendInfo) -> None:
    if info.name in registry:
        info.status = "broken"
        info.reason = f"backend name {info.name!r} is already registered by plugin {registry[info.name].plugin!r}"
        registry[f"{info.name} ({info.plugin})"] = info
        return
    owner = _by_device_type.get(info.device_type)
    if owner is not None:
        info.status = "broken"
        info.reason = (
            f"device type {info.device_type!r} is already served by backend {owner.name!r}"
            f" (plugin {owner.plugin!r}); this registration is ignored"
        )
    else:
        _by_device_type[info.device_type] = info
    registry[info.name] = info


def _collect() -> dict[str, BackendInfo]:
    global _registry
    if _registry is not None:
        return _registry
    from somegrad import plugins

    registry: dict[str, BackendInfo] = {}
    plugins.load_plugins()
    # get_hookimpls() lists plugins in the order they were registered (pluggy *calls* them in
    # the reverse order, which is why the hook is not simply called): the first one wins.
    for impl in plugins.plugin_manager.hook.somegrad_register_backends.get_hookimpls():

        def register(name: str, device_type: str, factory: Callable[[], Backend], _plugin=impl.plugin_name):
            _add(registry, BackendInfo(name, device_type, factory, plugin=_plugin))

        try:
            impl.function(register=register)
        except Exception as exc:
            plugins.record_failure(impl.plugin_name, exc)
    _registry = registry
    return registry


def reset() -> None:
    """Forget registrations and loaded backends (after registering plugins in tests)."""
    global _registry
    _registry = None
    _by_device_type.clear()
    _backend_cache.clear()
    from somegrad.ops import dispatch

    dispatch.clear_kernel_cache()


def backends() -> list[BackendInfo]:
    """Every registered backend, loaded, with its status (what `somegrad info` prints)."""
    infos = list(_collect().values())
    for info in infos:
        info.load()
    return infos


def get_backend(name: str) -> Backend:
    """The backend registered under `name`, loaded; a clear error if it cannot be used."""
    registry = _collect()
    info = registry.get(name)
    if info is None:
        raise RuntimeError(f"no somegrad backend named {name!r}; registered: {sorted(registry)}")
    backend = info.load()
    if backend is None:
        raise RuntimeError(f"somegrad backend {name!r} is {info.status}: {info.reason}")
    return backend


_backend_cache: dict[str, Backend] = {}


def backend_for(device: Device) -> Backend:
    """The backend that serves `device`, loading plugins on first use."""
    backend = _backend_cache.get(device.type)
    if backend is not None:
        return backend
    _collect()
    info = _by_device_type.get(device.type)
    if info is None:
        known = sorted(_by_device_type)
        if not known:
            raise RuntimeError(
                f"no somegrad backend is installed for device {str(device)!r}: "
                "install one, for example `pip install somegrad-numpy` for the CPU"
            )
        hint = " (install somegrad-numpy)" if device.type == "cpu" else ""
        raise RuntimeError(f"no somegrad backend serves device {str(device)!r}{hint}; installed device types: {known}")
    backend = info.load()
    if backend is None:
        raise RuntimeError(
            f"device {str(device)!r} is not available: backend {info.name!r} is {info.status}: {info.reason}"
        )
    _backend_cache[device.type] = backend
    return backend


def default_device() -> Device:
    """The device new tensors go to when none is given ("cpu" unless changed)."""
    return _default_device


def set_default_device(device: str | Device) -> None:
    """Set the device new tensors go to when none is given."""
    global _default_device
    from somegrad.device import device as to_device

    _default_device = to_device(device)
