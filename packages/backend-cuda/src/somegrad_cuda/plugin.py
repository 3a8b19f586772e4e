"""The entry point module: registers the CuPy backend for device type "cuda"."""

import somegrad


def _make_backend():
    from somegrad.backends import BackendUnavailable

    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailable(f"CuPy is not installed ({exc}); pip install 'somegrad-cuda[cuda12]'") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise BackendUnavailable(f"CUDA is not usable: {exc}") from None
    if count == 0:
        raise BackendUnavailable("no CUDA device found")
    from somegrad_cuda.backend import CupyBackend

    return CupyBackend()


@somegrad.hookimpl
def somegrad_register_backends(register):
    register("cuda", device_type="cuda", factory=_make_backend)


@somegrad.hookimpl
def somegrad_register_comm_backends(register):
    # CuPy, NCCL and mpi4py are imported by the factory, in init_process_group, never here
    from somegrad_cuda.nccl import create_nccl_backend

    register("nccl", factory=create_nccl_backend, device_types=("cuda",))
