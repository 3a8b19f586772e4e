"""`DistributedDataParallel`: one model replica per process, gradients averaged during the backward."""

from __future__ import annotations

import contextlib
import math

import somegrad.distributed as dist
from somegrad.autograd.grad_mode import is_grad_enabled, no_grad
from somegrad.distributed.process_group import default_group
from somegrad.nn.module import Module
from somegrad.nn.parallel.reducer import Reducer
from somegrad.tensor import Tensor

__all__ = ["DistributedDataParallel"]


def _tensors_in(value):
    """The tensors in a forward's output (a tensor, or tuples, lists and dicts of them)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)


def _broadcast_coalesced(tensors, group, src=0):
    """Broadcast `tensors` from rank `src`, one flat message per dtype and device."""
    from somegrad.ops.creation import zeros

    groups: dict = {}
    for t in tensors:
        groups.setdefault((t.dtype, str(t.device)), []).append(t)
    for ts in groups.values():
        flat = zeros(sum(t.numel() for t in ts), dtype=ts[0].dtype, device=ts[0].device)
        backend = ts[0]._backend()
        offset = 0
        for t in ts:
            backend.assign(flat._data[offset : offset + t.numel()].reshape(t.shape), t._data)
            offset += t.numel()
        dist.broadcast(flat, src=src, group=group)
        offset = 0
        for t in ts:
            backend.assign(t._data, flat._data[offset : offset + t.numel()].reshape(t.shape))
            t._version_counter[0] += 1
            offset += t.numel()


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model, train as usual, gradients are averaged.

    Every rank holds a full replica of `module`. At construction, rank 0's parameters and
    buffers are broadcast to the others, so all replicas start equal. Each rank runs the forward
    on its own share of the batch; during `loss.backward()` the gradients are averaged across
    ranks by bucketed asynchronous all-reduces (see `somegrad.nn.parallel.reducer`), so that
    after `backward()` every rank holds the same `.grad`, the mean over the ranks, as one process
    would compute on the whole batch with a mean loss; the optimizers then stay in step.

        dist.init_process_group("mpi")
        model = DistributedDataParallel(GPT(config))
        loss = F.cross_entropy(model(x_shard), y_shard)
        loss.backward()        # gradients averaged over the ranks when this returns
        opt.step()

    Args:
        module: the model; its state dict is reachable as `ddp.module.state_dict()`, and
            `ddp.state_dict()` has PyTorch's `module.` prefix.
        broadcast_buffers: broadcast rank 0's buffers (BatchNorm's running statistics) at the
            start of every forward, so they stay equal on every rank.
        process_group: the group to average over (the default group).
        bucket_cap_mb: the size of a gradient bucket in MiB (the first bucket holds at most 1 MiB).
        find_unused_parameters: find, at each forward, the parameters the output does not
            depend on, so that the reduction does not wait for their gradients.
        device_ids, output_device, dim, check_reduction, gradient_as_bucket_view, static_graph:
            accepted for PyTorch compatibility; a replica lives on its parameters' device.

    Differs from PyTorch: `gradient_as_bucket_view=True` does not make each `.grad` a view of
    its bucket; every `.grad` is a copy of the average, as with the default False (one copy
    more per step, and the gradients' memory twice).
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = 25,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a Module, got {type(module).__name__}")
        group = process_group if process_group is not None else default_group("DistributedDataParallel")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter that requires "
                "a gradient"
            )
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.require_backward_grad_sync = True
        self.process_group = group
        self.dim = dim
        self._verify_same_model(params, group)
        with no_grad():
            _broadcast_coalesced(list(module.parameters()) + list(module.buffers()), group)
        self.reducer = Reducer(params, group, self.bucket_cap_mb, find_unused_parameters)

    @staticmethod
    def _verify_same_model(params, group):
        # A replica of another shape would make the all-reduces mix unrelated numbers (or hang).
        shapes = [tuple(p.shape) for p in params]
        digest = hash(tuple(shapes)) & (2**62 - 1)
        mine = [len(params), sum(math.prod(s) for s in shapes), digest]
        rows = group.comm.all_gather_ints(mine)
        if any(row != rows[0] for row in rows):
            listing = "; ".join(f"rank {r}: {row[0]} parameters, {row[1]} elements" for r, row in enumerate(rows))
            raise RuntimeError(
                f"DistributedDataParallel: the model differs across ranks ({listing}); every rank must build "
                "the same model (parameter shapes differ)"
            )

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.process_group.size() > 1:
            buffers = list(self.module.buffers())
            if buffers:
                with no_grad():
                    _broadcast_coalesced(buffers, self.process_group)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.prepare(list(_tensors_in(output)))
        else:
            self.reducer.armed = False
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, forwards and backwards accumulate gradients locally, without communication;
        the first backward after it averages the sum of all of them (gradient accumulation)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return (
            f"world_size={self.process_group.size()}, bucket_cap_mb={self.bucket_cap_mb}, "
            f"buckets={len(self.reducer.buckets)}, find_unused_parameters={self.find_unused_parameters}"
        )
