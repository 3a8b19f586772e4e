"""Samplers: the order in which a DataLoader visits a map-style dataset's indices.

Every sampler yields its indices lazily, drawing random ones in chunks, so an epoch of
`RandomSampler(ds, replacement=True, num_samples=10**10)` costs memory for one chunk, not
for ten billion indices. As in PyTorch, a sampler without a `generator` draws one seed from
the global generator per epoch (so `sg.manual_seed` fixes its order) and draws the epoch
from a private generator seeded with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

import somegrad as sg

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]

# indices drawn per step when sampling with replacement: small enough to never matter for
# memory, large enough that the per-draw overhead does not either
_CHUNK = 4096


def _epoch_rng(generator: Any) -> np.random.Generator:
    """The host random generator that draws one epoch: the sampler's own, or (as PyTorch)
    a fresh one seeded from the global generator."""
    if generator is not None:
        return generator._rng
    seed = int(sg.default_generator._rng.integers(0, 2**63 - 1))
    return sg.Generator().manual_seed(seed)._rng


class Sampler:
    """Base class: an iterable of dataset indices (or, for a batch sampler, of index lists)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} has no length")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in a random order: a fresh permutation each epoch, or draws with replacement.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices independently (default ``False``: permute).
        num_samples: how many indices per epoch (default ``len(data_source)``).
        generator: an ``sg.Generator``; by default the global generator, so ``sg.manual_seed``
            fixes the order (and a checkpoint that saves ``sg.get_rng_state()`` reproduces it).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a bool, got {replacement!r}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {self.num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = _epoch_rng(self.generator)
        if self.replacement:
            remaining = self.num_samples
            while remaining > 0:
                count = min(remaining, _CHUNK)
                yield from rng.integers(0, n, count).tolist()
                remaining -= count
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        if self.num_samples % n:
            yield from rng.permutation(n)[: self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _epoch_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices in `[0, len(weights))`, index `i` drawn with probability
    proportional to `weights[i]` (with replacement by default).

    Example: ``WeightedRandomSampler([0.1, 0.9], 100)`` gives about ninety 1s.
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True, generator: Any = None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        weights_array = np.asarray(weights.tolist() if isinstance(weights, sg.Tensor) else weights, dtype=np.float64)
        if weights_array.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(weights_array.shape)}"
            )
        if (weights_array < 0).any() or not np.isfinite(weights_array).all() or weights_array.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > int((weights_array > 0).sum()):
            raise RuntimeError(
                "WeightedRandomSampler: cannot sample n_sample > prob_dist.size(-1) samples without replacement"
            )
        self.weights = sg.tensor(weights_array, dtype=sg.float64)
        self._probabilities = weights_array / weights_array.sum()
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = _epoch_rng(self.generator)
        size = len(self._probabilities)
        if not self.replacement:
            yield from rng.choice(size, self.num_samples, replace=False, p=self._probabilities).tolist()
            return
        remaining = self.num_samples
        while remaining > 0:
            count = min(remaining, _CHUNK)
            yield from rng.choice(size, count, replace=True, p=self._probabilities).tolist()
            remaining -= count

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size``; the last may be shorter
    unless ``drop_last``.

    Example: ``list(BatchSampler(SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]``.
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
