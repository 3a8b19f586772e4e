"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import somegrad as sg
from somegrad.ops.optim import foreach_sgd_step_

from .optimizer import Optimizer, check_hyperparameters

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's formulation (the momentum buffer holds gradients).

    Per parameter, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        b = g                                   on the first step
        b = momentum * b + (1 - dampening) * g  afterwards
        g = g + momentum * b if nesterov else b   (only when momentum != 0)
        p = p - lr * g

    Defaults as PyTorch: ``lr=1e-3``, ``momentum=0``, ``dampening=0``, ``weight_decay=0``,
    ``nesterov=False``, ``maximize=False``. State per parameter: ``momentum_buffer``.

    A step is one call of the multi-tensor op ``somegrad.ops.optim.foreach_sgd_step_`` per group,
    where the update rule is written (``sgd_update``); see :class:`Adam` for how it runs.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameters(
            "SGD",
            lr=(lr, 0.0, None),
            momentum=(momentum, 0.0, None),
            weight_decay=(weight_decay, 0.0, None),
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening == 0, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        params, grads, buffers, fresh = [], [], [], []
        for param, grad in self._params_with_grad(group):
            params.append(param)
            grads.append(grad)
            if momentum != 0:
                state = self.state.setdefault(param, {})
                buffer = state.get("momentum_buffer")
                fresh.append(buffer is None)
                if buffer is None:
                    buffer = state["momentum_buffer"] = sg.zeros_like(param)
                buffers.append(buffer)
            else:
                fresh.append(False)
        if not params:
            return
        foreach_sgd_step_(
            params,
            grads,
            buffers if momentum != 0 else None,
            fresh=fresh,
            lr=self._lr(group),
            momentum=momentum,
            dampening=group["dampening"],
            weight_decay=group["weight_decay"],
            nesterov=group["nesterov"],
        )
