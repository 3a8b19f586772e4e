"""Loading backend plugins with pluggy.

Plugins are found through the entry point group ``somegrad`` the first time a backend is
needed (never at ``import somegrad``). A plugin that fails to import or to register is
skipped with a RuntimeWarning (once) and listed with its reason by ``somegrad info``, so one
broken plugin never takes the others down. Whatever it raises is contained, ``SystemExit``
included; only ``KeyboardInterrupt`` goes through.

Environment variables that steer loading:

* ``SOMEGRAD_PLUGINS=mod.a,mod.b`` imports and registers these plugin modules explicitly,
  for running from a source tree where no entry points are installed;
* ``SOMEGRAD_DISABLE_PLUGINS=name,...`` blocks entry points by name;
* ``SOMEGRAD_BACKENDS=cpu=name,...`` picks the backend of a device type that several plugins
  claim (see `somegrad.backends`).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings

import pluggy

from somegrad import hookspecs

__all__ = [
    "plugin_manager",
    "load_plugins",
    "register_plugin",
    "unregister_plugin",
    "plugin_errors",
    "record_failure",
    "is_first_party",
    "contained",
    "describe",
    "warn_once",
]

# The plugin modules of somegrad's own backend distributions: their backends keep their names
# and device types whichever order plugins are discovered in.
FIRST_PARTY_PLUGINS = ("somegrad_numpy.plugin", "somegrad_cuda.plugin")
# What plugin code may raise without taking the program down: everything but Ctrl-C (a plugin
# that calls sys.exit() at import must not end the program at its first tensor op).
contained = (Exception, SystemExit, GeneratorExit)

plugin_manager = pluggy.PluginManager("somegrad")
plugin_manager.add_hookspecs(hookspecs)

_loaded = False
# plugin name -> reason it could not be loaded
plugin_errors: dict[str, str] = {}
# plugin name -> (distribution name, version), for `somegrad info`
plugin_distributions: dict[str, tuple[str, str]] = {}


_warned: set[str] = set()


def is_first_party(plugin) -> bool:
    """True for the plugin modules of somegrad-numpy and somegrad-cuda."""
    return getattr(plugin, "__name__", None) in FIRST_PARTY_PLUGINS


def _register(module_or_object, name: str) -> None:
    try:
        plugin_manager.register(module_or_object, name=name)
    except BaseException:
        if plugin_manager.has_plugin(name):
            plugin_manager.unregister(name=name)
        raise


def describe(exc: BaseException) -> str:
    """`exc` in one line: its class and message (`SystemExit: 3`)."""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0][:300]}" if message else type(exc).__name__


def warn_once(message: str, stacklevel: int = 3) -> None:
    """A RuntimeWarning, the first time this message comes up in the process."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=stacklevel + 1)


def record_failure(name: str, exc: BaseException) -> None:
    plugin_errors[name] = describe(exc)
    warn_once(f"somegrad plugin {name!r} could not be loaded: {describe(exc).split(': ', 1)[-1]}")


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
        except contained as exc:
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
        except contained as exc:
            record_failure(name, exc)
            continue
        try:
            if entry_point.dist is not None:
                plugin_distributions[name] = (entry_point.dist.metadata["Name"], entry_point.dist.version)
        except contained:  # broken distribution metadata: the plugin still works
            pass


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
