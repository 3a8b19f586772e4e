"""The profiler's records: one `FunctionEvent` per op call, node or range, their averages by
name, PyTorch's table of them, and the Chrome trace format."""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList"]


class FunctionEvent:
    """One recorded call. Times in microseconds from the start of the profile, as PyTorch's.

    `name`: the op ("matmul"), the backward node ("MatmulBackward0") or the range;
    `kind`: "op", "backward" (a node's backward), "kernel" (an in-place or multi-tensor
    kernel), "creation" or "range"; `kernel`: what ran the op ("numpy": the backend's kernel,
    "numpy, decomposed": its reference decomposition, "" for ops made of other ops);
    `node`: the backward node whose rule ran the op ("" in the forward); `input_shapes`;
    `self_cpu_memory_usage`: bytes of new arrays the call returned (views return none);
    `cpu_memory_usage`: with those of the calls inside it.
    """

    __slots__ = (
        "name",
        "kind",
        "kernel",
        "node",
        "input_shapes",
        "start_us",
        "end_us",
        "thread",
        "parent",
        "children_us",
        "self_cpu_memory_usage",
        "children_memory",
        "depth",
    )

    def __init__(self, name, kind, start_us, thread, parent, depth, input_shapes=(), kernel="", node=""):
        self.name = name
        self.kind = kind
        self.kernel = kernel
        self.node = node
        self.input_shapes = input_shapes
        self.start_us = start_us
        self.end_us = start_us
        self.thread = thread
        self.parent = parent
        self.depth = depth
        self.children_us = 0.0
        self.self_cpu_memory_usage = 0
        self.children_memory = 0

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return max(self.cpu_time_total - self.children_us, 0.0)

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + self.children_memory

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent {self.name} kind={self.kind} cpu_time_total={self.cpu_time_total:.1f}us "
            f"self={self.self_cpu_time_total:.1f}us shapes={list(self.input_shapes)}>"
        )


class FunctionEventAvg:
    """The events of one key (name, and input shapes when grouped by them) summed up."""

    def __init__(self, key: str, input_shapes=None):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.kernels: set[str] = set()
        self.nodes: set[str] = set()

    def add(self, event: FunctionEvent) -> None:
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        if event.kernel:
            self.kernels.add(event.kernel)
        if event.node:
            self.nodes.add(event.node)

    @property
    def cpu_time(self) -> float:
        """The mean time per call (us)."""
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} count={self.count} self_cpu_time_total={self.self_cpu_time_total:.1f}us "
            f"cpu_time_total={self.cpu_time_total:.1f}us>"
        )


def _time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _bytes(n: int) -> str:
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} b"


_SORT_KEYS = (
    "self_cpu_time_total",
    "cpu_time_total",
    "cpu_time",
    "count",
    "cpu_memory_usage",
    "self_cpu_memory_usage",
)


class EventList(list):
    """A list of `FunctionEvent`s (from `prof.events()`) or `FunctionEventAvg`s (from
    `prof.key_averages()`), with PyTorch's `table` and `export_chrome_trace`."""

    def __init__(self, items=(), *, profile_memory: bool = False, grouped_by_shape: bool = False):
        super().__init__(items)
        self.profile_memory = profile_memory
        self.grouped_by_shape = grouped_by_shape

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One `FunctionEventAvg` per name (and input shapes), in order of first appearance."""
        averages: dict[Any, FunctionEventAvg] = {}
        for event in self:
            shapes = str(list(event.input_shapes)) if group_by_input_shape else None
            key = (event.name, shapes)
            average = averages.get(key)
            if average is None:
                average = averages[key] = FunctionEventAvg(event.name, shapes)
            average.add(event)
        return EventList(averages.values(), profile_memory=self.profile_memory, grouped_by_shape=group_by_input_shape)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55, **_) -> str:
        """PyTorch's table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg,
        (CPU Mem, Self CPU Mem with profile_memory), # of Calls, (Input Shapes when grouped by
        them); the footer gives the self CPU time of everything recorded."""
        rows = list(self) if all(isinstance(e, FunctionEventAvg) for e in self) else list(self.key_averages())
        if sort_by is not None:
            key = sort_by.replace("cpu_time_avg", "cpu_time")
            if key not in _SORT_KEYS:
                raise ValueError(f"table: sort_by must be one of {', '.join(_SORT_KEYS)}, got {sort_by!r}")
            rows.sort(key=lambda e: getattr(e, key), reverse=True)
        total_self = sum(e.self_cpu_time_total for e in rows) or 1.0
        shown = rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows
        headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if self.profile_memory:
            headers += ["CPU Mem", "Self CPU Mem"]
        headers.append("# of Calls")
        if self.grouped_by_shape:
            headers.append("Input Shapes")
        body = []
        for e in shown:
            name = e.key if len(e.key) <= max_name_column_width else e.key[: max_name_column_width - 3] + "..."
            cells = [
                name,
                f"{100 * e.self_cpu_time_total / total_self:.2f}%",
                _time(e.self_cpu_time_total),
                f"{100 * e.cpu_time_total / total_self:.2f}%",
                _time(e.cpu_time_total),
                _time(e.cpu_time),
            ]
            if self.profile_memory:
                cells += [_bytes(e.cpu_memory_usage), _bytes(e.self_cpu_memory_usage)]
            cells.append(str(e.count))
            if self.grouped_by_shape:
                cells.append(e.input_shapes or "[]")
            body.append(cells)
        widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(headers)]
        rule = "  ".join("-" * w for w in widths)

        def line(cells):
            return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        lines = [rule, line(headers), rule, *(line(row) for row in body), rule]
        lines.append(f"Self CPU time total: {_time(total_self)}")
        return "\n".join(lines) + "\n"

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """Write the events in the Trace Event Format ("X" complete events, microseconds), which
        Perfetto and chrome://tracing open."""
        events = [e for e in self if isinstance(e, FunctionEvent)]
        trace = []
        for e in events:
            args: dict[str, Any] = {}
            if e.input_shapes:
                args["Input Dims"] = [list(s) if s is not None else [] for s in e.input_shapes]
            if e.kernel:
                args["Kernel"] = e.kernel
            if e.node:
                args["Backward node"] = e.node
            if e.self_cpu_memory_usage:
                args["Bytes allocated"] = e.self_cpu_memory_usage
            trace.append(
                {
                    "name": e.name,
                    "cat": {"op": "cpu_op", "backward": "autograd", "range": "user_annotation"}.get(e.kind, e.kind),
                    "ph": "X",
                    "ts": round(e.start_us, 3),
                    "dur": round(e.cpu_time_total, 3),
                    "pid": os.getpid(),
                    "tid": e.thread,
                    "args": args,
                }
            )
        document = {"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": trace}
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(document, f)
