"""DistributedDataParallel on 2 MPI ranks against one process: the same parameters after 20 AdamW steps.

Each rank runs its half of every batch through the DDP replica and, beside it, the whole batch
through a reference model in the same process; after 20 AdamW steps both must agree to float32
tolerance. BatchNorm normalises over each rank's own batch (as PyTorch's DDP does without
SyncBatchNorm), so the CNN's reference runs the whole batch as the ranks' two halves, each
through the model, with the mean of their losses: one process, one optimizer step per batch.
"""

import pytest

EQUIVALENCE = r"""
import sys

import numpy as np
import somegrad as sg
import somegrad.distributed as dist
import somegrad.nn.functional as F
from somegrad import optim
from somegrad.nn.models import CNN, GPT, MLP, GPTConfig
from somegrad.nn.parallel import DistributedDataParallel

which = sys.argv[1]
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(1234)
b = 4  # per-rank batch; the reference sees world * b

if which == "mlp":
    def build():
        return MLP(12, [24, 16], 5)
    data = [(x, rng.integers(0, 5, world * b)) for x in rng.standard_normal((20, world * b, 12)).astype(np.float32)]
    def loss_of(model, x, y):
        return F.cross_entropy(model(x), y)
elif which == "cnn":
    def build():
        return CNN(in_channels=1, num_classes=4, image_size=8, channels=(3, 4), hidden=8, batch_norm=True)
    images = rng.standard_normal((20, world * b, 1, 8, 8)).astype(np.float32)
    data = [(x, rng.integers(0, 4, world * b)) for x in images]
    def loss_of(model, x, y):
        return F.cross_entropy(model(x), y)
else:
    config = GPTConfig(vocab_size=19, block_size=8, n_layer=2, n_head=2, n_embd=16)
    def build():
        return GPT(config)
    data = [(rng.integers(0, 19, (world * b, 8)), rng.integers(0, 19, (world * b, 8))) for _ in range(20)]
    def loss_of(model, x, y):
        return model(x, y)[1]

sg.manual_seed(0)
reference = build()
# a different seed on every rank: DDP must start all replicas from rank 0's parameters
sg.manual_seed(100 + rank)
replica = build()
replica.load_state_dict(reference.state_dict()) if rank == 0 else None
# small buckets, so that every step runs several all-reduces
cap = sum(p.numel() * 4 for p in replica.parameters()) / 5 / 2**20
model = DistributedDataParallel(replica, bucket_cap_mb=cap)
assert len(model.reducer.buckets) > 1
for p, q in zip(reference.parameters(), model.module.parameters()):
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())

opt_ref = optim.AdamW(reference.parameters(), lr=3e-3)
opt = optim.AdamW(model.parameters(), lr=3e-3)
for x, y in data:
    x, y = sg.tensor(x), sg.tensor(y)
    opt_ref.zero_grad()
    if which == "cnn":  # BatchNorm's statistics per rank's half, as the ranks see them
        loss = sum(loss_of(reference, x[r * b:(r + 1) * b], y[r * b:(r + 1) * b]) for r in range(world)) / world
    else:
        loss = loss_of(reference, x, y)
    loss.backward()
    opt_ref.step()
    opt.zero_grad()
    loss_of(model, x[rank * b:(rank + 1) * b], y[rank * b:(rank + 1) * b]).backward()
    grads = [p.grad.detach().numpy().copy() for p in model.parameters()]
    opt.step()

worst = 0.0
for (name, p), q in zip(reference.named_parameters(), model.module.parameters()):
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-4, atol=2e-5, err_msg=name)
    worst = max(worst, float(np.abs(q.detach().numpy() - p.detach().numpy()).max()))
# every replica holds the same parameters, and the same buffers once a forward has broadcast rank 0's
# (each rank's BatchNorm updates its running statistics from its own batch, as in PyTorch)
model.eval()
with sg.no_grad():
    loss_of(model, sg.tensor(data[0][0][:b]), sg.tensor(data[0][1][:b]))
for t in list(model.module.parameters()) + list(model.module.buffers()):
    both = [sg.zeros_like(t.detach()) for _ in range(world)]
    dist.all_gather(both, t.detach())
    np.testing.assert_array_equal(both[0].numpy(), both[1].numpy())
keys = list(model.state_dict())
assert keys and all(k.startswith("module.") for k in keys), keys
assert [k[len("module."):] for k in keys] == list(model.module.state_dict())
sys.stdout.write(f"OK {rank} worst difference {worst:.2e}\n")
"""


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mlp", "cnn", "gpt"])
def test_two_ranks_equal_one_process_with_twice_the_batch(ranks, model):
    ranks.check(ranks.run(EQUIVALENCE, n=2, args=[model], timeout=240))


NO_SYNC = r"""
import sys

import numpy as np
import somegrad as sg
import somegrad.distributed as dist
import somegrad.nn.functional as F
from somegrad import optim
from somegrad.nn.models import MLP
from somegrad.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(7)
b, micro = 3, 3
sg.manual_seed(0)
reference = MLP(6, [10], 3)
sg.manual_seed(0)
model = DistributedDataParallel(MLP(6, [10], 3), bucket_cap_mb=0.0005)
opt_ref = optim.AdamW(reference.parameters(), lr=1e-2)
opt = optim.AdamW(model.parameters(), lr=1e-2)
for step in range(4):
    xs = [sg.tensor(rng.standard_normal((world * b, 6)).astype(np.float32)) for _ in range(micro)]
    ys = [sg.tensor(rng.integers(0, 3, world * b)) for _ in range(micro)]
    opt_ref.zero_grad()
    for x, y in zip(xs, ys):  # one process: the gradients of the micro-batches add up
        F.cross_entropy(reference(x), y).backward()
    opt_ref.step()
    opt.zero_grad()
    for k, (x, y) in enumerate(zip(xs, ys)):
        shard = slice(rank * b, (rank + 1) * b)
        if k < micro - 1:
            with model.no_sync():
                F.cross_entropy(model(x[shard]), y[shard]).backward()
            if step == 0 and k == 0:  # no communication yet: the replicas' gradients differ
                g = model.module[1].weight.grad.detach()
                both = [sg.zeros_like(g) for _ in range(world)]
                dist.all_gather(both, g)
                assert not np.allclose(both[0].numpy(), both[1].numpy())
        else:
            F.cross_entropy(model(x[shard]), y[shard]).backward()
    opt.step()
for p, q in zip(reference.parameters(), model.module.parameters()):
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-4, atol=1e-5)
sys.stdout.write(f"OK {rank}\n")
"""


@pytest.mark.slow
def test_no_sync_accumulation_equals_one_larger_step(ranks):
    ranks.check(ranks.run(NO_SYNC, n=2, timeout=120))


UNUSED = r"""
import sys

import numpy as np
import somegrad as sg
import somegrad.distributed as dist
from somegrad import nn
from somegrad.nn.parallel import DistributedDataParallel

class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 1)
        self.b = nn.Linear(4, 1)
        self.never = nn.Linear(4, 1)

    def forward(self, x, head):
        return self.a(x) if head == "a" else self.b(x)

dist.init_process_group("mpi")
rank = dist.get_rank()
sg.manual_seed(0)
x = sg.ones(2, 4) * (rank + 1)

# find_unused_parameters: rank 0 uses head a, rank 1 head b; nobody uses `never`
model = DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
model(x, "a" if rank == 0 else "b").sum().backward()
# d(sum)/d(weight) of a Linear on ones * (r + 1) is 2 * (r + 1) per input; averaged with a zero
expected_a, expected_b = 2 * 1 / 2, 2 * 2 / 2
np.testing.assert_allclose(model.module.a.weight.grad.numpy(), np.full((1, 4), expected_a))
np.testing.assert_allclose(model.module.b.weight.grad.numpy(), np.full((1, 4), expected_b))
assert model.module.never.weight.grad is None  # unused on every rank: left alone
model(x, "a" if rank == 0 else "b").sum().backward()  # the next iteration runs as well
np.testing.assert_allclose(model.module.a.weight.grad.numpy(), np.full((1, 4), 2 * expected_a))

# without it, a parameter that gets no gradient is reported at the next forward
strict = DistributedDataParallel(TwoHeads())
strict(x, "a").sum().backward()
try:
    strict(x, "a")
except RuntimeError as exc:
    assert "find_unused_parameters=True" in str(exc), exc
else:
    raise AssertionError("no error for parameters without gradients")
sys.stdout.write(f"OK {rank}\n")
"""


def test_find_unused_parameters(ranks):
    ranks.check(ranks.run(UNUSED, n=2, timeout=60))


DTYPES = r"""
import sys

import numpy as np
import somegrad as sg
import somegrad.distributed as dist
from somegrad import nn
from somegrad.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()


class Mixed(nn.Module):
    # parameters of three dtypes: one bucket (at least) for each
    def __init__(self):
        super().__init__()
        self.low = nn.Linear(4, 3, dtype=sg.bfloat16)
        self.wide = nn.Linear(3, 2, dtype=sg.float64)
        self.phase = nn.Parameter(sg.tensor([1 + 1j, 0.5 - 2j], dtype=sg.complex64))

    def forward(self, x):
        h = self.wide(self.low(x.to(sg.bfloat16)).to(sg.float64))
        z = h.to(sg.complex64) * self.phase
        return (z * z.conj()).real.sum() + h.sum()


sg.manual_seed(0)
model = DistributedDataParallel(Mixed())
assert {b.buffer.dtype for b in model.reducer.buckets} == {sg.bfloat16, sg.float64, sg.complex64}
x = sg.randn(5, 4) * (rank + 1)  # every rank its own batch
with model.no_sync():
    model(x).backward()
local = {name: p.grad.detach().clone() for name, p in model.module.named_parameters()}
model.zero_grad()
model(x).backward()  # synchronised: the mean of the ranks' gradients, in each parameter's dtype
for name, p in model.module.named_parameters():
    assert p.grad.dtype is p.dtype, (name, p.grad.dtype)
    everyone = [sg.zeros_like(local[name]) for _ in range(world)]
    dist.all_gather(everyone, local[name])
    host = lambda t: t.numpy() if t.dtype.is_complex else t.to(sg.float64).numpy()
    mean = sum(host(t) for t in everyone) / world
    tolerance = 1e-2 if p.dtype is sg.bfloat16 else 1e-6  # bfloat16 keeps 8 bits
    np.testing.assert_allclose(host(p.grad), mean, rtol=tolerance, atol=tolerance, err_msg=name)
    assert not np.allclose(host(local[name]), mean), name  # the ranks' gradients did differ
sys.stdout.write(f"OK {rank}\n")
"""


def test_gradients_are_the_mean_of_the_ranks_in_every_dtype(ranks):
    ranks.check(ranks.run(DTYPES, n=2, timeout=60))


SINGLE = r"""
import sys

import somegrad as sg
import somegrad.distributed as dist
import somegrad.nn.functional as F
from somegrad.nn.models import MLP
from somegrad.nn.parallel import DistributedDataParallel

# no launcher: init_process_group makes a job of one process, and DDP is a plain wrapper
dist.init_process_group("mpi")
assert dist.get_world_size() == 1 and dist.get_rank() == 0
sg.manual_seed(0)
model = DistributedDataParallel(MLP(4, [8], 2))
x, y = sg.randn(5, 4), sg.tensor([0, 1, 1, 0, 1])
F.cross_entropy(model(x), y).backward()
grads = [p.grad.clone() for p in model.parameters()]
for p in model.parameters():
    p.grad = None
F.cross_entropy(model.module(x), y).backward()
assert all(bool((g == p.grad).all()) for g, p in zip(grads, model.parameters()))
state = model.state_dict()
assert list(state) == ["module." + k for k in model.module.state_dict()]
model.load_state_dict(state)
assert "DistributedDataParallel" in repr(model)
sys.stdout.write("OK 0\n")
"""


def test_one_process_without_launcher(ranks):
    ranks.check(ranks.run_single(SINGLE), n=1)
