"""`somegrad.utils.data.distributed`: `DistributedSampler`, as `torch.utils.data.distributed`."""

from somegrad.data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
