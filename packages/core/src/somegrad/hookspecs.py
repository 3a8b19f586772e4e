"""The contract between somegrad and backend plugins, as pluggy hook specifications.

A backend distribution declares an entry point in the group ``somegrad`` that points at a
module (or object) implementing these hooks::

    # pyproject.toml
    [project.entry-points.somegrad]
    mybackend = "mybackend.plugin"

    # mybackend/plugin.py
    import somegrad

    @somegrad.hookimpl
    def somegrad_register_backends(register):
        register("mybackend", device_type="mydev", factory=MyBackend)

See ``docs/writing-a-backend.md`` and ``somegrad.backends.Backend`` for what a backend provides.
"""

import pluggy

hookspec = pluggy.HookspecMarker("somegrad")
hookimpl = pluggy.HookimplMarker("somegrad")


@hookspec
def somegrad_register_backends(register):
    """Register the backends this plugin provides.

    Call ``register(name, device_type=..., factory=...)`` once per backend. ``factory`` is
    called with no arguments the first time a tensor needs the backend; it returns a
    ``somegrad.backends.Backend`` or raises ``somegrad.backends.BackendUnavailable(reason)``
    when the backend cannot run on this machine (no GPU, library missing). Registering is
    cheap and must not import heavy libraries: do that in the factory.
    """
