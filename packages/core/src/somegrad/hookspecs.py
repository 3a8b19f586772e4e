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


@hookspec
def somegrad_register_comm_backends(register):
    """Register the communication backends (for ``somegrad.distributed``) this plugin provides.

    Call ``register(name, factory=..., device_types=(...))`` once per backend, for example
    ``register("mpi", factory=MPIBackend, device_types=("cpu",))``. ``factory`` is called by
    ``somegrad.distributed.init_process_group(backend=name, ...)`` with the keyword arguments
    ``rank`` and ``world_size`` (-1 when the caller left them to the launcher) and ``timeout``
    (a ``datetime.timedelta`` or None); it returns a ``somegrad.distributed.CommBackend`` or
    raises ``somegrad.backends.BackendUnavailable(reason)`` when it cannot run here (library
    missing, no GPU). ``device_types`` are the tensor device types it moves data between.
    Registering is cheap and must not import the communication library: do that in the factory.
    A factory may carry a ``probe()`` function that returns "" when the backend can run here and
    the reason otherwise (``somegrad.distributed.is_backend_available`` calls it).
    """
