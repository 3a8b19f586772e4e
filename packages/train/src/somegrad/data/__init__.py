"""Datasets and data loading (``somegrad.data``), shaped like ``torch.utils.data``.

from somegrad.data import DataLoader, TensorDataset, random_split
train, val = random_split(TensorDataset(x, y), [0.9, 0.1])
for xb, yb in DataLoader(train, batch_size=64, shuffle=True, device="cpu"):
    ...
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
from somegrad.data.distributed import DistributedSampler
from somegrad.data.idx import IDXFormatError, read_idx, write_idx
from somegrad.data.loader import DataLoader
from somegrad.data.mnist import MNIST
from somegrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from somegrad.data.worker import WorkerInfo, get_worker_info

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
    "BatchSampler",
    "WeightedRandomSampler",
    "get_worker_info",
    "WorkerInfo",
    "DistributedSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
    "read_idx",
    "write_idx",
    "IDXFormatError",
    "MNIST",
]
