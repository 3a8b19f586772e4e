"""The ``nccl`` communication backend: somegrad.distributed for CUDA tensors, on CuPy's NCCL binding.

One process per GPU. The ranks meet through MPI (mpi4py), which every launcher here starts:
rank 0 makes the NCCL unique id, MPI broadcasts it, and each rank builds its
`cupy.cuda.nccl.NcclCommunicator`; its GPU is its local rank on the host (modulo the GPU
count). Collectives are queued on a communication stream of their own, after the work already
queued on the current stream, so they overlap the computation that follows; `Work.wait()`
makes the current stream wait for them (the host does not block), as PyTorch's NCCL work does,
and `is_completed()` asks the CUDA event. float16 and bfloat16 are reduced natively by NCCL,
AVG is NCCL's own (NCCL >= 2.10). int16 has no NCCL type: it moves as 16-bit patterns and is
reduced in int32; bool moves as uint8 and reduces with MAX (or) and MIN (and); complex64 and
complex128 travel as their float pairs (SUM and AVG reduce them).

Written against CuPy's documented `cupy.cuda.nccl` API; it is registered as unavailable on a
machine without a GPU, CuPy, NCCL or mpi4py.
"""

from __future__ import annotations

from somegrad.backends import BackendUnavailable
from somegrad.distributed.comm import CommBackend, ReduceOp, Work, as_real_pairs
from somegrad.distributed.errors import DistBackendError

__all__ = ["NCCLBackend", "create_nccl_backend", "nccl_datatype"]

# NCCL's ncclDataType_t and ncclRedOp_t values, for CuPy builds that do not export every name
_NCCL_BFLOAT16 = 9
_NCCL_AVG = 4


def _import_nccl():
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as exc:
        raise BackendUnavailable(f"CuPy is not installed ({exc}); pip install 'somegrad-cuda[cuda12]'") from None
    if not getattr(nccl, "available", False):
        raise BackendUnavailable("this CuPy was built without NCCL (install a cupy-cuda12x wheel with NCCL)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise BackendUnavailable(f"CUDA is not usable: {exc}") from None
    if count == 0:
        raise BackendUnavailable("no CUDA device found")
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise BackendUnavailable(f"the nccl backend meets its peers through MPI; mpi4py is missing ({exc})") from None
    return cupy, nccl, MPI


def nccl_datatype(nccl, dtype_name: str, reducing: bool) -> tuple[int, str | None]:
    """(NCCL datatype, the dtype to widen to first or None) for an array of `dtype_name`."""
    table = {
        "float16": nccl.NCCL_FLOAT16,
        "bfloat16": getattr(nccl, "NCCL_BFLOAT16", _NCCL_BFLOAT16),
        "float32": nccl.NCCL_FLOAT32,
        "float64": nccl.NCCL_FLOAT64,
        "int8": nccl.NCCL_INT8,
        "uint8": nccl.NCCL_UINT8,
        "bool": nccl.NCCL_UINT8,
        "int32": nccl.NCCL_INT32,
        "int64": nccl.NCCL_INT64,
    }
    if dtype_name == "int16":
        return (nccl.NCCL_INT32, "int32") if reducing else (nccl.NCCL_FLOAT16, None)
    return table[dtype_name], None


class NCCLBackend(CommBackend):
    """One rank of an NCCL job; see `somegrad.distributed.CommBackend` for the contract."""

    name = "nccl"
    device_types = ("cuda",)

    def __init__(self, rank: int = -1, world_size: int = -1, timeout=None):
        cupy, nccl, MPI = self.cupy, self.nccl, self.MPI = _import_nccl()
        self.mpi = MPI.COMM_WORLD.Dup()
        self.rank, self.world_size = self.mpi.Get_rank(), self.mpi.Get_size()
        for what, given, actual in (("rank", rank, self.rank), ("world_size", world_size, self.world_size)):
            if given not in (-1, None) and given != actual:
                raise ValueError(
                    f"init_process_group: {what}={given} but the launcher started this process as {what} {actual}"
                )
        host = self.mpi.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this machine
        local_rank = host.Get_rank()
        host.Free()
        self.device = cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount())
        self.device.use()
        unique_id = nccl.get_unique_id() if self.rank == 0 else None
        unique_id = self.mpi.bcast(unique_id, root=0)
        self.comm = nccl.NcclCommunicator(self.world_size, unique_id, self.rank)
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self._ops = {
            ReduceOp.SUM: nccl.NCCL_SUM,
            ReduceOp.PRODUCT: nccl.NCCL_PROD,
            ReduceOp.MIN: nccl.NCCL_MIN,
            ReduceOp.MAX: nccl.NCCL_MAX,
            ReduceOp.AVG: getattr(nccl, "NCCL_AVG", _NCCL_AVG),
        }

    def _op(self, array, op):
        if array.dtype.name == "bool":
            op = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN}.get(op, op)
        if op not in self._ops:
            raise DistBackendError(f"the nccl backend has no {op!r} (NCCL reduces with SUM, PRODUCT, MIN, MAX, AVG)")
        return self._ops[op]

    def _run(self, name, enqueue, keep, finish=None) -> Work:
        """Queue `enqueue(stream_ptr)` on the communication stream after the current stream's work."""
        current = self.cupy.cuda.get_current_stream()
        self.stream.wait_event(current.record())
        try:
            with self.stream:
                enqueue(self.stream.ptr)
                if finish is not None:
                    finish()
        except self.nccl.NcclError as exc:
            raise DistBackendError(f"{name} failed in NCCL: {exc}") from exc
        done = self.stream.record()
        work = Work(lambda: done.done, lambda: self.cupy.cuda.get_current_stream().wait_event(done), name)
        work.keep_alive = keep
        return work

    def _widened(self, array, reducing=True):
        """(buffer, datatype): complex as its float pairs (the same memory), int16 widened (a copy)."""
        array = as_real_pairs(array)
        datatype, wide = nccl_datatype(self.nccl, array.dtype.name, reducing)
        if wide is None:
            return array, datatype
        # on the current stream, after the work that produced `array`; the communication
        # stream waits for it in _run
        return array.astype(wide), datatype

    def _moved(self, array):
        array = as_real_pairs(array)
        datatype, _ = nccl_datatype(self.nccl, array.dtype.name, reducing=False)
        return array.view(self.cupy.uint8) if array.dtype.name == "bool" else array, datatype

    def all_reduce(self, array, op):
        buffer, datatype = self._widened(array)
        nccl_op = self._op(array, op)

        def enqueue(stream):
            self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, datatype, nccl_op, stream)

        return self._run("all_reduce", enqueue, (array, buffer), self._cast_back(array, buffer))

    def _cast_back(self, array, buffer):
        if buffer.dtype == as_real_pairs(array).dtype:  # reduced in the array's own memory
            return None
        return lambda: array.__setitem__(Ellipsis, buffer.astype(array.dtype))

    def broadcast(self, array, src):
        buffer, datatype = self._moved(array)

        def enqueue(stream):
            self.comm.broadcast(buffer.data.ptr, buffer.data.ptr, buffer.size, datatype, src, stream)

        return self._run("broadcast", enqueue, (array,))

    def reduce(self, array, dst, op):
        buffer, datatype = self._widened(array)
        nccl_op = self._op(array, op)

        def enqueue(stream):
            self.comm.reduce(buffer.data.ptr, buffer.data.ptr, buffer.size, datatype, nccl_op, dst, stream)

        finish = self._cast_back(array, buffer) if self.rank == dst else None
        return self._run("reduce", enqueue, (array, buffer), finish)

    def all_gather(self, output, array):
        send, datatype = self._moved(array)
        receive, _ = self._moved(output)

        def enqueue(stream):
            self.comm.allGather(send.data.ptr, receive.data.ptr, send.size, datatype, stream)

        return self._run("all_gather", enqueue, (output, array))

    def reduce_scatter(self, output, array, op):
        send, datatype = self._widened(array)
        receive, _ = self._widened(output)
        nccl_op = self._op(array, op)

        def enqueue(stream):
            self.comm.reduceScatter(send.data.ptr, receive.data.ptr, receive.size, datatype, nccl_op, stream)

        return self._run("reduce_scatter", enqueue, (output, array, send, receive), self._cast_back(output, receive))

    # gather and scatter are grouped point-to-point calls, as NCCL's documentation shows
    def gather(self, output, array, dst):
        send, datatype = self._moved(array)
        receive = self._moved(output)[0] if output is not None else None
        n = send.size

        def enqueue(stream):
            self.nccl.groupStart()
            if self.rank == dst:
                for peer in range(self.world_size):
                    self.comm.recv(receive[peer * n :].data.ptr, n, datatype, peer, stream)
            self.comm.send(send.data.ptr, n, datatype, dst, stream)
            self.nccl.groupEnd()

        return self._run("gather", enqueue, (output, array))

    def scatter(self, output, array, src):
        receive, datatype = self._moved(output)
        send = self._moved(array)[0] if array is not None else None
        n = receive.size

        def enqueue(stream):
            self.nccl.groupStart()
            if self.rank == src:
                for peer in range(self.world_size):
                    self.comm.send(send[peer * n :].data.ptr, n, datatype, peer, stream)
            self.comm.recv(receive.data.ptr, n, datatype, src, stream)
            self.nccl.groupEnd()

        return self._run("scatter", enqueue, (output, array))

    def send(self, array, dst, tag):
        buffer, datatype = self._moved(array)
        return self._run("send", lambda s: self.comm.send(buffer.data.ptr, buffer.size, datatype, dst, s), (array,))

    def recv(self, array, src, tag):
        if src is None:
            raise DistBackendError("recv: the nccl backend needs src= (NCCL has no receive from any rank)")
        buffer, datatype = self._moved(array)
        work = self._run("recv", lambda s: self.comm.recv(buffer.data.ptr, buffer.size, datatype, src, s), (array,))
        work.source = src
        return work

    def barrier(self):
        # a one-element all-reduce on the GPU, waited for on the host: every rank has reached it
        flag = self.cupy.zeros(1, dtype=self.cupy.float32)
        work = self.all_reduce(flag, ReduceOp.SUM)
        work.wait()
        self.stream.synchronize()
        return work

    def all_gather_ints(self, values):
        return self.mpi.allgather(list(values))

    def abort(self, exit_code: int = 1) -> None:
        self.comm.abort()
        self.MPI.COMM_WORLD.Abort(exit_code)

    def shutdown(self) -> None:
        self.stream.synchronize()
        self.comm.destroy()
        self.mpi.Free()


def create_nccl_backend(rank: int = -1, world_size: int = -1, timeout=None) -> NCCLBackend:
    """The factory that `init_process_group("nccl")` calls."""
    return NCCLBackend(rank=rank, world_size=world_size, timeout=timeout)


def _probe() -> str:
    try:
        _import_nccl()
    except BackendUnavailable as exc:
        return str(exc)
    return ""


create_nccl_backend.probe = _probe  # type: ignore[attr-defined]
