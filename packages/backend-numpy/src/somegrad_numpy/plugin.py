"""The entry point module: registers the NumPy backend for device type "cpu"."""

import somegrad


@somegrad.hookimpl
def somegrad_register_backends(register):
    from somegrad_numpy.backend import NumpyBackend

    register("numpy", device_type="cpu", factory=NumpyBackend)


@somegrad.hookimpl
def somegrad_register_comm_backends(register):
    # mpi4py is imported by the factory, in init_process_group, never here
    from somegrad_numpy.distributed import create_mpi_backend

    register("mpi", factory=create_mpi_backend, device_types=("cpu",))
