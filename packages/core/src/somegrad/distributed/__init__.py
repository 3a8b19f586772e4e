"""Data-parallel training across processes: process groups, collectives, and the launcher.

PyTorch's `torch.distributed` names, so scripts port by changing imports::

    import somegrad.distributed as dist

    dist.init_process_group("mpi")            # rank and world size come from the launcher
    t = sg.ones(3) * dist.get_rank()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place on every rank
    work = dist.all_reduce(t, async_op=True)  # a Work: work.wait(), work.is_completed()

Run a script on N processes with ``python -m somegrad.distributed.run -n N script.py`` (or
``mpiexec -n N python script.py``). Communication backends are plugins (`somegrad.hookspecs`):
``mpi`` on mpi4py comes with somegrad-numpy, ``nccl`` on CuPy with somegrad-cuda. Importing this
package imports neither library; `init_process_group` does. See docs/distributed.md.
"""

from somegrad.distributed.collectives import (
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    irecv,
    isend,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
    supports_complex,
)
from somegrad.distributed.comm import CommBackend, ReduceOp, Work, completed_work
from somegrad.distributed.errors import DistBackendError, DistError
from somegrad.distributed.process_group import (
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_debug_level,
    get_node_local_rank,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_backend_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    set_debug_level,
)
from somegrad.distributed.registry import CommBackendInfo, comm_backends

__all__ = [
    "init_process_group",
    "destroy_process_group",
    "is_available",
    "is_backend_available",
    "is_mpi_available",
    "is_nccl_available",
    "is_gloo_available",
    "is_torchelastic_launched",
    "is_initialized",
    "get_node_local_rank",
    "get_rank",
    "get_world_size",
    "get_backend",
    "get_debug_level",
    "set_debug_level",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "CommBackend",
    "CommBackendInfo",
    "comm_backends",
    "completed_work",
    "DistError",
    "DistBackendError",
    "all_reduce",
    "broadcast",
    "reduce",
    "all_gather",
    "all_gather_into_tensor",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "gather",
    "scatter",
    "send",
    "recv",
    "isend",
    "irecv",
    "barrier",
    "supports_complex",
]
