"""What every process that ``python -m somegrad.distributed.run`` starts runs first.

It sets the variables that a script written for PyTorch's ``torchrun`` reads (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``) from those of the MPI launcher that
started the process (MPICH's Hydra, Open MPI or Slurm), so that
``torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))`` ports as it is. Then it runs the script
as ``python -m mpi4py`` does: an exception that escapes the script aborts the whole job instead
of leaving the other ranks waiting for it.

    mpiexec -n 2 python -m somegrad.distributed.rank_main train.py --epochs 3

A variable that is already set is left alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["torchrun_environment", "main"]

# (rank, world size, local rank, ranks on this host) as each launcher names them
_LAUNCHERS = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),  # MPICH (Hydra)
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"),
)


def torchrun_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """torchrun's variables for this process, read from the MPI launcher's in `environ` (empty
    when no launcher that it knows started the process)."""
    for rank, size, local_rank, local_size in _LAUNCHERS:
        if rank in environ and size in environ:
            found = {"RANK": environ[rank], "WORLD_SIZE": environ[size]}
            if local_rank in environ:
                found["LOCAL_RANK"] = environ[local_rank]
            if local_size in environ and environ[local_size].isdigit():  # Slurm may write "2(x3)"
                found["LOCAL_WORLD_SIZE"] = environ[local_size]
            return found
    return {}


def main() -> None:
    for name, value in torchrun_environment(os.environ).items():
        os.environ.setdefault(name, value)
    from mpi4py.run import main as run_like_mpi4py

    run_like_mpi4py()  # reads sys.argv[1:]: the script (or -m module) and its arguments


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m somegrad.distributed.rank_main script.py [args ...] (or -m module)")
    main()
