"""`set_num_threads` / `get_num_threads`: how many threads the CPU backend's BLAS uses.

NumPy's BLAS (OpenBLAS, MKL, BLIS) runs matmuls and convolutions on a pool of threads whose
size is fixed at start-up by environment variables (`OMP_NUM_THREADS`,
`OPENBLAS_NUM_THREADS`...). threadpoolctl changes it in a running process; without
threadpoolctl only those variables can be set, which affects a BLAS that has not started yet
(a worker process started afterwards) but not the one already loaded, and `set_num_threads`
says so with a warning.

Differs from PyTorch: one number covers the BLAS pools (and OpenMP pools that threadpoolctl
finds); somegrad has no intra-op thread pool of its own.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["set_num_threads", "get_num_threads"]

_ENVIRONMENT = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
_requested: int | None = None
_limiter = None  # the threadpoolctl limiter holding the current limit, kept alive


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(num: int) -> None:
    """Use `num` threads for the CPU backend's BLAS (and the OpenMP pools it shares)."""
    global _requested, _limiter
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, but got {num!r}")
    _requested = num
    for name in _ENVIRONMENT:
        os.environ[name] = str(num)
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        warnings.warn(
            "set_num_threads: threadpoolctl is not installed, so only the environment variables were set; "
            "NumPy's BLAS already running keeps its threads (pip install threadpoolctl)",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    _limiter = threadpoolctl.threadpool_limits(limits=num)


def get_num_threads() -> int:
    """How many threads the CPU backend's BLAS uses: what threadpoolctl reports, else the last
    `set_num_threads`, else the environment's setting, else the number of CPUs."""
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return max(p["num_threads"] for p in pools)
    if _requested is not None:
        return _requested
    for name in _ENVIRONMENT:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1
