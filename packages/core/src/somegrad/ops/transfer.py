"""Moving a tensor to another device (through host memory), differentiably."""

from __future__ import annotations

from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.ops.dispatch import _backend, record
from somegrad.ops.spec import OpSpec
from somegrad.tensor import Tensor


def _transfer_infer(x, device):
    return x.shape, x.dtype


# The backward moves the gradient back to where the input was.
# Not registered in OPS: moving between devices is the core's job, not a kernel.
TRANSFER = OpSpec("transfer", "movement", ("x",), _transfer_infer, lambda g, source: g.to(source))


def transfer(x, device):
    """`x` copied to `device` (a canonical Device)."""
    source_backend, target_backend = _backend(x.device), _backend(device)
    host = source_backend.to_numpy(x._data)
    out = Tensor._make(target_backend.from_numpy(host, x.dtype, device), x.dtype, device)
    if x.requires_grad and is_grad_enabled():
        record(TRANSFER, (x,), {"device": device, "source": x.device}, out)
    return out
