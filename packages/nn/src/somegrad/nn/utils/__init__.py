"""`somegrad.nn.utils`: gradient clipping, flat parameter vectors, and `rnn` (packed sequences)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import somegrad as sg
from somegrad.nn.utils import rnn
from somegrad.tensor import Tensor

__all__ = [
    "rnn",
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _params(parameters) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """The `norm_type`-norm of all `tensors` together, as if concatenated."""
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return sg.tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = sg.stack([t.detach().abs().amax() for t in tensors]).amax()
    else:
        total = sg.stack([(t.detach().abs() ** norm_type).sum() for t in tensors]).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(total.isfinite().item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return total


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale the gradients in place so that their total norm is at most `max_norm`;
    returns the total norm before clipping."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    # PyTorch's formulation, without reading the norm back to the host (so a compiled step can
    # replay it): every gradient is scaled, by 1 where the norm is within max_norm.
    coefficient = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
    with sg.no_grad():
        for grad in grads:
            grad.mul_(coefficient.to(grad.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient to [-clip_value, clip_value] in place."""
    with sg.no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-float(clip_value), float(clip_value))


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-d tensor."""
    return sg.cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-d `vec` into `parameters` (in place)."""
    if vec.ndim != 1:
        raise TypeError(f"expected a 1-d vector, got shape {tuple(vec.shape)}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements, the parameters {total}")
    offset = 0
    with sg.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset : offset + n].reshape(p.shape))
            offset += n
