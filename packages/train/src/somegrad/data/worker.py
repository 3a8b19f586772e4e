"""What runs inside a DataLoader worker process, and what it shares with the main process.

A worker gets tasks `(task index, batch indices)` from its own index queue, fetches and
collates the batch, and puts `(task index, batch)` on the result queue the workers share.
A worker seeds every random number source first, as PyTorch's do: somegrad's (all
backends) and Python's `random` with `base_seed + worker_id`, NumPy's legacy global
generator with PyTorch's own hash of the two (`_generate_state`), so code that calls
`np.random` in a dataset draws different numbers in each worker and each epoch.

Tensors cross the process boundary by value (a NumPy array, its dtype and device), through a
reducer registered with multiprocessing's pickler; a somegrad Tensor refuses ordinary pickling.
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

import somegrad as sg
from somegrad.tensor import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: its `id` (0 to `num_workers - 1`),
    `num_workers`, the `seed` its generators were given, and its copy of the `dataset`."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's `WorkerInfo` inside a DataLoader worker process; None in the main process.

    An IterableDataset uses it to give each worker its own share of the stream::

        def __iter__(self):
            info = get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, self.n, step))
    """
    return _worker_info


# --- tensors across processes -------------------------------------------------------------------
def _rebuild_tensor(array, dtype_name, device, requires_grad):
    dtype = sg.dtypes.from_name(dtype_name)
    out = sg.from_numpy(array)
    if out.dtype is not dtype:  # bfloat16 travels as ml_dtypes' array, others as themselves
        out = out.to(dtype)
    if device != "cpu":
        out = out.to(device)
    return out.requires_grad_(True) if requires_grad else out


def _reduce_tensor(tensor):
    host = tensor.detach()
    return _rebuild_tensor, (host.numpy().copy(), tensor.dtype.name, str(tensor.device), tensor.requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)


# --- seeds ---------------------------------------------------------------------------------------
def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The NumPy seed of worker `worker_id`: PyTorch's hash of (base_seed, worker_id), the
    SeedSequence algorithm on 32-bit words (torch/utils/data/_utils/worker.py), so a worker
    here seeds `np.random` exactly as a PyTorch worker with the same base seed does."""
    INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R, XSHIFT = 0xCA01F9DD, 0x4973F715, 4 * 8 // 2
    MASK32 = 0xFFFFFFFF

    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_A = INIT_A

    def hash(value):
        nonlocal hash_const_A
        value = (value ^ hash_const_A) & MASK32
        hash_const_A = (hash_const_A * MULT_A) & MASK32
        value = (value * hash_const_A) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result_x = (MIX_MULT_L * x) & MASK32
        result_y = (MIX_MULT_R * y) & MASK32
        result = (result_x - result_y) & MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(len(pool)):
        pool[i] = hash(entropy[i])
    for i_src in range(len(pool)):
        for i_dst in range(len(pool)):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash(pool[i_src]))
    hash_const_B = INIT_B
    state = []
    for i_dst in range(4):
        data_val = pool[i_dst]
        data_val = (data_val ^ hash_const_B) & MASK32
        hash_const_B = (hash_const_B * MULT_B) & MASK32
        data_val = (data_val * hash_const_B) & MASK32
        data_val = (data_val ^ (data_val >> XSHIFT)) & MASK32
        state.append(data_val)
    return state


def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed somegrad (every backend), Python's `random` and NumPy's global generator for
    worker `worker_id`, as PyTorch does; returns the worker's seed."""
    seed = base_seed + worker_id
    random.seed(seed)
    sg.manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


# --- the worker loop -------------------------------------------------------------------------------
class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc: BaseException, where: str):
        self.exc_type = type(exc)
        self.message = f"Caught {type(exc).__name__} {where}.\nOriginal " + "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__)
        )

    def reraise(self):
        try:
            exception = self.exc_type(self.message)
        except Exception:  # an exception class whose constructor takes other arguments
            exception = RuntimeError(self.message)
        raise exception


@dataclass
class IterableStop:
    """A worker's IterableDataset is exhausted."""

    worker_id: int


@dataclass
class Resume:
    """Start a new epoch (persistent workers): iterate the IterableDataset afresh."""


def worker_loop(
    dataset,
    iterable: bool,
    fetch,
    index_queue,
    result_queue,
    done_event,
    base_seed: int,
    init_fn,
    worker_id: int,
    num_workers: int,
    parent_pid: int,
) -> None:
    """The body of worker `worker_id`: seed, run `init_fn(worker_id)`, then answer tasks until
    told to stop (None), the main process is gone, or `done_event` is set."""
    global _worker_info
    try:
        seed = seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception as exc:
            init_error = ExceptionWrapper(exc, f"in DataLoader worker process {worker_id}")
        stream, exhausted = None, False  # the worker's iterator over an IterableDataset, made on first use
        while True:
            try:
                task = index_queue.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent_pid or done_event.is_set():
                    return
                continue
            if task is None:
                return
            if isinstance(task, Resume):
                stream, exhausted = None, False
                result_queue.put((None, task))  # every earlier result is already on the queue
                continue
            if done_event.is_set():
                continue  # shutting down: drain the queue without working
            index, indices = task
            if init_error is not None:
                result_queue.put((index, init_error))
                continue
            if exhausted:
                result_queue.put((index, IterableStop(worker_id)))
                continue
            try:
                if iterable and stream is None:
                    stream = iter(dataset)
                batch = fetch(stream) if iterable else fetch(indices)
            except StopIteration:
                exhausted = True
                batch = IterableStop(worker_id)
            except Exception as exc:
                batch = ExceptionWrapper(exc, f"in DataLoader worker process {worker_id}")
            result_queue.put((index, batch))
            del batch
    except KeyboardInterrupt:
        pass
    finally:
        if done_event.is_set():
            result_queue.cancel_join_thread()
            result_queue.close()
        sys.stdout.flush()
