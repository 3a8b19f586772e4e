"""`Tensor`: a backend array with a dtype, a device, and (when it requires grad) a graph node.

The methods are thin: each forwards to the op function in `somegrad.ops` that owns its
semantics, so `x.sum(1)` and `sg.sum(x, 1)` are the same call.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

from somegrad import dtypes

if TYPE_CHECKING:
    # The op methods, in-place variants and operators that ops declare (`x.exp()`, `x + y`),
    # generated from the op registry; at run time they are attached from it at the end of
    # this module.
    from somegrad._tensor_methods import TensorMethods
    from somegrad.autograd.graph import Node
    from somegrad.device import Device
else:
    TensorMethods = object

__all__ = ["Tensor", "ValuesIndices"]


class ValuesIndices(NamedTuple):
    """What `max(dim)`, `min(dim)`, `sort` and `topk` return: `.values` and `.indices`."""

    values: Tensor
    indices: Tensor


class Tensor(TensorMethods):
    """An n-dimensional array that can record the operations applied to it.

    Build one with `somegrad.tensor(data)`, `somegrad.zeros(...)` and friends.
    """

    __slots__ = (
        "_data",
        "dtype",
        "device",
        "requires_grad",
        "grad",
        "grad_fn",
        "_version_counter",
        "_base",
        "_grad_hooks",
        "__weakref__",
    )
    _data: Any  # the backend's array
    dtype: dtypes.DType
    device: Device
    requires_grad: bool
    grad: Tensor | None
    grad_fn: Node | None
    _version_counter: list[int]
    _base: Tensor | None
    _grad_hooks: list | None
    __array_priority__ = 1000  # numpy defers `ndarray + Tensor` to Tensor.__radd__

    @classmethod
    def _make(cls, data, dtype, device):
        t = object.__new__(cls)
        t._data = data
        t.dtype = dtype
        t.device = device
        t.requires_grad = False
        t.grad = None
        t.grad_fn = None
        # [data version, graph version], shared by a tensor and its views: in-place writes
        # bump the first, in-place ops that record a new graph node bump the second.
        t._version_counter = [0, 0]
        t._base = None
        t._grad_hooks = None
        return t

    def __init__(self, *args, **kwargs):
        raise TypeError("use somegrad.tensor(data) or somegrad.zeros(...) to create tensors")

    # --- metadata --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        # a tuple whatever the backend's arrays use (a torch.Size, a list); free for a tuple
        return tuple(self._data.shape)

    def size(self, dim=None):
        """The shape as a tuple, or the size of dimension `dim` (PyTorch returns a `torch.Size`)."""
        if dim is None:
            return self.shape
        from somegrad.ops.shapes import normalize_dim

        return self.shape[normalize_dim("size", dim, self.ndim)]

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    def dim(self) -> int:
        """The number of dimensions, `ndim`."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements, the product of the shape (1 for a 0-d tensor)."""
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def element_size(self) -> int:
        """The size of one element in bytes (4 for float32)."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self.dtype.itemsize

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    @property
    def data(self) -> Tensor:
        """This tensor's values as a tensor that requires no grad (sharing memory)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data, self.dtype, self.device = value._data, value.dtype, value.device

    def _backend(self):
        return _ops.dispatch._backend(self.device)

    def stride(self, dim=None):
        """The strides in elements, a tuple, or the stride of dimension `dim`."""
        strides = self._backend().strides(self._data)
        return strides if dim is None else strides[dim]

    def is_contiguous(self) -> bool:
        """Whether the elements lie in row-major order without gaps (size-1 dims may have any stride)."""
        expected, strides = 1, self.stride()
        for size, stride in zip(reversed(self.shape), reversed(strides)):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def view(self, *shape, dtype=None) -> Tensor:
        """This tensor with another shape, sharing its memory (`x.view(2, -1)`); RuntimeError
        where its layout allows no view (a transposed tensor flattened, say): `reshape` copies then.

        `x.view(dtype)` reads the same memory as another dtype: the same shape for an equal element
        size, else the last dim (which must have stride 1) scaled by the ratio of the sizes, as
        PyTorch (`float32 (4, 6)` viewed as complex64 is `(4, 3)`); the result requires no grad."""
        if dtype is not None or (len(shape) == 1 and isinstance(shape[0], dtypes.DType)):
            return _ops.complex_numbers.view_dtype(self, dtype if dtype is not None else shape[0])
        out = _ops.reshape(self, *shape)
        if out._version_counter is not self._version_counter:
            raise RuntimeError(
                f"view: a tensor of shape {tuple(self.shape)} and strides {self.stride()} cannot be viewed as "
                f"shape {tuple(out.shape)} without copying its memory; use .reshape(...) instead"
            )
        return out

    def view_as(self, other: Tensor) -> Tensor:
        """This tensor viewed with `other`'s shape (RuntimeError where no view exists, as `view`)."""
        return self.view(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """This tensor reshaped to `other`'s shape (a view where the layout allows)."""
        return _ops.reshape(self, other.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """This tensor broadcast to `other`'s shape (a view)."""
        return _ops.expand(self, other.shape)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to `other`'s dtype (the device stays)."""
        return self.to(other.dtype)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """A tensor of shape `size` filled with 0, with this tensor's dtype and device unless given."""
        out = _ops.zeros(*size, dtype=dtype or self.dtype, device=device or self.device)
        return out.requires_grad_(True) if requires_grad else out

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """A tensor of shape `size` filled with 1, with this tensor's dtype and device unless given."""
        out = _ops.ones(*size, dtype=dtype or self.dtype, device=device or self.device)
        return out.requires_grad_(True) if requires_grad else out

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """An uninitialised tensor of shape `size`, with this tensor's dtype and device unless given."""
        out = _ops.empty(*size, dtype=dtype or self.dtype, device=device or self.device)
        return out.requires_grad_(True) if requires_grad else out

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        """A tensor of shape `size` filled with `fill_value`, with this tensor's dtype and device unless given."""
        out = _ops.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device)
        return out.requires_grad_(True) if requires_grad else out

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        """A new tensor holding a copy of `data`, with this tensor's dtype and device unless given."""
        out = _ops.tensor(data, dtype=dtype or self.dtype, device=device or self.device)
        return out.requires_grad_(True) if requires_grad else out

    @property
    def T(self) -> Tensor:
        """The dims reversed (the transpose of a matrix)."""
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of matrices transposed)."""
        return _ops.transpose(self, -2, -1)

    def __pos__(self) -> Tensor:
        return self

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating point one (False for complex, as PyTorch)."""
        return self.dtype.kind == "float"

    def is_complex(self) -> bool:
        """Whether the dtype is complex64 or complex128."""
        return self.dtype.kind == "complex"

    @property
    def real(self) -> Tensor:
        """The real parts (a view of a complex tensor, of its parts' dtype); a real tensor itself."""
        return _ops.complex_numbers.real(self)

    @property
    def imag(self) -> Tensor:
        """The imaginary parts of a complex tensor (a view); RuntimeError for a real tensor."""
        return _ops.complex_numbers.imag(self)

    def is_conj(self) -> bool:
        """False: somegrad's `conj()` computes the conjugate (PyTorch may mark a lazy one)."""
        return False

    def resolve_conj(self) -> Tensor:
        """This tensor itself (somegrad has no lazy conjugates to resolve)."""
        return self

    def resolve_neg(self) -> Tensor:
        """This tensor itself (somegrad has no lazy negations to resolve)."""
        return self

    def is_neg(self) -> bool:
        """False: somegrad's negation is computed, never a lazy view."""
        return False

    # --- queries PyTorch code asks of a tensor ------------------------------------------------
    def is_signed(self) -> bool:
        """Whether the dtype holds negative values: False for bool and the unsigned integers."""
        return self.dtype is not dtypes.bool_ and not self.dtype.name.startswith("uint")

    def is_nonzero(self) -> bool:
        """Whether the one element is nonzero; RuntimeError for none or several, as PyTorch."""
        n = self.numel()
        if n == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if n > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def is_same_size(self, other: Tensor) -> bool:
        """Whether `other` has this tensor's shape."""
        return self.shape == tuple(other.shape)

    def nelement(self) -> int:
        """The number of elements (`numel`)."""
        return self.numel()

    def ndimension(self) -> int:
        """The number of dimensions (`ndim`)."""
        return self.ndim

    @property
    def itemsize(self) -> int:
        """The size of one element in bytes (`element_size()`)."""
        return self.dtype.itemsize

    def storage_offset(self) -> int:
        """The offset, in elements, of this tensor's first element in the memory it shares with
        its base (0 for a tensor that owns its memory, or where the backend cannot tell)."""
        start, root = _address(self._data), None
        base = getattr(self._data, "base", None)
        while _address(base) is not None:  # the array that owns the memory (NumPy's and CuPy's `.base`)
            root, base = base, getattr(base, "base", None)
        if start is None or root is None:
            return 0
        offset = start - _address(root)
        return offset // self.dtype.itemsize if offset > 0 else 0

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    def is_pinned(self) -> bool:
        """False: somegrad does not page-lock host memory."""
        return False

    def pin_memory(self, device=None) -> Tensor:
        """This tensor (host memory is not page-locked; transfers work without it)."""
        return self

    def share_memory_(self) -> Tensor:
        """This tensor (its memory is not moved to shared memory; a no-op kept for PyTorch code)."""
        return self

    def is_shared(self) -> bool:
        """False: tensors are not kept in shared memory."""
        return False

    def get_device(self) -> int:
        """The device's index: -1 on the CPU, the GPU's ordinal on a GPU."""
        if self.device.type == "cpu":
            return -1
        index = getattr(self.device, "index", None)
        return 0 if index is None else int(index)

    def new(self, *args, device=None) -> Tensor:
        """A new tensor of this dtype: `new()` empty (0,), `new(2, 3)` uninitialised of that shape,
        `new(data)` (a list or tuple) holding that data, `new(tensor)` a copy."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0].to(self.dtype).clone()
        if len(args) == 1 and isinstance(args[0], (list, tuple)):  # data, as PyTorch reads a sequence
            return self.new_tensor(list(args[0]), device=device) if args[0] else self.new_empty(0, device=device)
        return self.new_empty(*args, device=device) if args else self.new_empty(0, device=device)

    # --- in-place shape changes: this tensor becomes the view the out-of-place op returns --------
    def _rebind(self, op, view: Tensor) -> Tensor:
        """Make this tensor `view` (a view of its own memory, so other views still share it),
        recording the shape change in the graph as PyTorch's squeeze_ and friends do."""
        from somegrad.autograd.grad_mode import is_grad_enabled

        if is_grad_enabled() and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being used in an in-place operation; "
                    "do it under somegrad.no_grad() or on a clone()"
                )
            self.grad_fn = view.grad_fn
        self._data = view._data
        return self

    def squeeze_(self, dim=None) -> Tensor:
        """Remove the size-1 dims (or `dim`) in place: (2, 1, 3) -> (2, 3)."""
        return self._rebind("squeeze_", self.squeeze() if dim is None else self.squeeze(dim))

    def unsqueeze_(self, dim) -> Tensor:
        """Insert a size-1 dim at `dim` in place: (2, 3) with dim 1 -> (2, 1, 3)."""
        return self._rebind("unsqueeze_", self.unsqueeze(dim))

    def transpose_(self, dim0, dim1) -> Tensor:
        """Swap dims `dim0` and `dim1` in place."""
        return self._rebind("transpose_", self.transpose(dim0, dim1))

    def swapaxes_(self, axis0, axis1) -> Tensor:
        """`transpose_`, NumPy's name."""
        return self._rebind("swapaxes_", self.transpose(axis0, axis1))

    def swapdims_(self, dim0, dim1) -> Tensor:
        """`transpose_`, another name."""
        return self._rebind("swapdims_", self.transpose(dim0, dim1))

    def t_(self) -> Tensor:
        """Transpose a matrix in place (0-d and 1-d tensors as they are); more than 2 dims is an error."""
        return self._rebind("t_", self.t())

    @property
    def retains_grad(self) -> bool:
        """Whether this non-leaf tensor keeps its `.grad` after backward (`retain_grad()` was called)."""
        retained = getattr(self.grad_fn, "retained", None) if self.grad_fn is not None else None
        return retained is not None and retained() is self

    # --- autograd ----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place and return this tensor; only floating point tensors can require grad,
        and only leaves can stop requiring it."""
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"requires_grad_: only tensors of floating point dtype can require gradients, got {self.dtype.name} "
                "(complex dtypes can as well)"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf tensors")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's `.grad`. A non-scalar needs `gradient`."""
        from somegrad.autograd.engine import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same data (shared memory and version counter), cut from the graph."""
        out = Tensor._make(self._data, self.dtype, self.device)
        out._version_counter = self._version_counter
        out._base = self._base
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (no `grad_fn`, no `requires_grad`) and return it."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def register_hook(self, hook):
        """Call `hook(grad)` when the gradient for this tensor is computed; a returned tensor
        replaces the gradient. Returns a handle with `.remove()`."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            hooks = self.grad_fn.pre_hooks
            if hooks is None:
                hooks = self.grad_fn.pre_hooks = []
        else:
            hooks = self._grad_hooks
            if hooks is None:
                hooks = self._grad_hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` after `backward()` has accumulated this leaf's `.grad` (to step
        an optimizer inside the backward, as PyTorch's). Returns a handle with `.remove()`."""
        from somegrad.autograd.engine import PostAccumulateGradHook

        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._grad_hooks is None:
            self._grad_hooks = []
        entry = PostAccumulateGradHook(hook)
        self._grad_hooks.append(entry)
        return _HookHandle(self._grad_hooks, entry)

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward."""
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    # --- conversion --------------------------------------------------------------------------
    def numpy(self, *, force=False):
        """The values as a NumPy array (sharing memory for CPU tensors)."""
        if self.requires_grad and not force:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self._backend().to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def tolist(self):
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a plain number."""
        return self.detach().numpy().tolist()

    def item(self):
        """The value of a one-element tensor as a Python number; RuntimeError for any other size."""
        if self.numel() != 1:
            raise RuntimeError(f"item: a Tensor with {self.numel()} elements cannot be converted to a Python scalar")
        return self._backend().to_numpy(self._data).reshape(()).item()

    def __float__(self):
        return float(self.item())

    def __complex__(self):
        return complex(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} elements is ambiguous")
        return bool(self.item())

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False) -> Tensor:
        """Convert to a dtype and/or move to a device: `x.to("cuda")`, `x.to(sg.float16)`."""
        from somegrad.device import Device
        from somegrad.device import device as to_device

        for arg in args:
            if isinstance(arg, dtypes.DType):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                raise TypeError(f"to: expected a dtype, a device or a tensor, got {arg!r}")
        out = self
        if device is not None:
            target = to_device(device)
            target = _ops.dispatch._backend(target).canonical_device(target)
            if target != out.device:
                out = _ops.transfer(out, target)
        if dtype is not None and dtype is not out.dtype:
            if dtype.is_complex and dtype not in out._backend().dtypes:
                from somegrad.errors import UnsupportedDTypeError

                raise UnsupportedDTypeError(f"to: the {out.device} backend does not support dtype {dtype.name}")
            if out.dtype.is_complex and not dtype.is_complex:
                # a complex value becomes a real one by its real part, with PyTorch's warning,
                # except in a backward, where a real input's gradient is made of it on purpose
                from somegrad.autograd.engine import current_node

                if current_node() is None:
                    import warnings

                    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, 2)
                out = _ops.complex_numbers.real(out)
            if dtype is not out.dtype:
                out = _ops.cast(out, dtype)
        if copy and out is self:
            out = out.clone()
        return out

    def cpu(self) -> Tensor:
        """This tensor on the CPU (itself if it is there already)."""
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        """This tensor on a CUDA device: `cuda()`, `cuda(1)` or `cuda("cuda:1")` (itself if it is there already)."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def type(self, dtype=None):
        """The dtype when called without arguments, else this tensor converted to `dtype`.

        PyTorch returns a type name string such as `"torch.FloatTensor"` without arguments."""
        return self.dtype if dtype is None else self.to(dtype)

    def float(self):
        """This tensor as float32 (itself if it is float32 already)."""
        return self.to(dtypes.float32)

    def double(self):
        """This tensor as float64 (itself if it is float64 already)."""
        return self.to(dtypes.float64)

    def half(self):
        """This tensor as float16 (itself if it is float16 already)."""
        return self.to(dtypes.float16)

    def bfloat16(self):
        """This tensor as bfloat16 (itself if it is bfloat16 already)."""
        return self.to(dtypes.bfloat16)

    def long(self):
        """This tensor as int64 (itself if it is int64 already)."""
        return self.to(dtypes.int64)

    def int(self):
        """This tensor as int32 (itself if it is int32 already)."""
        return self.to(dtypes.int32)

    def short(self):
        """This tensor as int16 (itself if it is int16 already)."""
        return self.to(dtypes.int16)

    def bool(self):
        """This tensor as bool (nonzero is true; itself if it is bool already)."""
        return self.to(dtypes.bool_)

    def byte(self):
        """This tensor as uint8 (itself if it is uint8 already)."""
        return self.to(dtypes.uint8)

    # --- repr --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        from somegrad.printing import format_tensor

        return format_tensor(self)

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "deepcopy: only tensors created explicitly by the user (graph leaves) support deepcopy; "
                "detach() it first"
            )
        out = self.clone() if not self.requires_grad else self.detach().clone().requires_grad_(True)
        if self.grad is not None:
            out.grad = self.grad.clone()
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        raise TypeError("somegrad tensors are not pickled; save them with somegrad.save(state_dict, path)")

    def __dlpack__(self, stream=None, **kwargs):
        return (
            self.detach().numpy().__dlpack__(**kwargs)
            if self.device.type == "cpu"
            else self._data.__dlpack__(stream=stream)
        )

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _address(array):
    """The address of an array's first element (NumPy's or CUDA's array interface), or None."""
    for name in ("__array_interface__", "__cuda_array_interface__"):
        interface = getattr(array, name, None)
        if isinstance(interface, dict) and interface.get("data"):
            return interface["data"][0]
    return None


from somegrad import ops as _ops  # noqa: E402  (ops import Tensor; methods use ops)


def _reflected(fn, name):
    def method(self, other):
        return fn(other, self)

    method.__name__ = name
    return method


def _inplace_method(fn, name):
    def method(self, *args, **kwargs):
        # tensors by keyword count too (`x.scatter_add_(1, i, src=t)`: t gets its gradient)
        others = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        return _ops.inplace(self, lambda target: fn(target, *args, **kwargs), name, others)

    method.__name__ = name
    method.__doc__ = f"In-place `{fn.__name__}`: writes the result into this tensor's memory."
    return method


def _attach_declared():
    """Give Tensor the methods, in-place variants and operators that the op declarations name
    (see `somegrad.ops.spec.public`): the registry is the surface, no list is kept here."""
    from somegrad.ops.surface import tensor_members

    members = tensor_members()
    for name, (kind, fn, _spec) in members.items():
        if kind == "method":  # the function itself: `x.exp()` calls `exp(x)`, no wrapper in between
            setattr(Tensor, name, fn)
        elif kind == "reflected":
            setattr(Tensor, name, _reflected(fn, name))
        elif kind == "inplace":
            setattr(Tensor, name, _inplace_method(fn, name))
    for name, (kind, variant, _spec) in members.items():
        if kind == "inplace_operator":  # `x += y` is `x.add_(y)`
            setattr(Tensor, name, getattr(Tensor, variant))


_attach_declared()
