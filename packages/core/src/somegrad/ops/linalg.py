"""Matrix multiplication: `a @ b` for 1-D, 2-D, batched and broadcast operands."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OpSpec, register


def _matmul_infer(a, b):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(
            f"matmul: the kernel takes operands of 2 or more dims, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({a.shape[-1]} columns in the first, {b.shape[-2]} rows in the second)"
        )
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    return batch + (a.shape[-2], b.shape[-1]), a.dtype


# Batch dimensions that were broadcast are summed away by the engine.
def _matmul_backward(g, a, b, needs_input_grad):
    return (g @ b.mT if needs_input_grad[0] else None, a.mT @ g if needs_input_grad[1] else None)


MATMUL = register(OpSpec("matmul", "matmul", ("a", "b"), _matmul_infer, _matmul_backward))


def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics.

    a: (..., n, k), b: (..., k, m) -> (..., n, m), batch dims broadcasting. A 1-D `a` is a
    row vector and a 1-D `b` a column vector; their added dimension is removed again.
    """
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.dtype is not b.dtype:
        dtype = dtypes.promote_types(a.dtype, b.dtype)
        a, b = ew.cast(a, dtype), ew.cast(b, dtype)
    if a.dtype is dtypes.bool_:
        raise TypeError("matmul: bool tensors are not supported; convert them with .int() or .float()")
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
