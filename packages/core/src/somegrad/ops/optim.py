"""Multi-tensor optimizer steps, declared as ops: `foreach_adam_step_`, `foreach_sgd_step_`.

An optimizer updates every parameter of a group by the same rule. Each rule is written once,
here, as a function over the handful of in-place operations it needs (an `InplaceOps`):

* run over Tensors (`TENSOR_OPS`), one parameter at a time, it is the op's reference
  decomposition, the generic per-tensor path that works on every backend and dtype;
* a backend's multi-tensor kernel of the same name updates a whole group in one call. The numpy
  backend's runs the same rule over its raw arrays with its own in-place kernels: no dispatch,
  and the same operations in the same order, so the same bits. A backend may fuse it instead
  (one CUDA kernel per group); the conformance suite checks kernel against decomposition.

Calling one: lists parallel to `params`, hyperparameters as keywords, and per-parameter values
(`steps`) as lists. The lists are validated first (lengths, tensors, shapes, floating dtypes);
then each run of parameters that share a device and dtype (with their gradients and state) is
one kernel call, and anything else, or a backend without the kernel, or one that declines
(returns NotImplemented, before writing anything), takes the decomposition. Nothing is recorded:
an optimizer step runs under `no_grad`.

    foreach_adam_step_(params, grads, exp_avgs, exp_avg_sqs, None, steps=[3, 3], lr=1e-3,
                       beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, decoupled_weight_decay=True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from somegrad.ops.inplace import run_foreach_kernel
from somegrad.ops.spec import OpSpec, register
from somegrad.tensor import Tensor

__all__ = [
    "InplaceOps",
    "TENSOR_OPS",
    "adam_update",
    "sgd_update",
    "foreach_adam_step_",
    "foreach_sgd_step_",
]


@dataclass(frozen=True)
class InplaceOps:
    """The operations an update rule is written in; each writes into its first argument
    (`add` and `sqrt` return a new value). Tensors' versions are in `TENSOR_OPS`; a backend
    builds one over its raw arrays to run a rule inside its multi-tensor kernel."""

    mul_: Callable  # (x, number): x *= number
    add_: Callable  # (x, y, alpha=1): x += alpha * y
    add: Callable  # (x, y, alpha=1): x + alpha * y, a new value
    lerp_: Callable  # (x, end, weight): x += weight * (end - x)
    addcmul_: Callable  # (x, a, b, value=1): x += value * a * b
    addcdiv_: Callable  # (x, a, b, value=1): x += value * a / b
    sqrt: Callable  # (x): a new value
    maximum_: Callable  # (x, y): x = max(x, y)
    copy_: Callable  # (x, y): x = y


TENSOR_OPS = InplaceOps(
    mul_=lambda x, y: x.mul_(y),
    add_=lambda x, y, alpha=1: x.add_(y, alpha=alpha),
    add=lambda x, y, alpha=1: x.add(y, alpha=alpha),
    lerp_=lambda x, end, weight: x.lerp_(end, weight),
    addcmul_=lambda x, a, b, value=1: x.addcmul_(a, b, value=value),
    addcdiv_=lambda x, a, b, value=1: x.addcdiv_(a, b, value=value),
    sqrt=lambda x: x.sqrt(),
    maximum_=lambda x, y: x.copy_(x.maximum(y)),
    copy_=lambda x, y: x.copy_(y),
)


# --- the update rules, one parameter at a time -------------------------------------------------
def adam_update(
    ops, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay,
    decoupled_weight_decay,
):  # fmt: skip
    """One Adam (AdamW with `decoupled_weight_decay`) step of one parameter at step `step`
    (from 1), in place; `max_exp_avg_sq` is None unless amsgrad. The formula is
    `somegrad.optim.Adam`'s; the last line is computed as
    `p -= lr sqrt(c2) / c1 * m / (sqrt(v) + eps sqrt(c2))`, with `c1 = 1 - beta1**t` and
    `c2 = 1 - beta2**t`: the same value, one pass over memory fewer.

    `step` and `lr` may be 0-d arrays (a capturable optimizer's step tensor, a learning rate
    given at replay time): their values are read here, when the update runs."""
    step, lr = _number(step), _number(lr)
    if weight_decay != 0:
        if decoupled_weight_decay:
            ops.mul_(param, 1 - lr * weight_decay)
        else:
            grad = ops.add(grad, param, alpha=weight_decay)
    ops.lerp_(exp_avg, grad, 1 - beta1)
    ops.mul_(exp_avg_sq, beta2)
    ops.addcmul_(exp_avg_sq, grad, grad, value=1 - beta2)
    if max_exp_avg_sq is not None:
        ops.maximum_(max_exp_avg_sq, exp_avg_sq)
        exp_avg_sq = max_exp_avg_sq
    correction2_sqrt = math.sqrt(1 - beta2**step)
    denominator = ops.sqrt(exp_avg_sq)
    ops.add_(denominator, eps * correction2_sqrt)
    ops.addcdiv_(param, exp_avg, denominator, value=-lr * correction2_sqrt / (1 - beta1**step))


def sgd_update(ops, param, grad, momentum_buffer, fresh, *, lr, momentum, dampening, weight_decay, nesterov):
    """One SGD step of one parameter, in place (`somegrad.optim.SGD`'s formula).
    `momentum_buffer` is None without momentum; `fresh` says it was just created, so that it
    takes the gradient as it is (PyTorch's first step). `lr` may be a 0-d array, read here."""
    lr = _number(lr)
    if weight_decay != 0:
        grad = ops.add(grad, param, alpha=weight_decay)
    if momentum != 0:
        if fresh:
            ops.copy_(momentum_buffer, grad)
        else:
            ops.mul_(momentum_buffer, momentum)
            ops.add_(momentum_buffer, grad, alpha=1 - dampening)
        grad = ops.add(grad, momentum_buffer, alpha=momentum) if nesterov else momentum_buffer
    ops.add_(param, grad, alpha=-lr)


def _number(value):
    """A Python number as it is; a 0-d array's value as a Python float (exactly, for float64)."""
    return value if isinstance(value, (int, float)) else float(value)


def _raw(value):
    """A Tensor's array (steps and learning rates held in tensors reach the kernels as arrays)."""
    return value._data if isinstance(value, Tensor) else value


# --- validation ----------------------------------------------------------------------------------
def _check_lists(op, params, named_lists):
    """Raise for lists that are not parallel to `params`, hold non-tensors, or whose tensors do
    not have their parameter's shape; and for parameters that are not floating point."""
    for i, param in enumerate(params):
        if not isinstance(param, Tensor):
            raise TypeError(f"{op}: params[{i}] is a {type(param).__name__}, expected a Tensor")
        if not param.dtype.is_floating_point:
            raise RuntimeError(
                f"{op}: params[{i}] has dtype {param.dtype.name}; optimizers update floating point tensors"
            )
    for list_name, tensors in named_lists.items():
        if tensors is None:
            continue
        if len(tensors) != len(params):
            raise RuntimeError(
                f"{op}: tensor lists must have the same number of tensors, got {len(params)} params "
                f"and {len(tensors)} {list_name}"
            )
        for i, (param, t) in enumerate(zip(params, tensors)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{op}: {list_name}[{i}] is a {type(t).__name__}, expected a Tensor")
            if t._data.shape != param._data.shape:
                raise RuntimeError(
                    f"{op}: {list_name}[{i}] has shape {tuple(t.shape)}, but its parameter has shape "
                    f"{tuple(param.shape)}"
                )


def _check_per_parameter(op, params, values):
    for name, value in values.items():
        if len(value) != len(params):
            raise RuntimeError(f"{op}: {name} has {len(value)} entries for {len(params)} params")


# --- running a multi-tensor op -------------------------------------------------------------------
def _runs(params, lists):
    """The rows (parameter indices) that one kernel call can take: those whose tensors all have
    their parameter's dtype and device, grouped by it; and the rows that cannot (mixed)."""
    groups: dict[tuple, list[int]] = {}
    mixed = []
    present = [ts for ts in lists if ts is not None]
    for i, param in enumerate(params):
        dtype, device = param.dtype, param.device
        for ts in present:
            t = ts[i]
            if t.dtype is not dtype or (t.device is not device and t.device != device):
                mixed.append(i)
                break
        else:
            groups.setdefault((dtype, device), []).append(i)
    return list(groups.values()), mixed


def _pick(rows, values):
    return None if values is None else [values[i] for i in rows]


def _run(spec, params, lists, per_parameter, hyper, written):
    """One kernel call per run of parameters that fit one (see `_runs`); the decomposition for
    the rest. `per_parameter` maps keyword names to lists parallel to `params` (`steps`)."""
    runs, mixed = _runs(params, lists)
    for rows in runs:
        if len(rows) == len(params):  # the usual case: one dtype and device for the whole group
            sub_params, sub_lists, sub_values = params, lists, per_parameter
        else:
            sub_params = _pick(rows, params)
            sub_lists = [_pick(rows, ts) for ts in lists]
            sub_values = {name: _pick(rows, values) for name, values in per_parameter.items()}
        sub_written = [sub_lists[i] for i in written]
        if not run_foreach_kernel(sub_params, spec.name, sub_lists, {**hyper, **sub_values}, sub_written):
            _refuse_per_tensor_capture(spec)
            spec.decompose(sub_params, *sub_lists, **hyper, **sub_values)
    if mixed:
        _refuse_per_tensor_capture(spec)
        spec.decompose(
            _pick(mixed, params),
            *[_pick(mixed, ts) for ts in lists],
            **hyper,
            **{name: _pick(mixed, values) for name, values in per_parameter.items()},
        )


def _refuse_per_tensor_capture(spec):
    # The per-tensor path computes its coefficients (bias corrections, lr * weight_decay) in
    # Python when it runs: a recorded step would replay them stale.
    from somegrad.compile import capturing, refuse

    if capturing():
        refuse(
            spec.name,
            "these parameters take the per-tensor path (no multi-tensor kernel for their backend or dtype), "
            "which computes the step's coefficients in Python; a replay would reuse them",
        )


def _updated(params, *lists):
    """The shape rule of an in-place multi-tensor op: the (shape, dtype) of each parameter."""
    return [(tuple(p.shape), p.dtype) for p in params]


# --- Adam ----------------------------------------------------------------------------------------
def _adam_infer(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, steps, **hyper):
    lists = dict(grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs, max_exp_avg_sqs=max_exp_avg_sqs)
    _check_lists("foreach_adam_step_", params, lists)
    _check_per_parameter("foreach_adam_step_", params, dict(steps=steps))
    return _updated(params)


def _adam_per_tensor(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, steps, **hyper):
    maxima = [None] * len(params) if max_exp_avg_sqs is None else max_exp_avg_sqs
    for row in zip(params, grads, exp_avgs, exp_avg_sqs, maxima, steps, strict=True):
        adam_update(TENSOR_OPS, *row, **hyper)


FOREACH_ADAM_STEP = register(
    OpSpec(
        "foreach_adam_step_",
        "foreach",
        ("params", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"),
        _adam_infer,
        decompose=_adam_per_tensor,
        explicit=True,
        doc="One Adam/AdamW step of a parameter group, in place (the rule: `adam_update`).",
    )
)


def foreach_adam_step_(
    params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8,
    weight_decay=0.0, decoupled_weight_decay=False,
):  # fmt: skip
    """One Adam step of every parameter in `params`, and of its state, in place.

    `grads`, `exp_avgs`, `exp_avg_sqs` (and, for amsgrad, `max_exp_avg_sqs`; else None) are lists
    of tensors parallel to `params`, each of its parameter's shape; `steps` is each parameter's
    step number, from 1. `decoupled_weight_decay=True` is AdamW. Returns None."""
    lists = (grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs)
    steps = [_raw(s) for s in steps]
    hyper = dict(
        lr=_raw(lr),
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        weight_decay=weight_decay,
        decoupled_weight_decay=decoupled_weight_decay,
    )
    FOREACH_ADAM_STEP.infer(params, *lists, steps=steps, **hyper)
    if params:
        _run(FOREACH_ADAM_STEP, params, lists, dict(steps=steps), hyper, written=(1, 2, 3))


# --- SGD -----------------------------------------------------------------------------------------
def _sgd_infer(params, grads, momentum_buffers, *, fresh, momentum, **hyper):
    _check_lists("foreach_sgd_step_", params, dict(grads=grads, momentum_buffers=momentum_buffers))
    if (momentum_buffers is None) != (momentum == 0):
        raise RuntimeError(f"foreach_sgd_step_: momentum {momentum} needs momentum_buffers exactly when it is not 0")
    _check_per_parameter("foreach_sgd_step_", params, dict(fresh=fresh))
    return _updated(params)


def _sgd_per_tensor(params, grads, momentum_buffers, *, fresh, **hyper):
    buffers = [None] * len(params) if momentum_buffers is None else momentum_buffers
    for row in zip(params, grads, buffers, fresh, strict=True):
        sgd_update(TENSOR_OPS, *row, **hyper)


FOREACH_SGD_STEP = register(
    OpSpec(
        "foreach_sgd_step_",
        "foreach",
        ("params", "grads", "momentum_buffers"),
        _sgd_infer,
        decompose=_sgd_per_tensor,
        explicit=True,
        doc="One SGD step of a parameter group, in place (the rule: `sgd_update`).",
    )
)


def foreach_sgd_step_(
    params, grads, momentum_buffers=None, *, fresh=None, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
    nesterov=False,
):  # fmt: skip
    """One SGD step of every parameter in `params` (and of its momentum buffer), in place.

    `grads` and, when `momentum != 0`, `momentum_buffers` are lists parallel to `params`;
    `fresh[i]` is True where buffer i was just created and takes the gradient as it is (default:
    none is). Returns None."""
    fresh = [False] * len(params) if fresh is None else fresh
    lists = (grads, momentum_buffers)
    hyper = dict(lr=_raw(lr), momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
    FOREACH_SGD_STEP.infer(params, *lists, fresh=fresh, **hyper)
    if params:
        _run(FOREACH_SGD_STEP, params, lists, dict(fresh=fresh), hyper, written=(1,) if momentum_buffers else ())
