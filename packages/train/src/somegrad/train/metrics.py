"""Metrics for ``fit`` and ``evaluate``: functions ``metric(output, target) -> number``.

A metric returns the mean over the batch (a float or a one-element tensor); the loops average it
over the epoch weighted by batch size. Pass them by name (``metrics=["accuracy"]``) or as a
dict ``{"name": function}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import somegrad as sg

__all__ = ["accuracy", "top_k_accuracy", "resolve_metrics", "METRICS"]


def accuracy(output: Any, target: Any) -> float:
    """Fraction of rows whose largest logit is the target class.

    output: (N, C) logits or probabilities; target: (N,) class indices.
    """
    if output.ndim != 2 or target.ndim != 1 or output.shape[0] != target.shape[0]:
        raise ValueError(
            f"accuracy: expected output (N, C) and target (N,), got {tuple(output.shape)} and {tuple(target.shape)}"
        )
    with sg.no_grad():
        predicted = output.argmax(dim=1)
        return (predicted == target).float().mean().item()


def top_k_accuracy(k: int) -> Callable[[Any, Any], float]:
    """A metric: fraction of rows whose target is among the ``k`` largest logits."""

    def metric(output: Any, target: Any) -> float:
        with sg.no_grad():
            top = output.topk(k, dim=1).indices
            hits = (top == target.reshape(-1, 1)).float().sum(dim=1)
            return hits.mean().item()

    metric.__name__ = f"top{k}_accuracy"
    return metric


METRICS: dict[str, Callable[[Any, Any], Any]] = {
    "accuracy": accuracy,
    "top5_accuracy": top_k_accuracy(5),
}


def resolve_metrics(
    metrics: Mapping[str, Callable[[Any, Any], Any]] | Iterable[Any] | None,
) -> dict[str, Callable[[Any, Any], Any]]:
    """``None``, names, functions, or a dict of them -> ``{name: function}``."""
    if metrics is None:
        return {}
    if isinstance(metrics, Mapping):
        return dict(metrics)
    resolved = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
            resolved[metric] = METRICS[metric]
        elif callable(metric):
            resolved[getattr(metric, "__name__", type(metric).__name__)] = metric
        else:
            raise TypeError(f"a metric must be a name or a function, got {type(metric).__name__}")
    if "loss" in resolved:
        raise ValueError("'loss' is reserved for the loss; give the metric another name")
    return resolved
