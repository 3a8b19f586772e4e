"""A compiled step replayed as one CUDA graph (CuPy's stream capture).

`GraphReplay(program).run(arrays)` stands in for `program.run(arrays)`:

1. the first replay runs the program's Python as usual (it warms CuPy's memory pool and
   compiles the kernels, which must not happen during a capture);
2. the second captures the replay on a side stream (`Stream.begin_capture()` ...
   `end_capture()`: the kernels are recorded, not run) into static input buffers, keeping every
   array made during the capture alive for the graph's lifetime (the graph writes into their
   memory at each launch, which the memory pool must never hand out again), then launches it;
3. later replays copy the new inputs into the static buffers, launch the graph (one call for
   the whole step) and return copies of its outputs, so a result from an earlier call never
   changes.

The streams are ordered with events: the graph's stream waits for the copies on the current
stream, and the current stream waits for the graph. A capture that fails (a kernel that reads
a value on the host, an allocation the pool cannot serve during a capture) is abandoned, and
the program replays without a graph from then on (`reason` says why).

Written against CuPy's documented API; not yet run on a GPU.
"""

from __future__ import annotations

import cupy

__all__ = ["GraphReplay"]


class GraphReplay:
    def __init__(self, program):
        self.program = program
        self.graph = None
        self.calls = 0
        self.reason = None  # why the graph was abandoned, if it was
        self.stream = None
        self.inputs = None
        self.outputs = None
        self.kept = None

    def run(self, arrays):
        self.calls += 1
        if self.reason is not None or self.calls == 1:
            return self.program.run(arrays)
        if self.graph is None and not self._capture(arrays):
            return self.program.run(arrays)
        current = cupy.cuda.get_current_stream()
        for static, new in zip(self.inputs, arrays):
            cupy.copyto(static, new)
        for array, getter in self.program.recording.replay_inputs:
            array[...] = getter()
        ready = current.record()
        self.stream.wait_event(ready)
        self.graph.launch(self.stream)
        done = self.stream.record()
        current.wait_event(done)
        return tuple(o.copy() for o in self.outputs)

    def _capture(self, arrays):
        self.inputs = [a.copy() for a in arrays]
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self.stream.wait_event(cupy.cuda.get_current_stream().record())
        try:
            with self.stream:
                self.stream.begin_capture()
                try:
                    self.outputs, self.kept = self.program.run_keeping_all(self.inputs)
                finally:
                    graph = self.stream.end_capture()
        except Exception as exc:  # noqa: BLE001  (any failure: replay without a graph, say why)
            self.reason = f"{type(exc).__name__}: {exc}"
            self.inputs = self.outputs = self.kept = None
            return False
        self.graph = graph
        return True
