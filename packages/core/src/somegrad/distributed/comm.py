"""What a communication backend is: reductions, work handles, and the array-level contract.

A communication backend (``mpi``, ``nccl``, a third party's) moves the raw arrays of one compute
backend between processes. It never sees a Tensor: the collectives in
`somegrad.distributed.collectives` validate the tensors, hand the backend flat contiguous arrays
and finish the job (copy back, version counters, result lists) when its `Work` completes. Every
method starts the operation and returns a `Work` at once; a blocking call is `start(...).wait()`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from datetime import timedelta

from somegrad.distributed.errors import DistBackendError

__all__ = ["ReduceOp", "Work", "CommBackend", "completed_work", "as_real_pairs"]


class ReduceOp(enum.Enum):
    """How `all_reduce`, `reduce` and `reduce_scatter` combine the ranks' values (PyTorch's names).

    AVG is SUM divided by the world size, for floating point tensors. BAND, BOR and BXOR are
    bitwise, for integer and bool tensors. On bool tensors SUM and MAX are a logical or,
    PRODUCT and MIN a logical and.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"ReduceOp.{self.name}"


def _seconds(timeout) -> float | None:
    if timeout is None:
        return None
    return timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)


class Work:
    """A handle on a started collective: `wait()` until it is done, or ask `is_completed()`.

    Made by communication backends from two functions: `test()` (true once the operation has
    finished; it may also push the communication forward, as MPI's tests do) and `wait()`
    (block until it has). Callbacks added with `then` run once, in order, on completion;
    `result()` gives the output tensors of the collective (PyTorch's `Work.result()`).

    On a GPU backend "done" means done as far as the host must wait: `wait()` makes the
    current stream wait for the communication stream, as PyTorch's NCCL work does.
    """

    def __init__(self, test: Callable[[], bool], wait: Callable[[], None], name: str = "collective"):
        self._test = test
        self._wait = wait
        self._callbacks: list[Callable[[], None]] = []
        self._done = False
        self._result: list = []
        self._exception: BaseException | None = None
        self.name = name
        #: the sender's rank, for a receive
        self.source: int | None = None
        #: what the backend must keep alive until the operation is done (buffers, requests)
        self.keep_alive: tuple = ()

    def then(self, callback: Callable[[], None]) -> Work:
        """Run `callback()` when the operation completes (at once if it already has); returns self."""
        if self._done:
            callback()
        else:
            self._callbacks.append(callback)
        return self

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
        self.keep_alive = ()

    def _call(self, function):
        try:
            return function()
        except DistBackendError:
            raise
        except Exception as exc:
            self._exception = exc
            raise DistBackendError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc

    def is_completed(self) -> bool:
        """Whether the operation has finished (never blocks)."""
        if not self._done and self._call(self._test):
            self._finish()
        return self._done

    def wait(self, timeout: timedelta | float | None = None) -> bool:
        """Block until the operation has finished; returns True. With `timeout` (seconds or a
        timedelta), raise DistBackendError if it has not finished by then."""
        if self._done:
            return True
        limit = _seconds(timeout)
        if limit is None:
            self._call(self._wait)
        else:
            deadline = time.monotonic() + limit
            while not self._call(self._test):
                if time.monotonic() > deadline:
                    raise DistBackendError(
                        f"{self.name} did not complete within {limit:g} s: another rank may have stopped, "
                        "or the ranks called different collectives"
                    )
                time.sleep(0.0005)
        self._finish()
        return True

    def is_success(self) -> bool:
        """Whether the operation completed without an error."""
        return self._done and self._exception is None

    def exception(self) -> BaseException | None:
        return self._exception

    def result(self) -> list:
        """The output tensors (after `wait()`)."""
        return self._result

    def __repr__(self) -> str:
        return f"<Work {self.name} {'completed' if self._done else 'pending'}>"


def as_real_pairs(array):
    """A complex array as the float array of its (real, imaginary) pairs, in the same memory
    (twice as long; other arrays as they are). Communication engines have no complex type for
    every operation, but the SUM (and AVG) of complex numbers is that of their pairs, and moving
    the pairs moves the numbers bit for bit. Works on NumPy and CuPy arrays alike."""
    if array.dtype.kind != "c":
        return array
    return array.view("float32" if array.dtype.itemsize == 8 else "float64")


def completed_work(name: str = "collective") -> Work:
    """A `Work` that has already finished (a collective with nothing to move)."""
    work = Work(lambda: True, lambda: None, name)
    work._finish()
    return work


class CommBackend:
    """Base class of communication backends: one process's endpoint in a group of `world_size`.

    Arrays are the compute backend's, flat and contiguous, of one dtype per call (the
    collectives have checked that); `op` is a `ReduceOp`. Reductions work in place where the
    signature has one array. Every method returns a `Work` without waiting. Subclasses set
    `name`, `rank`, `world_size` and `device_types`, and implement the methods below; see the
    ``mpi`` backend (`somegrad_numpy.distributed`) for a complete one.
    """

    name: str = "?"
    device_types: tuple[str, ...] = ("cpu",)
    rank: int = 0
    world_size: int = 1

    def all_reduce(self, array, op: ReduceOp) -> Work:
        """Combine `array` across ranks, in place on every rank."""
        raise NotImplementedError

    def broadcast(self, array, src: int) -> Work:
        """Overwrite `array` on every rank with rank `src`'s."""
        raise NotImplementedError

    def reduce(self, array, dst: int, op: ReduceOp) -> Work:
        """Combine `array` across ranks into rank `dst`'s, in place; the others' are left as they are."""
        raise NotImplementedError

    def all_gather(self, output, array) -> Work:
        """`output` (world_size * n,) gets every rank's `array` (n,), in rank order."""
        raise NotImplementedError

    def reduce_scatter(self, output, array, op: ReduceOp) -> Work:
        """`array` (world_size * n,) is combined across ranks; rank r gets block r in `output` (n,)."""
        raise NotImplementedError

    def gather(self, output, array, dst: int) -> Work:
        """Rank `dst`'s `output` (world_size * n,) gets every rank's `array` (n,); `output` is None elsewhere."""
        raise NotImplementedError

    def scatter(self, output, array, src: int) -> Work:
        """Rank r's `output` (n,) gets block r of rank `src`'s `array` (world_size * n,), None elsewhere."""
        raise NotImplementedError

    def send(self, array, dst: int, tag: int) -> Work:
        raise NotImplementedError

    def recv(self, array, src: int | None, tag: int) -> Work:
        """Receive into `array` from `src` (any rank when None); the Work's `source` says which."""
        raise NotImplementedError

    def barrier(self) -> Work:
        raise NotImplementedError

    def all_gather_ints(self, values: list[int]) -> list[list[int]]:
        """Every rank's list of integers (of one length), blocking: the collectives' debug mode
        compares what each rank is about to do with it."""
        raise NotImplementedError

    def abort(self, exit_code: int = 1) -> None:
        """End every process of the job now (an unhandled error on one rank)."""
        raise SystemExit(exit_code)

    def shutdown(self) -> None:
        """Release what the backend holds (`destroy_process_group`)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} rank {self.rank} of {self.world_size}>"
