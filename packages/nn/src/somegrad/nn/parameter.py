"""`Parameter`: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from somegrad.tensor import Tensor

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A Tensor that, assigned as a Module attribute, is listed in `parameters()`.

    `Parameter(data)` shares `data`'s memory and requires grad by default. Results of ops on
    a Parameter are plain Tensors, as in PyTorch.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from somegrad.ops.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}")
        param = cls._make(data._data, data.dtype, data.device)
        param._version_counter = data._version_counter
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError(f"Parameter: only floating point tensors can require gradients, got {data.dtype.name}")
        param.requires_grad = bool(requires_grad)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer:
    """Marks a tensor as a buffer when assigned to a Module attribute: `self.x = Buffer(t)`."""

    def __init__(self, data, *, persistent=True):
        self.data = data
        self.persistent = persistent
