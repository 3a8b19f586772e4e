"""Creating tensors: from Python data and NumPy arrays, constants, ranges, and random draws."""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.device import device as to_device
from somegrad.errors import ArgumentError, DTypeError, ShapeError, UnsupportedDTypeError, ValueOverflowError
from somegrad.ops.comparison import where
from somegrad.ops.dispatch import _backend, apply, create
from somegrad.ops.operands import cast, scalar_tensor
from somegrad.ops.shapes import as_shape
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


def _full_infer(shape, dtype, fill_value):
    return shape, dtype


def _arange_infer(start, stop, step, dtype):
    if dtype is dtypes.bool_:
        raise UnsupportedDTypeError("arange: not implemented for bool; make an integer range and compare it")
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ArgumentError(f"arange: unsupported range: {start} -> {stop} in steps of {step}")
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    if (stop - start) * step < 0 and start != stop:
        raise ArgumentError(
            f"arange: upper bound and lower bound inconsistent with step sign (start={start}, end={stop}, step={step})"
        )
    return (max(0, math.ceil((stop - start) / step)),), dtype


def _random_infer(shape, dtype, **params):
    return shape, dtype


FULL = register(OpSpec("full", "creation", (), _full_infer))
ARANGE = register(OpSpec("arange", "creation", (), _arange_infer))
UNIFORM = register(OpSpec("uniform", "random", (), _random_infer, doc="Uniform in [low, high)."))
NORMAL = register(OpSpec("normal", "random", (), _random_infer))
RANDINT = register(OpSpec("randint", "random", (), _random_infer, doc="Integers in [low, high)."))


def _multinomial_infer(probs, num_samples, replacement):
    if probs.ndim not in (1, 2):
        raise ShapeError(f"multinomial: probs must be 1-d or 2-d, got shape {tuple(probs.shape)}")
    if not probs.dtype.is_floating_point:
        raise DTypeError(f"multinomial: probs must have a floating point dtype, got {probs.dtype.name}")
    if not replacement and num_samples > probs.shape[-1]:
        raise ArgumentError(
            f"multinomial: cannot draw {num_samples} samples without replacement from {probs.shape[-1]} categories"
        )
    return probs.shape[:-1] + (num_samples,), dtypes.int64


MULTINOMIAL = register(OpSpec("multinomial", "random", ("probs",), _multinomial_infer))


# --- host data ---------------------------------------------------------------------------------
def _dtype_of_numpy(array) -> dtypes.DType:
    try:
        return dtypes.from_name(array.dtype.name)
    except TypeError:
        raise TypeError(f"tensor: numpy dtype {array.dtype} is not supported by somegrad") from None


def _int64_overflow(data):
    """The first Python int in the nested lists `data` that int64 does not hold, or None."""
    if isinstance(data, (list, tuple)):
        return next((v for v in map(_int64_overflow, data) if v is not None), None)
    if isinstance(data, int) and not isinstance(data, bool) and not -(2**63) <= data < 2**63:
        return data
    return None


def _real_values(array, dtype):
    """Complex values for a real `dtype`: their real parts, where every imaginary part is 0 (a
    complex number with one fits no real dtype, as in PyTorch)."""
    if array.dtype.kind != "c" or dtype is None or dtype.is_complex:
        return array
    if array.size and np.any(array.imag != 0):
        first = complex(array.reshape(-1)[np.flatnonzero(array.reshape(-1).imag != 0)[0]])
        dtypes.check_value_fits("tensor", first, dtype)
    return np.ascontiguousarray(array.real)


def _check_python_values(array, dtype, data=None):
    """Python numbers (not arrays, which convert as a cast does) must fit an integer dtype, as
    in PyTorch: `tensor([300], dtype=uint8)` and `tensor([nan], dtype=int32)` raise."""
    if array.dtype.kind in "uf" and array.size and float(np.abs(array).max()) >= 2.0**63 and data is not None:
        # NumPy holds Python ints past int64 as uint64, or as float64 beside other ints; PyTorch
        # reads every Python int as int64 and raises (ValueError) for one it does not hold.
        huge = _int64_overflow(data)
        if huge is not None and (dtype is None or not dtype.is_floating_point):
            raise ValueOverflowError(f"tensor: value {huge} is too large for int64, the type of Python ints in tensors")
        if huge is not None:
            return
    if dtype is None or dtype is dtypes.bool_ or dtype.is_floating_point or not array.size or array.dtype.kind == "b":
        return
    if array.dtype.kind == "f":
        nan = np.isnan(array)
        if nan.any():
            dtypes.check_value_fits("tensor", float("nan"), dtype)
        finite = array[~nan]
        extremes = (float(finite.min()), float(finite.max())) if finite.size else ()
    else:
        extremes = (int(array.min()), int(array.max()))
    for value in extremes:
        dtypes.check_value_fits("tensor", value, dtype)


def _host_array(data, dtype):
    if isinstance(data, Tensor):
        return data.detach().cpu().numpy(), data.dtype
    if not isinstance(data, (bool, int, float)) and dtypes.python_number(data) is not None:
        # A NumPy scalar keeps its dtype, and its value is checked as a Python number's is.
        array = np.asarray(data)
        inferred = dtype or _dtype_of_numpy(array)
        array = _real_values(array, dtype)
        _check_python_values(array, dtype)
        return array, inferred
    if isinstance(data, np.ndarray) or (hasattr(data, "__array__") and not isinstance(data, (list, tuple))):
        array = np.asarray(data)
        if array.dtype.kind in "fiubc" and array.dtype.name not in (
            "float128",
            "longdouble",
            "complex256",
            "clongdouble",
        ):
            return array, _dtype_of_numpy(array) if dtype is None else dtype
        raise TypeError(f"tensor: cannot make a tensor from an array of dtype {array.dtype}")
    try:
        array = np.array(data)
    except ValueError as exc:
        raise ValueError(f"tensor: could not make a tensor from {type(data).__name__}: {exc}") from None
    if array.dtype == object or array.dtype.kind not in "fiubc":
        raise TypeError(
            f"tensor: expected numbers or nested lists of numbers with a regular shape, got {type(data).__name__} "
            f"(numpy made dtype {array.dtype} of it)"
        )
    array = _real_values(array, dtype)
    _check_python_values(array, dtype, data)
    if dtype is None:
        kind = array.dtype.kind
        dtype = (
            dtypes.bool_
            if kind == "b"
            else dtypes.int64
            if kind in "iu"
            else dtypes.get_default_complex_dtype()
            if kind == "c"
            else dtypes.get_default_dtype()
        )
    return array, dtype


def _check_backend_dtype(op, backend, dtype):
    """A clear error for a dtype that the device's backend does not hold (complex on a backend
    without complex arrays), before the backend meets it."""
    if dtype not in backend.dtypes:
        raise UnsupportedDTypeError(
            f"{op}: backend {backend.name!r} does not support dtype {dtype.name} "
            f"(it holds {', '.join(d.name for d in backend.dtypes)})"
        )


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (a number, nested lists, a NumPy array or a Tensor).

    Python floats become the default dtype (float32), ints int64 and bools bool; NumPy
    arrays keep their dtype. Example: `sg.tensor([[1., 2.], [3., 4.]], requires_grad=True)`.
    `pin_memory` is accepted, as PyTorch's (host arrays need no pinning here).
    """
    if not isinstance(pin_memory, bool):
        raise TypeError(f"tensor(): argument 'pin_memory' must be bool, not {type(pin_memory).__name__}")
    array, inferred = _host_array(data, dtype)
    dtype = dtype or inferred
    device = to_device(device) if device is not None else (data.device if isinstance(data, Tensor) else to_device(None))
    backend = _backend(device)
    device = backend.canonical_device(device)
    if array.dtype.kind == "c" and not dtype.is_complex:  # a complex tensor converted
        array = _real_values(array, dtype)
    _check_backend_dtype("tensor", backend, dtype)
    out = Tensor._make(backend.from_numpy(array, dtype, device), dtype, device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def from_numpy(array):
    """A CPU tensor over the NumPy `array`, sharing its memory where the backend allows."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    dtype = _dtype_of_numpy(array)
    device = to_device("cpu")
    return Tensor._make(_backend(device).from_numpy(array, dtype, device, copy=False), dtype, device)


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor: `data` itself when it is a Tensor of the requested dtype and device,
    else a new tensor as `tensor(data, dtype, device)` makes (PyTorch shares NumPy memory here; somegrad copies)."""
    if (
        isinstance(data, Tensor)
        and dtype in (None, data.dtype)
        and (device is None or to_device(device) == data.device)
    ):
        return data
    return tensor(data, dtype=dtype, device=device)


# --- constants and ranges ------------------------------------------------------------------------
def _place(device, dtype=None):
    device = to_device(device)
    backend = _backend(device)
    if dtype is not None:
        _check_backend_dtype("full", backend, dtype)
    return backend.canonical_device(device)


def check_assigned_value(op, value, dtype):
    """A number assigned into tensors of `dtype` (`x[i] = v`, `where(mask, x, v)`) must fit it,
    as in PyTorch: NaN into an integer tensor, 300 into uint8 or 1e40 into float32 raise
    `ValueOverflowError`; float16 and bfloat16 take any number (too large ones become inf)
    there, as PyTorch's assignment does. `full` and `fill_` check every dtype."""
    if dtype not in (dtypes.float16, dtypes.bfloat16):
        dtypes.check_value_fits(op, value, dtype)


@public(FULL)
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value` (dtype inferred from it when not given).

    The value must fit the dtype, as in PyTorch: `full((2,), 300, dtype=sg.uint8)`,
    `full((2,), nan, dtype=sg.int32)` and `full((2,), 1e5, dtype=sg.float16)` raise
    `ValueOverflowError`."""
    shape = as_shape("full", (size,) if isinstance(size, int) else tuple(size))
    number = dtypes.python_number(fill_value)
    if number is not None:
        fill_value = number
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value) if number is not None else dtypes.get_default_dtype()
    if number is not None:
        dtypes.check_value_fits("full", fill_value, dtype)
        if isinstance(fill_value, complex) and not dtype.is_complex:
            fill_value = fill_value.real  # its imaginary part is 0: it fits
    out = create(FULL, _place(device, dtype), {"shape": shape, "dtype": dtype, "fill_value": fill_value})
    return out.requires_grad_(True) if requires_grad else out


def constant(shape, value, dtype, device):
    """A tensor of `shape` holding the Python number `value` converted to `dtype` as a cast
    converts (out-of-range ints wrap, NaN into integers is undefined): the operands that ops
    make of Python numbers (`int8_tensor + 1000` wraps, as in PyTorch). Users call `full`."""
    return create(
        FULL, _place(device, dtype if dtype.is_complex else None), {"shape": shape, "dtype": dtype, "fill_value": value}
    )


@public(FULL, form=True)
def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of shape `size` filled with 0, the default dtype unless given: `zeros(2, 3)` or `zeros((2, 3))`."""
    return full(
        as_shape("zeros", size),
        0,
        dtype=dtype or dtypes.get_default_dtype(),
        device=device,
        requires_grad=requires_grad,
    )


@public(FULL, form=True)
def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of shape `size` filled with 1, the default dtype unless given: `ones(2, 3)` or `ones((2, 3))`."""
    return full(
        as_shape("ones", size), 1, dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad
    )


@public(FULL, form=True)
def empty(*size, dtype=None, device=None, requires_grad=False):
    """Like `zeros` (somegrad does not hand out uninitialised memory)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _like_infer(x, dtype, **params):
    return x.shape, dtype


def _like_op(name, value, doc):
    """An op making a tensor of x's shape (on x's device) holding `value`, or `fill_value`."""

    def decompose(x, dtype, fill_value=value):
        return create(FULL, x.device, {"shape": x.shape, "dtype": dtype, "fill_value": fill_value})

    return register(OpSpec(name, "composite", ("x",), _like_infer, decompose=decompose, doc=doc))


FULL_LIKE = _like_op("full_like", None, "x's shape filled with fill_value, in dtype.")
ZEROS_LIKE = _like_op("zeros_like", 0, "x's shape filled with 0, in dtype.")
ONES_LIKE = _like_op("ones_like", 1, "x's shape filled with 1, in dtype.")


def _like(op, x, params, dtype, device, requires_grad):
    out = apply(op, (x,), {"dtype": dtype or x.dtype, **params})
    if device is not None:
        out = out.to(device)
    return out.requires_grad_(True) if requires_grad else out


@public(FULL_LIKE)
def full_like(x, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of `x`'s shape filled with `fill_value`, with `x`'s dtype and device unless given."""
    number = dtypes.python_number(fill_value)
    if number is not None:
        dtypes.check_value_fits("full_like", number, dtype or x.dtype)
        fill_value = number
    return _like(FULL_LIKE, x, {"fill_value": fill_value}, dtype, device, requires_grad)


@public(ZEROS_LIKE, methods=True, inplace=("zero_",), aliases=("empty_like",))
def zeros_like(x, *, dtype=None, device=None, requires_grad=False):
    """A tensor of `x`'s shape filled with 0, with `x`'s dtype and device unless given.

    `empty_like` is the same (somegrad does not hand out uninitialised memory); `x.zero_()`
    writes it into x."""
    return _like(ZEROS_LIKE, x, {}, dtype, device, requires_grad)


@public(ONES_LIKE, methods=True)
def ones_like(x, *, dtype=None, device=None, requires_grad=False):
    """A tensor of `x`'s shape filled with 1, with `x`'s dtype and device unless given."""
    return _like(ONES_LIKE, x, {}, dtype, device, requires_grad)


empty_like = zeros_like


def _fill(x, value):
    from somegrad.ops.movement import clone, expand

    return clone(expand(cast(value, x.dtype), x.shape))


FILL = register(
    OpSpec(
        "fill",
        "composite",
        ("x", "value"),
        lambda x, value: (x.shape, x.dtype),
        decompose=_fill,
        doc="x's shape and dtype, every element the 0-d value (whose gradient is the sum).",
    )
)


@public(FILL, inplace=True)
def fill(x, value):
    """A tensor of `x`'s shape and dtype holding `value` (a number that fits the dtype, or a 0-d
    tensor, whose gradient flows); `x.fill_(value)` writes it into x."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ArgumentError(f"fill_: only supports a 0-dimension value tensor, got shape {tuple(value.shape)}")
    else:
        number = dtypes.python_number(value)
        if number is None:
            raise TypeError(f"fill: value must be a number or a 0-d Tensor, got {type(value).__name__}")
        dtypes.check_value_fits("fill_", number, x.dtype)
        value = scalar_tensor(number, x.dtype, x.device)
    return apply(FILL, (x, value), {})


@public(ARANGE)
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """`[start, end)` in steps of `step`; int64 for integer arguments, else the default float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if integral else dtypes.get_default_dtype()
    out = create(ARANGE, _place(device), {"start": start, "stop": end, "step": step, "dtype": dtype})
    return out.requires_grad_(True) if requires_grad else out


@public(ARANGE, form=True)
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from `start` to `end`, both included."""
    if steps < 0:
        raise ArgumentError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = dtype or dtypes.get_default_dtype()
    if dtype is dtypes.bool_:
        raise UnsupportedDTypeError("linspace: not implemented for bool")
    for bound in (start, end):
        dtypes.check_value_fits("linspace", bound, dtype)
    if steps == 1:
        out = full((1,), start, dtype=dtype, device=device)
    else:
        step = (end - start) / (steps - 1)
        # Fill the first half from `start` and the second half back from `end`, as PyTorch
        # does, so that both ends are exact.
        index = arange(steps, dtype=dtypes.float64, device=device)
        half = steps // 2
        values = where(index < half, index * step + start, end - (steps - 1 - index) * step)
        out = values.to(dtype)
    return out.requires_grad_(True) if requires_grad else out


@public(ARANGE, form=True)
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The (n, m) identity matrix (m = n unless given): ones on the diagonal, zeros elsewhere."""
    m = n if m is None else m
    for name, size in (("n", n), ("m", m)):
        if size < 0:
            raise ArgumentError(f"eye: {name} must be greater or equal to 0, got {size}")
    rows = arange(n, device=device).reshape(n, 1)
    cols = arange(m, device=device)
    out = (rows == cols).to(dtype or dtypes.get_default_dtype())
    return out.requires_grad_(True) if requires_grad else out


__all__ = [
    "tensor",
    "from_numpy",
    "as_tensor",
    "full",
    "zeros",
    "ones",
    "empty",
    "full_like",
    "zeros_like",
    "ones_like",
    "empty_like",
    "fill",
    "arange",
    "linspace",
    "eye",
]
