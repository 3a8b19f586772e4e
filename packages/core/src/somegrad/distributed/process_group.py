"""The default process group: `init_process_group`, ranks, world size, and teardown.

A process group is one communication backend endpoint plus what somegrad keeps about it
(its name, timeout, debug level). Ranks and the world size come from the launcher (`mpiexec`
or `python -m somegrad.distributed.run`), never from an address somegrad would connect to.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import timedelta

from somegrad.distributed import registry
from somegrad.distributed.comm import CommBackend

__all__ = [
    "ProcessGroup",
    "init_process_group",
    "destroy_process_group",
    "is_initialized",
    "is_available",
    "is_backend_available",
    "is_mpi_available",
    "is_nccl_available",
    "is_gloo_available",
    "is_torchelastic_launched",
    "get_node_local_rank",
    "get_rank",
    "get_world_size",
    "get_backend",
    "get_debug_level",
    "set_debug_level",
    "default_group",
]

_DEBUG_LEVELS = ("OFF", "INFO", "DETAIL")


class ProcessGroup:
    """The processes that take part in collectives together, over one communication backend."""

    def __init__(self, comm: CommBackend, backend: str, timeout: timedelta | None, group_name: str = ""):
        self.comm = comm
        self.backend_name = backend
        self.timeout = timeout
        self.group_name = group_name or "default_pg"

    def rank(self) -> int:
        return self.comm.rank

    def size(self) -> int:
        return self.comm.world_size

    def name(self) -> str:
        return self.backend_name

    def __repr__(self) -> str:
        return f"<ProcessGroup {self.backend_name!r} rank {self.rank()} of {self.size()}>"


_world: ProcessGroup | None = None
_debug_level = os.environ.get("SOMEGRAD_DISTRIBUTED_DEBUG", "OFF").upper()
_previous_excepthook = None


def get_debug_level() -> str:
    """ "OFF", "INFO" or "DETAIL" (from SOMEGRAD_DISTRIBUTED_DEBUG, like TORCH_DISTRIBUTED_DEBUG).

    In DETAIL mode every collective first compares its name, shape, dtype and root across
    ranks, so that ranks calling different collectives, or the same one with different
    tensors, get a clear error instead of a wrong result or a hang."""
    return _debug_level


def set_debug_level(level: str) -> None:
    global _debug_level
    level = str(level).upper()
    if level not in _DEBUG_LEVELS:
        raise ValueError(f"set_debug_level: expected one of {_DEBUG_LEVELS}, got {level!r}")
    _debug_level = level


def is_available() -> bool:
    """Whether somegrad.distributed can be used: a communication backend is installed.

    Cheap: it imports no communication library (`is_backend_available` tries one)."""
    return bool(registry.registered_comm_backends())


def is_backend_available(backend: str) -> bool:
    """Whether backend `backend` ("mpi", "nccl") is installed and its library loads here (a
    GPU for nccl). Imports the library."""
    info = registry.registered_comm_backends().get(backend)
    if info is None:
        return False
    probe = getattr(info.factory, "probe", None)
    if probe is None:
        return True
    reason = probe()
    if reason:
        info.status, info.reason = "unavailable", reason
    return not reason


def is_mpi_available() -> bool:
    """Whether the ``mpi`` backend can be used here (mpi4py and an MPI library load)."""
    return is_backend_available("mpi")


def is_nccl_available() -> bool:
    """Whether the ``nccl`` backend can be used here (CuPy with NCCL, and a GPU)."""
    return is_backend_available("nccl")


def is_gloo_available() -> bool:
    """False: somegrad has no gloo backend (``mpi`` is its CPU backend), unless a plugin adds one."""
    return is_backend_available("gloo")


def is_torchelastic_launched() -> bool:
    """Whether torchrun (torchelastic) started this process: never for somegrad's launcher,
    which is not elastic (a job has a fixed set of ranks)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among those on its host: ``LOCAL_RANK``, which
    ``python -m somegrad.distributed.run`` sets (as torchrun does), else `fallback_rank`."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "get_node_local_rank: LOCAL_RANK is not set (python -m somegrad.distributed.run sets it); pass "
        "fallback_rank= to use another value"
    )


def is_initialized() -> bool:
    """Whether `init_process_group` has been called (and not undone by `destroy_process_group`)."""
    return _world is not None


def default_group(caller: str) -> ProcessGroup:
    """The default process group, or the error PyTorch raises when there is none."""
    if _world is None:
        raise ValueError(
            f"{caller}: the default process group has not been initialized; call "
            "somegrad.distributed.init_process_group() first (a script without a launcher is one process: "
            "check somegrad.distributed.is_initialized() before calling collectives)"
        )
    return _world


def _abort_on_error(exc_type, exc, tb):
    # An uncaught error on one rank would leave the others blocked in their next collective
    # forever: print it, then end the whole job through the communication engine.
    traceback.print_exception(exc_type, exc, tb)
    sys.stderr.flush()
    sys.stdout.flush()
    world = _world
    if world is not None and world.size() > 1 and not issubclass(exc_type, KeyboardInterrupt):
        sys.stderr.write(f"somegrad.distributed: rank {world.rank()} raised {exc_type.__name__}; aborting the job\n")
        sys.stderr.flush()
        world.comm.abort(1)


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    """Join the default process group. Call it once per process, on every rank.

    backend: "mpi" (CPU tensors, on mpi4py) or "nccl" (CUDA tensors, on CuPy), or any installed
        plugin's; None picks "mpi".
    rank, world_size: come from the launcher (`mpiexec -n N` or `python -m somegrad.distributed.run
        -n N`); when given they must agree with it. Without a launcher the job is one process.
    timeout: how long a blocking collective waits before it raises DistBackendError (None: as
        long as it takes; an error on another rank ends the job anyway, see below).

    An uncaught exception on any rank ends every rank of the job (the backend's abort), so a
    failure never leaves the others hung. `init_method` and `store` are PyTorch's rendezvous,
    which the launcher does here: only None and "env://" are accepted.
    """
    global _world, _previous_excepthook
    if _world is not None:
        raise ValueError("init_process_group: trying to initialize the default process group twice!")
    if store is not None or init_method not in (None, "env://"):
        raise ValueError(
            f"init_process_group: init_method={init_method!r} and store= are not supported; the ranks meet "
            "through the launcher (mpiexec -n N, or python -m somegrad.distributed.run -n N)"
        )
    if timeout is not None and not isinstance(timeout, timedelta):
        raise TypeError(f"init_process_group: timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    name = "mpi" if backend is None else str(backend).lower()
    comm = registry.create_comm_backend(name, rank=rank, world_size=world_size, timeout=timeout)
    _world = ProcessGroup(comm, name, timeout, group_name)
    if _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_error


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default process group (after which `is_initialized()` is False again)."""
    global _world, _previous_excepthook
    world = default_group("destroy_process_group")
    if group is not None and group is not world:
        raise ValueError("destroy_process_group: only the default process group exists")
    _world = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None
    world.comm.shutdown()


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in `group` (the default group), 0 .. world_size - 1."""
    return (group or default_group("get_rank")).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in `group` (the default group)."""
    return (group or default_group("get_world_size")).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The communication backend's name of `group` (the default group): "mpi", "nccl", ..."""
    return (group or default_group("get_backend")).name()
