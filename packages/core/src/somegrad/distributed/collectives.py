"""Collectives on tensors, with PyTorch's signatures: validate, hand the backend flat arrays, finish.

Every function takes `group=None` (the default group) and `async_op=False`; with
`async_op=True` it returns a `Work` at once, otherwise it waits (up to the group's timeout)
and returns None. Tensors are changed in place, as in PyTorch: the communication backend
writes straight into a contiguous tensor's memory (a non-contiguous one goes through a copy),
and the tensor's version counter moves on, so autograd notices if a saved tensor was
overwritten.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.distributed import process_group
from somegrad.distributed.comm import ReduceOp, Work, completed_work
from somegrad.distributed.errors import DistError
from somegrad.tensor import Tensor

__all__ = [
    "all_reduce",
    "broadcast",
    "reduce",
    "all_gather",
    "all_gather_into_tensor",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "gather",
    "scatter",
    "send",
    "recv",
    "isend",
    "irecv",
    "barrier",
    "supports_complex",
]

# the order of the names is the code each rank sends in DETAIL mode; append, never reorder
_COLLECTIVES = (
    "all_reduce",
    "broadcast",
    "reduce",
    "all_gather",
    "reduce_scatter",
    "gather",
    "scatter",
    "barrier",
    "all_gather_into_tensor",
    "reduce_scatter_tensor",
)
_OPS = tuple(ReduceOp)


def _group(caller, group):
    if group is None:
        return process_group.default_group(caller)
    if not isinstance(group, process_group.ProcessGroup):
        raise TypeError(f"{caller}: group must be a ProcessGroup or None, got {type(group).__name__}")
    return group


def _check_tensor(caller, pg, tensor, what="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: {what} must be a Tensor, got {type(tensor).__name__}")
    if tensor.device.type not in pg.comm.device_types:
        raise ValueError(
            f"{caller}: the {pg.name()!r} backend moves tensors on {list(pg.comm.device_types)}, but {what} is on "
            f"{str(tensor.device)!r}; use the backend for that device ('nccl' for cuda) or move the tensor"
        )


def _check_root(caller, pg, name, root):
    if not isinstance(root, int) or not 0 <= root < pg.size():
        raise ValueError(f"{caller}: {name}={root!r} is not a rank of a group of size {pg.size()}")


def supports_complex(reduce_op: ReduceOp) -> bool:
    """Whether `reduce_op` reduces complex tensors: SUM and AVG do. Complex numbers have no
    order (MAX, MIN), and they travel as (real, imaginary) pairs, whose product is not that of
    the numbers (PRODUCT)."""
    return reduce_op in (ReduceOp.SUM, ReduceOp.AVG)


def _check_op(caller, tensor, op):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{caller}: op must be a ReduceOp (ReduceOp.SUM, ...), got {op!r}")
    kind = tensor.dtype.kind
    if kind == "complex" and not supports_complex(op):
        raise ValueError(
            f"{caller} does not support {op!r} on complex tensors ({tensor.dtype.name}); SUM and AVG reduce them"
        )
    if op is ReduceOp.AVG and kind not in ("float", "complex"):
        raise TypeError(f"{caller}: ReduceOp.AVG needs a floating point tensor, got {tensor.dtype.name}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind == "float":
        raise TypeError(f"{caller}: {op!r} is bitwise and needs an integer or bool tensor, got {tensor.dtype.name}")


def _check_like(caller, reference, tensors, what):
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{caller}: {what}[{i}] must be a Tensor, got {type(t).__name__}")
        if t.dtype is not reference.dtype:
            raise TypeError(f"{caller}: {what}[{i}] has dtype {t.dtype.name}, expected {reference.dtype.name}")
        if t.shape != reference.shape:
            raise ValueError(f"{caller}: {what}[{i}] has shape {tuple(t.shape)}, expected {tuple(reference.shape)}")


def _check_list(caller, pg, tensors, reference, what):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != pg.size():
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{caller}: {what} must be a list of {pg.size()} tensors (the world size), got {got}")
    _check_like(caller, reference, tensors, what)


def _agree(caller, pg, tensor=None, root=-1, op=None):
    """In DETAIL mode, check that every rank is calling the same collective on the same kind of tensor."""
    if process_group.get_debug_level() != "DETAIL" or pg.size() == 1:
        return
    shape = list(tensor.shape) if tensor is not None else []
    dtype_code = dtypes.all_dtypes.index(tensor.dtype) if tensor is not None else -1
    row = [_COLLECTIVES.index(caller), dtype_code, root, _OPS.index(op) if op is not None else -1, len(shape)]
    row += (shape + [0] * 8)[:8] if len(shape) <= 8 else [hash(tuple(shape)) & (2**62 - 1)] + [0] * 7
    rows = pg.comm.all_gather_ints(row)
    if all(r == rows[0] for r in rows):
        return

    def describe(r):
        name = _COLLECTIVES[r[0]] if 0 <= r[0] < len(_COLLECTIVES) else f"collective #{r[0]}"
        if r[1] < 0:
            return name
        text = f"{name} of a {dtypes.all_dtypes[r[1]].name} tensor of shape {tuple(r[5 : 5 + min(r[4], 8)])}"
        if r[2] >= 0:
            text += f", root {r[2]}"
        if r[3] >= 0:
            text += f", {_OPS[r[3]]!r}"
        return text

    lines = "; ".join(f"rank {rank}: {describe(r)}" for rank, r in enumerate(rows))
    raise DistError(f"{caller}: the ranks called mismatched collectives ({lines}); every rank must make the same call")


class _Flat:
    """A tensor as the flat contiguous array a communication backend takes, and the way back."""

    __slots__ = ("tensor", "array", "copied")

    def __init__(self, tensor):
        self.tensor = tensor
        self.copied = not tensor.is_contiguous()
        source = tensor.detach().contiguous() if self.copied else tensor
        self.array = source._data.reshape(-1)

    def written(self):
        """The backend has written into `array`: put it in the tensor (if a copy) and move its version on."""
        t = self.tensor
        if self.copied:
            t._backend().assign(t._data, self.array.reshape(t.shape))
        t._version_counter[0] += 1


def _finish(pg, work: Work, async_op, outputs, written=()):
    def done():
        for flat in written:
            flat.written()

    work.then(done)
    work._result = list(outputs)
    if async_op:
        return work
    work.wait(pg.timeout)
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` across all ranks with `op`, in place on every rank.

    Example: `all_reduce(grad, op=ReduceOp.AVG)` leaves the mean of the ranks' `grad` on each."""
    pg = _group("all_reduce", group)
    _check_tensor("all_reduce", pg, tensor)
    _check_op("all_reduce", tensor, op)
    _agree("all_reduce", pg, tensor, op=op)
    flat = _Flat(tensor)
    return _finish(pg, pg.comm.all_reduce(flat.array, op), async_op, [tensor], [flat])


def broadcast(tensor, src, group=None, async_op=False):
    """Overwrite `tensor` on every rank with rank `src`'s (same shape and dtype everywhere)."""
    pg = _group("broadcast", group)
    _check_tensor("broadcast", pg, tensor)
    _check_root("broadcast", pg, "src", src)
    _agree("broadcast", pg, tensor, root=src)
    flat = _Flat(tensor)
    written = [flat] if pg.rank() != src else []
    return _finish(pg, pg.comm.broadcast(flat.array, src), async_op, [tensor], written)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` across ranks into rank `dst`'s `tensor`; the others' are left unchanged."""
    pg = _group("reduce", group)
    _check_tensor("reduce", pg, tensor)
    _check_root("reduce", pg, "dst", dst)
    _check_op("reduce", tensor, op)
    _agree("reduce", pg, tensor, root=dst, op=op)
    flat = _Flat(tensor)
    written = [flat] if pg.rank() == dst else []
    return _finish(pg, pg.comm.reduce(flat.array, dst, op), async_op, [tensor], written)


def _stacked(caller, pg, output, tensor, what):
    _check_tensor(caller, pg, output, what)
    if output.dtype is not tensor.dtype:
        raise TypeError(f"{caller}: {what} has dtype {output.dtype.name}, the input {tensor.dtype.name}")
    if output.numel() != tensor.numel() * pg.size():
        raise ValueError(
            f"{caller}: {what} of shape {tuple(output.shape)} must hold world_size ({pg.size()}) times the "
            f"input of shape {tuple(tensor.shape)}, e.g. ({pg.size() * (tensor.shape[0] if tensor.ndim else 1)}, ...)"
        )


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's `input_tensor` (n, ...) concatenated into `output_tensor` (world_size * n, ...),
    or stacked into (world_size, n, ...): rank r's block comes r-th."""
    caller = "all_gather_into_tensor"
    pg = _group(caller, group)
    _check_tensor(caller, pg, input_tensor, "input_tensor")
    _stacked(caller, pg, output_tensor, input_tensor, "output_tensor")
    _agree(caller, pg, input_tensor)
    out = _Flat(output_tensor)
    work = pg.comm.all_gather(out.array, _Flat(input_tensor).array)
    return _finish(pg, work, async_op, [output_tensor], [out])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """`tensor_list[r]` gets rank r's `tensor`, on every rank (a list of world_size tensors like `tensor`)."""
    pg = _group("all_gather", group)
    _check_tensor("all_gather", pg, tensor)
    _check_list("all_gather", pg, tensor_list, tensor, "tensor_list")
    _agree("all_gather", pg, tensor)
    from somegrad.ops.creation import empty

    stacked = empty((pg.size(),) + tuple(tensor.shape), dtype=tensor.dtype, device=tensor.device)
    work = pg.comm.all_gather(stacked._data.reshape(-1), _Flat(tensor).array)

    def unstack():
        for r, t in enumerate(tensor_list):
            t._backend().assign(t._data, stacked._data[r])
            t._version_counter[0] += 1

    work.then(unstack)
    return _finish(pg, work, async_op, tensor_list)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """`input` (world_size * n, ...) combined across ranks with `op`; rank r's `output` (n, ...) gets block r."""
    caller = "reduce_scatter_tensor"
    pg = _group(caller, group)
    _check_tensor(caller, pg, output, "output")
    _stacked(caller, pg, input, output, "input")
    _check_op(caller, output, op)
    _agree(caller, pg, output, op=op)
    out = _Flat(output)
    work = pg.comm.reduce_scatter(out.array, _Flat(input).array, op)
    return _finish(pg, work, async_op, [output], [out])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """`input_list[r]` combined across ranks with `op` lands in rank r's `output`."""
    pg = _group("reduce_scatter", group)
    _check_tensor("reduce_scatter", pg, output, "output")
    _check_list("reduce_scatter", pg, input_list, output, "input_list")
    _check_op("reduce_scatter", output, op)
    _agree("reduce_scatter", pg, output, op=op)
    from somegrad.ops.movement import stack

    stacked = stack([t.detach() for t in input_list])
    out = _Flat(output)
    work = pg.comm.reduce_scatter(out.array, stacked._data.reshape(-1), op)
    return _finish(pg, work, async_op, [output], [out])


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Rank `dst`'s `gather_list[r]` gets rank r's `tensor`; the other ranks pass no list."""
    pg = _group("gather", group)
    _check_tensor("gather", pg, tensor)
    _check_root("gather", pg, "dst", dst)
    _agree("gather", pg, tensor, root=dst)
    stacked = None
    if pg.rank() == dst:
        _check_list("gather", pg, gather_list, tensor, "gather_list")
        from somegrad.ops.creation import empty

        stacked = empty((pg.size(),) + tuple(tensor.shape), dtype=tensor.dtype, device=tensor.device)
    elif gather_list:
        raise ValueError(f"gather: gather_list must be None or empty on rank {pg.rank()}, which is not dst={dst}")
    work = pg.comm.gather(None if stacked is None else stacked._data.reshape(-1), _Flat(tensor).array, dst)
    if stacked is not None:

        def unstack():
            for r, t in enumerate(gather_list):
                t._backend().assign(t._data, stacked._data[r])
                t._version_counter[0] += 1

        work.then(unstack)
    return _finish(pg, work, async_op, gather_list or [])


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Rank r's `tensor` gets rank `src`'s `scatter_list[r]`; the other ranks pass no list."""
    pg = _group("scatter", group)
    _check_tensor("scatter", pg, tensor)
    _check_root("scatter", pg, "src", src)
    _agree("scatter", pg, tensor, root=src)
    source = None
    if pg.rank() == src:
        _check_list("scatter", pg, scatter_list, tensor, "scatter_list")
        from somegrad.ops.movement import stack

        source = stack([t.detach() for t in scatter_list])._data.reshape(-1)
    elif scatter_list:
        raise ValueError(f"scatter: scatter_list must be None or empty on rank {pg.rank()}, which is not src={src}")
    out = _Flat(tensor)
    return _finish(pg, pg.comm.scatter(out.array, source, src), async_op, [tensor], [out])


def _peer(caller, pg, name, peer):
    _check_root(caller, pg, name, peer)
    if peer == pg.rank():
        raise ValueError(f"{caller}: {name}={peer} is this process's own rank")


def isend(tensor, dst, group=None, tag=0) -> Work:
    """Start sending `tensor` to rank `dst`; returns a Work."""
    pg = _group("isend", group)
    _check_tensor("isend", pg, tensor)
    _peer("isend", pg, "dst", dst)
    return _finish(pg, pg.comm.send(_Flat(tensor).array, dst, int(tag)), True, [tensor])


def irecv(tensor, src=None, group=None, tag=0) -> Work:
    """Start receiving into `tensor` from rank `src` (any rank when None); returns a Work whose
    `source` attribute is the sender's rank once completed."""
    pg = _group("irecv", group)
    _check_tensor("irecv", pg, tensor)
    if src is not None:
        _peer("irecv", pg, "src", src)
    out = _Flat(tensor)
    return _finish(pg, pg.comm.recv(out.array, src, int(tag)), True, [tensor], [out])


def send(tensor, dst, group=None, tag=0) -> None:
    """Send `tensor` to rank `dst` (blocks until it can be reused)."""
    work = isend(tensor, dst, group, tag)
    work.wait(_group("send", group).timeout)


def recv(tensor, src=None, group=None, tag=0) -> int:
    """Receive into `tensor` from rank `src` (any rank when None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag)
    work.wait(_group("recv", group).timeout)
    return src if src is not None else int(work.source if work.source is not None else -1)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of the group has reached this call."""
    pg = _group("barrier", group)
    if pg.size() == 1:
        work = completed_work("barrier")
    else:
        _agree("barrier", pg)
        work = pg.comm.barrier()
    return _finish(pg, work, async_op, [])
