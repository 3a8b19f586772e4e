"""A recorded step made a replayable program: a memory plan, fused groups, generated Python.

`Program(recording, backend)` turns the entries into one straight-line Python function, one
line per kernel call, over local variables (one per slot)::

    def replay(v0, v1):            # the input slots
        v4 = k0(v0, v2)            # matmul: v2 is a parameter's array (an external)
        k1(b0, v4, v3)             # add written into the planned buffer b0
        ...
        del v4                     # its last use has passed: freed, as eagerly
        return (v9, v12)           # returned outputs, then bound tensors' new arrays

* Views (reshape, permute, getitem) are replayed too: they are cheap and keep pointing at the
  current arrays.
* Memory plan: a slot is freed (`del`) right after its last use, a view keeping its base alive;
  an op whose backend offers a kernel that writes into a given output (`out_kernel`) takes a
  buffer that an earlier slot of the same shape and dtype no longer needs (a pool of buffers
  allocated once, on the first replay). Returned and bound results are always fresh arrays, as
  eagerly, so a tensor from an earlier call never changes.
* Fusion: runs of consecutive elementwise ops whose intermediates nothing else reads are offered
  to the backend's `fuse(ops)`, which may return one kernel for the run.
"""

from __future__ import annotations

from somegrad.compile.capture import Slot

__all__ = ["Program", "backend_hooks"]

_FUSIBLE_KINDS = frozenset({"elementwise"})


def backend_hooks(backend):
    """The compile hooks of `backend`: its `compile_hooks` attribute, else the `fusion` module of
    the package that defines it (`somegrad_numpy.fusion`), else None."""
    hooks = getattr(backend, "compile_hooks", None)
    if hooks is not None:
        return hooks
    package = type(backend).__module__.split(".")[0]
    try:
        import importlib

        return importlib.import_module(f"{package}.fusion")
    except ImportError:
        return None


def _slots_in(value, found):
    if isinstance(value, Slot):
        found.append(value.index)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _slots_in(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            _slots_in(v, found)
    return found


def reads(entry):
    return _slots_in(entry.kwargs, _slots_in(entry.args, []))


class Program:
    """The replayable form of a `Recording` (see the module docstring)."""

    def __init__(self, recording, backend, *, fuse=True):
        self.recording = recording
        self.entries = recording.entries
        self.slots = recording.slots
        self.backend = backend
        self.hooks = backend_hooks(backend)
        self.groups = []  # fused runs: (first entry index, last entry index, kernel)
        self.kept = set(self._kept_slots())
        if fuse and self.hooks is not None and hasattr(self.hooks, "fuse"):
            self._fuse()
        self.source, self.namespace, self.buffers = self._generate()
        code = compile(self.source, f"<somegrad.compile replay of {len(self.entries)} kernels>", "exec")
        exec(code, self.namespace)
        self.replay = self.namespace["replay"]
        self.context = getattr(self.hooks, "replay_context", None)

    # --- analysis ---------------------------------------------------------------------------------
    def _kept_slots(self):
        rec = self.recording
        kept = [o for o in rec.outputs if isinstance(o, int)]
        kept += [s for _, s in rec.bindings]
        return kept

    def _roots(self):
        """Each slot's root: itself, or for a view the root of the slot it views."""
        root = list(range(len(self.slots)))
        for entry in self.entries:
            if entry.view and entry.outs and entry.outs[0] is not None:
                first = reads(entry)
                if first:
                    root[entry.outs[0]] = root[first[0]]
        return root

    def _at(self, i):
        # A fused run's ops all run where its last one is: uses inside it count there.
        group = self.entries[i].fused
        return i if group is None else self.groups[group][1]

    def _last_uses(self, root):
        last = {}
        for i, entry in enumerate(self.entries):
            i = self._at(i)
            for s in reads(entry) + list(entry.writes):
                last[root[s]] = i
            for s in entry.outs:
                if s is not None:
                    last.setdefault(root[s], i)
                    last[root[s]] = max(last[root[s]], i)
        return last

    def _fuse(self):
        """Find runs of consecutive single-output elementwise ops of one output shape in which
        each result is read only by the next op of the run; offer each run to the backend."""
        from somegrad.ops import OPS

        uses = {}
        for i, entry in enumerate(self.entries):
            for s in reads(entry) + list(entry.writes):
                uses.setdefault(s, []).append(i)
        kept = set(self.kept)

        backend_fusible = getattr(self.hooks, "fusible", None)

        def fusible(entry):
            spec = OPS.get(entry.name)
            return (
                entry.kind == "op"
                and spec is not None
                and spec.kind in _FUSIBLE_KINDS
                and len(entry.outs) == 1
                and entry.outs[0] is not None
                and (backend_fusible is None or backend_fusible(entry, self.slots))
            )

        i, n = 0, len(self.entries)
        while i < n:
            run = [i]
            while fusible(self.entries[run[-1]]) and run[-1] + 1 < n:
                here, following = self.entries[run[-1]], self.entries[run[-1] + 1]
                out = here.outs[0]
                if not fusible(following) or out in kept or uses.get(out, []) != [run[-1] + 1]:
                    break
                if self.slots[following.outs[0]].shape != self.slots[out].shape:
                    break
                run.append(run[-1] + 1)
            if len(run) >= 2 and fusible(self.entries[run[0]]):
                ops = [self.entries[j] for j in run]
                kernel = self.hooks.fuse(ops, self.slots)
                if kernel is not None:
                    self.groups.append((run[0], run[-1], kernel))
                    for e in ops:
                        e.fused = len(self.groups) - 1
            i = run[-1] + 1

    # --- code generation ----------------------------------------------------------------------
    def _generate(self, keep_all=False):
        rec = self.recording
        ns = {}
        lines = []
        root = self._roots()
        last = self._last_uses(root)
        kept_roots = {root[s] for s in self.kept}
        inputs = rec.input_slots
        for s, info in enumerate(self.slots):
            if info.kind == "external":
                ns[f"v{s}"] = info.array
        out_kernel = getattr(self.hooks, "out_kernel", None)
        pool: dict[tuple, list[str]] = {}
        timeline = _Timeline(self, root, last)
        buffers = {}  # name -> (shape, dtype)
        holder = {}  # root slot -> buffer name it occupies
        freed_at: dict[int, list[int]] = {}  # entry index -> roots whose buffers are free after it
        for r, i in last.items():
            if self.slots[r].kind == "produced" and r not in kept_roots:
                freed_at.setdefault(i, []).append(r)
        own_last = {}
        for i, entry in enumerate(self.entries):
            for s in reads(entry) + list(entry.writes) + [o for o in entry.outs if o is not None]:
                own_last[s] = self._at(i)
        kept = set(self.kept)
        del_at: dict[int, list[int]] = {}
        for s, i in own_last.items():
            if self.slots[s].kind == "produced" and s not in kept:
                del_at.setdefault(i, []).append(s)

        def expr(value):
            if isinstance(value, Slot):
                return f"v{value.index}"
            if isinstance(value, list):
                return "[" + ", ".join(expr(v) for v in value) + "]"
            if isinstance(value, tuple):
                return "(" + "".join(expr(v) + ", " for v in value) + ")"
            name = f"c{len(ns)}"
            ns[name] = value
            return name

        def call_kwargs(kwargs):
            if not kwargs:
                return ""
            if not _slots_in(kwargs, []):
                name = f"p{len(ns)}"
                ns[name] = kwargs
                return f"**{name}"
            return ", ".join(f"{k}={expr(v)}" for k, v in kwargs.items())

        def join(*parts):
            return ", ".join(p for p in parts if p)

        kept_all: list[str] = []  # keep_all: every array the replay makes, returned too
        for i, entry in enumerate(self.entries):
            group = entry.fused
            if group is not None:
                first, final, kernel = self.groups[group]
                if i == final:
                    fused_inputs = self._group_inputs(first, final)
                    out = entry.outs[0]
                    inline = getattr(kernel, "inline", None)
                    if inline is not None:  # the run's own lines, in place of a call
                        body, names = inline([f"v{s}" for s in fused_inputs], f"v{out}")
                        ns.update(names)
                        lines.extend(body)
                    else:
                        ns[f"g{group}"] = kernel
                        lines.append(f"v{out} = g{group}({', '.join(f'v{s}' for s in fused_inputs)})")
            else:
                k = f"k{i}"
                ns[k] = entry.fn
                args = "".join(expr(a) + ", " for a in entry.args).rstrip(", ")
                if entry.kind == "op":
                    outs = entry.outs
                    target = None
                    if len(outs) == 1 and out_kernel is not None and outs[0] is not None and not entry.view:
                        out = outs[0]
                        info = self.slots[out]
                        if root[out] not in kept_roots and out not in self.kept:
                            fast = out_kernel(entry, self.slots)
                            key = (info.shape, str(info.dtype))
                            free = pool.get(key)
                            if fast is not None and (free or timeline.may_hold(root[out])):
                                target = free.pop() if free else f"b{len(buffers)}"
                                timeline.planned(root[out], new_buffer=target not in buffers)
                                buffers.setdefault(target, (info.shape, info.dtype))
                                holder[root[out]] = target
                                ns[k] = fast
                                lines.append(f"v{out} = {k}({args}, out={target})")
                    direct = getattr(self.hooks, "direct_kernel", None)
                    if target is None and direct is not None and len(outs) == 1 and outs[0] is not None:
                        fast = direct(entry, self.slots)
                        if fast is not None:
                            ns[k] = fast
                            lines.append(f"v{outs[0]} = {k}({args})")
                            target = "direct"
                    if target is None:
                        names = ", ".join("_" if o is None else f"v{o}" for o in outs)
                        if len(outs) == 1:
                            lines.append(f"{names} = {k}({join(args, call_kwargs(entry.kwargs))})")
                        else:
                            lines.append(f"{names}, = {k}({join(args, call_kwargs(entry.kwargs))})")
                elif entry.kind == "create":
                    lines.append(f"v{entry.outs[0]} = {k}({call_kwargs(entry.kwargs)})")
                elif entry.kind == "host":
                    lines.append(f"v{entry.outs[0]} = {k}({args})")
                else:  # "kernel", "assign": in place
                    lines.append(f"{k}({join(args, call_kwargs(entry.kwargs))})")
            dead = [f"v{s}" for s in del_at.get(i, ()) if self._defined(s, i)]
            if keep_all:
                kept_all.extend(dead)
            elif dead:
                lines.append(f"del {', '.join(dead)}")
            for r in freed_at.get(i, ()):
                name = holder.pop(r, None)
                if name is not None:
                    info = self.slots[r]
                    pool.setdefault((info.shape, str(info.dtype)), []).append(name)
        returned = [o for o in rec.outputs if isinstance(o, int)] + [s for _, s in rec.bindings]
        body = "\n    ".join(lines) or "pass"
        params = ", ".join(f"v{s}" for s in inputs)
        buffer_names = list(buffers)
        head = f"def replay({params}{', ' if params and buffer_names else ''}{', '.join(buffer_names)}):\n    "
        results = "".join(f"v{s}, " for s in returned)
        if keep_all:
            results = f"({results}), ({''.join(name + ', ' for name in kept_all)})"
        source = f"{head}{body}\n    return ({results})\n"
        return source, ns, buffers

    def _defined(self, slot, upto):
        # A slot inside a fused run never exists as a variable; the run's last one does.
        info = self.slots[slot]
        if info.producer < 0:
            return True
        entry = self.entries[info.producer]
        if entry.fused is None:
            return True
        return self.groups[entry.fused][1] == info.producer

    def _group_inputs(self, first, final):
        produced = set()
        inputs = []
        for j in range(first, final + 1):
            entry = self.entries[j]
            for s in reads(entry):
                if s not in produced and s not in inputs:
                    inputs.append(s)
            produced.update(o for o in entry.outs if o is not None)
        return inputs

    def run_keeping_all(self, arrays):
        """`run`, but every array the replay makes stays referenced: returns (outputs, kept).
        For a capture (CUDA graphs), whose memory must outlive it."""
        if not hasattr(self, "replay_keeping_all"):
            source, namespace, _ = self._generate(keep_all=True)
            exec(compile(source, "<somegrad.compile replay, keeping all>", "exec"), namespace)
            self.replay_keeping_all = namespace["replay"]
        return self.replay_keeping_all(*arrays, *self.buffer_arrays)

    # --- running ------------------------------------------------------------------------------
    def allocate(self, empty):
        """The planned buffers, made with `empty(shape, dtype)` once."""
        self.buffer_arrays = [empty(shape, dtype) for shape, dtype in self.buffers.values()]

    def run(self, arrays):
        for array, getter in self.recording.replay_inputs:
            array[...] = getter()
        buffers = self.buffer_arrays
        if self.context is not None:
            with self.context():
                return self.replay(*arrays, *buffers)
        return self.replay(*arrays, *buffers)

    # --- explaining ---------------------------------------------------------------------------
    def explain(self) -> str:
        """The kernel list, fused groups, buffers and the generated code, as text."""
        lines = [f"{len(self.entries)} kernels over {len(self.slots)} buffers"]
        kinds: dict[str, int] = {}
        for info in self.slots:
            kinds[info.kind] = kinds.get(info.kind, 0) + 1
        lines.append("  buffers: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        lines.append(f"  planned (reused) buffers: {len(self.buffers)}")
        for i, entry in enumerate(self.entries):
            io = ", ".join(f"v{s}" for s in reads(entry))
            outs = ", ".join("-" if o is None else f"v{o}" for o in entry.outs) or (
                "in place: " + ", ".join(f"v{s}" for s in entry.writes)
            )
            mark = f"  [fused group {entry.fused}]" if entry.fused is not None else ""
            view = "  (view)" if entry.view else ""
            shape = ""
            if entry.outs and entry.outs[0] is not None:
                info = self.slots[entry.outs[0]]
                shape = f" {info.shape} {info.dtype}"
            lines.append(f"  {i:4d} {entry.kind:6s} {entry.name}({io}) -> {outs}{shape}{view}{mark}")
        for g, (first, final, kernel) in enumerate(self.groups):
            names = " -> ".join(self.entries[j].name for j in range(first, final + 1))
            lines.append(f"  fused group {g}: entries {first}..{final}: {names} ({getattr(kernel, '__name__', '')})")
        lines.append("generated replay:")
        lines.append("    " + self.source.rstrip().replace("\n", "\n    "))
        return "\n".join(lines)


class _Timeline:
    """The bytes of produced arrays alive at each entry, eagerly (each from its producer to its
    root's last use) and as planned (a planned buffer is alive all the time, between calls
    too). A new buffer is planned only for an array alive at the eager peak, and only while the
    planned peak stays at or below the eager one."""

    def __init__(self, program, root, last):
        n = max(len(program.entries), 1)
        self.live = [0] * n
        self.span = {}
        for s, info in enumerate(program.slots):
            if info.kind != "produced" or root[s] != s or info.producer < 0:
                continue
            size = _nbytes(info)
            start, end = program._at(info.producer), last.get(s, info.producer)
            self.span[s] = (start, end, size)
            for i in range(start, end + 1):
                self.live[i] += size
        # what the kernels allocate for themselves while they run, estimated: an op about its
        # largest input again, an in-place kernel (an optimizer step) twice its largest target
        with_temporaries = list(self.live)
        for i, entry in enumerate(program.entries):
            read = [_nbytes(program.slots[s]) for s in reads(entry)]
            written = [_nbytes(program.slots[s]) for s in entry.writes]
            extra = 2 * max(written, default=0) if entry.kind in ("kernel", "assign") else max(read, default=0)
            with_temporaries[program._at(i)] += extra
        self.peak = max(self.live)
        top = with_temporaries.index(max(with_temporaries))
        # a new buffer only for an array alive at the eager peak: there the planned step holds
        # exactly the eager arrays (whatever temporaries the kernels make on top of them)
        self.at_peak = {s for s, (start, end, _) in self.span.items() if start <= top <= end}

    def may_hold(self, slot):
        if slot not in self.at_peak:
            return False
        start, end, size = self.span.get(slot, (0, -1, 0))
        return all(v + size - (size if start <= i <= end else 0) <= self.peak for i, v in enumerate(self.live))

    def planned(self, slot, new_buffer):
        start, end, size = self.span.get(slot, (0, -1, 0))
        for i in range(start, end + 1):
            self.live[i] -= size
        if new_buffer:
            self.live = [v + size for v in self.live]


def _nbytes(info):
    import numpy as np

    count = 1
    for n in info.shape:
        count *= n
    try:
        return count * np.dtype(info.dtype).itemsize
    except TypeError:
        return count * getattr(info.dtype, "itemsize", 4)
