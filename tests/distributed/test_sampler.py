"""DistributedSampler: disjoint shares that cover the dataset, PyTorch's padding and epochs."""

import pytest

from somegrad.data import DataLoader, DistributedSampler, TensorDataset


def shares(n, replicas, **kwargs):
    return [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, **kwargs)) for r in range(replicas)]


@pytest.mark.parametrize("n, replicas", [(10, 2), (11, 2), (7, 3), (3, 4), (1, 2), (12, 4)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_shares_are_disjoint_and_cover_the_dataset(n, replicas, shuffle):
    parts = shares(n, replicas, shuffle=shuffle, seed=3)
    per_rank = -(-n // replicas)
    assert all(len(p) == per_rank for p in parts)
    everything = [i for p in parts for i in p]
    assert set(everything) == set(range(n))  # covering
    assert len(everything) - n == per_rank * replicas - n  # only the padding repeats
    if n % replicas == 0:
        assert sorted(everything) == list(range(n))  # disjoint


@pytest.mark.parametrize("n, replicas", [(10, 3), (11, 2), (12, 4), (5, 2)])
def test_drop_last_drops_the_tail_instead(n, replicas):
    parts = shares(n, replicas, drop_last=True, shuffle=True)
    everything = [i for p in parts for i in p]
    assert len(everything) == len(set(everything)) == (n // replicas) * replicas
    assert all(len(p) == n // replicas for p in parts)


def test_order_follows_seed_and_epoch_the_same_on_every_rank():
    sampler = DistributedSampler(range(20), num_replicas=2, rank=0, seed=5)
    other = DistributedSampler(range(20), num_replicas=2, rank=1, seed=5)
    first = list(sampler)
    assert list(sampler) == first  # no set_epoch: the same order again, as in PyTorch
    sampler.set_epoch(1)
    other.set_epoch(1)
    second = list(sampler)
    assert second != first
    assert sorted(second + list(other)) == list(range(20))
    assert list(DistributedSampler(range(20), num_replicas=2, rank=0, seed=6)) != first
    assert shares(6, 2, shuffle=False) == [[0, 2, 4], [1, 3, 5]]
    assert shares(5, 2, shuffle=False) == [[0, 2, 4], [1, 3, 0]]


def test_bad_arguments_and_defaults_without_a_process_group():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


def test_with_a_dataloader():
    import somegrad as sg

    data = TensorDataset(sg.arange(10))
    loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, num_replicas=2, rank=1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]


@pytest.mark.parity
@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (2, 3, False), (9, 3, False)])
def test_same_indices_as_pytorch_without_shuffle(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for rank in range(replicas):
        theirs = TorchSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert torch is not None
