"""Lazy modules: `LazyLinear`, `LazyConv1d/2d/3d`, `LazyConvTranspose1d/2d/3d`,
`LazyBatchNorm1d/2d/3d`, `LazyInstanceNorm1d/2d/3d`, with `UninitializedParameter` and
`UninitializedBuffer`.

A lazy module leaves its input size out of the constructor: its parameters are placeholders
until the first call, which reads the size from the input, materialises them (the same
objects, given their shape), initialises them as the eager layer would and turns the module
into that layer (`LazyLinear` becomes `Linear`):

    model = nn.Sequential(nn.LazyConv2d(16, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    model(sg.randn(1, 3, 32, 32))    # the shapes are known from here on; build the optimizer now
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import somegrad as sg
from somegrad.nn.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from somegrad.nn.linear import Linear
from somegrad.nn.module import Module
from somegrad.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from somegrad.nn.parameter import Parameter
from somegrad.tensor import Tensor

__all__ = [
    "UninitializedParameter",
    "UninitializedBuffer",
    "LazyModuleMixin",
    "LazyLinear",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]


def _materialize(tensor, shape, device, dtype, cls):
    # In place, as PyTorch's: whoever holds the placeholder holds the real tensor afterwards.
    data = sg.empty(tuple(shape), device=device or tensor.device, dtype=dtype or tensor.dtype)
    tensor._data, tensor.dtype, tensor.device = data._data, data.dtype, data.device
    tensor.__class__ = cls


class UninitializedParameter(Parameter):
    """A parameter without a shape yet (no data); `materialize(shape)` gives it one and makes it
    a plain `Parameter`. Lazy modules hold these until their first call."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return super().__new__(cls, sg.empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the parameter `shape` (uninitialised values) and make it a `Parameter`."""
        _materialize(self, shape, device, dtype, self.cls_to_become)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedBuffer(Tensor):
    """A buffer without a shape yet; `materialize(shape)` gives it one and makes it a Tensor."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        data = sg.empty(0, device=device, dtype=dtype)
        buffer = cls._make(data._data, data.dtype, data.device)
        buffer.requires_grad = bool(requires_grad)
        return buffer

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the buffer `shape` (uninitialised values) and make it a plain Tensor."""
        _materialize(self, shape, device, dtype, self.cls_to_become)

    def to(self, *args, **kwargs):
        # A module's .to(dtype/device) before the first call keeps the placeholder a placeholder.
        moved = super().to(*args, **kwargs)
        if moved is self:
            return self
        return UninitializedBuffer(self.requires_grad, device=moved.device, dtype=moved.dtype)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _uninitialized(value) -> bool:
    return isinstance(value, (UninitializedParameter, UninitializedBuffer))


def _placeholder_like(value):
    return type(value)(value.requires_grad, device=value.device, dtype=value.dtype)


# The mixin comes before a Module subclass; to the type checker it is one.
_MixinBase: Any = Module if TYPE_CHECKING else object


def _fill(tensor: Any, shape) -> None:
    """Materialise `tensor` with `shape` if it is still a placeholder."""
    if _uninitialized(tensor):
        tensor.materialize(tuple(shape))


class LazyModuleMixin(_MixinBase):
    """Mixed in before a layer class: the first call runs `initialize_parameters(*input)` (which
    materialises the placeholders and calls `reset_parameters`), then the module becomes
    `cls_to_become`. Loading a state dict materialises the placeholders with the loaded shapes."""

    cls_to_become: type | None = None

    def has_uninitialized_params(self) -> bool:
        """Whether any of this module's own parameters or buffers is still a placeholder."""
        return any(_uninitialized(v) for v in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def __call__(self, *args, **kwargs):
        # The first call only: once initialised the module is `cls_to_become`, without this method.
        with sg.no_grad():
            self.initialize_parameters(*args, **kwargs)
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become
            return self(*args, **kwargs)  # now the eager layer's call
        return super().__call__(*args, **kwargs)

    def __deepcopy__(self, memo):
        # Placeholders copy as fresh placeholders (Module's copy would clone them into empty tensors).
        for module in self.modules():
            for store in (module._parameters, module._buffers):
                for value in store.values():
                    if _uninitialized(value) and id(value) not in memo:
                        memo[id(value)] = _placeholder_like(value)
        return super().__deepcopy__(memo)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        with sg.no_grad():
            for prefix, module in self.named_modules():
                if isinstance(module, LazyModuleMixin):
                    module._materialize_from_state_dict(state_dict, prefix + "." if prefix else "")
        return super().load_state_dict(state_dict, strict, assign)

    def _materialize_from_state_dict(self, state_dict, prefix: str = "") -> None:
        """Give each placeholder the shape of its entry in `state_dict` (keys under `prefix`).
        `Module.load_state_dict` of a parent calls this for lazy children before copying."""
        for store in (self._parameters, self._buffers):
            for name, value in store.items():
                key = prefix + name
                if _uninitialized(value) and key in state_dict:
                    value.materialize(tuple(state_dict[key].shape))
        self._sizes_from_tensors()

    def _sizes_from_tensors(self) -> None:
        """Read the input size from materialised tensors (after a state dict was loaded)."""


class LazyLinear(LazyModuleMixin, Linear):
    """`Linear` whose `in_features` is read from the first input's last dim."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def _sizes_from_tensors(self) -> None:
        if not _uninitialized(self.weight):
            self.in_features = self.weight.shape[1]

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        self.in_features = input.shape[-1]
        _fill(self.weight, (self.out_features, self.in_features))
        _fill(self.bias, (self.out_features,))
        self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    _spatial_dims = 0

    def _make_lazy(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _sizes_from_tensors(self) -> None:
        if not _uninitialized(self.weight):
            self.in_channels = self.weight.shape[0] if self.transposed else self.weight.shape[1] * self.groups

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        dims = self._spatial_dims
        if input.ndim not in (dims + 1, dims + 2):
            raise RuntimeError(
                f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {self._get_name()}, but got "
                f"input of size: {list(input.shape)}"
            )
        self.in_channels = input.shape[1] if input.ndim == dims + 2 else input.shape[0]
        if self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        _fill(self.weight, shape)
        _fill(self.bias, (self.out_channels,))
        self.reset_parameters()


def _lazy_conv(base, dims):
    class LazyConv(_LazyConvMixin, base):
        cls_to_become = base
        _spatial_dims = dims

        def __init__(
            self,
            out_channels,
            kernel_size,
            stride=1,
            padding=0,
            dilation=1,
            groups=1,
            bias=True,
            padding_mode="zeros",
            device=None,
            dtype=None,
        ):
            base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
            self._make_lazy(out_channels, bias, device, dtype)

    LazyConv.__name__ = LazyConv.__qualname__ = f"Lazy{base.__name__}"
    LazyConv.__doc__ = f"`{base.__name__}` whose `in_channels` is read from the first input."
    return LazyConv


def _lazy_conv_transpose(base, dims):
    class LazyConvTranspose(_LazyConvMixin, base):
        cls_to_become = base
        _spatial_dims = dims

        def __init__(
            self,
            out_channels,
            kernel_size,
            stride=1,
            padding=0,
            output_padding=0,
            groups=1,
            bias=True,
            dilation=1,
            padding_mode="zeros",
            device=None,
            dtype=None,
        ):
            base.__init__(
                self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode
            )
            self._make_lazy(out_channels, bias, device, dtype)

    LazyConvTranspose.__name__ = LazyConvTranspose.__qualname__ = f"Lazy{base.__name__}"
    LazyConvTranspose.__doc__ = f"`{base.__name__}` whose `in_channels` is read from the first input."
    return LazyConvTranspose


LazyConv1d = _lazy_conv(Conv1d, 1)
LazyConv2d = _lazy_conv(Conv2d, 2)
LazyConv3d = _lazy_conv(Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose(ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose(ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose(ConvTranspose3d, 3)


class _LazyNormMixin(LazyModuleMixin):
    def _make_lazy(self, affine, track_running_stats, device, dtype):
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = sg.tensor(0, dtype=sg.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _sizes_from_tensors(self) -> None:
        for tensor in (self.weight, self.running_mean):
            if tensor is not None and not _uninitialized(tensor):
                self.num_features = tensor.shape[0]

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1]
        for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
            _fill(tensor, (self.num_features,))
        self.reset_parameters()


def _lazy_norm(base):
    # As PyTorch's, the lazy instance norms default to affine and tracking too (the eager ones do not).
    class LazyNorm(_LazyNormMixin, base):
        cls_to_become = base

        def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
            base.__init__(self, 0, eps, momentum, False, False)
            self._make_lazy(affine, track_running_stats, device, dtype)

    LazyNorm.__name__ = LazyNorm.__qualname__ = f"Lazy{base.__name__}"
    LazyNorm.__doc__ = f"`{base.__name__}` whose `num_features` is read from the first input."
    return LazyNorm


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)
