"""RMSprop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import somegrad as sg

from .optimizer import Optimizer, check_hyperparameters

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's formulation (eps outside the square root).

    Per parameter, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a * a) + eps     centered
        d = sqrt(v) + eps                                              otherwise
        b = momentum * b + g / d;  p = p - lr * b                      momentum > 0
        p = p - lr * g / d                                             otherwise

    Defaults as PyTorch: ``lr=1e-2``, ``alpha=0.99``, ``eps=1e-8``, ``weight_decay=0``,
    ``momentum=0``, ``centered=False``, ``maximize=False``. State per parameter: ``step``,
    ``square_avg``, and ``momentum_buffer`` / ``grad_avg`` when used.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameters(
            "RMSprop",
            lr=(lr, 0.0, None),
            eps=(eps, 0.0, None),
            alpha=(alpha, 0.0, None),
            momentum=(momentum, 0.0, None),
            weight_decay=(weight_decay, 0.0, None),
        )
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        centered = group["centered"]
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:
                state = self.state[param] = {"step": 0, "square_avg": sg.zeros_like(param)}
                if momentum > 0:
                    state["momentum_buffer"] = sg.zeros_like(param)
                if centered:
                    state["grad_avg"] = sg.zeros_like(param)
            state["step"] += 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg = state["square_avg"]
            square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
            if centered:
                grad_avg = state["grad_avg"]
                grad_avg.lerp_(grad, 1 - alpha)
                denominator = (square_avg - grad_avg * grad_avg).sqrt().add_(eps)
            else:
                denominator = square_avg.sqrt().add_(eps)
            if momentum > 0:
                buffer = state["momentum_buffer"]
                buffer.mul_(momentum).addcdiv_(grad, denominator)
                param.add_(buffer, alpha=-lr)
            else:
                param.addcdiv_(grad, denominator, value=-lr)
