"""Switches: whether ops record the graph (per thread), and anomaly detection (process-wide)."""

from __future__ import annotations

import functools
import threading

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "detect_anomaly",
]

_state = threading.local()


def is_grad_enabled() -> bool:
    """Whether ops on tensors that require grad record the graph (per thread)."""
    return getattr(_state, "enabled", True)


class set_grad_enabled:
    """Turn graph recording on or off, as a function, context manager or decorator.

    `set_grad_enabled(False)` takes effect at once (like PyTorch); used with `with`, the
    previous mode comes back on exit.
    """

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)

        _state.enabled = self.prev  # creating the decorator must not change the mode
        return wrapper


class _GradModeContext:
    mode: bool

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator: ops inside record no graph (in this thread)."""

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turn recording back on inside a `no_grad` block."""

    mode = True


class _Anomaly:
    # Process-wide, as in PyTorch: a debugging switch, not a per-thread mode.
    enabled = False


def is_anomaly_enabled() -> bool:
    return _Anomaly.enabled


def set_detect_anomaly(mode: bool) -> None:
    """When on, every forward and backward result is checked for NaN/inf, and the first op
    that produced one raises a RuntimeError naming it. Slow: for debugging. Process-wide."""
    _Anomaly.enabled = bool(mode)


class _unchecked_forward:
    """While a backward rule runs, the ops it is made of are not checked one by one (the
    engine checks the node's result and names the node). Per thread, unlike the mode itself."""

    def __enter__(self):
        self.prev = getattr(_state, "unchecked", False)
        _state.unchecked = True

    def __exit__(self, *exc):
        _state.unchecked = self.prev


class detect_anomaly:
    """Context manager form of `set_detect_anomaly(True)`."""

    def __enter__(self):
        self.prev = is_anomaly_enabled()
        set_detect_anomaly(True)

    def __exit__(self, *exc):
        set_detect_anomaly(self.prev)
