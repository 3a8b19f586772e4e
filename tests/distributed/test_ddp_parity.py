"""DistributedDataParallel against PyTorch's, on the same 2 ranks: the same parameters and buffers.

Each rank trains a small CNN with BatchNorm in both frameworks, from the same weights (a
different seed on every rank: both DDPs must start from rank 0's) on the same data (its own
batch), with AdamW, a gradient accumulation under `no_sync()`, and `broadcast_buffers`. PyTorch
runs its DDP on gloo, somegrad on MPI, side by side in each process.
"""

import socket

import pytest

pytestmark = pytest.mark.parity

PROGRAM = r"""
import os
import sys

import numpy as np
import torch
import torch.distributed as tdist

import somegrad as sg
import somegrad.distributed as dist
from somegrad import nn, optim
import somegrad.nn.functional as F

torch.set_num_threads(1)
rank, world = int(os.environ["PMI_RANK"]), int(os.environ["PMI_SIZE"])
tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{sys.argv[1]}", rank=rank, world_size=world)
dist.init_process_group("mpi")


def layers(lib):
    # no bias before BatchNorm: its gradient is rounding noise, which Adam would turn into steps of lr
    return lib.nn.Sequential(
        lib.nn.Conv2d(1, 3, 3, padding=1, bias=False), lib.nn.BatchNorm2d(3), lib.nn.ReLU(), lib.nn.MaxPool2d(2),
        lib.nn.Flatten(), lib.nn.Linear(3 * 4 * 4, 4),
    )


torch.manual_seed(100 + rank)  # every rank its own initial weights
reference = layers(torch)
mine = layers(sg)
mine.load_state_dict({k: sg.tensor(v.numpy()) for k, v in reference.state_dict().items()})
theirs = torch.nn.parallel.DistributedDataParallel(reference, bucket_cap_mb=0.0005)
ours = nn.parallel.DistributedDataParallel(mine, bucket_cap_mb=0.0005)
assert len(ours.reducer.buckets) > 1
opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=1e-2)
opt_ours = optim.AdamW(ours.parameters(), lr=1e-2)

rng = np.random.default_rng(7 + rank)  # every rank its own batches
for step in range(8):
    micro = 2 if step in (3, 6) else 1  # two micro-batches, the first under no_sync()
    opt_theirs.zero_grad()
    opt_ours.zero_grad()
    for m in range(micro):
        x = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 4, 4)
        last = m == micro - 1
        with (theirs.no_sync() if not last else torch.enable_grad()):
            torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        with (ours.no_sync() if not last else sg.enable_grad()):
            F.cross_entropy(ours(sg.tensor(x)), sg.tensor(y)).backward()
    for (name, p), q in zip(reference.named_parameters(), mine.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=f"step {step} {name}")
    opt_theirs.step()
    opt_ours.step()

# one more forward broadcasts rank 0's running statistics, in both
with torch.no_grad(), sg.no_grad():
    theirs(torch.zeros(1, 1, 8, 8))
    ours(sg.zeros(1, 1, 8, 8))
worst = 0.0
for name, value in reference.state_dict().items():
    got = mine.state_dict()[name].numpy()
    np.testing.assert_allclose(got, value.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    worst = max(worst, float(np.abs(got.astype(np.float64) - value.numpy()).max()))
sys.stdout.write(f"OK {rank} worst difference {worst:.1e}\n")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_matches_pytorch_ddp_on_two_ranks(ranks):
    pytest.importorskip("torch")
    ranks.check(ranks.run(PROGRAM, n=2, timeout=180, args=[_free_port()]))
