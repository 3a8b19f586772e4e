"""Reverse-mode automatic differentiation: grad modes, the graph and the backward walk."""

from somegrad.autograd.engine import backward, grad
from somegrad.autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from somegrad.autograd.graph import Node

__all__ = [
    "backward",
    "grad",
    "Node",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "detect_anomaly",
]
