"""Adagrad."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import somegrad as sg

from .optimizer import Optimizer, check_hyperparameters

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's formulation.

    Per parameter at step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        s = s + g * g                      (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    Defaults as PyTorch: ``lr=1e-2``, ``lr_decay=0``, ``weight_decay=0``,
    ``initial_accumulator_value=0``, ``eps=1e-10``, ``maximize=False``. State per parameter:
    ``step``, ``sum``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameters(
            "Adagrad",
            lr=(lr, 0.0, None),
            lr_decay=(lr_decay, 0.0, None),
            weight_decay=(weight_decay, 0.0, None),
            initial_accumulator_value=(initial_accumulator_value, 0.0, None),
            eps=(eps, 0.0, None),
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        # Like PyTorch, the accumulators exist from the start (so a state dict has them at once).
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = {
                    "step": 0,
                    "sum": sg.full_like(param, group["initial_accumulator_value"]),
                }

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:  # a group added after construction
                state = self.state[param] = {
                    "step": 0,
                    "sum": sg.full_like(param, group["initial_accumulator_value"]),
                }
            state["step"] += 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            state["sum"].addcmul_(grad, grad, value=1)
            param.addcdiv_(grad, state["sum"].sqrt().add_(eps), value=-clr)
