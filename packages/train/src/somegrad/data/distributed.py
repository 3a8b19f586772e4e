"""`DistributedSampler`: each rank of a data-parallel job reads its own share of a dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import somegrad as sg
from somegrad.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of rank `rank` of `num_replicas`: disjoint shares that together cover the dataset.

    Every rank draws the same permutation (from `seed + epoch`) and takes every
    `num_replicas`-th index of it starting at its rank. Unless `drop_last`, the permutation is
    padded with its own first indices to a multiple of `num_replicas`, so every rank gets
    `ceil(len(dataset) / num_replicas)` indices (a few samples are seen twice per epoch); with
    `drop_last`, the tail is dropped instead. Call `set_epoch(epoch)` at the start of each epoch,
    or every epoch repeats the same order, exactly as in PyTorch.

        sampler = DistributedSampler(dataset)             # rank and world size from the process group
        loader = DataLoader(dataset, batch_size=32, sampler=sampler)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            for x, y in loader: ...

    Args:
        dataset: the dataset (only its length is used).
        num_replicas, rank: default to the default process group's world size and rank.
        shuffle: permute (default) or keep the dataset's order.
        seed: the seed of the shared permutation; it must be the same on every rank.
        drop_last: drop the tail instead of padding.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            import somegrad.distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: num_replicas and rank default to the process group's, but "
                    "init_process_group() has not been called; call it or pass num_replicas= and rank="
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be a positive integer, got {num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            generator = sg.Generator().manual_seed(self.seed + self.epoch)
            indices = sg.randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of `epoch` (the same on every rank) from the next iteration on."""
        self.epoch = epoch
