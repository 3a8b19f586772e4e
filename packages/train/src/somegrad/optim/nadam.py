"""NAdam and RAdam."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import somegrad as sg

from .adadelta import _check_betas
from .optimizer import Optimizer

__all__ = ["NAdam", "RAdam"]


def _adam_state(param: Any, **extra: Any) -> dict[str, Any]:
    return {"step": 0, **extra, "exp_avg": sg.zeros_like(param), "exp_avg_sq": sg.zeros_like(param)}


def _scalar_dtype() -> Any:
    return sg.float64 if sg.get_default_dtype() is sg.float64 else sg.float32


def _decay(group: dict[str, Any], param: Any, grad: Any) -> Any:
    """L2 (added to the gradient) or decoupled (``p *= 1 - lr * wd``) weight decay."""
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return grad
    if group["decoupled_weight_decay"]:
        param.mul_(1 - group["lr"] * weight_decay)
        return grad
    return grad + weight_decay * param


class NAdam(Optimizer):
    """NAdam (Dozat, 2016): Adam with Nesterov momentum and momentum decay, PyTorch's formulation.

    Per parameter at step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``)::

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        P_t = P_{t-1} * mu_t                                   (P_0 = 1: ``mu_product``)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / d - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    Weight decay is an L2 term on ``g``, or decoupled (``p *= 1 - lr * wd``) with
    ``decoupled_weight_decay=True`` (NAdamW). Defaults as PyTorch: ``lr=2e-3``,
    ``betas=(0.9, 0.999)``, ``eps=1e-8``, ``weight_decay=0``, ``momentum_decay=4e-3``.
    State per parameter: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_betas("NAdam", betas, lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        momentum_decay = group["momentum_decay"]
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:
                # a 0-d tensor of the scalar dtype, as PyTorch's (its float32 rounding is part of the rule)
                state = self.state[param] = _adam_state(param, mu_product=sg.ones((), dtype=_scalar_dtype()))
            state["step"] += 1
            t = state["step"]
            grad = _decay(group, param, grad)
            mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
            mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
            state["mu_product"].mul_(mu)
            mu_product = state["mu_product"].item()
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq / (1 - beta2**t)).sqrt_().add_(eps)
            param.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product))
            param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product * mu_next))


class RAdam(Optimizer):
    """RAdam (Liu et al., 2020): Adam whose adaptive term is switched on as the variance of its
    estimate becomes tractable, PyTorch's formulation.

    Per parameter at step ``t`` (from 1), with ``g`` the gradient (negated when ``maximize``)::

        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - lr * m / (1 - beta1**t) * r * sqrt(1 - beta2**t) / (sqrt(v) + eps)
        else:
            p = p - lr * m / (1 - beta1**t)

    Weight decay as NAdam's. Defaults as PyTorch: ``lr=1e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=0``. State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_betas("RAdam", betas, lr=lr, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        rho_inf = 2 / (1 - beta2) - 1
        for param, grad in self._params_with_grad(group):
            state = self.state.get(param)
            if state is None:
                state = self.state[param] = _adam_state(param)
            state["step"] += 1
            t = state["step"]
            grad = _decay(group, param, grad)
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            correction2 = 1 - beta2**t
            corrected = exp_avg / (1 - beta1**t)
            rho_t = rho_inf - 2 * t * beta2**t / correction2
            if rho_t > 5:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                adaptive = math.sqrt(correction2) / exp_avg_sq.sqrt().add_(eps)
                param.add_(corrected * lr * adaptive * rect, alpha=-1.0)
            else:
                param.add_(corrected * lr, alpha=-1.0)
