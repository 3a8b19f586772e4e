"""Parallel training wrappers (``somegrad.nn.parallel``), as ``torch.nn.parallel``.

`DistributedDataParallel` averages gradients across the processes of a
`somegrad.distributed` process group during the backward.
"""

from somegrad.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
