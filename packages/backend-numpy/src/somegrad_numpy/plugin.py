"""The entry point module: registers the NumPy backend for device type "cpu"."""

import somegrad


@somegrad.hookimpl
def somegrad_register_backends(register):
    from somegrad_numpy.backend import NumpyBackend

    register("numpy", device_type="cpu", factory=NumpyBackend)
