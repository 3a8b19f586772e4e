"""Datasets: the map-style and iterable protocols, tensors as a dataset, subsets and splits."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import somegrad as sg

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: ``dataset[i]`` for ``i`` in ``range(len(dataset))``.

    Subclasses implement ``__getitem__`` and ``__len__``. ``a + b`` concatenates datasets.
    """

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A dataset that is a stream: subclasses implement ``__iter__`` (and may give ``__len__``).

    A DataLoader batches the stream in order; it cannot shuffle or sample it.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class TensorDataset(Dataset[tuple[Any, ...]]):
    """Rows of tensors that share their first dimension: ``dataset[i] == (t[i] for t in tensors)``.

    Example: ``TensorDataset(x, y)`` with ``x: (N, D)`` and ``y: (N,)`` yields ``(x[i], y[i])``.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        sizes = [t.shape[0] if len(t.shape) > 0 else None for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: all tensors need the same size in dimension 0, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset[T_co]):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index: int) -> T_co:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """Several map-style datasets one after the other."""

    def __init__(self, datasets: Sequence[Dataset[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: cannot concatenate an IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)  # type: ignore[arg-type]
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T_co:
        position = index + len(self) if index < 0 else index
        which = bisect.bisect_right(self.cumulative_sizes, position)
        if position < 0 or which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        offset = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][position - offset]


def batch_fetcher(dataset: Any) -> Callable[[Sequence[int]], list[Any]] | None:
    """A function ``indices -> batch`` equal to ``default_collate([dataset[i] for i in indices])``
    but with one indexing op per tensor, for a TensorDataset or a Subset of one; else None.

    Subclasses may change ``__getitem__``, so only the exact classes qualify.
    """
    if type(dataset) is TensorDataset:
        tensors = dataset.tensors

        def fetch(indices: Sequence[int]) -> list[Any]:
            index = sg.tensor(list(indices), dtype=sg.int64)
            return [sg.index_select(t, 0, index.to(t.device)) for t in tensors]

        return fetch
    if type(dataset) is Subset:
        inner = batch_fetcher(dataset.dataset)
        if inner is not None:
            positions = dataset.indices
            return lambda indices: inner([positions[i] for i in indices])
    return None


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float], generator: Any = None) -> list[Subset[T_co]]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are either counts that sum to ``len(dataset)`` or fractions that sum to 1 (each
    gets ``floor(len * fraction)`` items, and the remainder is dealt out one by one from the first
    subset on, as PyTorch does). ``generator`` is an ``sg.Generator``; by default the global
    generator (``sg.manual_seed``) draws the permutation.

    Example: ``train, val = random_split(ds, [0.9, 0.1], generator=sg.Generator().manual_seed(0))``.
    """
    n = len(dataset)  # type: ignore[arg-type]
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction {fraction} at index {i} is not in [0, 1]")
        counts = [int(math.floor(n * fraction)) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    for i, length in enumerate(lengths):
        if isinstance(length, float) and not length.is_integer() or length < 0:
            raise ValueError(
                f"random_split: lengths must be counts that sum to {n} or fractions that sum to "
                f"1, got {list(lengths)} (bad value at index {i})"
            )
    lengths = [int(length) for length in lengths]
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} items")
    indices = sg.randperm(n, generator=generator).tolist()
    subsets = []
    offset = 0
    for length in lengths:
        count = int(length)
        subsets.append(Subset(dataset, indices[offset : offset + count]))
        offset += count
    return subsets
