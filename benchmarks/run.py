"""Run the benchmarks: somegrad side by side with PyTorch (and NumPy by hand, and tinygrad).

    python benchmarks/run.py                  every workload, full repetitions
    python benchmarks/run.py --quick          the same shapes, few repetitions
    python benchmarks/run.py --only mlp       one workload (repeat --only for more)
    python benchmarks/run.py --json out.json  where the results go (default results/latest.json)

Every framework of a workload starts from the same weights and data (made in NumPy), runs in
this process after warm-up, and the frameworks take turns step by step, so that a change of
machine load hits all of them alike. Peak memory is measured in a fresh subprocess per framework.
PyTorch and tinygrad are optional: their columns are left empty, with a note, where missing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import workloads  # noqa: E402


@dataclass(frozen=True)
class Repetitions:
    """How long to time a workload: see harness.time_alternating."""

    warmup: int
    min_reps: int
    max_reps: int
    min_seconds: float
    max_seconds: float


FULL_REPS = Repetitions(warmup=3, min_reps=10, max_reps=200, min_seconds=3.0, max_seconds=60.0)
QUICK_REPS = Repetitions(warmup=1, min_reps=3, max_reps=20, min_seconds=0.3, max_seconds=10.0)
TINY_REPS = Repetitions(warmup=1, min_reps=2, max_reps=2, min_seconds=0.0, max_seconds=60.0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions, same shapes")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="tiny shapes and two repetitions: checks the harness, times nothing",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(workloads.WORKLOADS),
        help="run only this workload (may be repeated)",
    )
    parser.add_argument(
        "--json",
        default=os.path.join(HERE, "results", "latest.json"),
        help="where to write the results (default: benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="threads for NumPy's BLAS and torch (default: what NumPy's BLAS uses)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--memory-probe", nargs=2, metavar=("WORKLOAD", "FRAMEWORK"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def setup_threads(with_torch: bool = True) -> int:
    """Give torch as many threads as NumPy's BLAS uses (or --threads to both)."""
    threads, _ = harness.blas_threads()
    if os.environ.get("SOMEGRAD_BENCH_THREADS"):
        try:
            import threadpoolctl

            threadpoolctl.threadpool_limits(threads, user_api="blas")
        except ImportError:
            pass  # the OPENBLAS_NUM_THREADS set by main() then only reaches the subprocesses
    if with_torch:
        try:
            import torch
        except ImportError:
            return threads
        torch.set_num_threads(threads)
    return threads


def memory_probe(workload_name: str, framework: str, tiny: bool) -> None:
    """In a subprocess of its own: build one framework's step, measure it, print JSON."""
    setup_threads(with_torch=framework == "torch")
    workload = workloads.WORKLOADS[workload_name]
    inputs = workload.make_inputs(workloads.TINY if tiny else workloads.FULL)
    result = harness.run_memory_probe(lambda: workload.builders[framework](inputs), traced=framework != "torch")
    print(json.dumps(result))


def measure_memory(workload_name: str, framework: str, tiny: bool) -> dict:
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--memory-probe",
        workload_name,
        framework,
    ]
    if tiny:
        command.append("--tiny")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


class Recorder:
    """Wraps a step to keep the first and the last value it returned (the loss)."""

    def __init__(self, step):
        self.step, self.first, self.last, self.calls = step, None, None, 0

    def __call__(self):
        value = self.step()
        if self.calls == 0:
            self.first = value
        self.last = value
        self.calls += 1
        return value


def run_workload(
    workload: workloads.Workload,
    sizes: workloads.Sizes,
    reps: Repetitions,
    memory: bool,
    tiny: bool,
) -> dict:
    inputs = workload.make_inputs(sizes)
    notes: list[str] = []
    steps: dict[str, Recorder] = {}
    for framework, build in workload.builders.items():
        try:
            steps[framework] = Recorder(build(inputs))
            steps[framework]()  # a first call outside the timing: it also checks that it runs
        except workloads.Unavailable as e:
            notes.append(f"{framework} skipped: {e}")
            steps.pop(framework, None)
        except Exception as e:  # a framework that fails must not stop the others
            tail = traceback.format_exception_only(type(e), e)[-1].strip()
            notes.append(f"{framework} failed: {tail}")
            steps.pop(framework, None)
    for framework, how in inputs.get("loaded", {}).items():
        if how != "by name":
            notes.append(f"{framework} weights loaded {how}")

    times = (
        harness.time_alternating(
            dict(steps),
            reps.warmup,
            reps.min_reps,
            reps.max_reps,
            reps.min_seconds,
            reps.max_seconds,
        )
        if steps
        else {}
    )

    divisor = workload.per_step_divisor(sizes)
    result = {
        "name": workload.name,
        "description": workload.description,
        "unit": workload.unit,
        "throughput_unit": workload.throughput_unit,
        "frameworks": {},
        "notes": notes,
    }
    for framework, step in steps.items():
        seconds = harness.median(times[framework])
        entry = {
            "median": seconds * workload.time_scale / divisor,
            "times_s": times[framework],
            "reps": len(times[framework]),
            "loss_first": step.first,
            "loss_last": step.last,
        }
        if workload.throughput:
            entry["throughput"] = workload.throughput(sizes) / seconds
        if memory:
            entry["memory"] = measure_memory(workload.name, framework, tiny)
            if "error" in entry["memory"]:
                notes.append(f"{framework} memory probe failed: {entry['memory']['error']}")
        result["frameworks"][framework] = entry

    fw = result["frameworks"]
    result["ratio"] = fw["somegrad"]["median"] / fw["torch"]["median"] if "somegrad" in fw and "torch" in fw else None
    if "somegrad" in fw and "numpy" in fw:
        result["ratio_numpy"] = fw["somegrad"]["median"] / fw["numpy"]["median"]
        notes.append(f"somegrad / hand-written numpy: {result['ratio_numpy']:.2f}x")
    losses = {name: e["loss_first"] for name, e in fw.items() if e["loss_first"] is not None}
    if len(losses) > 1:
        result["loss_first_max_diff"] = max(losses.values()) - min(losses.values())
        if "somegrad" in losses and "torch" in losses:
            notes.append(f"first-step loss somegrad {losses['somegrad']:.6f} vs torch {losses['torch']:.6f}")
    return result


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.memory_probe:
        memory_probe(*args.memory_probe, tiny=args.tiny)
        return {}
    if args.threads:
        # an environment variable, so that the memory subprocesses use the same count
        os.environ["SOMEGRAD_BENCH_THREADS"] = str(args.threads)
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    setup_threads()
    sizes = workloads.TINY if args.tiny else workloads.FULL
    reps = TINY_REPS if args.tiny else QUICK_REPS if args.quick else FULL_REPS
    report = {
        "machine": harness.machine_info(),
        "mode": "tiny" if args.tiny else "quick" if args.quick else "full",
        "memory_method": harness.MEMORY_METHOD,
        "workloads": [],
    }
    for name in args.only or list(workloads.WORKLOADS):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        report["workloads"].append(run_workload(workloads.WORKLOADS[name], sizes, reps, not args.no_memory, args.tiny))
    print(harness.format_table(report))
    harness.write_json(report, args.json)
    print(f"\nwritten to {args.json}")
    return report


if __name__ == "__main__":
    main()
