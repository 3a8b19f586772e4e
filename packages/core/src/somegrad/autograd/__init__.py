"""Reverse-mode automatic differentiation: grad modes, the graph, the backward walk and custom Functions."""

from somegrad.autograd import function
from somegrad.autograd.engine import backward, grad
from somegrad.autograd.function import Function, FunctionCtx, once_differentiable
from somegrad.autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from somegrad.autograd.graph import Node

__all__ = [
    "backward",
    "grad",
    "Node",
    "Function",
    "FunctionCtx",
    "once_differentiable",
    "function",
    "no_grad",
    "enable_grad",
    "inference_mode",
    "is_inference_mode_enabled",
    "set_grad_enabled",
    "is_grad_enabled",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "detect_anomaly",
]
