"""Switches: whether ops record the graph (per thread), and anomaly detection (process-wide)."""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "detect_anomaly",
]

_state = threading.local()


def is_grad_enabled() -> bool:
    """Whether ops on tensors that require grad record the graph (per thread)."""
    return getattr(_state, "enabled", True)


def _decorate(make_context, fn):
    """`fn` run inside a fresh `make_context()`; for a generator function, each step of the
    generator runs inside it (the caller's mode is back between steps), as in PyTorch."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with make_context():
                    request = next(gen)
                while True:
                    try:
                        received = yield request
                    except GeneratorExit:
                        gen.close()
                        raise
                    except BaseException as exc:
                        with make_context():
                            request = gen.throw(exc)
                    else:
                        with make_context():
                            request = gen.send(received)
            except StopIteration as stop:
                return stop.value

        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
            return fn(*args, **kwargs)

    return wrapper


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
        _state.enabled = self.prev  # creating the decorator must not change the mode
        mode = self.mode
        return _decorate(lambda: set_grad_enabled(mode), fn)

    def clone(self):
        return self.__class__(self.mode)


class _GradModeContext:
    """A mode switch usable as `with mode():`, `@mode()` and, as in PyTorch 2, bare `@mode`."""

    mode: bool

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def __call__(self, fn):
        return _decorate(self.clone, fn)

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Context manager and decorator: ops inside record no graph (in this thread).

    @sg.no_grad()             # or @sg.no_grad
    def evaluate(model, x): ...
    """

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turn recording back on inside a `no_grad` block."""

    mode = True


class inference_mode:
    """`no_grad` for inference, as a context manager or decorator (`@inference_mode()`,
    bare `@inference_mode`, `inference_mode(False)` to leave the mode as it is).

    Differs from PyTorch: the tensors made inside are ordinary tensors (PyTorch marks them
    "inference tensors" that can never enter a graph); here they simply record no graph,
    which is all the speed a graph-free forward has to gain.
    """

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):  # bare @inference_mode
            self.mode = True
            return self(mode)
        return self

    def __init__(self, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            mode = True
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = is_grad_enabled()
        self.prev_inference = getattr(_state, "inference", False)
        if self.mode:
            _state.enabled = False
            _state.inference = True

    def __exit__(self, *exc):
        _state.enabled = self.prev
        _state.inference = self.prev_inference

    def __call__(self, fn):
        return _decorate(self.clone, fn)

    def clone(self):
        return inference_mode(self.mode)


def is_inference_mode_enabled() -> bool:
    """Whether an `inference_mode()` block is active (in this thread)."""
    return getattr(_state, "inference", False)


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
