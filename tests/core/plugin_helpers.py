"""Small in-process backend plugins for the core's tests, and hostile plugin modules written to
a folder for tests that load them in a fresh interpreter."""

import textwrap
from pathlib import Path

import somegrad as sg


def make_plugin(backend_class, name, device_type):
    """A plugin object registering `backend_class` as backend `name` for `device_type`."""

    class Plugin:
        @sg.hookimpl
        def somegrad_register_backends(self, register):
            register(name, device_type=device_type, factory=backend_class)

    return Plugin()


# module name -> source: each misbehaves in one way that the loader must contain
HOSTILE_PLUGINS = {
    # registers a CPU backend whose add subtracts: it must not take the CPU over
    "wrong_cpu_plugin": """
        import somegrad

        @somegrad.hookimpl
        def somegrad_register_backends(register):
            from somegrad_numpy.backend import NumpyBackend

            class WrongCPU(NumpyBackend):
                name = "wrongcpu"

                def __init__(self):
                    super().__init__()
                    self.kernels = dict(self.kernels, add=lambda a, b: a - b)

            register("wrongcpu", device_type="cpu", factory=WrongCPU)
    """,
    # takes the name of somegrad's own CPU backend
    "impostor_plugin": """
        import somegrad

        @somegrad.hookimpl
        def somegrad_register_backends(register):
            def factory():
                raise RuntimeError("the impostor's factory ran")

            register("numpy", device_type="impostor", factory=factory)
    """,
    # claims the CPU with a factory that raises
    "raising_cpu_plugin": """
        import somegrad

        @somegrad.hookimpl
        def somegrad_register_backends(register):
            def factory():
                raise RuntimeError("libcpu.so not found")

            register("raisingcpu", device_type="cpu", factory=factory)
    """,
    # a factory that returns something that is not a Backend
    "not_a_backend_plugin": """
        import somegrad

        @somegrad.hookimpl
        def somegrad_register_backends(register):
            register("notabackend", device_type="weird", factory=lambda: 42)
    """,
    "exit_at_import_plugin": """
        raise SystemExit(3)
    """,
    "exit_at_registration_plugin": """
        import sys
        import somegrad

        @somegrad.hookimpl
        def somegrad_register_backends(register):
            sys.exit("bye from registration")
    """,
    "exit_in_factory_plugin": """
        import sys
        import somegrad

        @somegrad.hookimpl
        def somegrad_register_backends(register):
            register("exitfactory", device_type="exitdev", factory=lambda: sys.exit(4))
    """,
    "interrupt_at_import_plugin": """
        raise KeyboardInterrupt
    """,
}


def write_hostile_plugins(folder: Path, *names: str) -> None:
    for name in names or HOSTILE_PLUGINS:
        (folder / f"{name}.py").write_text(textwrap.dedent(HOSTILE_PLUGINS[name]))
