"""The gradient reducer of DistributedDataParallel: buckets, autograd hooks, asynchronous all-reduce.

Parameters are packed, in the reverse order of registration (roughly the order the backward
produces their gradients), into buckets of about `bucket_cap_mb` (the first one smaller, so the
first all-reduce starts early). Each bucket is one flat buffer. When the gradient of every
parameter of a bucket has arrived, its asynchronous all-reduce (ReduceOp.AVG) starts; buckets
start strictly in index order, so that every rank issues the same collectives in the same order
whatever order its hooks ran in. When the last expected gradient has arrived, the reducer waits
for every bucket and the averaged gradients become the parameters' `.grad`, all before
`backward()` returns.

The reducer hears of a gradient through a hook on each parameter (`Tensor.register_hook`):
`hook(grad)` gets this backward's gradient before the engine accumulates it. The bucket takes
`param.grad + grad` (so gradients accumulated under `no_sync()` are averaged too), and the hook
returns a view of the parameter's slot in the bucket, which holds the average once the buckets
have been waited for, and which the engine copies into `.grad` after the walk. How much of the
communication overlaps the backward depends on when the engine runs leaf hooks: as soon as a
leaf's last gradient has arrived, the buckets travel while the backward goes on; at the end of
the walk, they start together there.
"""

from __future__ import annotations

import somegrad.distributed as dist
from somegrad import dtypes
from somegrad.tensor import Tensor

__all__ = ["Reducer"]

FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    """A flat buffer for the gradients of some parameters of one dtype and device."""

    def __init__(self, index, params):
        from somegrad.ops.creation import zeros

        self.index = index
        self.params = params
        numel = sum(p.numel() for p in params)
        self.buffer = zeros(numel, dtype=params[0].dtype, device=params[0].device)
        self.slots = []  # per parameter: a view of the buffer with the parameter's shape
        offset = 0
        for p in params:
            n = p.numel()
            self.slots.append(self.buffer._data[offset : offset + n].reshape(p.shape))
            offset += n
        self.pending = len(params)
        self.work = None

    def slot_tensor(self, i):
        p = self.params[i]
        return Tensor._make(self.slots[i], p.dtype, p.device)


def _buckets(params, cap_bytes, first_cap_bytes):
    """Group `params` (in backward order) into lists of one dtype and device, about `cap_bytes` each."""
    groups, current, size, cap = [], [], 0, first_cap_bytes
    for p in params:
        if current and (size >= cap or p.dtype is not current[0].dtype or p.device != current[0].device):
            groups.append(current)
            current, size, cap = [], 0, cap_bytes
        current.append(p)
        size += p.numel() * p.dtype.itemsize
    if current:
        groups.append(current)
    return groups


def _reached_leaves(outputs):
    """The ids of the leaf tensors that a backward from `outputs` can reach."""
    from somegrad.autograd.graph import Node

    stack, seen, leaves = [], set(), set()
    for t in outputs:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.edges:
            if isinstance(edge, Node):
                stack.append(edge)
            elif edge is not None:
                leaves.add(id(edge))
    return leaves


class Reducer:
    """Averages the gradients of `params` across `group` during the backward (see the module doc)."""

    def __init__(self, params, group, bucket_cap_mb, find_unused_parameters):
        self.params = list(params)
        self.group = group
        self.find_unused_parameters = find_unused_parameters
        cap = max(int(bucket_cap_mb * 1024 * 1024), 1)
        groups = _buckets(list(reversed(self.params)), cap, min(FIRST_BUCKET_BYTES, cap))
        self.buckets = [_Bucket(i, ps) for i, ps in enumerate(groups)]
        self.location = {}
        for bucket in self.buckets:
            for i, p in enumerate(bucket.params):
                self.location[id(p)] = (bucket, i)
        self.handles = [p.register_hook(self._grad_hook(p)) for p in self.params]
        self.armed = False
        self.used_work = None
        self.locally_unused: list = []
        # what the benchmarks read: host time spent starting and waiting for all-reduces, and how
        # many bucket bytes had finished travelling before the last gradient arrived (overlap)
        self.comm_seconds = 0.0
        self.bytes_reduced = 0
        self.bytes_done_early = 0

    # --- one iteration -------------------------------------------------------------------
    def prepare(self, outputs):
        """Called by the forward: the next backward reduces. Marks unused parameters ready when
        `find_unused_parameters`, else expects a gradient for every parameter."""
        if self.armed and self.expected:
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior iteration before "
                f"starting a new one: {self.expected} parameter(s) got no gradient in the last backward. Pass "
                "find_unused_parameters=True to DistributedDataParallel if the forward leaves some parameters out, "
                "and make sure every forward output takes part in the loss"
            )
        for bucket in self.buckets:
            bucket.pending = len(bucket.params)
            bucket.work = None
        self.next_bucket = 0
        self.expected = len(self.params)
        self.armed = True
        self.locally_unused = []
        if not self.find_unused_parameters:
            return
        reached = _reached_leaves(outputs)
        used = [id(p) in reached for p in self.params]
        from somegrad.ops.creation import tensor

        # which parameters any rank used: those nobody used keep their .grad untouched
        self.used_flags = tensor([int(u) for u in used], dtype=dtypes.int8, device=self.params[0].device)
        self.used_work = dist.all_reduce(self.used_flags, op=dist.ReduceOp.MAX, group=self.group, async_op=True)
        for p, u in zip(self.params, used):
            if not u:
                self.locally_unused.append(p)
                self._ready(p, p.grad)

    def _grad_hook(self, param):
        def hook(grad):
            if not self.armed:
                return None
            bucket, i = self.location[id(param)]
            value = grad if param.grad is None else param.grad + grad
            # the engine then stores the returned average instead of adding to the old .grad
            param.grad = None
            self._ready(param, value)
            return bucket.slot_tensor(i)

        return hook

    def _ready(self, param, grad):
        bucket, i = self.location[id(param)]
        if grad is None:
            bucket.slots[i][...] = 0
        else:
            param._backend().assign(bucket.slots[i], grad._data)
        bucket.pending -= 1
        self.expected -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        else:
            self._progress()
        if self.expected == 0:
            self._finalize()

    def _launch_ready_buckets(self):
        import time

        start = time.perf_counter()
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            bucket.work = dist.all_reduce(bucket.buffer, op=dist.ReduceOp.AVG, group=self.group, async_op=True)
            self.next_bucket += 1
        self.comm_seconds += time.perf_counter() - start

    def _progress(self):
        # MPI moves a non-blocking collective forward only inside MPI calls: a test per hook
        # lets the started buckets travel while the backward goes on.
        for bucket in self.buckets[: self.next_bucket]:
            if bucket.work is not None:
                bucket.work.is_completed()

    def _finalize(self):
        import time

        start = time.perf_counter()
        for bucket in self.buckets:
            size = bucket.buffer.numel() * bucket.buffer.dtype.itemsize
            self.bytes_reduced += size
            if bucket.work.is_completed():
                self.bytes_done_early += size
        for bucket in self.buckets:
            bucket.work.wait()
        self.armed = False
        globally_used = None
        if self.used_work is not None:
            self.used_work.wait()
            globally_used = self.used_flags.numpy()
            self.used_work = None
        unused = {id(p) for p in self.locally_unused}
        for index, p in enumerate(self.params):
            if id(p) not in unused or (globally_used is not None and not globally_used[index]):
                continue
            bucket, i = self.location[id(p)]
            p.grad = bucket.slot_tensor(i).clone()  # used on another rank: its average, like the rest
        self.comm_seconds += time.perf_counter() - start

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
        self.handles = []
