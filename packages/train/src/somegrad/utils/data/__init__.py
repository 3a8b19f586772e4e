"""`somegrad.utils.data`: PyTorch's `torch.utils.data` path to the objects of `somegrad.data`.

    from somegrad.utils.data import DataLoader, TensorDataset   # as `from torch.utils.data import ...`

Every name here is the very object `somegrad.data` has (`somegrad.utils.data.DataLoader is
somegrad.data.DataLoader`), so code may mix the two spellings freely. This folder is a portion
of the `somegrad.utils` namespace shipped by somegrad-train; `somegrad.utils` itself (with
`somegrad.utils.checkpoint`) belongs to the core.
"""

from somegrad.data.collate import default_collate, default_convert
from somegrad.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from somegrad.data.loader import DataLoader
from somegrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from somegrad.data.worker import WorkerInfo, get_worker_info
from somegrad.utils.data import distributed
from somegrad.utils.data.distributed import DistributedSampler

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DistributedSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "WorkerInfo",
    "distributed",
]
