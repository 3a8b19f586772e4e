"""Matrix multiplication: `a @ b` for 1-D, 2-D, batched and broadcast operands."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ShapeError, UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor


def _matmul_infer(a, b):
    a_shape, b_shape = a.shape, b.shape
    if len(a_shape) < 2 or len(b_shape) < 2:
        raise ShapeError(f"matmul: the kernel takes operands of 2 or more dims, got {a_shape} and {b_shape}")
    if a_shape[-1] != b_shape[-2]:
        raise ShapeError(
            f"matmul: shapes {a_shape} and {b_shape} cannot be multiplied "
            f"({a_shape[-1]} columns in the first, {b_shape[-2]} rows in the second)"
        )
    batch = () if len(a_shape) == len(b_shape) == 2 else broadcast_shapes("matmul", a_shape[:-2], b_shape[:-2])
    return batch + (a_shape[-2], b_shape[-1]), a.dtype


# Batch dimensions that were broadcast are summed away by the engine.
def _matmul_backward(g, a, b, needs_input_grad):
    return (g @ b.mT if needs_input_grad[0] else None, a.mT @ g if needs_input_grad[1] else None)


MATMUL = register(OpSpec("matmul", "matmul", ("a", "b"), _matmul_infer, _matmul_backward, accepts=NUMERIC))


def _tensor_operands(a, b):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        device = next((v.device for v in (a, b) if isinstance(v, Tensor)), None)
        converted = [v if isinstance(v, Tensor) else ew._operand("matmul", v, device) for v in (a, b)]
        for v, c in zip((a, b), converted):
            if not isinstance(c, Tensor):
                raise TypeError(f"matmul: expected Tensors (or NumPy arrays), got {type(v).__name__}")
        a, b = converted
    return a, b


@public(MATMUL, methods=True, operators=("__matmul__", "__rmatmul__"))
def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics.

    a: (..., n, k), b: (..., k, m) -> (..., n, m), batch dims broadcasting. A 1-D `a` is a
    row vector and a 1-D `b` a column vector; their added dimension is removed again. A NumPy
    array operand becomes a tensor on the other operand's device, as in PyTorch.
    """
    a, b = _tensor_operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.dtype is not b.dtype:
        dtype = dtypes.promote_types(a.dtype, b.dtype)
        a, b = ew.cast(a, dtype), ew.cast(b, dtype)
    if a.dtype is dtypes.bool_:
        raise UnsupportedDTypeError("matmul: bool tensors are not supported; convert them with .int() or .float()")
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = a.reshape(1, a.shape[0])
    if squeeze_b:
        b = b.reshape(b.shape[0], 1)
    out = apply(MATMUL, (a, b), {})
    if squeeze_a and squeeze_b:
        return out.reshape(())
    if squeeze_a:
        return out.squeeze(-2)
    if squeeze_b:
        return out.squeeze(-1)
    return out
