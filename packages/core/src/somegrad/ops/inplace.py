"""In-place ops (`add_`, `mul_`, `x[i] = v`, ...): compute out of place, write into memory.

An in-place op writes its result into the tensor's existing memory (so views of it see
the change) and bumps its version counter (so a backward that saved it raises instead of
using changed values). When the graph is recorded, the op runs on a copy of the old value
and the tensor takes over the result's graph node, as if `x = op(x)` had run.

Backends may register an in-place kernel under the op's name plus "_" (`add_`): it is used
when no graph is recorded, which is the optimizers' hot path. A multi-tensor kernel
(`foreach_adam_step_`, declared as an op in `somegrad.ops.optim`) updates a whole list of
tensors in one call, as an optimizer step does. Both run through `dispatch.run_kernel`, so
that active dispatch modes (the profiler, capture) see them.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.errors import DTypeError
from somegrad.ops import dispatch
from somegrad.ops.dispatch import _backend
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OPS
from somegrad.tensor import Tensor

__all__ = ["inplace", "write_into", "try_inplace_kernel", "try_foreach_kernel", "run_foreach_kernel"]


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
            raise DTypeError(
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
    if isinstance(operand, Tensor):  # nn.Parameter and any other subclass too
        if operand.dtype is not target.dtype or operand.device is not target.device:
            return None
        shape = operand._data.shape
        if shape != target._data.shape and broadcast_shapes("inplace", target._data.shape, shape) != target._data.shape:
            return None
        return operand._data
    dtype = target.dtype
    if type(operand) is float:
        if not dtype.is_floating_point:
            return None
    elif type(operand) is not int:
        return None
    elif not dtype.is_floating_point:
        low, high = dtypes.integer_bounds(dtype) if dtype is not dtypes.bool_ else (0, 1)
        if not low <= operand <= high:
            return None  # out of range: the generic path wraps it (or refuses it), as PyTorch does
    if dtype in (dtypes.float16, dtypes.bfloat16) and not dtypes.exactly_representable(operand, dtype):
        # PyTorch computes float16 `x * 2**31` in float32 (0 * 2**31 is 0, not 0 * inf = NaN): the
        # generic path does that, a kernel would round the number to the half type first.
        return None
    return operand


def try_inplace_kernel(target, name, operands, params) -> bool:
    """Run the backend's in-place kernel `name` ("add_", "addcmul_", ...) when nothing is
    recorded and the operands already fit (see `_kernel_operand`). Returns False (and does
    nothing) when the generic path must run."""
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
        if dispatch._modes:
            result = dispatch.run_kernel(name, (target,), kernel, target._data, *raw, **params)
        else:
            result = kernel(target._data, *raw, **params)
    except ValueError as exc:
        raise _unwritable(name, target, exc) from None
    if result is NotImplemented:
        return False
    target._version_counter[0] += 1
    return True


def try_foreach_kernel(targets, name, operands, params, written=()) -> bool:
    """Run the backend's multi-tensor in-place kernel `name` ("foreach_adam_step_") once over the
    list `targets`, with `operands` a tuple of lists parallel to it (None for an optional list
    that is absent, passed on as None): one call for a whole group of parameters instead of one
    per parameter. Returns False (and does nothing) when the per-tensor path must run: a graph
    would be recorded, the backend has no such kernel, the kernel declines (returns
    NotImplemented, before writing anything), or a tensor does not have the first target's
    dtype and device and its own target's shape. Tensors may be any Tensor subclass
    (`nn.Parameter`).

    `written` lists the operand lists the kernel updates besides `targets` (an optimizer's
    state buffers); every tensor in them and in `targets` has its version bumped."""
    if not targets:
        return False
    present = [tensors for tensors in operands if tensors is not None]
    for tensors in present:
        if len(tensors) != len(targets):
            raise RuntimeError(
                f"{name}: tensor lists must have the same number of tensors, got {len(targets)} and {len(tensors)}"
            )
    first = targets[0]
    dtype, device = first.dtype, first.device
    for target, *others in zip(targets, *present):
        if not isinstance(target, Tensor):
            return False
        shape = target._data.shape
        for t in (target, *others):
            if not isinstance(t, Tensor) or t.dtype is not dtype or t._data.shape != shape:
                return False
            if t.device is not device and t.device != device:
                return False
    return run_foreach_kernel(targets, name, operands, params, written)


def run_foreach_kernel(targets, name, operands, params, written=()) -> bool:
    """`try_foreach_kernel` for lists known to fit (one dtype and device, each row one shape):
    resolve the kernel (an op's, so `use_decompositions` turns it off), run it where dispatch
    modes see it, bump the versions. False when the per-tensor path must run instead."""
    if is_grad_enabled() and any(t.requires_grad for ts in (targets, *operands) if ts is not None for t in ts):
        return False
    backend = _backend(targets[0].device)
    spec = OPS.get(name)
    kernel = backend.kernels.get(name) if spec is None else dispatch.resolve(backend, spec)
    if kernel is None:
        return False
    raw = [None if tensors is None else [t._data for t in tensors] for tensors in operands]
    arrays = [t._data for t in targets]
    try:
        if dispatch._modes:
            result = dispatch.run_kernel(name, targets, kernel, arrays, *raw, **params)
        else:
            result = kernel(arrays, *raw, **params)
    except ValueError as exc:
        raise RuntimeError(
            f"{name}: cannot write into one of these {len(targets)} tensors: it shares one memory location "
            f"between several elements (an expand()ed view) or is read-only; clone() it first ({exc})"
        ) from None
    if result is NotImplemented:
        return False
    for tensors in (targets, *written):
        if tensors is not None:
            for t in tensors:
                t._version_counter[0] += 1
    return True
