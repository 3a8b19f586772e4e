"""Operands of elementwise ops: how Python numbers, NumPy scalars and arrays meet tensors, and
the factories the elementwise families declare their ops with (`unary`, `binary`).

`_operands` turns the operands of an op into tensors of one dtype, by PyTorch's promotion
(`somegrad.dtypes.result_type`), inserting `cast`s; Python numbers become cached 0-d tensors
(`scalar_tensor`). `_binary` runs a two-input op on them.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ValueOverflowError
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor

__all__ = ["cast", "scalar_tensor", "unary", "binary"]


def _same(x, **params):
    return x.shape, x.dtype


def _to_bool(x, **params):
    return x.shape, dtypes.bool_


def unary(name, backward=None, *, decompose=None, explicit=False, infer=_same, doc="", accepts=None):
    return register(OpSpec(name, "elementwise", ("x",), infer, backward, decompose, explicit, doc=doc, accepts=accepts))


def _broadcast_infer(name, out_dtype=None):
    def infer(*inputs, **params):
        shape = broadcast_shapes(name, *(t.shape for t in inputs))
        return shape, out_dtype or inputs[-1].dtype

    return infer


def binary(name, backward=None, *, out_dtype=None, decompose=None, explicit=False, accepts=None):
    infer = _broadcast_infer(name, out_dtype)
    return register(OpSpec(name, "elementwise", ("a", "b"), infer, backward, decompose, explicit, accepts=accepts))


def _cast_infer(x, dtype):
    return x.shape, dtype


# The engine casts each gradient back to its input's dtype, so the backward is the identity.
CAST = register(OpSpec("cast", "elementwise", ("x",), _cast_infer, lambda g: g))


@public(CAST)
def cast(x, dtype):
    """`x` converted to `dtype` (differentiable between floating dtypes)."""
    if x.dtype is dtype:
        return x
    return apply(CAST, (x,), {"dtype": dtype})


_scalars: dict = {}


def scalar_tensor(value, dtype, device):
    """A 0-d tensor holding the Python scalar `value` (an operand of an op, never handed to
    users, so the same one is reused: `x * 2.0` allocates no new constant each time)."""
    key = (type(value), value, dtype, device)
    cached = _scalars.get(key)
    if cached is None:
        from somegrad.ops.creation import constant

        if len(_scalars) > 4096:
            _scalars.clear()
        cached = _scalars[key] = constant((), value, dtype, device)
    return cached


class _Dimensioned:
    """What a NumPy array operand counts as in type promotion: PyTorch makes a tensor of it
    that takes part as a tensor with dimensions, even when it is 0-d (`float32_tensor +
    np.array(1.0)` is float64)."""

    ndim = 1

    def __init__(self, dtype):
        self.dtype = dtype


def _operand(op, v, device):
    """A Tensor, a Python number, or None for what an elementwise op does not take. NumPy
    scalars count as the Python numbers they hold (a NumPy bool as a float, as in PyTorch);
    NumPy arrays become tensors on `device`."""
    if isinstance(v, Tensor) or type(v) in (bool, int, float):
        return v
    number = dtypes.python_number(v)
    if number is not None:
        return float(number) if isinstance(number, bool) else number
    if type(v).__name__ == "ndarray" and device is not None:
        from somegrad.ops.creation import tensor

        return tensor(v, device=device)
    return None


def _promotion_stand_in(original, converted):
    return (
        _Dimensioned(converted.dtype)
        if isinstance(converted, Tensor) and not isinstance(original, Tensor)
        else converted
    )


def _operands(op, *values, out_dtype=None, compute_dtype=None):
    """Tensors of one dtype for an elementwise op over tensors and Python numbers (NumPy
    scalars and arrays too): the result dtype by PyTorch's promotion, or `compute_dtype`."""
    device = None
    plain = True  # only Tensors and Python numbers: the common case, promoted as they are
    for v in values:
        if isinstance(v, Tensor):
            if device is None:
                device = v.device
        elif type(v) not in (bool, int, float):
            plain = False
    if plain:
        converted = values
        dtype = compute_dtype or out_dtype or dtypes.result_type(*values)
    else:
        converted = [_operand(op, v, device) for v in values]
        for v, c in zip(values, converted):
            if c is None:
                raise TypeError(f"{op}: expected a Tensor or a Python number, got {type(v).__name__}")
        dtype = compute_dtype or out_dtype or dtypes.result_type(*map(_promotion_stand_in, values, converted))
    result = []
    for v in converted:
        if not isinstance(v, Tensor):
            if type(v) is int and not _INT64_MIN <= v <= _INT64_MAX and _only_bool_tensors(converted):
                # PyTorch takes a Python int past int64 as a uint64, which it does not promote
                # with bool (integer tensors wrap it, float tensors take it as a float)
                raise ValueOverflowError(
                    f"{op}: the Python int {v} does not fit int64, and PyTorch does not promote bool "
                    "tensors with a larger integer; convert the tensor first (.long() or .float())"
                )
            v = scalar_tensor(v, dtype, device)
        elif v.dtype is not dtype:
            v = cast(v, dtype)
        result.append(v)
    return result


_LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _only_bool_tensors(operands):
    tensors = [v for v in operands if isinstance(v, Tensor)]
    return bool(tensors) and all(t.dtype is dtypes.bool_ for t in tensors)


def _inexact_scalar(dtype, *values):
    """Whether a Python number among `values` is not exactly a value of the low precision
    `dtype`: PyTorch's add, sub, mul and div then compute in float32 (the scalar there as a
    float32) and round once, so `float16_zeros * 2**31` is 0, not 0 * inf = NaN. For a scalar
    that `dtype` holds exactly, float32 then rounding gives the same bits as float16 itself.
    (PyTorch's add and sub round the number to the tensor's dtype first.)"""
    return any(
        not isinstance(v, Tensor)
        and (number := dtypes.python_number(v)) is not None
        and not dtypes.exactly_representable(number, dtype)
        for v in values
    )


def _binary(spec, a, b, out_dtype=None, *, wide_scalars=False):
    """`spec` applied to `a` and `b` (tensors and numbers) in their promoted dtype (or `out_dtype`).
    `wide_scalars`: the op computes low precision with an inexact number in float32 (mul, div)."""
    if type(a) is Tensor and type(b) is Tensor and a.dtype is b.dtype and out_dtype is None:
        return apply(spec, (a, b), {})
    operands = _operands(spec.name, a, b, out_dtype=out_dtype)
    dtype = operands[0].dtype
    if wide_scalars and dtype in _LOW_PRECISION and _inexact_scalar(dtype, a, b):
        wide = _operands(spec.name, a, b, compute_dtype=dtypes.float32)
        return cast(apply(spec, tuple(wide), {}), dtype)
    return apply(spec, tuple(operands), {})


def _floating(x):
    """Integer and bool inputs of float-only math become the default float dtype."""
    return x if x.dtype.is_floating_point else cast(x, dtypes.get_default_dtype())
