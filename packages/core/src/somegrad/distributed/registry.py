"""The communication-backend registry: which plugins provide which backends.

Like compute backends, communication backends come from plugins (the hook
``somegrad_register_comm_backends`` in `somegrad.hookspecs`): ``mpi`` from somegrad-numpy,
``nccl`` from somegrad-cuda. Registering is cheap; the factory (which imports mpi4py or CuPy)
runs only in `init_process_group`, so importing somegrad never imports a communication library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from somegrad.backends import BackendUnavailable

__all__ = ["CommBackendInfo", "comm_backends", "registered_comm_backends", "create_comm_backend", "reset"]


@dataclass
class CommBackendInfo:
    """One registered communication backend: its name, the device types it serves, its plugin,
    and (once probed by `comm_backends(probe=True)`) whether it can run here and why not."""

    name: str
    factory: Callable
    device_types: tuple[str, ...]
    plugin: str | None = None
    status: str = "registered"
    reason: str = ""


_registry: dict[str, CommBackendInfo] | None = None


def registered_comm_backends() -> dict[str, CommBackendInfo]:
    """name -> CommBackendInfo for every registration (loads plugins once, imports nothing heavy)."""
    global _registry
    if _registry is not None:
        return _registry
    from somegrad import plugins

    plugins.load_plugins()
    registry: dict[str, CommBackendInfo] = {}
    # get_hookimpls() lists plugins in registration order; the first registration of a name wins.
    for impl in plugins.plugin_manager.hook.somegrad_register_comm_backends.get_hookimpls():

        def register(name: str, factory: Callable, device_types=("cpu",), _plugin=impl.plugin_name):
            if name in registry:
                return
            registry[name] = CommBackendInfo(name, factory, tuple(device_types), plugin=_plugin)

        try:
            impl.function(register=register)
        except Exception as exc:
            plugins.record_failure(impl.plugin_name, exc)
    _registry = registry
    return registry


def reset() -> None:
    """Forget registrations (after registering plugins in tests)."""
    global _registry
    _registry = None


def _describe(registry: dict[str, CommBackendInfo]) -> str:
    if not registry:
        return "none is installed (pip install 'somegrad-numpy[mpi]' gives the mpi backend)"
    return "installed: " + ", ".join(sorted(registry))


def create_comm_backend(name: str, **options):
    """Run the factory of backend `name`; ValueError naming the installed ones if it is unknown,
    RuntimeError with the reason if it cannot run here."""
    registry = registered_comm_backends()
    info = registry.get(name)
    if info is None:
        raise ValueError(f"init_process_group: no communication backend named {name!r}; {_describe(registry)}")
    try:
        backend = info.factory(**options)
    except BackendUnavailable as exc:
        info.status, info.reason = "unavailable", str(exc)
        raise RuntimeError(f"init_process_group: communication backend {name!r} is unavailable: {exc}") from None
    info.status = "available"
    return backend


def comm_backends() -> list[CommBackendInfo]:
    """Every registered communication backend (what `somegrad info` can list)."""
    return list(registered_comm_backends().values())
