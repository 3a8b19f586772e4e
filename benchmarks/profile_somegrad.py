"""Profile the somegrad side of each workload: where does a step's time go?

By default with `somegrad.profiler` (every op, forward and backward, and its kernel, with self
and total time, as PyTorch's profiler tables them); with `--python`, with cProfile (the
framework's own Python, function by function).

    python benchmarks/profile_somegrad.py --only gpt_train --top 20      ops by self time
    python benchmarks/profile_somegrad.py --only gpt_train --trace gpt.json   (Perfetto)
    python benchmarks/profile_somegrad.py --python --only mlp --sort cumulative --top 40
    python benchmarks/profile_somegrad.py --python --only mlp --out mlp.prof   (snakeviz, pstats)

Uses the same shapes, weights and step functions as run.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads  # noqa: E402


def profile_workload(name: str, steps: int, sizes: workloads.Sizes) -> pstats.Stats:
    workload = workloads.WORKLOADS[name]
    step = workload.builders["somegrad"](workload.make_inputs(sizes))
    step()  # warm-up: lazy plugin loading and kernel caches stay out of the profile
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    return pstats.Stats(profiler)


def profile_ops(name: str, steps: int, sizes: workloads.Sizes, top: int, trace: str | None) -> None:
    import somegrad as sg

    workload = workloads.WORKLOADS[name]
    step = workload.builders["somegrad"](workload.make_inputs(sizes))
    step()  # warm-up, as above
    with sg.profiler.profile() as prof:
        for _ in range(steps):
            step()
    print(f"=== {name}: {steps} steps under somegrad.profiler ===")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top))
    if trace:
        prof.export_chrome_trace(trace)
        print(f"trace written to {trace}")
    print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=list(workloads.WORKLOADS))
    parser.add_argument("--steps", type=int, default=3, help="profiled steps per workload")
    parser.add_argument("--top", type=int, default=25, help="rows to print per workload")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (a smoke test)")
    parser.add_argument("--out", help="--python: write the raw profile here (one workload only)")
    parser.add_argument("--python", action="store_true", help="cProfile the Python instead of timing ops")
    parser.add_argument("--trace", help="write a Chrome trace (trace-event JSON) here (one workload only)")
    args = parser.parse_args(argv)
    names = args.only or list(workloads.WORKLOADS)
    sizes = workloads.TINY if args.tiny else workloads.FULL
    if not args.python:
        for name in names:
            profile_ops(name, args.steps, sizes, args.top, args.trace if len(names) == 1 else None)
        return
    for name in names:
        stats = profile_workload(name, args.steps, sizes)
        if args.out and len(names) == 1:
            stats.dump_stats(args.out)
        text = io.StringIO()
        stats.stream = text
        total = stats.total_tt / args.steps
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
        print(f"=== {name}: {total * 1e3:.1f} ms per step under the profiler ===")
        print(text.getvalue().split("\n", 4)[-1].rstrip())  # drop pstats' preamble
        print()


if __name__ == "__main__":
    main()
