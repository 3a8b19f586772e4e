"""`somegrad.train.fit` under 2 ranks: rank 0 alone reports and writes; the metrics are the ranks' mean."""

import json

import pytest

FIT = r"""
import json
import os
import sys

import numpy as np
import somegrad as sg
import somegrad.distributed as dist
import somegrad.nn.functional as F
from somegrad import optim
from somegrad.data import DataLoader, DistributedSampler, TensorDataset
from somegrad.nn.models import MLP
from somegrad.nn.parallel import DistributedDataParallel
from somegrad.train import EpochLogger, ModelCheckpoint, fit, load_checkpoint

dist.init_process_group("mpi")
rank = dist.get_rank()
writes = []
if rank != 0:  # record every file another rank writes
    real_open, real_replace = open, os.replace

    def recording_open(path, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+"):
            writes.append(str(path))
        return real_open(path, mode, *args, **kwargs)

    def recording_replace(src, dst, *args, **kwargs):
        writes.append(str(dst))
        return real_replace(src, dst, *args, **kwargs)

    import builtins

    builtins.open, os.replace = recording_open, recording_replace

rng = np.random.default_rng(0)
x = sg.tensor(rng.standard_normal((16, 4)).astype(np.float32))
y = sg.tensor(rng.integers(0, 3, 16))
data = TensorDataset(x, y)
sampler = DistributedSampler(data, shuffle=False)
sg.manual_seed(0)
model = DistributedDataParallel(MLP(4, [8], 3))
# lr=0: the parameters stay put, so each rank's loss can be computed beforehand
opt = optim.SGD(model.parameters(), lr=0.0)
mine = sg.tensor([float(F.cross_entropy(model.module(x[list(sampler)]), y[list(sampler)]))])
both = [sg.zeros(1), sg.zeros(1)]
dist.all_gather(both, mine)
history = fit(
    model,
    DataLoader(data, batch_size=8, sampler=sampler),
    F.cross_entropy,
    opt,
    epochs=2,
    progress=False,
    history_path="history.json",
    callbacks=[EpochLogger(), ModelCheckpoint("ckpt.safetensors", save_best_only=False)],
)
assert writes == [], f"rank {rank} wrote {writes}"
assert history.epochs, "no history on this rank"
mean = (both[0].item() + both[1].item()) / 2
assert abs(history.epochs[-1]["loss"] - mean) < 1e-5, (history.epochs[-1], both)  # on every rank

# every rank resumes from the checkpoint that rank 0 wrote: the replicas are equal again
with sg.no_grad():
    for p in model.parameters():
        p.add_(rank + 1.0)
load_checkpoint("ckpt.safetensors", model=model, optimizer=opt)
for p in model.parameters():
    copies = [sg.zeros_like(p.detach()) for _ in range(2)]
    dist.all_gather(copies, p.detach())
    np.testing.assert_array_equal(copies[0].numpy(), copies[1].numpy())
sys.stdout.write(f"OK {rank}\n")
"""


@pytest.mark.slow
def test_fit_under_two_ranks(ranks, tmp_path):
    result = ranks.run(FIT, n=2, timeout=180)
    ranks.check(result)
    # only rank 0 printed the epoch summaries
    assert result.stdout.count("epoch 1/2") == 1 and result.stdout.count("epoch 2/2") == 1, result.stdout
    history = json.loads((tmp_path / "history.json").read_text())
    assert history
