"""Keep freed array memory in the process instead of handing it back to the OS after every step.

NumPy takes its buffers from the C library's `malloc`. A training step allocates and frees the
same large arrays (activations, gradients) over and over, and glibc's default policy returns
freed memory at the top of the heap to the OS (trimming) once more than a few hundred KiB of it
is free, and serves requests above its mmap threshold with fresh mappings. Every step then
touches new pages: each page faults, and the kernel zeroes it. On a char GPT step that was
13,000 page faults and close to a third of the step's time.

`keep_freed_memory()` raises both limits once, the way a caching allocator would behave (and
what PyTorch's tuning guide gets from jemalloc or tcmalloc): allocations up to 32 MiB come from
the heap, and freed memory stays there for the next step. The process keeps its peak memory
instead of returning it between steps.

It changes the process's allocator, so it is left alone when the user has tuned malloc
themselves (`MALLOC_TRIM_THRESHOLD_`, `MALLOC_MMAP_THRESHOLD_` or `GLIBC_TUNABLES`), when the C
library is not glibc, and when `SOMEGRAD_KEEP_FREED_MEMORY=0`.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["keep_freed_memory"]

# glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 1 << 30  # free memory kept at the top of the heap before any is returned

_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds (once per process); True when they are set."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get("SOMEGRAD_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in _USER_SETTINGS):
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # Setting either one turns glibc's own adaptive thresholds off, so both are set.
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
