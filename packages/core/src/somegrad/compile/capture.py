"""Recording a step: every kernel that runs, over numbered buffers (slots).

A `Recorder` is a dispatch mode. While the step runs eagerly under it, it sees

* each op whose backend kernel runs (`apply`: a primitive, or an explicit composite with a
  kernel; an implicit composite is seen as the ops it is made of), each creation or random op
  (`create`), and each in-place or multi-tensor kernel (`kernel`: `add_`, `foreach_adam_step_`);
* through the backend itself, for the recording only: array copies into a tensor (`assign`,
  the generic in-place path), arrays made from host data (`from_numpy`: `sg.tensor(...)`) and
  host reads (`to_numpy`: `.item()`, `bool(t)`, `.numpy()`, printing a tensor).

Each array it meets gets a slot: an *input* (the data of a tensor the step was called with),
an *external* (an array that existed before: a parameter, an optimizer's state, a constant),
or *produced* (the result of an entry). An `Entry` is one kernel call with its arguments as
slot numbers; the list of them is the step, ready to be turned into a `Program`.

What cannot be replayed is noted (`refusals`) and the step still runs to its end eagerly, so a
refused call has had its effects exactly once: the caller raises, or returns the eager result
(`allow_fallback=True`).
"""

from __future__ import annotations

import sys
import types
import weakref
from dataclasses import dataclass, field

from somegrad.ops import dispatch
from somegrad.tensor import Tensor

__all__ = ["Entry", "Slot", "Recorder", "Refusal", "capturing"]

_active: list = []  # the recorders running now (a recording does not nest)


def capturing() -> bool:
    """Whether a step is being recorded now (optimizers and schedulers ask, to refuse early)."""
    return bool(_active)


@dataclass(frozen=True)
class Slot:
    """A buffer of the recorded step, by number (inside an entry's arguments)."""

    index: int


@dataclass
class Entry:
    """One kernel call: `fn(*args, **kwargs)`, arrays replaced by `Slot`s.

    kind: "op" (result into `outs`), "create" (`fn(device=..., **kwargs)`), "kernel" (in
    place into `writes`), "assign" (`fn(dst, src)`), "host" (an array from host data).
    `outs` are the produced slots (None where an output is not computed); `view` marks an
    op whose result shares its first input's memory (reshape, permute, getitem)."""

    kind: str
    name: str
    fn: object
    args: tuple
    kwargs: dict
    outs: tuple = ()
    writes: tuple = ()
    view: bool = False
    fused: object = None  # set by fusion: the group this entry belongs to


@dataclass
class Refusal:
    op: str
    reason: str

    def __str__(self):
        return f"{self.op}: {self.reason}"


@dataclass
class SlotInfo:
    kind: str  # "input", "external", "produced"
    shape: tuple
    dtype: object
    array: object = None  # externals only: the array the replay reads
    producer: int = -1  # the entry that produced it


_HOST_READS = {
    "item": "Tensor.item()",
    "__bool__": "bool(tensor)",
    "numpy": "Tensor.numpy()",
    "tolist": "Tensor.tolist()",
    "__repr__": "printing a tensor",
    "__str__": "printing a tensor",
    "__format__": "formatting a tensor",
    "__array__": "numpy.asarray(tensor)",
    "__float__": "float(tensor)",
    "__int__": "int(tensor)",
    "__index__": "using a tensor as an index",
}


# Host reads that only validate (their value decides whether to raise, nothing else): allowed
# while recording, and not repeated by a replay. (file name ending, function)
VALIDATION_READS = {
    ("ops/nn/embedding.py", "embedding"): "embedding's index bounds check",
    ("ops/indexing.py", "_index_tensor"): "an index bounds check (gather, scatter, take_along_dim)",
    ("ops/indexing.py", "_index_array"): "an index bounds check (indexing with a tensor)",
    ("ops/nn/loss.py", "check_class_indices"): "a loss's class index check",
}


def _validation_read():
    frame = sys._getframe(2)
    for _ in range(6):
        if frame is None:
            return None
        code = frame.f_code
        for (suffix, function), what in VALIDATION_READS.items():
            if code.co_name == function and code.co_filename.replace("\\", "/").endswith(suffix):
                return what
        frame = frame.f_back
    return None


def _host_read_name() -> str:
    # The Tensor method that asked for the values, read off the stack: the error names it.
    frame: types.FrameType | None = sys._getframe(2)
    found = "a host read of a tensor's values"
    for _ in range(8):
        if frame is None:
            break
        name = _HOST_READS.get(frame.f_code.co_name)
        if name is not None:
            found = name
        frame = frame.f_back
    return found


def _closure(fn) -> dict:
    code = getattr(fn, "__code__", None)
    if code is None or not fn.__closure__:
        return {}
    return {name: cell.cell_contents for name, cell in zip(code.co_freevars, fn.__closure__)}


def _kernel_call(run):
    """The (kernel, args, kwargs) that `dispatch.run_kernel`'s `run()` will call, read from its
    closure (or its `call` attribute, where dispatch sets one); None when they cannot be seen."""
    call = getattr(run, "call", None)
    if call is not None:
        return call
    step = _closure(run).get("step")
    cells = _closure(step) if step is not None else {}
    if "kernel" not in cells:
        return None
    return cells["kernel"], cells.get("args", ()), cells.get("kwargs", {})


class Recorder(dispatch.DispatchMode):
    """Record the kernels a step runs; see the module docstring."""

    def __init__(self, inputs):
        self.entries: list[Entry] = []
        self.slots: list[SlotInfo] = []
        self.refusals: list[Refusal] = []
        self.tensors: list = []  # (weakref to a Tensor an op returned, its slot)
        self._ids: dict[int, tuple[int, object]] = {}  # id(array) -> (slot, weakref or array)
        self._depth = 0
        self._patched: list = []
        self.replay_inputs: list = []  # (array, getter): refilled before each replay
        self.skipped_checks: list = []  # validation-only host reads a replay does not repeat
        self.owners: dict[int, list] = {}  # external slot -> weakrefs to tensors seen holding it
        self.input_slots = [self._new(t._data, "input") for t in inputs]

    # --- slots ------------------------------------------------------------------------------
    def _new(self, array, kind, producer=-1):
        index = len(self.slots)
        try:
            ref = weakref.ref(array)
        except TypeError:  # arrays without weak references are kept alive instead
            ref = _Strong(array)
        self._ids[id(array)] = (index, ref)
        self.slots.append(
            SlotInfo(kind, tuple(array.shape), array.dtype, array if kind == "external" else None, producer)
        )
        return index

    def slot_of(self, array):
        """The slot of `array`, made an external one when it was never seen."""
        known = self._ids.get(id(array))
        if known is not None and known[1]() is array:
            return known[0]
        return self._new(array, "external")

    def _map(self, value):
        # Arrays anywhere in the arguments become Slots; lists, tuples and dicts are walked.
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, Tensor):
            self.refuse("kernel arguments", "a Tensor object passed to a kernel (not its data)")
            return value
        if isinstance(value, (list, tuple)):
            mapped = [self._map(v) for v in value]
            return mapped if isinstance(value, list) else tuple(mapped)
        if isinstance(value, dict):
            return {k: self._map(v) for k, v in value.items()}
        if hasattr(value, "shape") and hasattr(value, "dtype") and getattr(value, "ndim", None) is not None:
            return Slot(self.slot_of(value))
        return value

    def _produce(self, array, entry_index, tensor=None):
        if array is None:
            return None
        slot = self._new(array, "produced", entry_index)
        if tensor is not None:
            self.tensors.append((weakref.ref(tensor), slot))
        return slot

    def _owners(self, tensors):
        # The tensors that hold an external array (a parameter, a state buffer): a replay checks
        # that one of them still does, since `p.data = ...` or `.to()` would leave the recorded
        # array behind.
        for t in tensors:
            known = self._ids.get(id(t._data))
            if known is None or self.slots[known[0]].kind != "external":
                continue
            owners = self.owners.setdefault(known[0], [])
            if not any(ref() is t for ref in owners):
                owners.append(weakref.ref(t))

    def refuse(self, op, reason):
        if not any(r.op == op and r.reason == reason for r in self.refusals):
            self.refusals.append(Refusal(op, reason))

    # --- the dispatch mode --------------------------------------------------------------------
    def apply(self, spec, inputs, params, proceed):
        if self._depth or not inputs:
            return proceed(spec, inputs, params)
        backend = dispatch._backend(inputs[0].device)
        kernel = dispatch.resolve(backend, spec)
        if kernel is None:  # a decomposition: the ops it is made of come through here
            return proceed(spec, inputs, params)
        arrays = [t._data for t in inputs]
        args = ([self._map(a) for a in arrays],) if spec.variadic else tuple(self._map(a) for a in arrays)
        self._owners(inputs)
        kwargs = self._map(dict(params))
        self._depth += 1
        try:
            out = proceed(spec, inputs, params)
        finally:
            self._depth -= 1
        index = len(self.entries)
        outs = out if isinstance(out, tuple) else (out,)
        if any(o is not None and None in o._data.shape for o in outs):  # pragma: no cover (arrays know shapes)
            self.refuse(spec.name, "an output of unknown shape")
        if spec.outputs == 1 and spec.infer(*inputs, **params)[0] is None:
            self.refuse(
                spec.name,
                "its output's shape depends on the values of its input (data-dependent shape): the "
                "recorded shape would be wrong for other values",
            )
        first = out._data if not isinstance(out, tuple) else None
        view = first is not None and bool(arrays) and dispatch._is_view(first, arrays[0]) and spec.view
        slots = tuple(self._produce(None if o is None else o._data, index, o) for o in outs)
        self.entries.append(Entry("op", spec.name, kernel, args, kwargs, slots, view=view))
        return out

    def create(self, spec, device, params, proceed):
        out = proceed(spec, device, params)
        kernel = dispatch.resolve(dispatch._backend(device), spec)
        index = len(self.entries)
        slot = self._produce(out._data, index, out)
        entry = Entry("create", spec.name, kernel, (), {"device": device, **self._map(dict(params))}, (slot,))
        self.entries.append(entry)
        return out

    def kernel(self, name, tensors, run):
        call = _kernel_call(run)
        if call is None:
            self.refuse(name, "the arguments of this in-place kernel cannot be seen by the recording")
            return run()
        fn, args, kwargs = call
        margs, mkwargs = self._map(tuple(args)), self._map(dict(kwargs))
        result = run()
        if result is NotImplemented:  # declined before writing: the per-tensor path follows
            return result
        if result is not None and hasattr(result, "shape"):
            self.refuse(name, "an in-place kernel that returned an array")
        writes = tuple(self.slot_of(t._data) for t in tensors)
        self._owners(tensors)
        self.entries.append(Entry("kernel", name, fn, margs, mkwargs, writes=writes))
        return result

    # --- the backend's own calls, for the recording only ---------------------------------------
    def __enter__(self):
        if _active:
            raise RuntimeError("compile: a compiled function was called while another one was being recorded")
        _active.append(self)
        return super().__enter__()

    def __exit__(self, *exc):
        _active.remove(self)
        self.unpatch()
        return super().__exit__(*exc)

    def patch(self, backend):
        """Watch `backend`'s assign, from_numpy and to_numpy while recording (instance
        attributes, removed by `unpatch`)."""
        if any(b is backend for b, _ in self._patched):
            return
        recorder = self
        assign, from_numpy, to_numpy = backend.assign, backend.from_numpy, backend.to_numpy

        def watched_assign(destination, source):
            assign(destination, source)
            d, s = recorder._map(destination), recorder._map(source)
            recorder.entries.append(Entry("assign", "assign", assign, (d, s), {}, writes=(d.index,)))

        def watched_from_numpy(array, dtype, device, copy=True):
            import numpy as np

            result = from_numpy(array, dtype, device, copy)
            host = np.array(array, copy=True)
            index = len(recorder.entries)
            slot = recorder._produce(result, index)
            recorder.entries.append(Entry("host", "from_numpy", from_numpy, (host, dtype, device, True), {}, (slot,)))
            return result

        def watched_to_numpy(array):
            check = _validation_read()
            if check is not None:
                if check not in recorder.skipped_checks:
                    recorder.skipped_checks.append(check)
                return to_numpy(array)
            recorder.refuse(
                _host_read_name(),
                "a host read: the value is read in Python once, while recording, and a replay would "
                "reuse it (keep the value in a tensor, or read it outside the compiled function)",
            )
            return to_numpy(array)

        backend.assign, backend.from_numpy, backend.to_numpy = watched_assign, watched_from_numpy, watched_to_numpy
        self._patched.append((backend, ("assign", "from_numpy", "to_numpy")))

    def unpatch(self):
        for backend, names in self._patched:
            for name in names:
                backend.__dict__.pop(name, None)
        self._patched.clear()


class _Strong:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


@dataclass
class Recording:
    """What one recorded call left: the entries and slots, the outputs and bindings."""

    entries: list
    slots: list
    input_slots: list
    refusals: list
    outputs: list = field(default_factory=list)  # per returned leaf: slot or ("const", value)
    bindings: list = field(default_factory=list)  # (weakref to a Tensor alive after the step, slot)
    replay_inputs: list = field(default_factory=list)  # (array, getter)
