"""Small in-process backend plugins for the core's tests."""

import somegrad as sg


def make_plugin(backend_class, name, device_type):
    """A plugin object registering `backend_class` as backend `name` for `device_type`."""

    class Plugin:
        @sg.hookimpl
        def somegrad_register_backends(self, register):
            register(name, device_type=device_type, factory=backend_class)

    return Plugin()
