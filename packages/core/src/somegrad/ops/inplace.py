"""In-place ops (`add_`, `mul_`, `x[i] = v`, ...): compute out of place, write into memory.

An in-place op writes its result into the tensor's existing memory (so views of it see
the change) and bumps its version counter (so a backward that saved it raises instead of
using changed values). When the graph is recorded, the op runs on a copy of the old value
and the tensor takes over the result's graph node, as if `x = op(x)` had run.

Backends may register an in-place kernel under the op's name plus "_" (`add_`): it is used
when no graph is recorded, which is the optimizers' hot path.
"""

from __future__ import annotations

from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.ops.dispatch import _backend
from somegrad.ops.shapes import broadcast_shapes
from somegrad.tensor import Tensor

__all__ = ["inplace", "write_into"]


def _can_hold(target_dtype, result_dtype) -> bool:
    return result_dtype.category <= target_dtype.category


def write_into(target, result, op):
    """Write `result` into `target`'s memory (same shape; dtype cast within its category)."""
    if result.shape != target.shape:
        raise RuntimeError(
            f"{op}: output with shape {tuple(target.shape)} doesn't match the broadcast shape {tuple(result.shape)}"
        )
    if result.dtype is not target.dtype:
        if not _can_hold(target.dtype, result.dtype):
            raise TypeError(
                f"{op}: result type {result.dtype.name} can't be cast to the desired output type {target.dtype.name}"
            )
        result = result.to(target.dtype)
    try:
        _backend(target.device).assign(target._data, result._data)
    except ValueError as exc:
        raise _unwritable(op, target, exc) from None
    target._version_counter[0] += 1


def _unwritable(op, target, exc):
    # NumPy refuses to write into broadcast (expanded) views: say what that means here.
    return RuntimeError(
        f"{op}: cannot write into this tensor of shape {tuple(target.shape)}: several of its elements "
        f"share one memory location (an expand()ed view); clone() it first ({exc})"
    )


def inplace(target, compute, op, others=()):
    """Run `compute(target)` (an out-of-place op) and store its result in `target`."""
    recording = is_grad_enabled() and (
        target.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
    )
    if not recording:
        write_into(target, compute(target), op)
        return target
    if target.requires_grad and target.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad is being used in an in-place operation; "
            "do it under somegrad.no_grad() or on a clone()"
        )
    if target._base is not None and target._base.requires_grad:
        raise RuntimeError(
            f"{op}: in-place operations that record a gradient are not supported on views of tensors "
            "that require grad; use the out-of-place op (x = x.op(...)) or clone() the view first"
        )
    # A copy of the old value, so that a backward which saved it still sees it.
    old = target.clone() if target.requires_grad else target.detach().clone()
    result = compute(old)
    write_into(target, result.detach(), op)
    if result.requires_grad:
        target.grad_fn = result.grad_fn
        target.requires_grad = True
        target._version_counter[1] += 1  # views taken before now describe the old graph
    return target


def _kernel_operand(target, operand):
    """`operand` as the in-place kernel takes it (a raw array or a Python number), or None
    when it does not already fit: same dtype and device, a shape that broadcasts to the
    target's, or a number of the target's kind."""
    if type(operand) is Tensor:
        if operand.dtype is not target.dtype or operand.device is not target.device:
            return None
        shape = operand._data.shape
        if shape != target._data.shape and broadcast_shapes("inplace", target._data.shape, shape) != target._data.shape:
            return None
        return operand._data
    if type(operand) is float:
        return operand if target.dtype.is_floating_point else None
    return operand if type(operand) is int else None


def try_inplace_kernel(target, name, operands, params, written=()) -> bool:
    """Run the backend's in-place kernel `name` ("add_", "addcmul_", ...) when nothing is
    recorded and the operands already fit (see `_kernel_operand`). Returns False (and does
    nothing) when the generic path must run.

    `written` lists the operands the kernel updates besides `target` (an optimizer step's
    state buffers, for `adam_step_`); their versions are bumped with the target's."""
    if is_grad_enabled() and (target.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands)):
        return False
    kernel = _backend(target.device).kernels.get(name)
    if kernel is None:
        return False
    raw = []
    for operand in operands:
        value = _kernel_operand(target, operand)
        if value is None:
            return False
        raw.append(value)
    try:
        if kernel(target._data, *raw, **params) is NotImplemented:
            return False
    except ValueError as exc:
        raise _unwritable(name, target, exc) from None
    target._version_counter[0] += 1
    for tensor in written:
        tensor._version_counter[0] += 1
    return True
