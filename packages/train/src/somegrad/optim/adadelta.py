"""Adadelta and Adamax."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import somegrad as sg

from .optimizer import Optimizer, check_hyperparameters

__all__ = ["Adadelta", "Adamax"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's formulation.

    Per parameter, with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    Defaults as PyTorch: ``lr=1.0``, ``rho=0.9``, ``eps=1e-6``, ``weight_decay=0``,
    ``maximize=False``. State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameters(
            "Adadelta",
            lr=(lr, 0.0, None),
            rho=(rho, 0.0, 1.0),
            eps=(eps, 0.0, None),
            weight_decay=(weight_decay, 0.0, None),
        )
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:
                state = self.state[param] = {
                    "step": 0,
                    "square_avg": sg.zeros_like(param),
                    "acc_delta": sg.zeros_like(param),
                }
            state["step"] += 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
            delta = (acc_delta + eps).sqrt_().div_((square_avg + eps).sqrt_()).mul_(grad)
            acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            param.add_(delta, alpha=-lr)


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7): Adam with the infinity norm, PyTorch's formulation.

    Per parameter at step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``)::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    Defaults as PyTorch: ``lr=2e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``weight_decay=0``,
    ``maximize=False``. State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        _check_betas("Adamax", betas, lr=lr, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:
                state = self.state[param] = {
                    "step": 0,
                    "exp_avg": sg.zeros_like(param),
                    "exp_inf": sg.zeros_like(param),
                }
            state["step"] += 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_inf.copy_(sg.maximum(exp_inf * beta2, grad.abs() + eps))
            param.addcdiv_(exp_avg, exp_inf, value=-lr / (1 - beta1 ** state["step"]))


def _check_betas(name: str, betas: tuple[float, float], **checks: float) -> None:
    if len(betas) != 2:
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    check_hyperparameters(
        name,
        beta1=(betas[0], 0.0, 1.0),
        beta2=(betas[1], 0.0, 1.0),
        **{key: (value, 0.0, None) for key, value in checks.items()},
    )
