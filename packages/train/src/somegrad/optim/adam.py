"""Adam and AdamW."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import somegrad as sg
from somegrad.ops.optim import foreach_adam_step_

from .optimizer import Optimizer, check_hyperparameters

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with optional AMSGrad and L2 or decoupled weight decay.

    Per parameter at step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``)::

        p = p * (1 - lr * weight_decay)          decoupled_weight_decay (AdamW)
        g = g + weight_decay * p                 otherwise (L2 penalty)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                    amsgrad; v_max is used below instead of v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v / (1 - beta2**t)) + eps)

    Defaults as PyTorch: ``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``weight_decay=0``,
    ``amsgrad=False``, ``maximize=False``, ``capturable=False``, ``decoupled_weight_decay=False``.
    State per parameter: ``step`` (a Python int; with ``capturable=True`` a 0-d float32 tensor,
    advanced in place, as PyTorch's), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq``. Only a capturable Adam can be recorded by ``somegrad.compile``: the step
    count and the bias corrections made from it are then read when the update runs, and give the
    same bits as the Python count.

    The last line is computed as ``p - lr * sqrt(c2) / c1 * m / (sqrt(v) + eps * sqrt(c2))`` with
    ``c1 = 1 - beta1**t``, ``c2 = 1 - beta2**t``: the same value, one array operation fewer
    (equal to PyTorch's result up to rounding).

    A step is one call of the multi-tensor op ``somegrad.ops.optim.foreach_adam_step_`` per group,
    where the update rule is written (``adam_update``): a backend with a kernel for it (the numpy
    backend has one) updates each run of parameters of one dtype and device in one call; float16
    and bfloat16 parameters, and backends without the kernel, take the per-tensor path of Tensor
    in-place ops, the op's reference decomposition.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        capturable: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_hyperparameters(
            name,
            lr=(lr, 0.0, None),
            eps=(eps, 0.0, None),
            beta1=(betas[0], 0.0, 1.0),
            beta2=(betas[1], 0.0, 1.0),
            weight_decay=(weight_decay, 0.0, None),
        )
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    _counts_steps = True

    def _update_group(self, group: dict[str, Any]) -> None:
        amsgrad = group["amsgrad"]
        capturable = group.get("capturable", False)
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], [], [], []
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:
                state = self.state[param] = {
                    "step": sg.zeros((), dtype=sg.float32, device=param.device) if capturable else 0,
                    "exp_avg": sg.zeros_like(param),
                    "exp_avg_sq": sg.zeros_like(param),
                }
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = sg.zeros_like(param)
            if capturable:
                if not isinstance(state["step"], sg.Tensor):  # a state loaded from a non-capturable one
                    state["step"] = sg.tensor(float(state["step"]), dtype=sg.float32, device=param.device)
                state["step"].add_(1)  # in place, a kernel a recorded step replays
            else:
                state["step"] += 1
            params.append(param)
            grads.append(grad)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if amsgrad:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"])
            steps.append(state["step"])
        if not params:
            return
        beta1, beta2 = group["betas"]
        foreach_adam_step_(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            max_exp_avg_sqs if amsgrad else None,
            steps=steps,
            lr=self._lr(group),
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
        )


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): ``p *= 1 - lr * wd`` first.

    Defaults as PyTorch: ``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``,
    ``weight_decay=1e-2``, ``amsgrad=False``, ``maximize=False``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        capturable: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            capturable=capturable,
            decoupled_weight_decay=True,
        )
