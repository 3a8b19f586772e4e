"""`somegrad.utils.data` (the same objects as `somegrad.data`), lazy samplers, and the data
API checked against `torch.utils.data` where PyTorch's results are reproducible."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import somegrad as sg
import somegrad.data as data
from somegrad.data import sampler as samplers


def _utils_data():
    import somegrad.utils.data as utils_data

    return utils_data


NAMES = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DataLoader",
    "default_collate",
    "default_convert",
    "get_worker_info",
]


def test_utils_data_has_the_same_objects():
    utils_data = _utils_data()
    from somegrad.data import loader, worker

    modules = {"DataLoader": loader, "get_worker_info": worker, "WorkerInfo": worker}
    for name in NAMES:
        expected = getattr(data, name, None) or getattr(modules.get(name, samplers), name)
        assert getattr(utils_data, name) is expected, name
    assert utils_data.distributed.DistributedSampler is data.DistributedSampler
    from somegrad.utils.data.distributed import DistributedSampler

    assert DistributedSampler is data.distributed.DistributedSampler
    import somegrad.utils.checkpoint  # the core's portion of somegrad.utils still works

    assert callable(somegrad.utils.checkpoint.checkpoint)


def test_a_training_loop_through_utils_data():
    utils_data = _utils_data()
    x, y = sg.randn(12, 3), sg.arange(12) % 2
    train, val = utils_data.random_split(
        utils_data.TensorDataset(x, y), [8, 4], generator=sg.Generator().manual_seed(0)
    )
    loader = utils_data.DataLoader(train, batch_size=4, shuffle=True)
    assert sum(len(b[1]) for b in loader) == 8 and len(val) == 4


# --- samplers that never materialise their indices ----------------------------------------------
def test_random_sampler_with_ten_billion_samples_does_not_allocate():
    tracemalloc.start()
    try:
        sampler = data.RandomSampler(range(1000), replacement=True, num_samples=10**10)
        assert len(sampler) == 10**10
        loader = data.DataLoader(range(1000), batch_size=64, sampler=sampler)
        assert len(loader) == (10**10 + 63) // 64
        iterator = iter(sampler)
        first = [next(iterator) for _ in range(10_000)]
        batch = next(iter(data.BatchSampler(sampler, 32, drop_last=False)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert min(first) >= 0 and max(first) < 1000 and len(set(first)) > 900 and len(batch) == 32


def test_random_sampler_seeding():
    sampler = data.RandomSampler(
        range(50), replacement=True, num_samples=10_000, generator=sg.Generator().manual_seed(1)
    )
    first = list(sampler)
    assert len(first) == 10_000 and first != list(sampler)  # a new epoch draws anew
    again = data.RandomSampler(range(50), replacement=True, num_samples=10_000, generator=sg.Generator().manual_seed(1))
    assert list(again) == first
    sg.manual_seed(3)
    a = list(data.RandomSampler(range(30)))
    sg.manual_seed(3)
    b = list(data.RandomSampler(range(30)))
    assert a == b and sorted(a) == list(range(30))
    longer = list(data.RandomSampler(range(4), num_samples=10, generator=sg.Generator().manual_seed(0)))
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3] and len(set(longer[8:])) == 2


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0]
    sampler = samplers.WeightedRandomSampler(weights, 20_000, generator=sg.Generator().manual_seed(0))
    counts = np.bincount(list(sampler), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3) < 0.2 and len(sampler) == 20_000
    without = list(samplers.WeightedRandomSampler(sg.tensor([1.0, 1.0, 5.0]), 3, replacement=False))
    assert sorted(without) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        samplers.WeightedRandomSampler(weights, 0)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        samplers.WeightedRandomSampler([[1.0]], 2)
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        samplers.WeightedRandomSampler(weights, 3, replacement=False)


def test_subset_random_sampler_is_lazy_over_its_indices():
    indices = range(10, 10**9, 10**7)  # a range: nothing materialised but the permutation
    order = list(data.SubsetRandomSampler(indices, generator=sg.Generator().manual_seed(0)))
    assert sorted(order) == list(indices)


# --- parity with torch.utils.data ---------------------------------------------------------------
class Records:
    """Map-style samples of several kinds, the same for both libraries."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.full((2,), i, dtype=np.float32), "label": i % 3, "weight": i / 4, "name": f"r{i}"}


def _as_lists(batch):
    if isinstance(batch, dict):
        return {k: _as_lists(v) for k, v in batch.items()}
    if isinstance(batch, list):
        return [_as_lists(v) for v in batch]
    return (str(batch.dtype).split(".")[-1], batch.tolist()) if hasattr(batch, "tolist") else batch


@pytest.mark.parity
@pytest.mark.parametrize("num_workers", [0, 2])
def test_parity_loader_batches_and_lengths(num_workers):
    torch = pytest.importorskip("torch")
    tud = torch.utils.data
    for kwargs in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        ours = [_as_lists(b) for b in data.DataLoader(Records(), num_workers=num_workers, **kwargs)]
        theirs = [_as_lists(b) for b in tud.DataLoader(Records(), num_workers=num_workers, **kwargs)]
        assert ours == theirs, kwargs
        assert len(data.DataLoader(Records(), **kwargs)) == len(tud.DataLoader(Records(), **kwargs))


@pytest.mark.parity
def test_parity_samplers_with_reproducible_output():
    torch = pytest.importorskip("torch")
    tud = torch.utils.data
    for n, size, drop in ((10, 3, False), (10, 3, True), (9, 3, False), (1, 4, False)):
        ours = data.BatchSampler(data.SequentialSampler(range(n)), size, drop)
        theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    for replacement, num_samples in ((False, None), (False, 25), (True, 7), (True, 100)):
        ours = data.RandomSampler(range(10), replacement=replacement, num_samples=num_samples)
        theirs = tud.RandomSampler(range(10), replacement=replacement, num_samples=num_samples)
        assert len(ours) == len(theirs)
        drawn, reference = list(ours), list(theirs)
        assert len(drawn) == len(reference)
        if not replacement:  # whole permutations first, then part of one: the same multiset of indices
            assert sorted(drawn[:10]) == sorted(reference[:10]) == list(range(10))
            assert np.array_equal(np.bincount(drawn, minlength=10) >= len(drawn) // 10, [True] * 10)
    weights = [0.0, 2.0, 1.0]
    assert set(samplers.WeightedRandomSampler(weights, 50)) <= {1, 2}
    assert set(tud.WeightedRandomSampler(weights, 50)) <= {1, 2}
    for bad in (dict(num_samples=0), dict(num_samples=True)):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            samplers.WeightedRandomSampler(weights, **bad)
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            tud.WeightedRandomSampler(weights, **bad)
