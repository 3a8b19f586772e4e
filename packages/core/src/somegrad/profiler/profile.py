"""`profile` and `record_function`: the dispatch mode and engine observer that record events."""

from __future__ import annotations

import functools
import threading
import time
from enum import Enum

from somegrad.autograd import engine
from somegrad.ops import dispatch
from somegrad.profiler.events import EventList, FunctionEvent
from somegrad.tensor import Tensor

__all__ = ["profile", "record_function", "ProfilerActivity"]


class ProfilerActivity(Enum):
    """What to record, as PyTorch's: CPU (the op calls; on the CUDA backend the time they take
    to launch) and CUDA (accepted; kernel times on the GPU are not recorded separately)."""

    CPU = "cpu"
    CUDA = "cuda"


_active: list[profile] = []  # the profiles recording now (record_function checks it)


class _Frames(threading.local):
    def __init__(self):
        self.open: list[FunctionEvent] = []


def _nbytes(result, inner: set) -> int:
    """Bytes of the new arrays in `result`: not views, and not an array an inner call returned."""
    if isinstance(result, Tensor):
        data = result._data
        if result._base is not None or id(data) in inner:
            return 0
        return int(getattr(data, "nbytes", 0))
    if isinstance(result, (tuple, list)):
        return sum(_nbytes(r, inner) for r in result)
    return 0


def _array_ids(result, into: set) -> None:
    if isinstance(result, Tensor):
        into.add(id(result._data))
    elif isinstance(result, (tuple, list)):
        for r in result:
            _array_ids(r, into)


class profile(dispatch.DispatchMode):
    """Record ops, backward nodes and ranges while active; see the package docstring.

    Args (PyTorch's): activities (default: CPU), record_shapes (the Input Shapes column of
    `key_averages(group_by_input_shape=True)`; the shapes are always kept on the events),
    profile_memory (the CPU Mem columns), with_stack (accepted, not recorded).
    """

    def __init__(self, activities=None, *, record_shapes: bool = False, profile_memory: bool = False, **_):
        self.activities = set(activities) if activities is not None else {ProfilerActivity.CPU}
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self._events: list[FunctionEvent] = []
        self._frames = _Frames()
        self._origin = 0
        self._lock = threading.Lock()

    # --- recording -------------------------------------------------------------------------

    def _now(self) -> float:
        return (time.perf_counter_ns() - self._origin) / 1000.0

    def _open(self, name, kind, shapes=(), kernel="", node=None) -> FunctionEvent:
        frames = self._frames.open
        parent = frames[-1] if frames else None
        if node is None:
            current = engine.current_node()
            node = current.name() if current is not None else ""
        event = FunctionEvent(name, kind, self._now(), threading.get_ident(), parent, len(frames), shapes, kernel, node)
        event.children_memory = 0
        frames.append(event)
        return event

    def _close(self, event: FunctionEvent, result=None, inner=None) -> None:
        event.end_us = self._now()
        frames = self._frames.open
        frames.pop()
        if result is not None:
            event.self_cpu_memory_usage = _nbytes(result, inner or set())
        if event.parent is not None:
            event.parent.children_us += event.cpu_time_total
            event.parent.children_memory += event.cpu_memory_usage
        with self._lock:
            self._events.append(event)

    def _call(self, name, kind, shapes, kernel_of, run):
        event = self._open(name, kind, shapes)
        result = None
        try:
            result = run()
            return result
        finally:
            # arrays an inner call returned (an implicit composite hands on its last op's) are theirs
            inner: set = set()
            for returned in self._inner_results.pop(id(event), ()):
                _array_ids(returned, inner)
            event.kernel = kernel_of() if kernel_of is not None else ""
            if event.parent is not None and result is not None:
                self._inner_results.setdefault(id(event.parent), []).append(result)
            self._close(event, result, inner)

    def apply(self, spec, inputs, params, proceed):
        shapes = tuple(tuple(t.shape) for t in inputs)
        return self._call(
            spec.name, "op", shapes, lambda: _kernel_name(spec, inputs), lambda: proceed(spec, inputs, params)
        )

    def create(self, spec, device, params, proceed):
        shape = params.get("shape")
        shapes = (tuple(shape),) if isinstance(shape, (tuple, list)) else ()
        return self._call(spec.name, "creation", shapes, None, lambda: proceed(spec, device, params))

    def kernel(self, name, tensors, run):
        shapes = tuple(tuple(t.shape) for t in tensors)
        return self._call(name, "kernel", shapes, None, run)

    def node(self, node, run):
        """The engine's observer call: time `node`'s backward (the ops it runs nest inside)."""
        event = self._open(node.name(), "backward", tuple(tuple(meta[0]) for meta in node.input_meta), node="")
        try:
            return run()
        finally:
            self._inner_results.pop(id(event), None)
            self._close(event)

    def _range(self, name):
        return self._open(name, "range", node="")

    # --- the context manager ---------------------------------------------------------------

    def __enter__(self):
        self._events = []
        self._inner_results: dict[int, list] = {}
        self._origin = time.perf_counter_ns()
        super().__enter__()
        engine._observers.append(self)
        _active.append(self)
        return self

    def __exit__(self, *exc):
        _active.remove(self)
        engine._observers.remove(self)
        super().__exit__(*exc)
        return False

    def start(self) -> None:
        self.__enter__()

    def stop(self) -> None:
        self.__exit__(None, None, None)

    # --- results -----------------------------------------------------------------------------

    def events(self) -> EventList:
        """Every recorded event, in the order they started."""
        return EventList(sorted(self._events, key=lambda e: (e.start_us, e.depth)), profile_memory=self.profile_memory)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape=group_by_input_shape)

    def export_chrome_trace(self, path) -> None:
        self.events().export_chrome_trace(path)

    def table(self, *args, **kwargs) -> str:
        return self.key_averages().table(*args, **kwargs)


def _kernel_name(spec, inputs) -> str:
    """What ran the op on its inputs' device: the backend's kernel, its decomposition, or
    nothing of its own (an implicit composite, made of the ops recorded inside it)."""
    if not inputs:
        return ""
    backend = dispatch._backend(inputs[0].device)
    if spec.decompose is not None and not spec.explicit:
        return ""
    try:
        kernel = dispatch.resolve(backend, spec)
    except NotImplementedError:
        return ""
    return backend.name if kernel is not None else f"{backend.name}, decomposed"


class record_function:
    """A named range in the profile (`with record_function("attention"): ...`, or as a
    decorator); the ops inside nest under it. Outside a profile it does nothing."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self._events: list = []

    def __enter__(self):
        self._events = [(p, p._range(self.name)) for p in _active]
        return self

    def __exit__(self, *exc):
        for p, event in self._events:
            p._inner_results.pop(id(event), None)
            p._close(event)
        self._events = []
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)

        return wrapper
