"""The launcher: run a script on N processes, ``python -m somegrad.distributed.run -n N script.py ...``.

It starts MPI's own launcher, ``mpiexec``, with the script under
``python -m somegrad.distributed.rank_main``, which sets torchrun's ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` in each process and then runs the script as
``python -m mpi4py`` does (ending the whole job when a rank raises), with one BLAS/OpenMP thread
per process unless told otherwise, since N processes that each start one thread per core only
fight over the cores. The script calls `somegrad.distributed.init_process_group()`; rank and
world size come from ``mpiexec``. Everything after the script's name is passed to it.

    python -m somegrad.distributed.run -n 2 train.py --epochs 3
    python -m somegrad.distributed.run -n 8 --hostfile hosts train.py        # several machines
    python -m somegrad.distributed.run -n 2 -m mypackage.train               # a module

The same script runs under a plain ``mpiexec -n N python -m mpi4py train.py`` (then set
OMP_NUM_THREADS yourself), and without any launcher as a single process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

__all__ = ["main", "build_command", "find_mpiexec"]

# the variables that BLAS libraries and OpenMP read for their thread counts
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def find_mpiexec(explicit: str | None = None) -> str:
    """The mpiexec to use: `explicit`, $SOMEGRAD_MPIEXEC, the one beside this Python (the mpich
    wheel puts it there), or the first on PATH."""
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    for candidate in (explicit, os.environ.get("SOMEGRAD_MPIEXEC"), beside_python):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("mpiexec")
    if found:
        return found
    raise FileNotFoundError(
        "somegrad.distributed.run: no mpiexec found; install an MPI with `pip install 'somegrad-numpy[mpi]'` "
        "(mpi4py and the mpich wheel), use the cluster's MPI, or pass --mpiexec PATH"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m somegrad.distributed.run",
        description="Run a somegrad script on N processes with mpiexec (see docs/distributed.md).",
    )
    parser.add_argument("-n", "--nproc", type=int, default=1, help="number of processes (ranks), default 1")
    parser.add_argument("--hostfile", "-f", help="an mpiexec hosts file: one host per line, `host:slots`")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/OpenMP threads per process (default: $OMP_NUM_THREADS if set, else 1)",
    )
    parser.add_argument("--mpiexec", help="the mpiexec to run (default: beside this Python, then PATH)")
    parser.add_argument("--mpiexec-args", default="", help="extra arguments for mpiexec, as one string")
    parser.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    parser.add_argument("-m", dest="module", action="store_true", help="run a module (like python -m)")
    parser.add_argument("script", help="the script (or, with -m, the module) to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    return parser


def build_command(options: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The mpiexec command line and environment for parsed `options`."""
    if options.nproc < 1:
        raise ValueError(f"somegrad.distributed.run: -n must be at least 1, got {options.nproc}")
    env = dict(os.environ)
    threads = options.threads
    if threads is None:
        inherited = env.get("OMP_NUM_THREADS") or "1"
        if not inherited.isdigit():
            raise ValueError(f"somegrad.distributed.run: OMP_NUM_THREADS={inherited!r} is not a number of threads")
        threads = int(inherited)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    command = [find_mpiexec(options.mpiexec), "-n", str(options.nproc)]
    if options.hostfile:
        command += ["-f", options.hostfile]
    command += options.mpiexec_args.split()
    command += [sys.executable, "-m", "somegrad.distributed.rank_main"]
    command += ["-m", options.script] if options.module else [options.script]
    command += options.args
    return command, env


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        command, env = build_command(options)
    except (ValueError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if options.dry_run:
        print(" ".join(command))
        return 0
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:  # mpiexec has passed the signal on to the ranks
        return 130


if __name__ == "__main__":
    sys.exit(main())
