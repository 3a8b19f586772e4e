"""somegrad.compile: record a step's kernels once, replay them without the Python.

    step = sg.compile(train_step)          # or @sg.compile
    for x, y in batches:
        loss = step(x, y)                  # 1: eager, 2-3: eager and recorded, then replayed
    print(step.explain())                  # the kernel list, fused groups, buffers, refusals

How it works (docs/compile.md has the whole story, with a diagram):

1. The first call with a given signature (the guards: input shapes, dtypes, devices,
   `requires_grad`, the grad mode, the train/eval mode of the modules the function reaches, the
   Python values among its arguments) runs eagerly: optimizers create their state, caches fill.
2. The next two calls run eagerly under a `Recorder` (a dispatch mode) that writes down every
   kernel that runs, forward, backward and optimizer alike, over numbered buffers. The two
   recordings must agree, kernel for kernel and value for value: a Python number that changed
   between them (a learning rate, a step count) would be replayed stale, so it is refused.
3. Later calls run the recorded kernels (`Program`: generated straight-line Python with a
   memory plan and fused elementwise runs) on the new inputs' arrays, return the outputs as new
   Tensors and leave parameters, their `.grad` and optimizer state updated in place.

What cannot be replayed (a host read such as `.item()` or printing, a data-dependent shape as
`nonzero`'s, a Python value that changes per call) raises `CaptureError` naming the op and the
reason, after the call has run eagerly once; `allow_fallback=True` runs such a function eagerly
from then on instead. A signature seen for the first time records again; at most `cache_size`
signatures are kept (then `CaptureError`, or eager with `allow_fallback`).
"""

from __future__ import annotations

import functools
import types
import weakref

from somegrad.autograd.grad_mode import _Anomaly, is_grad_enabled
from somegrad.compile.capture import Recorder, Recording, Slot, capturing
from somegrad.compile.program import Program
from somegrad.dtypes import get_default_dtype
from somegrad.ops import dispatch
from somegrad.tensor import Tensor

__all__ = ["compile", "CompiledFunction", "CaptureError", "capturing", "refuse", "replay_input"]


class CaptureError(RuntimeError):
    """A step that cannot be recorded and replayed faithfully; the message says which op and why."""


def refuse(op: str, reason: str) -> None:
    """Called by code that knows it cannot be replayed (a non-capturable optimizer step, a
    scheduler's step): noted in the recording running now, if any, as a refusal."""
    from somegrad.compile.capture import _active

    for recorder in _active:
        recorder.refuse(op, reason)


def replay_input(tensor: Tensor, getter) -> None:
    """Make `tensor` (persistent, read by the step being recorded now) a replay-time input:
    before each replay its value is set to `getter()`, a Python number (an optimizer's
    learning rate, which a scheduler changes between calls). Nothing happens outside a recording."""
    from somegrad.compile.capture import _active

    for recorder in _active:
        recorder.replay_inputs.append((tensor._data, getter))


def compile(fn=None, *, allow_fallback: bool = False, cache_size: int = 8, fuse: bool = True, **options):
    """Compile `fn` (a function or a Module): see the module docstring. Also a decorator,
    with or without arguments: `@sg.compile` and `@sg.compile(allow_fallback=True)`.

    PyTorch's `mode`, `fullgraph`, `dynamic` and `backend` options are accepted and ignored."""
    if fn is None:
        return functools.partial(compile, allow_fallback=allow_fallback, cache_size=cache_size, fuse=fuse)
    return CompiledFunction(fn, allow_fallback=allow_fallback, cache_size=cache_size, fuse=fuse)


# --- arguments as leaves -----------------------------------------------------------------------
def _flatten(value, leaves):
    """The structure of `value` with its Tensors replaced by their positions in `leaves`."""
    if isinstance(value, Tensor):
        leaves.append(value)
        return ("T", len(leaves) - 1)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_flatten(v, leaves) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((k, _flatten(v, leaves)) for k, v in value.items()))
    return ("V", value)


def _unflatten(spec, leaves):
    kind, body = spec
    if kind == "T":
        return leaves[body]
    if kind == "V":
        return body
    if kind is dict:
        return {k: _unflatten(v, leaves) for k, v in body}
    items = [_unflatten(v, leaves) for v in body]
    return items if kind is list else kind(items) if kind is not tuple else tuple(items)


def _hashable(spec):
    try:
        hash(spec)
        return spec
    except TypeError:
        return ("unhashable", id(spec))


def _modules(fn, args, kwargs):
    """The Modules the function reaches: itself, its `self`, its arguments, its closure cells
    and the globals it names; their train/eval modes are part of the guard."""
    try:
        from somegrad import nn
    except ImportError:
        return []
    Module = nn.Module
    found = []
    candidates = [fn, getattr(fn, "__self__", None), *args, *kwargs.values()]
    code = getattr(fn, "__code__", None)
    if code is not None:
        candidates += [c.cell_contents for c in fn.__closure__ or () if _filled(c)]
        g = getattr(fn, "__globals__", {})
        candidates += [g[name] for name in code.co_names if name in g]
    for c in candidates:
        if isinstance(c, Module) and all(c is not m for m in found):
            found.append(c)
    return found


def _filled(cell):
    try:
        return cell.cell_contents is not _unset
    except ValueError:  # a closure variable not assigned yet
        return False


_unset = object()


class _Signature:
    """What one guard key holds: calls seen, the recordings, the program."""

    __slots__ = ("calls", "first", "program", "eager", "structure", "out_meta")

    def __init__(self):
        self.calls = 0
        self.first = None
        self.program = None
        self.eager = False


class CompiledFunction:
    """`fn` recorded and replayed per signature (see `compile`)."""

    def __init__(self, fn, *, allow_fallback=False, cache_size=8, fuse=True):
        self.fn = fn
        self.allow_fallback = allow_fallback
        self.cache_size = cache_size
        self.fuse = fuse
        self.signatures: dict = {}
        self.refusals: list = []
        functools.update_wrapper(self, fn, updated=())

    def _key(self, args, kwargs):
        leaves = []
        structure = _flatten((args, kwargs), leaves)
        seen = {}
        metas = []
        for t in leaves:
            metas.append(
                (tuple(t._data.shape), t.dtype, t.device, t.requires_grad, seen.setdefault(id(t._data), len(seen)))
            )
        modes = tuple(m.training for module in self._module_list(args, kwargs) for m in module.modules())
        # the dispatch modes active around the call (autocast, a profiler) and the default dtype
        # change which kernels run: a replay recorded without them must not run under them
        around = tuple(type(m).__qualname__ for m in dispatch._modes), get_default_dtype(), _Anomaly.enabled
        return (_hashable(structure), tuple(metas), is_grad_enabled(), modes, around), leaves

    def _module_list(self, args, kwargs):
        modules = getattr(self, "_modules_cache", None)
        if modules is None:
            modules = self._modules_cache = _modules(self.fn, args, kwargs)
        return modules

    def __call__(self, *args, **kwargs):
        if capturing():  # called inside another compiled function's recording: part of it
            return self.fn(*args, **kwargs)
        key, leaves = self._key(args, kwargs)
        sig = self.signatures.get(key)
        if sig is None:
            if len(self.signatures) >= self.cache_size:
                return self._refused(
                    "compile",
                    f"more than cache_size={self.cache_size} different signatures (shapes, dtypes, modes or "
                    "Python values among the arguments): recording again for each would cost more than it saves",
                    args,
                    kwargs,
                    ran=False,
                )
            sig = self.signatures[key] = _Signature()
        if sig.eager:
            return self.fn(*args, **kwargs)
        sig.calls += 1
        if sig.program is not None:
            if _moved(sig.program.recording):
                # a parameter or state buffer has a new array (`p.data = ...`, `.to()`, a grad set to
                # None outside): the program would update the old one; start over from an eager call
                sig.program, sig.calls = None, 1
                return self.fn(*args, **kwargs)
            return self._replay(sig, leaves)
        if sig.calls == 1:
            return self.fn(*args, **kwargs)
        result, recording = self._record(leaves, args, kwargs)
        if recording.refusals:
            self.refusals = list(recording.refusals)
            return self._refused(str(recording.refusals[0].op), recording.refusals[0].reason, result=result)
        if sig.first is None:
            sig.first = recording
            return result
        difference = _compare(sig.first, recording)
        if difference is not None:
            self.refusals = [difference]
            return self._refused(difference.op, difference.reason, result=result)
        sig.first = None
        sig.program = Program(
            recording, dispatch._backend(leaves[0].device if leaves else _device_of(recording)), fuse=self.fuse
        )
        sig.program.allocate(_empty(sig.program.backend))
        graph = getattr(sig.program.hooks, "graph", None)
        if graph is not None:  # a backend that replays the whole step as one graph (cuda)
            sig.program.runner = graph(sig.program)
        self._last = sig.program
        return result

    def _refused(self, op, reason, args=None, kwargs=None, result=None, ran=True):
        message = f"compile: cannot replay {getattr(self.fn, '__qualname__', self.fn)!r}: {op}: {reason}" + (
            " (this call ran eagerly)" if ran else ""
        )
        if not self.allow_fallback:
            raise CaptureError(message)
        for sig in self.signatures.values():
            sig.eager = True
        self.fallback_reason = message
        return result if ran else self.fn(*args, **kwargs)

    # --- recording ------------------------------------------------------------------------------
    def _record(self, leaves, args, kwargs):
        from somegrad import backends

        recorder = Recorder(leaves)
        with recorder:
            for backend in list(backends._backend_cache.values()):
                recorder.patch(backend)
            result = self.fn(*args, **kwargs)
        out_leaves = []
        structure = _flatten(result, out_leaves)
        recording = Recording(recorder.entries, recorder.slots, recorder.input_slots, recorder.refusals)
        recording.replay_inputs = recorder.replay_inputs
        recording.skipped_checks = recorder.skipped_checks
        recording.owners = [(refs, recording.slots[slot].array) for slot, refs in recorder.owners.items()]
        # each parameter's .grad as the step left it: the next call must find the same tensor there
        # (a replay rebinds its array, never the attribute), else it was cleared or replaced outside
        recording.grads = [
            (weakref.ref(p), p.grad) for module in self._module_list(args, kwargs) for p in module.parameters()
        ]
        returned = set()
        for t in out_leaves:
            if t.grad_fn is not None and t.grad_fn.saved:
                recorder.refuse(
                    "output",
                    "a returned tensor still carries a graph that a later backward would need; call backward() "
                    "inside the compiled function, or return a detached tensor",
                )
            slot = recorder.slot_of(t._data)
            recording.outputs.append(slot)
            returned.add(id(t))
        for ref, slot in recorder.tensors:
            t = ref()
            if t is None or id(t) in returned or recording.slots[slot].kind != "produced":
                continue
            if recorder._ids.get(id(t._data), (None,))[0] == slot:
                recording.bindings.append((ref, slot))
        recording.structure = structure
        recording.out_meta = [(t.dtype, t.device, t.requires_grad) for t in out_leaves]
        return result, recording

    # --- replaying --------------------------------------------------------------------------------
    def _replay(self, sig, leaves):
        program = sig.program
        rec = program.recording
        runner = getattr(program, "runner", program)
        arrays = runner.run([t._data for t in leaves])
        n = len(rec.outputs)
        outs = []
        for array, (dtype, device, _requires_grad) in zip(arrays[:n], rec.out_meta):
            outs.append(Tensor._make(array, dtype, device))
        for (ref, _slot), array in zip(rec.bindings, arrays[n:]):
            t = ref()
            if t is not None:
                t._data = array
        return _unflatten(rec.structure, outs)

    # --- explaining -----------------------------------------------------------------------------
    def explain(self, file=None) -> str:
        """Print (and return) what was recorded: per signature its kernels, fused groups,
        buffers and generated replay, and the refusals."""
        parts = []
        for i, (key, sig) in enumerate(self.signatures.items()):
            shapes = ", ".join(str(m[0]) for m in key[1])
            state = "eager" if sig.eager else "replayed" if sig.program else f"{sig.calls} call(s), not yet replayed"
            parts.append(f"signature {i}: inputs {shapes}; grad mode {key[2]}; {state}")
            if sig.program is not None:
                parts.append(sig.program.explain())
                for check in getattr(sig.program.recording, "skipped_checks", ()):
                    parts.append(f"  not repeated at replay: {check} (a host read that only validates)")
        if self.refusals:
            parts.append("refused:")
            parts += [f"  {r}" for r in self.refusals]
        text = "\n".join(parts) or "nothing recorded yet"
        print(text, file=file)
        return text


def _moved(recording) -> bool:
    """Whether some external array of the recording is no longer held by any tensor that held it,
    or a parameter's .grad is another tensor (or None) than the step left there."""
    for ref, grad in recording.grads:
        p = ref()
        if p is not None and p.grad is not grad:
            return True
    for refs, array in recording.owners:
        for ref in refs:
            t = ref()
            if t is not None and t._data is array:
                break
        else:
            return True
    return False


def _device_of(recording):
    from somegrad.device import device

    for entry in recording.entries:
        if entry.kind == "create":
            return entry.kwargs["device"]
    return device("cpu")


def _empty(backend):
    def empty(shape, dtype):
        import numpy as np

        module = np
        if type(backend).__module__.startswith("somegrad_cuda"):
            import cupy as module  # noqa: F811
        return module.empty(shape, dtype)

    return empty


def _same(a, b) -> bool:
    if isinstance(a, Slot) or isinstance(b, Slot):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        import numpy as np

        return hasattr(b, "shape") and a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001  (values that cannot be compared count as different)
        return a is b


def _compare(first, second):
    """None when two recordings of a signature describe the same program, else a Refusal that
    says where they differ (a Python value that changes per call, or different kernels)."""
    from somegrad.compile.capture import Refusal

    if len(first.entries) != len(second.entries):
        return Refusal(
            "compile",
            f"consecutive calls ran different kernels ({len(first.entries)} then {len(second.entries)}): Python "
            "control flow that depends on values that change per call",
        )
    for i, (a, b) in enumerate(zip(first.entries, second.entries)):
        if a.name != b.name or a.kind != b.kind:
            return Refusal("compile", f"kernel {i} was {a.name} at one call and {b.name} at the next")
        for key in a.kwargs.keys() | b.kwargs.keys():
            if not _same(a.kwargs.get(key), b.kwargs.get(key)):
                return Refusal(
                    a.name,
                    f"its argument {key!r} was {a.kwargs.get(key)!r} at one call and {b.kwargs.get(key)!r} at the "
                    "next: a Python value that changes between calls would be replayed stale (keep it in a tensor, "
                    "e.g. an optimizer with capturable=True)",
                )
        if a.kind == "host" and not _same(a.args, b.args):
            return Refusal(
                a.name,
                "the host data copied into a tensor inside the step changes between calls; a replay would copy "
                "the recorded values (pass it as an input of the compiled function instead)",
            )
        if not _same(a.args, b.args) or a.outs != b.outs or a.writes != b.writes:
            return Refusal(a.name, f"kernel {i} read or wrote different buffers at consecutive calls")
    if len(first.replay_inputs) != len(second.replay_inputs):
        return Refusal("compile", "consecutive calls registered different replay-time inputs")
    if len(first.slots) != len(second.slots):
        return Refusal("compile", "consecutive calls used different numbers of buffers")
    for s, (x, y) in enumerate(zip(first.slots, second.slots)):
        if x.kind != y.kind or x.shape != y.shape:
            return Refusal("compile", f"buffer {s} differs between consecutive calls")
        if x.kind == "external" and x.array is not y.array:
            user = next((e.name for e in second.entries if s in _reads(e)), "a kernel")
            return Refusal(
                user,
                "an array it reads entered the step from outside the ops (not an input, an op's result or "
                "a tensor that persists between calls) and is a different one at each call",
            )
    return None


def _reads(entry):
    from somegrad.compile.program import reads

    return reads(entry)


class _CallableModule(types.ModuleType):
    # Importing this package makes `somegrad.compile` the module (the import system sets the
    # attribute), where PyTorch's `torch.compile` is a function: calling the module calls it.
    def __call__(self, fn=None, **options):
        return compile(fn, **options)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
