"""Profile the somegrad side of each workload with cProfile: where does a step's time go?

    python benchmarks/profile_somegrad.py                  every workload, top 25 by own time
    python benchmarks/profile_somegrad.py --only gpt_train --steps 5 --top 40 --sort cumulative
    python benchmarks/profile_somegrad.py --only mlp --out mlp.prof   (for snakeviz, pstats)

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=list(workloads.WORKLOADS))
    parser.add_argument("--steps", type=int, default=3, help="profiled steps per workload")
    parser.add_argument("--top", type=int, default=25, help="rows to print per workload")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (a smoke test)")
    parser.add_argument("--out", help="write the raw profile here (one workload only)")
    args = parser.parse_args(argv)
    names = args.only or list(workloads.WORKLOADS)
    sizes = workloads.TINY if args.tiny else workloads.FULL
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
