"""Where this process stands among the ranks of a data-parallel run, for the training loops.

One process (no launcher, or ``somegrad.distributed`` never initialised) is rank 0 of a world
of 1, and every function here is then free: ``somegrad.distributed`` is looked at only when it
was imported already (``init_process_group`` imports it), and used only once initialised.

    from somegrad.train.ranks import is_main_process, mean_across_ranks
    if is_main_process():
        history.save(path)
    results = mean_across_ranks(totals, samples)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["distributed", "get_rank", "get_world_size", "is_main_process", "barrier", "mean_across_ranks"]


def distributed() -> Any:
    """The ``somegrad.distributed`` module when a process group is initialised, else None."""
    dist = sys.modules.get("somegrad.distributed")
    if dist is None:  # never imported, so never initialised
        return None
    try:
        return dist if dist.is_initialized() else None
    except AttributeError:  # a partial or outside module of that name
        return None


def get_rank() -> int:
    dist = distributed()
    return 0 if dist is None else dist.get_rank()


def get_world_size() -> int:
    dist = distributed()
    return 1 if dist is None else dist.get_world_size()


def is_main_process() -> bool:
    """Rank 0: the process that prints, writes history files and saves checkpoints."""
    return get_rank() == 0


def barrier() -> None:
    """Wait for every rank (nothing to wait for in one process)."""
    dist = distributed()
    if dist is not None:
        dist.barrier()


def mean_across_ranks(totals: Mapping[str, float], samples: int) -> tuple[dict[str, float], int]:
    """Sample-weighted means over every rank: each rank passes its sums (``value * batch size``
    summed over its batches) and its sample count; every rank gets the same means and the total
    number of samples. In one process: ``totals / samples``."""
    names = sorted(totals)
    dist = distributed()
    if dist is not None and dist.get_world_size() > 1:
        import somegrad as sg

        # float64 so that sums of many batches lose nothing before the division
        packed = sg.tensor([float(totals[name]) for name in names] + [float(samples)], dtype=sg.float64)
        dist.all_reduce(packed, op=dist.ReduceOp.SUM)
        values = packed.tolist()
        summed, samples = dict(zip(names, values[:-1])), int(round(values[-1]))
    else:
        summed = {name: float(totals[name]) for name in names}
    means = {name: summed[name] / max(samples, 1) for name in totals}
    return means, samples
