"""somegrad.compile beside eager somegrad and eager PyTorch, in one run, one BLAS thread.

    python benchmarks/compiled.py            the full sizes (a few minutes)
    python benchmarks/compiled.py --tiny     tiny sizes, a smoke test
    python benchmarks/compiled.py --json out.json

Rows: per-op overhead (a chain of 100 small elementwise ops, forward and backward, per op),
the MLP training step (AdamW, beside the hand-written NumPy MLP of numpy_mlp.py), the GPT
training step, and each step's peak memory (tracemalloc: NumPy's and Python's allocations).
The timings alternate the frameworks call by call (harness.time_alternating) and report medians.
The compiled steps are the eager ones under `somegrad.compile`, their AdamW `capturable=True`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import workloads as w  # noqa: E402


def _compiled_training(zero_grad, forward_loss, step):
    import somegrad as sg

    def run():
        zero_grad()
        loss = forward_loss()
        loss.backward()
        step()
        return loss

    compiled = sg.compile(run)
    return lambda: compiled().item(), compiled


def chain_compiled(inputs):
    (sg,) = w._import_somegrad()
    x = sg.tensor(inputs["x"], requires_grad=True)
    a, b = sg.tensor(inputs["a"]), sg.tensor(inputs["b"])
    length = inputs["sizes"].chain_length

    def run():
        x.grad = None
        out = w._chain(x, a, b, length)
        out.backward()
        return out.detach()

    compiled = sg.compile(run)
    return lambda: compiled().item(), compiled


def mlp_compiled(inputs):
    sg, nn, optim = w._import_somegrad("nn", "optim")
    model = w._sequential_mlp(nn, inputs["sizes"].mlp)
    w._load("somegrad", model, inputs["weights"])
    opt = optim.AdamW(model.parameters(), lr=w.LR, weight_decay=w.WEIGHT_DECAY, capturable=True)
    x, y = sg.tensor(inputs["x"]), sg.tensor(inputs["y"])
    return _compiled_training(opt.zero_grad, lambda: nn.functional.cross_entropy(model(x), y), opt.step)


def gpt_compiled(inputs):
    sg, optim = w._import_somegrad("optim")
    model = w._gpt_model("somegrad", inputs)
    opt = optim.AdamW(model.parameters(), lr=w.LR, weight_decay=w.WEIGHT_DECAY, capturable=True)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])
    return _compiled_training(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


ROWS = [
    # name, inputs, unit scale, per-step divisor, {column: builder}
    ("per-op overhead (us/op)", w.chain_inputs, 1e6, lambda s: 2 * s.chain_length,
     {"eager": w.chain_somegrad, "compiled": chain_compiled, "torch": w.chain_torch}),
    ("MLP step (ms)", w.mlp_inputs, 1e3, lambda s: 1,
     {"eager": w.mlp_somegrad, "compiled": mlp_compiled, "torch": w.mlp_torch, "numpy": w.mlp_numpy}),
    ("GPT step (ms)", w.gpt_inputs, 1e3, lambda s: 1,
     {"eager": w.gpt_train_somegrad, "compiled": gpt_compiled, "torch": w.gpt_train_torch}),
]  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    sizes = w.TINY if args.tiny else w.FULL
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    results = {}
    for name, make_inputs, scale, divisor, builders in ROWS:
        inputs = make_inputs(sizes)
        steps, programs = {}, {}
        for column, build in builders.items():
            try:
                made = build(inputs)
            except (w.Unavailable, ImportError) as e:
                print(f"  {name} / {column}: unavailable ({e})")
                continue
            if isinstance(made, tuple):
                made, programs[column] = made
            steps[column] = made
        times = harness.time_alternating(
            steps, warmup=5, min_reps=10, max_reps=2000, min_seconds=args.seconds, max_seconds=4 * args.seconds
        )
        row = {c: harness.median(t) * scale / divisor(sizes) for c, t in times.items()}
        memory = {}
        for column in ("eager", "compiled"):
            if column in steps:
                memory[column] = harness.traced_peak_mb(steps[column])
        results[name] = {"time": row, "peak_mb": memory}
        cells = "  ".join(f"{c} {v:9.3f}" for c, v in row.items())
        ratios = []
        if "torch" in row:
            ratios.append(f"compiled/torch {row['compiled'] / row['torch']:.2f}x")
            ratios.append(f"eager/torch {row['eager'] / row['torch']:.2f}x")
        if "numpy" in row:
            ratios.append(f"compiled/numpy {row['compiled'] / row['numpy']:.2f}x")
        print(f"{name:26s} {cells}   {'  '.join(ratios)}")
        print(f"{'':26s} peak MiB: " + "  ".join(f"{c} {v:.2f}" for c, v in memory.items()))
        for column, compiled in programs.items():
            program = next((s.program for s in compiled.signatures.values() if s.program is not None), None)
            if program is not None:
                held = sum(a.nbytes for a in program.buffer_arrays) / 2**20
                memory[f"{column}_planned_buffers"] = held
                print(
                    f"{'':26s} {column}: {len(program.entries)} kernels, {len(program.groups)} fused groups, "
                    f"{len(program.buffers)} planned buffers ({held:.2f} MiB, held between calls: add to its peak)"
                )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": harness.machine_info(), "results": results}, f, indent=2)
    return results


if __name__ == "__main__":
    main()
