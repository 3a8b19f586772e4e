"""``DataLoader``: batches of a dataset, in order or shuffled, on a chosen device, loaded in
the main process or in worker processes (``num_workers > 0``)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import somegrad as sg

from .collate import default_collate, default_convert, move_to_device
from .dataset import IterableDataset, batch_fetcher
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .worker import ExceptionWrapper, IterableStop, Resume, worker_loop

__all__ = ["DataLoader"]

# how often a waiting main process checks that its workers are alive (seconds)
_STATUS_CHECK_INTERVAL = 0.2


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
        num_workers: worker processes that load batches (default 0: the main process does).
            Each worker seeds somegrad, ``random`` and ``np.random`` from a base seed drawn from
            ``generator`` per epoch (see :mod:`somegrad.data.worker`); the batches come back in
            the sampler's order (unless ``in_order=False``). A worker that dies raises a
            RuntimeError naming its pid, never a hang.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        pin_memory: accepted for compatibility; nothing is pinned (``pin_memory_device`` too).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers before a RuntimeError (0: forever,
            while the workers live).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: "fork", "spawn", "forkserver" or a context (default: the
            platform's default start method).
        generator: the ``sg.Generator`` that shuffles and draws the workers' base seed
            (default: the global generator).
        prefetch_factor: batches each worker loads ahead (default 2 with workers).
        persistent_workers: keep the workers (and their datasets) alive between epochs.
        in_order: yield batches in the sampler's order (default), or as workers finish them.
        device: where batches land (``"cpu"``, ``"cuda"``...); every tensor in the batch is
            moved there with ``.to(device)``, in the main process. Not in PyTorch, whose
            loaders stay on the host.

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
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        device: Any = None,
    ) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. let num_workers > 0 to "
                "enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(multiprocessing_context, str):
            if multiprocessing_context not in multiprocessing.get_all_start_methods():
                raise ValueError(
                    "multiprocessing_context option should specify a valid start method in "
                    f"{multiprocessing.get_all_start_methods()!r}, but got multiprocessing_context="
                    f"{multiprocessing_context!r}"
                )
            multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator
        self.device = device
        self._iterator: _WorkerIterator | None = None
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
        if self.num_workers == 0:
            return self._single_process()
        if not self.persistent_workers:
            return _WorkerIterator(self)
        if self._iterator is None or self._iterator._closed:
            self._iterator = _WorkerIterator(self)
        else:
            self._iterator._reset()
        return self._iterator

    def _single_process(self) -> Iterator[Any]:
        # The draw that seeds workers happens without them too (as in PyTorch), so that the
        # shuffled order does not depend on num_workers.
        (self.generator or sg.default_generator)._rng.integers(0, 2**63 - 1)
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


class _Fetcher:
    """What a worker does with one task: the indices of a batch (or one index) of a map-style
    dataset, or the next batch of its iterator over an IterableDataset. Picklable, for the
    "spawn" start method; the TensorDataset fast path is set up inside the worker."""

    def __init__(self, loader: DataLoader):
        self.dataset = loader.dataset
        self.collate_fn = loader.collate_fn
        self.batched = loader._batched
        self.batch_size = loader.batch_size
        self.drop_last = loader.drop_last
        self.iterable = loader._iterable
        self._fast = None

    def __call__(self, task):
        if self.iterable:
            stream = task
            if not self.batched:
                return self.collate_fn(next(stream))
            batch = list(itertools.islice(stream, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                raise StopIteration
            return self.collate_fn(batch)
        if not self.batched:
            return self.collate_fn(self.dataset[task])
        if self._fast is None:
            fast = batch_fetcher(self.dataset) if self.collate_fn is default_collate else None
            self._fast = fast or (lambda indices: self.collate_fn([self.dataset[i] for i in indices]))
        return self._fast(task)


class _WorkerIterator:
    """One epoch (or, with persistent workers, every epoch) of a DataLoader with workers.

    The main process iterates the sampler and hands each batch's indices to the workers in
    turn, keeping `prefetch_factor` tasks per worker in flight; results come back on one
    queue and are yielded in task order. While it waits, it checks every
    `_STATUS_CHECK_INTERVAL` seconds that the workers live, and raises at once if one died.
    """

    def __init__(self, loader: DataLoader):
        self.loader = loader
        self._closed = False
        self._workers: list = []
        context = loader.multiprocessing_context or multiprocessing.get_context()
        rng = (loader.generator or sg.default_generator)._rng
        self._base_seed = int(rng.integers(0, 2**63 - 1))  # one draw per epoch, as PyTorch
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues = []
        fetch = _Fetcher(loader)
        for worker_id in range(loader.num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()
            process = context.Process(
                target=worker_loop,
                args=(
                    loader.dataset,
                    loader._iterable,
                    fetch,
                    index_queue,
                    self._result_queue,
                    self._done_event,
                    self._base_seed,
                    loader.worker_init_fn,
                    worker_id,
                    loader.num_workers,
                    os.getpid(),
                ),
                daemon=True,
            )
            process.start()
            self._index_queues.append(index_queue)
            self._workers.append(process)
        self._start_epoch()

    def _start_epoch(self) -> None:
        loader = self.loader
        self._tasks: Iterator[Any]
        if loader._iterable:
            self._tasks = itertools.repeat(None)
        else:
            order = loader.batch_sampler if loader.batch_sampler is not None else loader.sampler
            self._tasks = iter(order)  # type: ignore[arg-type]
        self._next_task = 0
        self._pending: dict[int, list] = {}  # task index -> [worker id, result or _WAITING]
        self._active = [True] * loader.num_workers
        self._worker_cycle = itertools.cycle(range(loader.num_workers))
        for _ in range(max(loader.prefetch_factor or 0, 1) * loader.num_workers):
            self._put_task()

    def _reset(self) -> None:
        """A new epoch with the same (persistent) workers: drop what is still in flight."""
        for index_queue in self._index_queues:
            index_queue.put(Resume())
        waiting = len(self._index_queues)
        while waiting:
            index, data = self._get()
            if index is None and isinstance(data, Resume):
                waiting -= 1
        self._start_epoch()

    def _put_task(self) -> None:
        if not any(self._active):
            return
        try:
            indices = next(self._tasks)
        except StopIteration:
            return
        worker_id = next(self._worker_cycle)
        while not self._active[worker_id]:
            worker_id = next(self._worker_cycle)
        self._index_queues[worker_id].put((self._next_task, indices))
        self._pending[self._next_task] = [worker_id, _WAITING]
        self._next_task += 1

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            # tasks of a worker whose IterableDataset ran out will never be answered
            for index in [i for i, (w, data) in self._pending.items() if data is _WAITING and not self._active[w]]:
                del self._pending[index]
            if not self._pending:
                if not self.loader.persistent_workers:
                    self._shutdown()
                raise StopIteration
            ready = self._ready()
            if ready is not None:
                data = self._pending.pop(ready)[1]
                self._put_task()
                return self._process(data)
            index, data = self._get()
            if isinstance(data, IterableStop):
                self._active[data.worker_id] = False
            elif index in self._pending:
                self._pending[index][1] = data

    def _ready(self):
        if self.loader.in_order:
            first = min(self._pending)
            return first if self._pending[first][1] is not _WAITING else None
        return next((i for i, (_, data) in self._pending.items() if data is not _WAITING), None)

    def _process(self, data):
        if isinstance(data, ExceptionWrapper):
            self._shutdown()
            data.reraise()
        return data if self.loader.device is None else move_to_device(data, self.loader.device)

    def _get(self):
        """The next (task index, result) from any worker, raising if a worker died or the
        loader's timeout passed."""
        timeout = self.loader.timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            wait = (
                _STATUS_CHECK_INTERVAL if deadline is None else min(_STATUS_CHECK_INTERVAL, deadline - time.monotonic())
            )
            try:
                return self._result_queue.get(timeout=max(wait, 0))
            except queue.Empty:
                pass
            dead = [w for w in self._workers if not w.is_alive()]
            if dead:
                pids = ", ".join(str(w.pid) for w in dead)
                codes = ", ".join(_describe_exit(w.exitcode) for w in dead)
                self._shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly ({codes})")
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown()
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def _shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._done_event.set()
        for index_queue in self._index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        for process in self._workers:
            process.join(timeout=0.5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
        for q in (*self._index_queues, self._result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:
            pass

    def __len__(self) -> int:
        return len(self.loader)


_WAITING = object()


def _describe_exit(code) -> str:
    if code is None:
        return "still running"
    if code < 0:
        import signal

        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
