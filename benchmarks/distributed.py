"""Data-parallel GPT training on 1 and 2 processes: somegrad (MPI) beside PyTorch DDP (gloo).

    python benchmarks/distributed.py                 both frameworks, 1 and 2 ranks, 3 rounds
    python benchmarks/distributed.py --quick         fewer steps and one round
    python benchmarks/distributed.py --json out.json also write the figures as JSON

The workload is the benchmarks' char GPT (4 layers, 4 heads, 128 wide, block 64; AdamW), with
a fixed batch per rank (weak scaling, 16 sequences by default): one rank trains without any
wrapper, two ranks with DistributedDataParallel. Every rank runs under `mpiexec` with one
BLAS thread (and torch.set_num_threads(1)); the frameworks and rank counts take turns round by
round, so that a change of machine load hits all of them alike.

What is reported, per framework:
* ms/step and tokens/s (all ranks together), and the scaling efficiency
  throughput(2 ranks) / (2 * throughput(1 rank)), per round (1 rank then 2 ranks, back to
  back), the median over the rounds with its range;
* exposed communication: the synchronised step's time minus that of the same step under
  `no_sync()` (same compute, same two processes, no gradient all-reduce), medians;
* communication cost: a blocking all-reduce of every gradient element in one flat float32
  buffer, timed alone with the framework's own backend;
* overlap: the share of the communication cost that the step hides, 1 - exposed / cost
  (at least 0);
* for somegrad also the host time its reducer spends starting and waiting for its buckets, and
  the share of the gradient bytes whose all-reduce had already finished when the last gradient
  arrived (a direct measure of overlap, which machine load does not blur).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _mpiexec() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside):
        return beside
    import shutil

    found = shutil.which("mpiexec")
    if not found:
        sys.exit("no mpiexec: pip install mpi4py mpich (the bench environment has them)")
    return found


def _rank_and_world() -> tuple[int, int]:
    # MPICH's launcher tells every process its place; PyTorch then meets over TCP on localhost
    return int(os.environ.get("PMI_RANK", "0")), int(os.environ.get("PMI_SIZE", "1"))


def _median_ms(values):
    return 1000 * statistics.median(values) if values else None


# --- one rank ------------------------------------------------------------------------------------
def _somegrad_rank(args, inputs, rank, world):
    import workloads

    import somegrad as sg
    import somegrad.distributed as dist
    from somegrad import optim

    sg.manual_seed(0)
    model = workloads._gpt_model("somegrad", inputs)
    ddp = None
    if world > 1:
        from somegrad.nn.parallel import DistributedDataParallel

        dist.init_process_group("mpi")
        ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap_mb)
    trained = ddp or model
    opt = optim.AdamW(trained.parameters(), lr=workloads.LR, weight_decay=workloads.WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])

    def step():
        opt.zero_grad()
        trained(idx, targets)[1].backward()
        opt.step()

    def unsynced():
        with ddp.no_sync():
            step()

    def comm_cost():
        flat = sg.zeros(sum(p.numel() for p in model.parameters()))
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        return time.perf_counter() - start

    def reducer_seconds():
        return ddp.reducer.comm_seconds if ddp is not None else 0.0

    result = _time_rank(args, step, unsynced if ddp else None, comm_cost if ddp else None, reducer_seconds)
    result["buckets"] = len(ddp.reducer.buckets) if ddp else 0
    if ddp is not None and ddp.reducer.bytes_reduced:
        result["done_before_backward_end"] = ddp.reducer.bytes_done_early / ddp.reducer.bytes_reduced
    result["parameters"] = int(sum(p.numel() for p in model.parameters()))
    return result


def _torch_rank(args, inputs, rank, world):
    import torch
    import workloads

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = workloads._gpt_model("torch", inputs)
    ddp = None
    if world > 1:
        import torch.distributed as tdist
        from torch.nn.parallel import DistributedDataParallel

        tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=world)
        ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap_mb)
    trained = ddp or model
    opt = torch.optim.AdamW(trained.parameters(), lr=workloads.LR, weight_decay=workloads.WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])

    def step():
        opt.zero_grad()
        trained(idx, targets)[1].backward()
        opt.step()

    def unsynced():
        with ddp.no_sync():
            step()

    def comm_cost():
        flat = torch.zeros(sum(p.numel() for p in model.parameters()))
        tdist.barrier()
        start = time.perf_counter()
        tdist.all_reduce(flat)
        flat /= world
        return time.perf_counter() - start

    result = _time_rank(args, step, unsynced if ddp else None, comm_cost if ddp else None, lambda: 0.0)
    result["parameters"] = int(sum(p.numel() for p in model.parameters()))
    return result


def _time_rank(args, step, unsynced, comm_cost, reducer_seconds):
    for _ in range(args.warmup):
        step()
        if unsynced:
            unsynced()
    synced_times, unsynced_times, reducer_times, comm_times = [], [], [], []
    for _ in range(args.steps):  # synchronised and unsynchronised steps take turns
        before = reducer_seconds()
        start = time.perf_counter()
        step()
        synced_times.append(time.perf_counter() - start)
        reducer_times.append(reducer_seconds() - before)
        if unsynced:
            start = time.perf_counter()
            unsynced()
            unsynced_times.append(time.perf_counter() - start)
    if comm_cost:
        comm_times = [comm_cost() for _ in range(5)]
    return {
        "step_ms": _median_ms(synced_times),
        "no_sync_step_ms": _median_ms(unsynced_times),
        "reducer_ms": _median_ms(reducer_times) if unsynced else None,
        "comm_cost_ms": _median_ms(comm_times),
    }


def worker(args) -> None:
    import numpy as np
    import workloads

    rank, world = _rank_and_world()
    sizes = workloads.Sizes()
    inputs = workloads.gpt_inputs(sizes)
    rng = np.random.default_rng(100 + rank)  # every rank its own batch
    shape = (args.batch, sizes.gpt_block)
    inputs["idx"] = rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64)
    inputs["targets"] = rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64)
    run = _somegrad_rank if args.worker == "somegrad" else _torch_rank
    result = run(args, inputs, rank, world)
    if rank == 0:
        result.update(framework=args.worker, ranks=world, tokens_per_step=world * args.batch * sizes.gpt_block)
        print("RESULT " + json.dumps(result), flush=True)


# --- the orchestra -------------------------------------------------------------------------------
def _launch(args, framework, ranks, port):
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    command = [_mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--worker", framework]
    command += ["--steps", str(args.steps), "--warmup", str(args.warmup), "--batch", str(args.batch)]
    command += ["--port", str(port), "--bucket-cap-mb", str(args.bucket_cap_mb)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{framework} on {ranks} ranks failed:\n{done.stdout}\n{done.stderr}")


def _summary(framework, runs):
    """Medians over the rounds. A round runs 1 rank then 2 ranks back to back, so its efficiency
    (weak scaling: step time on 1 rank / step time on 2 ranks) compares runs made under the
    same machine load; the median of the rounds' efficiencies is reported, with its range."""
    ones = [r for r in runs if r["ranks"] == 1]
    twos = [r for r in runs if r["ranks"] == 2]

    def med(rows, key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    efficiencies = [a["step_ms"] / b["step_ms"] for a, b in zip(ones, twos)]
    exposed = statistics.median([max(b["step_ms"] - b["no_sync_step_ms"], 0.0) for b in twos])
    tokens_one = ones[0]["tokens_per_step"]
    cost = med(twos, "comm_cost_ms")
    return {
        "framework": framework,
        "step_ms_1": med(ones, "step_ms"),
        "step_ms_2": med(twos, "step_ms"),
        "no_sync_step_ms_2": med(twos, "no_sync_step_ms"),
        "tokens_per_s_1": tokens_one / (med(ones, "step_ms") / 1000),
        "tokens_per_s_2": 2 * tokens_one / (med(twos, "step_ms") / 1000),
        "scaling_efficiency": statistics.median(efficiencies),
        "scaling_efficiency_range": [min(efficiencies), max(efficiencies)],
        "exposed_comm_ms": exposed,
        "comm_cost_ms": cost,
        "overlap": max(0.0, 1 - exposed / cost) if cost else None,
        "reducer_ms": med(twos, "reducer_ms"),
        "done_before_backward_end": med(twos, "done_before_backward_end"),
        "parameters": ones[0]["parameters"],
        "rounds": len(ones),
    }


def _table(summaries) -> str:
    def f(value, digits=1, suffix=""):
        return "-" if value is None else f"{value:.{digits}f}{suffix}"

    rows = [
        "| framework | ms/step 1 rank | ms/step 2 ranks | tok/s 1 rank | tok/s 2 ranks | scaling efficiency "
        "| exposed comm ms | comm cost ms | overlap | reducer host ms | reduced before backward's end |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        rows.append(
            f"| {s['framework']} | {f(s['step_ms_1'])} | {f(s['step_ms_2'])} | {f(s['tokens_per_s_1'], 0)} "
            f"| {f(s['tokens_per_s_2'], 0)} | {f(100 * s['scaling_efficiency'], 1, '%')} "
            f"({f(100 * s['scaling_efficiency_range'][0], 0)}-{f(100 * s['scaling_efficiency_range'][1], 0, '%')}) "
            f"| {f(s['exposed_comm_ms'])} "
            f"| {f(s['comm_cost_ms'])} | {f(None if s['overlap'] is None else 100 * s['overlap'], 0, '%')} "
            f"| {f(s['reducer_ms'])} "
            f"| {f(None if s['done_before_backward_end'] is None else 100 * s['done_before_backward_end'], 0, '%')} |"
        )
    return "\n".join(rows)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, one round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8, help="timed steps of each kind per run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="sequences per rank")
    parser.add_argument("--bucket-cap-mb", type=float, default=25.0, help="DDP's bucket size (both frameworks)")
    parser.add_argument("--only", choices=("somegrad", "torch"), action="append")
    parser.add_argument("--json", help="write the results there")
    parser.add_argument("--worker", choices=("somegrad", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=29517, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    if args.quick:
        args.rounds, args.steps, args.warmup = 1, 4, 1
    frameworks = args.only or ["somegrad", "torch"]
    if "torch" in frameworks:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("torch is not installed: PyTorch's column is left out", file=sys.stderr)
            frameworks = [f for f in frameworks if f != "torch"]
    runs: dict[str, list] = {f: [] for f in frameworks}
    port = args.port
    for round_ in range(args.rounds):
        for framework in frameworks:
            for ranks in (1, 2):
                port += 1
                result = _launch(args, framework, ranks, port)
                runs[framework].append(result)
                print(
                    f"round {round_ + 1}: {framework} on {ranks} rank(s): {result['step_ms']:.1f} ms/step", flush=True
                )
    summaries = [_summary(f, runs[f]) for f in frameworks]
    print()
    print(
        f"GPT train step, {args.batch} sequences of 64 per rank, one BLAS thread per rank; medians of "
        f"{args.rounds} round(s) x {args.steps} steps"
    )
    print(_table(summaries))
    report = {"summaries": summaries, "runs": runs, "batch_per_rank": args.batch}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
