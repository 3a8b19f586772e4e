"""Data-parallel GPT training on 1 and 2 processes: somegrad (MPI) beside PyTorch DDP (gloo).

    python benchmarks/distributed.py                 both frameworks, 3 jobs each
    python benchmarks/distributed.py --quick         one short job each
    python benchmarks/distributed.py --json out.json also write the figures as JSON

The workload is the benchmarks' char GPT (4 layers, 4 heads, 128 wide, block 64; AdamW), with
a fixed batch per rank (weak scaling, 16 sequences by default), one BLAS thread per rank (and
torch.set_num_threads(1)), 25 MiB buckets in both frameworks.

How it is measured. On a small shared machine the speed of a core drifts by a third over a few
seconds (the same step, alone, takes 85 ms and then 130 ms), more than the effect measured, so
1 rank and 2 ranks are timed in the same job, a few steps at a time, taking turns. Each job
runs two processes under `mpiexec`; every round has three phases, a few steps each:
* one rank: rank 0 trains its own replica, unwrapped (no DistributedDataParallel, no hooks),
  while rank 1 sleeps: the machine as a one-process run sees it;
* two ranks: both train the DistributedDataParallel model, gradients averaged every step;
* no_sync: both train the same model under `no_sync()` (the same compute on two busy cores,
  no gradient all-reduce).
The processes meet between phases on a barrier that sleeps rather than spins, and each phase
starts with an untimed step (the caches hold the previous phase's model). The jobs of the two
frameworks take turns.

What is reported, per framework:
* ms/step and tokens/s (all ranks together) on 1 and 2 ranks, medians over every step;
* the scaling efficiency throughput(2 ranks) / (2 * throughput(1 rank)), i.e. the step time on
  1 rank over that on 2 (weak scaling), per round; the median over the rounds, with its range;
* exposed communication: a round's synchronised step minus its no_sync step, medians;
* communication cost: a blocking all-reduce of every gradient element in one flat float32
  buffer, timed alone with the framework's own backend;
* overlap: the share of the communication cost that the step hides, 1 - exposed / cost
  (at least 0);
* for somegrad also the host time its reducer spends starting and waiting for its buckets, and
  the share of the gradient bytes whose all-reduce had already finished when the last gradient
  arrived (a direct measure of overlap, which machine load does not blur).

`--separate` times 1 rank and 2 ranks in separate jobs instead (one `mpiexec -n 1`, one
`mpiexec -n 2`, back to back), the way a user would compare two runs: the same figures, but the
machine's drift between the jobs lands in the efficiency.
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

PAIRED = "one,two,no_sync"


def _mpiexec() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside):
        return beside
    import shutil

    found = shutil.which("mpiexec")
    if not found:
        sys.exit("no mpiexec: pip install mpi4py mpich (the bench environment has them)")
    return found


def _median_ms(values):
    return 1000 * statistics.median(values) if values else None


# --- one rank ------------------------------------------------------------------------------------
class _Session:
    """What a rank can time: `alone()` (a step of an unwrapped replica), `synced()` and
    `unsynced()` (a DistributedDataParallel step, with and without the gradient all-reduce),
    `comm_cost()` (one blocking all-reduce of every gradient element, in seconds)."""

    alone = synced = unsynced = comm_cost = None
    parameters = 0

    def reducer_seconds(self) -> float:
        return 0.0

    def extras(self) -> dict:
        return {}


def _train(model, opt, idx, targets):
    opt.zero_grad()
    model(idx, targets)[1].backward()
    opt.step()


def _somegrad_session(args, inputs, rank, world, phases):
    import workloads

    import somegrad as sg
    import somegrad.distributed as dist
    from somegrad import optim

    def adamw(params):
        return optim.AdamW(params, lr=workloads.LR, weight_decay=workloads.WEIGHT_DECAY)

    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])
    session = _Session()
    sg.manual_seed(0)
    if "one" in phases and rank == 0:
        alone = workloads._gpt_model("somegrad", inputs)
        opt_alone = adamw(alone.parameters())
        session.alone = lambda: _train(alone, opt_alone, idx, targets)
    model = workloads._gpt_model("somegrad", inputs)
    session.parameters = int(sum(p.numel() for p in model.parameters()))
    if world == 1:
        return session
    from somegrad.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap_mb)
    opt = adamw(ddp.parameters())
    session.synced = lambda: _train(ddp, opt, idx, targets)

    def unsynced():
        with ddp.no_sync():
            _train(ddp, opt, idx, targets)

    def comm_cost():
        flat = sg.zeros(session.parameters)
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(flat, op=dist.ReduceOp.AVG)
        return time.perf_counter() - start

    def extras():
        reducer = ddp.reducer
        found = {"buckets": len(reducer.buckets)}
        if reducer.bytes_reduced:
            found["done_before_backward_end"] = reducer.bytes_done_early / reducer.bytes_reduced
        return found

    session.unsynced, session.comm_cost, session.extras = unsynced, comm_cost, extras
    session.reducer_seconds = lambda: ddp.reducer.comm_seconds
    return session


def _torch_session(args, inputs, rank, world, phases):
    import torch
    import workloads

    torch.set_num_threads(1)

    def adamw(params):
        return torch.optim.AdamW(params, lr=workloads.LR, weight_decay=workloads.WEIGHT_DECAY)

    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])
    session = _Session()
    torch.manual_seed(0)
    if "one" in phases and rank == 0:
        alone = workloads._gpt_model("torch", inputs)
        opt_alone = adamw(alone.parameters())
        session.alone = lambda: _train(alone, opt_alone, idx, targets)
    model = workloads._gpt_model("torch", inputs)
    session.parameters = int(sum(p.numel() for p in model.parameters()))
    if world == 1:
        return session
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel

    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=world)
    ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap_mb)
    opt = adamw(ddp.parameters())
    session.synced = lambda: _train(ddp, opt, idx, targets)

    def unsynced():
        with ddp.no_sync():
            _train(ddp, opt, idx, targets)

    def comm_cost():
        flat = torch.zeros(session.parameters)
        tdist.barrier()
        start = time.perf_counter()
        tdist.all_reduce(flat)
        flat /= world
        return time.perf_counter() - start

    session.unsynced, session.comm_cost = unsynced, comm_cost
    return session


def _pacer():
    """A barrier between phases that sleeps instead of spinning (MPI's own barrier polls and
    would keep the idle rank's core busy while rank 0 trains alone), and the rank and size."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD.Dup()

    def meet():
        request = comm.Ibarrier()
        while not request.Test():
            time.sleep(0.001)

    return meet, comm.Get_rank(), comm.Get_size()


def _time_phases(args, session, rank, meet):
    """Rounds of the phases named in `--phases`: per round, each phase's median step time in ms
    over `--steps` steps, after `--settle` untimed ones (rank 0 alone runs the `one` phase; the
    others wait for it)."""
    phases = args.phases.split(",")
    steps_of = {"one": session.alone, "two": session.synced, "no_sync": session.unsynced}
    for name in phases:
        meet()
        if name != "one" or rank == 0:
            for _ in range(args.warmup):
                steps_of[name]()
    rounds = []
    for _ in range(args.rounds):
        row = {}
        for name in phases:
            meet()
            if name == "one" and rank != 0:
                continue
            for _ in range(args.settle):  # the caches hold the other phase's model: refill them
                steps_of[name]()
            times, reducer = [], []
            for _ in range(args.steps):
                before = session.reducer_seconds()
                start = time.perf_counter()
                steps_of[name]()
                times.append(time.perf_counter() - start)
                reducer.append(session.reducer_seconds() - before)
            row[name] = _median_ms(times)
            if name == "two":
                row["reducer_ms"] = _median_ms(reducer)
        rounds.append(row)
    return rounds


def worker(args) -> None:
    import numpy as np
    import workloads

    meet, rank, world = _pacer()
    sizes = workloads.Sizes()
    inputs = workloads.gpt_inputs(sizes)
    rng = np.random.default_rng(100 + rank)  # every rank its own batch
    shape = (args.batch, sizes.gpt_block)
    inputs["idx"] = rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64)
    inputs["targets"] = rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64)
    phases = args.phases.split(",")
    make = _somegrad_session if args.worker == "somegrad" else _torch_session
    session = make(args, inputs, rank, world, phases)
    rounds = _time_phases(args, session, rank, meet)
    comm = [session.comm_cost() for _ in range(5)] if session.comm_cost else []
    if rank == 0:
        result = {
            "framework": args.worker,
            "ranks": world,
            "rounds": rounds,
            "comm_cost_ms": _median_ms(comm),
            "parameters": session.parameters,
            "tokens_per_rank_step": args.batch * sizes.gpt_block,
            **session.extras(),
        }
        print("RESULT " + json.dumps(result), flush=True)


# --- the orchestra -------------------------------------------------------------------------------
def _launch(args, framework, ranks, phases, port):
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    command = [_mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--worker", framework]
    command += ["--rounds", str(args.rounds), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    command += ["--settle", str(args.settle), "--batch", str(args.batch), "--phases", phases]
    command += ["--port", str(port), "--bucket-cap-mb", str(args.bucket_cap_mb)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{framework} on {ranks} ranks failed:\n{done.stdout}\n{done.stderr}")


def _job(args, framework, port):
    """One measurement of `framework`: a paired job, or (`--separate`) a 1-rank job and a 2-rank
    job whose rounds are paired in order."""
    if not args.separate:
        return _launch(args, framework, 2, PAIRED, port)
    one = _launch(args, framework, 1, "one", port)
    two = _launch(args, framework, 2, "two,no_sync", port + 1)
    return dict(two, rounds=[{**a, **b} for a, b in zip(one["rounds"], two["rounds"])])


def _summary(framework, jobs):
    """Medians over the rounds of every job; the efficiency of a round compares its 1-rank and
    2-rank phases, timed seconds apart under the same machine load."""
    rows = [row for job in jobs for row in job["rounds"]]

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    efficiencies = [row["one"] / row["two"] for row in rows]
    step_1, step_2 = med(row["one"] for row in rows), med(row["two"] for row in rows)
    exposed = med(max(row["two"] - row["no_sync"], 0.0) for row in rows)
    cost = med(job["comm_cost_ms"] for job in jobs)
    tokens = jobs[0]["tokens_per_rank_step"]
    return {
        "framework": framework,
        "step_ms_1": step_1,
        "step_ms_2": step_2,
        "no_sync_step_ms_2": med(row["no_sync"] for row in rows),
        "tokens_per_s_1": tokens / (step_1 / 1000),
        "tokens_per_s_2": 2 * tokens / (step_2 / 1000),
        "scaling_efficiency": statistics.median(efficiencies),
        "scaling_efficiency_range": [min(efficiencies), max(efficiencies)],
        "exposed_comm_ms": exposed,
        "comm_cost_ms": cost,
        "overlap": max(0.0, 1 - exposed / cost) if cost else None,
        "reducer_ms": med(row.get("reducer_ms") if framework == "somegrad" else None for row in rows),
        "done_before_backward_end": med(job.get("done_before_backward_end") for job in jobs),
        "buckets": jobs[0].get("buckets"),
        "parameters": jobs[0]["parameters"],
        "rounds": len(rows),
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
        low, high = s["scaling_efficiency_range"]
        rows.append(
            f"| {s['framework']} | {f(s['step_ms_1'])} | {f(s['step_ms_2'])} | {f(s['tokens_per_s_1'], 0)} "
            f"| {f(s['tokens_per_s_2'], 0)} | {f(100 * s['scaling_efficiency'], 1, '%')} "
            f"({f(100 * low, 0)}-{f(100 * high, 0, '%')}) | {f(s['exposed_comm_ms'])} "
            f"| {f(s['comm_cost_ms'])} | {f(None if s['overlap'] is None else 100 * s['overlap'], 0, '%')} "
            f"| {f(s['reducer_ms'])} "
            f"| {f(None if s['done_before_backward_end'] is None else 100 * s['done_before_backward_end'], 0, '%')} |"
        )
    return "\n".join(rows)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short job per framework")
    parser.add_argument("--jobs", type=int, default=3, help="jobs per framework (they take turns)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of the phases per job")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per phase and round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--settle", type=int, default=1, help="untimed steps at the start of each phase")
    parser.add_argument("--batch", type=int, default=16, help="sequences per rank")
    parser.add_argument("--bucket-cap-mb", type=float, default=25.0, help="DDP's bucket size (both frameworks)")
    parser.add_argument("--separate", action="store_true", help="time 1 rank and 2 ranks in separate jobs")
    parser.add_argument("--only", choices=("somegrad", "torch"), action="append")
    parser.add_argument("--json", help="write the results there")
    parser.add_argument("--worker", choices=("somegrad", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--phases", default=PAIRED, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=29517, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    if args.quick:
        args.jobs, args.rounds, args.steps, args.warmup, args.settle = 1, 2, 2, 1, 1
    frameworks = args.only or ["somegrad", "torch"]
    if "torch" in frameworks:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("torch is not installed: PyTorch's column is left out", file=sys.stderr)
            frameworks = [f for f in frameworks if f != "torch"]
    jobs: dict[str, list] = {f: [] for f in frameworks}
    port = args.port
    for number in range(args.jobs):
        for framework in frameworks:
            port += 2
            job = _job(args, framework, port)
            jobs[framework].append(job)
            one = statistics.median(row["one"] for row in job["rounds"])
            two = statistics.median(row["two"] for row in job["rounds"])
            print(f"job {number + 1}: {framework}: {one:.1f} ms/step on 1 rank, {two:.1f} on 2 ranks", flush=True)
    summaries = [_summary(f, jobs[f]) for f in frameworks]
    how = "separate 1-rank and 2-rank jobs" if args.separate else "1 and 2 ranks taking turns in each job"
    print()
    print(
        f"GPT train step, {args.batch} sequences of 64 per rank, one BLAS thread per rank, {how}; medians of "
        f"{args.jobs} job(s) x {args.rounds} round(s) x {args.steps} steps"
    )
    print(_table(summaries))
    report = {"summaries": summaries, "jobs": jobs, "batch_per_rank": args.batch, "separate": args.separate}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
