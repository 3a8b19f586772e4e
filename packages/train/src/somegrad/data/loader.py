"""``DataLoader``: batches of a dataset, in order or shuffled, on a chosen device."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .collate import default_collate, default_convert, move_to_device
from .dataset import IterableDataset, batch_fetcher
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__`` + ``__len__``) or an
            ``IterableDataset``.
        batch_size: samples per batch (default 1); ``None`` yields single samples, unbatched.
        shuffle: visit the samples in a new random order each epoch (default ``False``).
        sampler: the order of indices (an iterable of ints); excludes ``shuffle``.
        batch_sampler: yields whole lists of indices; excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``.
        num_workers: only 0 (loading happens in the main process).
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        pin_memory: accepted for compatibility; nothing is pinned.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: the ``sg.Generator`` that shuffles (default: the global generator).
        device: where batches land (``"cpu"``, ``"cuda"``...); every tensor in the batch is
            moved there with ``.to(device)``. Not in PyTorch, whose loaders stay on the host.

    A ``TensorDataset`` (or a ``Subset`` of one) with the default collate is batched with one
    indexing op per tensor rather than one per sample; the batches are the same.

    Example::

        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        for xb, yb in loader:        # xb: (64, *x.shape[1:]), yb: (64, *y.shape[1:])
            ...
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Iterable[int] | None = None,
        batch_sampler: Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator: Any = None,
        *,
        device: Any = None,
    ) -> None:
        if num_workers != 0:
            raise ValueError(
                f"DataLoader: num_workers={num_workers} is not supported; data loads in the main "
                "process (num_workers=0)"
            )
        self.dataset = dataset
        self.num_workers = 0
        self.pin_memory = pin_memory
        self.generator = generator
        self.device = device
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader: shuffle=True is not possible with an IterableDataset")
            if sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader: an IterableDataset takes no sampler or batch_sampler; it yields its own order"
                )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give either sampler or shuffle=True, not both")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, sampler and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last=True needs a batch_size")

        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._batched else default_convert
        self.collate_fn = collate_fn

    @property
    def _batched(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def __iter__(self) -> Iterator[Any]:
        for batch in self._batches():
            yield batch if self.device is None else move_to_device(batch, self.device)

    def _batches(self) -> Iterator[Any]:
        if self._iterable:
            yield from self._iterable_batches()
        elif self.batch_sampler is not None:
            fetch = batch_fetcher(self.dataset) if self.collate_fn is default_collate else None
            if fetch is not None:
                for indices in self.batch_sampler:
                    yield fetch(indices)
                return
            for indices in self.batch_sampler:
                yield self.collate_fn([self.dataset[i] for i in indices])
        else:
            for index in self.sampler:  # type: ignore[union-attr]
                yield self.collate_fn(self.dataset[index])

    def _iterable_batches(self) -> Iterator[Any]:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        """Batches per epoch (for an IterableDataset, from its ``__len__`` if it has one)."""
        if self._iterable:
            try:
                n = len(self.dataset)
            except TypeError:
                raise TypeError(
                    f"DataLoader: {type(self.dataset).__name__} is an IterableDataset without "
                    "__len__, so the number of batches is unknown"
                ) from None
            if self.batch_size is None:
                return n
            if self.drop_last:
                return n // self.batch_size
            return (n + self.batch_size - 1) // self.batch_size
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        return len(self.sampler)  # type: ignore[arg-type]
