"""The ``mpi`` communication backend: somegrad.distributed for CPU tensors, on mpi4py.

Every collective is MPI's non-blocking, buffer-based call (``Iallreduce``, ``Ibcast``, ...) on
the NumPy arrays themselves, so nothing is pickled or copied on the way. The job's processes
are MPI's ``COMM_WORLD`` (a duplicate of it, so that a script's own MPI messages never mix with
ours); `mpiexec` or ``python -m somegrad.distributed.run`` starts them.

complex64 and complex128 travel as their (real, imaginary) float pairs, which MPI sums as it sums
the numbers (SUM and AVG are the reductions complex tensors take).

float16 and bfloat16: MPI has no reduction for either (MPICH's float16 is an extension that
mpi4py does not expose, bfloat16 exists nowhere), so reductions of them run in float32 (each
rank widens its values, MPI sums in float32, the result is rounded once to the tensor's dtype),
which is also more accurate than summing in half precision. Collectives that only move data
(broadcast, gathers, scatter, send) move the 16-bit patterns as they are.
"""

from __future__ import annotations

import numpy as np

from somegrad.backends import BackendUnavailable
from somegrad.distributed.comm import CommBackend, ReduceOp, Work, as_real_pairs
from somegrad.distributed.errors import DistBackendError

__all__ = ["MPIBackend", "create_mpi_backend"]

_HALF = frozenset(("float16", "bfloat16"))


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise BackendUnavailable(f"mpi4py is not installed ({exc}); pip install 'somegrad-numpy[mpi]'") from None
    except Exception as exc:  # mpi4py present, but no MPI library it can load
        raise BackendUnavailable(f"mpi4py cannot load an MPI library: {type(exc).__name__}: {exc}") from None
    return MPI


class MPIBackend(CommBackend):
    """One rank of an MPI job; see `somegrad.distributed.CommBackend` for the contract."""

    name = "mpi"
    device_types = ("cpu",)

    def __init__(self, rank: int = -1, world_size: int = -1, timeout=None):
        MPI = self.MPI = _import_mpi()
        self.comm = MPI.COMM_WORLD.Dup()
        self.comm.Set_errhandler(MPI.ERRORS_RETURN)  # errors become Python exceptions, not a crash
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        for what, given, actual in (("rank", rank, self.rank), ("world_size", world_size, self.world_size)):
            if given not in (-1, None) and given != actual:
                raise ValueError(
                    f"init_process_group: {what}={given} but the launcher started this process as {what} {actual}"
                )
        self._types = {
            "float32": MPI.FLOAT,
            "float64": MPI.DOUBLE,
            "int8": MPI.INT8_T,
            "int16": MPI.INT16_T,
            "int32": MPI.INT32_T,
            "int64": MPI.INT64_T,
            "uint8": MPI.UINT8_T,
            "bool": MPI.C_BOOL,
        }
        self._ops = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,  # divided by the world size when done
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
            ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR,
            ReduceOp.BXOR: MPI.BXOR,
        }
        self._bool_ops = {
            ReduceOp.SUM: MPI.LOR,
            ReduceOp.MAX: MPI.LOR,
            ReduceOp.BOR: MPI.LOR,
            ReduceOp.PRODUCT: MPI.LAND,
            ReduceOp.MIN: MPI.LAND,
            ReduceOp.BAND: MPI.LAND,
            ReduceOp.BXOR: MPI.LXOR,
        }

    # --- buffers -------------------------------------------------------------------------
    def _moved(self, array):
        """`array` as an MPI buffer spec for moving its bytes unchanged."""
        if array.dtype.name in _HALF:
            return [array.view(np.uint16), self.MPI.UINT16_T]
        array = as_real_pairs(array)
        return [array, self._types[array.dtype.name]]

    def _reduced(self, array, op):
        """(buffer spec, MPI op, the array MPI writes into) for reducing `array` with `op`."""
        name = array.dtype.name
        if name == "bool":
            return [array, self.MPI.C_BOOL], self._bool_ops[op], array
        if name in _HALF:
            wide = array.astype(np.float32)
            return [wide, self.MPI.FLOAT], self._ops[op], wide
        pairs = as_real_pairs(array)  # complex: SUM of the pairs, in the array's own memory
        return [pairs, self._types[pairs.dtype.name]], self._ops[op], array

    def _finish_reduction(self, array, result, op):
        """After MPI wrote `result`: divide for AVG, round a float32 stand-in back to `array`."""
        if op is ReduceOp.AVG:
            np.divide(result, self.world_size, out=result)
        if result is not array:
            array[...] = result

    def _start(self, name, start, *keep) -> Work:
        try:
            request = start()
        except self.MPI.Exception as exc:
            raise DistBackendError(f"{name} failed in MPI: {exc}") from exc
        work = Work(request.Test, request.Wait, name)
        work.keep_alive = (request, keep)  # the buffers must outlive the request
        return work

    # --- collectives -------------------------------------------------------------------------
    def all_reduce(self, array, op):
        spec, mpi_op, result = self._reduced(array, op)
        work = self._start("all_reduce", lambda: self.comm.Iallreduce(self.MPI.IN_PLACE, spec, mpi_op), array, spec)
        return work.then(lambda: self._finish_reduction(array, result, op))

    def broadcast(self, array, src):
        spec = self._moved(array)
        return self._start("broadcast", lambda: self.comm.Ibcast(spec, root=src), array)

    def reduce(self, array, dst, op):
        spec, mpi_op, result = self._reduced(array, op)
        if self.rank == dst:
            work = self._start("reduce", lambda: self.comm.Ireduce(self.MPI.IN_PLACE, spec, mpi_op, root=dst), spec)
            return work.then(lambda: self._finish_reduction(array, result, op))
        return self._start("reduce", lambda: self.comm.Ireduce(spec, None, mpi_op, root=dst), spec)

    def all_gather(self, output, array):
        send, receive = self._moved(array), self._moved(output)
        return self._start("all_gather", lambda: self.comm.Iallgather(send, receive), send, receive)

    def reduce_scatter(self, output, array, op):
        send, mpi_op, _ = self._reduced(array, op)
        receive, _, result = self._reduced(output, op)
        work = self._start(
            "reduce_scatter", lambda: self.comm.Ireduce_scatter_block(send, receive, mpi_op), send, receive
        )
        return work.then(lambda: self._finish_reduction(output, result, op))

    def gather(self, output, array, dst):
        send = self._moved(array)
        receive = self._moved(output) if output is not None else None
        return self._start("gather", lambda: self.comm.Igather(send, receive, root=dst), send, receive)

    def scatter(self, output, array, src):
        send = self._moved(array) if array is not None else None
        receive = self._moved(output)
        return self._start("scatter", lambda: self.comm.Iscatter(send, receive, root=src), send, receive)

    def send(self, array, dst, tag):
        spec = self._moved(array)
        return self._start("send", lambda: self.comm.Isend(spec, dest=dst, tag=tag), spec)

    def recv(self, array, src, tag):
        spec = self._moved(array)
        status = self.MPI.Status()
        source = self.MPI.ANY_SOURCE if src is None else src
        request = self.comm.Irecv(spec, source=source, tag=tag)
        work = Work(lambda: request.Test(status), lambda: request.Wait(status), "recv")
        work.keep_alive = (request, spec)
        work.source = src

        def record_source():
            work.source = status.Get_source()

        return work.then(record_source)

    def barrier(self):
        return self._start("barrier", self.comm.Ibarrier)

    def all_gather_ints(self, values):
        mine = np.asarray(values, dtype=np.int64)
        everyone = np.empty((self.world_size, mine.size), dtype=np.int64)
        self.comm.Allgather([mine, self.MPI.INT64_T], [everyone, self.MPI.INT64_T])
        return everyone.tolist()

    def abort(self, exit_code: int = 1) -> None:
        self.MPI.COMM_WORLD.Abort(exit_code)

    def shutdown(self) -> None:
        if self.comm != self.MPI.COMM_NULL:
            self.comm.Free()


def create_mpi_backend(rank: int = -1, world_size: int = -1, timeout=None) -> MPIBackend:
    """The factory that `init_process_group("mpi")` calls."""
    return MPIBackend(rank=rank, world_size=world_size, timeout=timeout)


def _probe() -> str:
    try:
        _import_mpi()
    except BackendUnavailable as exc:
        return str(exc)
    return ""


create_mpi_backend.probe = _probe  # type: ignore[attr-defined]
