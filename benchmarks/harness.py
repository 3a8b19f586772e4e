"""The measuring side of the benchmarks: machine facts, alternating timing, peak memory, the table.

Nothing here knows about a particular workload; ``workloads.py`` describes those.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

MEMORY_METHOD = (
    "peak RSS growth during one step after warm-up, each framework alone in a fresh subprocess "
    "(gc + malloc_trim, reset VmHWM through /proc/self/clear_refs, then VmHWM - VmRSS); "
    "traced = tracemalloc peak over one step (Python objects and NumPy buffers; "
    "torch's tensor storage is invisible to it, so it is left out for torch)"
)


# --- machine -----------------------------------------------------------------------------------


def blas_threads() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and how that was found out."""
    if os.environ.get("SOMEGRAD_BENCH_THREADS"):
        return int(os.environ["SOMEGRAD_BENCH_THREADS"]), "--threads"
    try:
        import threadpoolctl
    except ImportError:
        return os.cpu_count() or 1, "os.cpu_count() (threadpoolctl not installed)"
    pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return os.cpu_count() or 1, "os.cpu_count() (threadpoolctl found no BLAS)"
    return max(p["num_threads"] for p in pools), "threadpoolctl"


def numpy_blas() -> str:
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        text = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy: no dict mode
        text = "unknown"
    try:
        import threadpoolctl

        pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            text += f" (architecture {pools[0].get('architecture')})"
    except ImportError:
        pass
    return text


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    import numpy as np

    threads, how = blas_threads()
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "threads_from": how,
        "numpy": np.__version__,
        "blas": numpy_blas(),
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ},
    }
    try:
        info["load_average"] = list(os.getloadavg())
    except OSError:
        info["load_average"] = None
    from importlib import metadata

    for module in ("torch", "tinygrad"):
        try:
            imported = __import__(module)
        except ImportError:
            info[module] = None
            continue
        try:
            info[module] = getattr(imported, "__version__", None) or metadata.version(module)
        except metadata.PackageNotFoundError:
            info[module] = "installed"
    return info


# --- timing ------------------------------------------------------------------------------------


def time_alternating(
    steps: dict[str, Callable[[], object]],
    warmup: int,
    min_reps: int,
    max_reps: int,
    min_seconds: float,
    max_seconds: float = float("inf"),
) -> dict[str, list[float]]:
    """Run each step ``warmup`` times, then alternate them, rotating who goes first.

    Repeats until every step has ``min_reps`` timings and ``min_seconds`` have passed, or
    ``max_reps`` is reached. A slow workload stops sooner: once ``max_seconds`` have passed it
    keeps the timings it has (three at least), and a warm-up call that takes over a tenth of
    ``max_seconds`` ends that step's warm-up. Returns the seconds of every timed call, per name.
    """
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            t0 = time.perf_counter()
            steps[name]()
            if time.perf_counter() - t0 > max_seconds / 10:
                break
    times: dict[str, list[float]] = {name: [] for name in names}
    start = time.perf_counter()
    rep = 0
    while rep < max_reps:
        elapsed = time.perf_counter() - start
        if rep >= min_reps and elapsed >= min_seconds:
            break
        if rep >= min(3, min_reps) and elapsed >= max_seconds:
            break
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            t0 = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - t0)
        rep += 1
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- memory ------------------------------------------------------------------------------------


def _proc_status_kib(*keys: str) -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0])
    return out


def _release_freed_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_rss_growth_mb(step: Callable[[], object]) -> float | None:
    """Peak resident-set growth over one call of ``step``, in MiB; None off Linux."""
    try:
        _release_freed_memory()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        before = _proc_status_kib("VmRSS")["VmRSS"]
        step()
        peak = _proc_status_kib("VmHWM")["VmHWM"]
    except (OSError, KeyError):
        return None
    return max(peak - before, 0) / 1024


def traced_peak_mb(step: Callable[[], object]) -> float:
    """tracemalloc's peak over one call of ``step`` (Python and NumPy allocations), in MiB."""
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20


def run_memory_probe(build: Callable[[], Callable[[], object]], traced: bool, warmup: int = 1) -> dict:
    step = build()
    for _ in range(warmup):
        step()
    result = {"rss_peak_mb": peak_rss_growth_mb(step)}
    result["traced_peak_mb"] = traced_peak_mb(step) if traced else None
    return result


# --- output ------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def format_table(report: dict) -> str:
    """The readable table: one row per workload, times in the workload's own unit."""
    header = [
        "workload",
        "unit",
        "somegrad",
        "torch",
        "ratio",
        "numpy",
        "tinygrad",
        "mem sg MiB",
        "mem torch MiB",
        "throughput sg / torch",
    ]
    rows = [header]
    for w in report["workloads"]:
        fw = w["frameworks"]

        def time_of(name: str, fw=fw) -> str:
            entry = fw.get(name)
            return _fmt(entry["median"]) if entry and entry.get("median") is not None else "-"

        def memory_of(name: str, fw=fw) -> str:
            entry = fw.get(name)
            if not entry or not entry.get("memory"):
                return "-"
            mem = entry["memory"]
            text = _fmt(mem.get("rss_peak_mb"), 1)
            if mem.get("traced_peak_mb") is not None:
                text += f" ({_fmt(mem['traced_peak_mb'], 1)})"
            return text

        def throughput_of(name: str, fw=fw) -> str:
            entry = fw.get(name)
            return _fmt(entry.get("throughput"), 0) if entry else "-"

        throughput = "-"
        if w.get("throughput_unit"):
            throughput = f"{throughput_of('somegrad')} / {throughput_of('torch')} {w['throughput_unit']}"
        ratio = w.get("ratio")
        rows.append(
            [
                w["name"],
                w["unit"],
                time_of("somegrad"),
                time_of("torch"),
                f"{ratio:.2f}x" if ratio is not None else "-",
                time_of("numpy"),
                time_of("tinygrad"),
                memory_of("somegrad"),
                memory_of("torch"),
                throughput,
            ]
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        cells = [str(c).ljust(widths[j]) if j < 2 else str(c).rjust(widths[j]) for j, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"- {w['name']}: {note}" for w in report["workloads"] for note in w.get("notes", [])]
    info = report["machine"]
    lines.append("")
    lines.append(
        f"{info['cpu']}, {info['cpu_count']} CPUs, {info['threads']} threads "
        f"({info['threads_from']}); numpy {info['numpy']} [{info['blas']}], "
        f"torch {info['torch'] or 'not installed'}, tinygrad {info['tinygrad'] or 'not installed'}"
    )
    load = info.get("load_average")
    if load and load[0] > 0.5 * (info["cpu_count"] or 1):
        lines.append(
            f"warning: load average {load[0]:.2f} at the start on {info['cpu_count']} CPUs: other "
            "processes compete for the cores, and multi-threaded steps suffer most"
        )
    lines.append("times are medians per step (per op for per_op); ratio = somegrad / torch")
    lines.append(f"memory: {report['memory_method']}; '(x)' is the traced peak")
    if notes:
        lines.append("notes:")
        lines.extend(notes)
    return "\n".join(lines)


def write_json(report: dict, path: str) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
