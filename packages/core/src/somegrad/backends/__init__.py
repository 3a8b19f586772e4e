"""The backend registry: which backend serves which device type, and its status.

Backends come from plugins (see `somegrad.plugins`). Each registration names the backend,
the device type it serves and a factory; the factory runs the first time the device is used.
`backends()` lists every registration with its status: "available", "unavailable" (the
factory raised `BackendUnavailable`, e.g. no GPU), "broken" (anything else went wrong: the
factory raised, or returned something that is not a `Backend`), or "inactive" (another backend
serves its device type, or another plugin took its name; its factory is never called).

Who serves a device type, in this order:

1. the backend the user selected: ``SOMEGRAD_BACKENDS=cpu=mybackend,cuda=other`` in the
   environment, or ``somegrad.backends.select_backend("cpu", "mybackend")``;
2. somegrad's own backend for it (somegrad-numpy for "cpu", somegrad-cuda for "cuda"), whichever
   order plugins were discovered in;
3. else the first plugin that registered one.

A second claimant of a device type is listed as inactive with the reason and how to select it,
and warned about once; so is a registration that reuses a registered backend name (the first
registration keeps the name, somegrad's own first of all).
"""

from __future__ import annotations

import os
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
    "select_backend",
    "selected_backends",
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
    first_party: bool = False

    def load(self) -> Backend | None:
        """Call the factory once (never for an inactive registration); contain what it raises."""
        from somegrad.plugins import contained, describe

        if self.status == "registered" and self.factory is not None:
            try:
                backend = self.factory()
                if not isinstance(backend, Backend):
                    raise TypeError(
                        f"its factory returned {type(backend).__name__} {str(backend)[:60]!r}, "
                        "not a somegrad.backends.Backend"
                    )
                from somegrad.random import seed_new_backend

                seed_new_backend(backend)
                self.backend, self.status = backend, "available"
            except BackendUnavailable as exc:
                self.status, self.reason = "unavailable", str(exc)
            except contained as exc:
                self.status, self.reason = "broken", describe(exc)
        return self.backend


_registry: dict[str, BackendInfo] | None = None
_by_device_type: dict[str, BackendInfo] = {}
_selected: dict[str, str] = {}  # device type -> backend name, from select_backend()
_default_device = Device("cpu")


def select_backend(device_type: str, name: str | None) -> None:
    """Serve `device_type` with the backend registered as `name` (None: back to the default).

    Takes precedence over ``SOMEGRAD_BACKENDS``. Tensors already made keep the backend they
    were made with; call this before making any on that device type.
    """
    if name is None:
        _selected.pop(device_type, None)
    else:
        _selected[device_type] = name
    reset()


def selected_backends() -> dict[str, tuple[str, str]]:
    """device type -> (backend name, where the choice comes from) for every explicit choice."""
    choices = {}
    for entry in os.environ.get("SOMEGRAD_BACKENDS", "").split(","):
        device_type, _, name = entry.partition("=")
        if device_type.strip() and name.strip():
            choices[device_type.strip()] = (name.strip(), "SOMEGRAD_BACKENDS")
        elif entry.strip():
            from somegrad.plugins import warn_once

            warn_once(f"SOMEGRAD_BACKENDS: ignoring {entry.strip()!r}, expected device_type=backend_name")
    for device_type, name in _selected.items():
        choices[device_type] = (name, "somegrad.backends.select_backend")
    return choices


def _add(registry: dict[str, BackendInfo], info: BackendInfo) -> None:
    from somegrad.plugins import warn_once

    if info.name in registry:
        owner = registry[info.name]
        info.status = "inactive"
        info.reason = (
            f"backend name {info.name!r} is already registered by plugin {owner.plugin!r}; this registration is ignored"
        )
        warn_once(f"somegrad plugin {info.plugin!r} registers a backend named {info.name!r}, {info.reason}")
        info.name = f"{info.name} ({info.plugin})"  # listed apart from the backend that has the name
        registry[info.name] = info
        return
    registry[info.name] = info


def _choose_device_owners(registry: dict[str, BackendInfo]) -> None:
    """Fill `_by_device_type`; mark every other claimant inactive, saying why and how to pick it."""
    from somegrad.plugins import warn_once

    claimants: dict[str, list[BackendInfo]] = {}
    for info in registry.values():
        if info.status != "inactive":
            claimants.setdefault(info.device_type, []).append(info)
    choices = selected_backends()
    for device_type, infos in claimants.items():
        chosen_name, source = choices.get(device_type, (None, ""))
        chosen = next((info for info in infos if info.name == chosen_name), None)
        by_the_user = chosen is not None
        if chosen is None:
            chosen = next((info for info in infos if info.first_party), infos[0])
            source = "somegrad's own" if chosen.first_party else "registered first"
        _by_device_type[device_type] = chosen
        serving = f"backend {chosen.name!r} (plugin {chosen.plugin!r}, {source})"
        for info in infos:
            if info is chosen:
                continue
            selection = f"SOMEGRAD_BACKENDS={device_type}={info.name}"
            info.status = "inactive"
            info.reason = f"device type {device_type!r} is served by {serving}; select this one with {selection}"
            if by_the_user:  # the user chose: no need to warn about the others
                continue
            warn_once(
                f"somegrad: backend {info.name!r} (plugin {info.plugin!r}) also claims device type "
                f"{device_type!r}, which {serving} serves; it is not used (select it with {selection})"
            )


def _collect() -> dict[str, BackendInfo]:
    global _registry
    if _registry is not None:
        return _registry
    from somegrad import plugins

    registry: dict[str, BackendInfo] = {}
    plugins.load_plugins()
    # get_hookimpls() lists plugins in the order they were registered (pluggy *calls* them in
    # the reverse order, which is why the hook is not simply called); somegrad's own go first.
    implementations = plugins.plugin_manager.hook.somegrad_register_backends.get_hookimpls()
    implementations.sort(key=lambda impl: not plugins.is_first_party(impl.plugin))
    for impl in implementations:
        first_party = plugins.is_first_party(impl.plugin)

        def register(
            name: str,
            device_type: str,
            factory: Callable[[], Backend],
            _plugin=impl.plugin_name,
            _first_party=first_party,
        ):
            if not (isinstance(name, str) and isinstance(device_type, str) and callable(factory)):
                raise TypeError(
                    "register(name, device_type=, factory=) takes two strings and a callable, got "
                    f"{type(name).__name__}, {type(device_type).__name__}, {type(factory).__name__}"
                )
            _add(registry, BackendInfo(name, device_type, factory, plugin=_plugin, first_party=_first_party))

        try:
            impl.function(register=register)
        except plugins.contained as exc:
            plugins.record_failure(impl.plugin_name, exc)
    _choose_device_owners(registry)
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
    """Every registered backend with its status (what `somegrad info` prints); the active ones
    are loaded, inactive ones never are."""
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
    registry = _collect()
    choice = selected_backends().get(device.type)
    info = _by_device_type.get(device.type)
    if choice is not None and (info is None or info.name != choice[0]):
        claimants = sorted(i.name for i in registry.values() if i.device_type == device.type)
        raise RuntimeError(
            f"{choice[1]} selects backend {choice[0]!r} for device {str(device)!r}, but no plugin registers "
            f"a backend of that name for it (registered for {device.type!r}: {claimants or 'none'})"
        )
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
