"""Loading backend plugins with pluggy.

Plugins are found through the entry point group ``somegrad`` the first time a backend is
needed (never at ``import somegrad``). A plugin that fails to import or to register is
skipped with a RuntimeWarning and listed as broken by ``somegrad info``, so one broken
plugin never takes the others down.

Two environment variables steer loading:

* ``SOMEGRAD_PLUGINS=mod.a,mod.b`` imports and registers these plugin modules explicitly,
  for running from a source tree where no entry points are installed;
* ``SOMEGRAD_DISABLE_PLUGINS=name,...`` blocks entry points by name.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings

import pluggy

from somegrad import hookspecs

__all__ = ["plugin_manager", "load_plugins", "register_plugin", "unregister_plugin", "plugin_errors", "record_failure"]

plugin_manager = pluggy.PluginManager("somegrad")
plugin_manager.add_hookspecs(hookspecs)

_loaded = False
# plugin name -> reason it could not be loaded
plugin_errors: dict[str, str] = {}
# plugin name -> (distribution name, version), for `somegrad info`
plugin_distributions: dict[str, tuple[str, str]] = {}


def _register(module_or_object, name: str) -> None:
    try:
        plugin_manager.register(module_or_object, name=name)
    except Exception:
        if plugin_manager.has_plugin(name):
            plugin_manager.unregister(name=name)
        raise


def record_failure(name: str, exc: BaseException) -> None:
    plugin_errors[name] = f"{type(exc).__name__}: {exc}"
    warnings.warn(f"somegrad plugin {name!r} could not be loaded: {exc}", RuntimeWarning, stacklevel=3)


def load_plugins() -> None:
    """Load entry-point plugins and those named in SOMEGRAD_PLUGINS (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in os.environ.get("SOMEGRAD_DISABLE_PLUGINS", "").split(","):
        if name.strip():
            plugin_manager.set_blocked(name.strip())
    for module_name in os.environ.get("SOMEGRAD_PLUGINS", "").split(","):
        module_name = module_name.strip()
        if not module_name or plugin_manager.has_plugin(module_name):
            continue
        try:
            _register(importlib.import_module(module_name), module_name)
        except Exception as exc:
            record_failure(module_name, exc)
    explicit = {getattr(p, "__name__", None) for p in plugin_manager.get_plugins()}
    for entry_point in importlib.metadata.entry_points(group="somegrad"):
        name = entry_point.name
        if plugin_manager.is_blocked(name) or plugin_manager.has_plugin(name):
            continue
        if entry_point.value in explicit:  # already loaded from SOMEGRAD_PLUGINS
            continue
        try:
            _register(entry_point.load(), name)
        except Exception as exc:
            record_failure(name, exc)
            continue
        if entry_point.dist is not None:
            plugin_distributions[name] = (entry_point.dist.metadata["Name"], entry_point.dist.version)


def register_plugin(plugin, name: str | None = None) -> str:
    """Register a plugin object or module explicitly (tests, source trees); returns its name."""
    from somegrad import backends

    name = name or getattr(plugin, "__name__", None) or repr(plugin)
    _register(plugin, name)
    backends.reset()
    return name


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with `register_plugin` and forget its backends."""
    from somegrad import backends

    plugin_manager.unregister(name=name)
    backends.reset()
