"""somegrad.data: datasets, samplers, default_collate and the DataLoader."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import somegrad as sg
from somegrad.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)


class Squares(Dataset):
    """Map-style: item i is (i, i*i) as Python ints."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i, i * i


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n = n
        self.with_len = with_len

    def __iter__(self):
        return iter(np.arange(self.n, dtype=np.float32).reshape(self.n, 1))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


def tensor_dataset(n=10):
    x = sg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = sg.tensor(np.arange(n), dtype=sg.int64)
    return TensorDataset(x, y)


# --- datasets -------------------------------------------------------------------------------------


def test_tensor_dataset_items_and_errors():
    ds = tensor_dataset(4)
    assert len(ds) == 4
    x, y = ds[2]
    assert x.shape == (3,) and x.tolist() == [6.0, 7.0, 8.0] and y.item() == 2
    with pytest.raises(ValueError, match=r"same size in dimension 0, got shapes \(4, 3\), \(5,\)"):
        TensorDataset(sg.zeros(4, 3), sg.zeros(5))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_and_concat():
    ds = Squares(5)
    sub = Subset(ds, [4, 0, 2])
    assert [sub[i] for i in range(len(sub))] == [(4, 16), (0, 0), (2, 4)]
    both = ConcatDataset([Squares(2), Squares(3)])
    assert len(both) == 5
    assert [both[i][0] for i in range(5)] == [0, 1, 0, 1, 2]
    assert both[-1] == (2, 4)
    assert (Squares(2) + Squares(1))[2] == (0, 0)
    with pytest.raises(IndexError, match="index 5 out of range for length 5"):
        both[5]
    with pytest.raises(IndexError, match="out of range"):
        both[-6]


def test_random_split_counts_fractions_and_seed():
    ds = Squares(10)
    a, b = random_split(ds, [7, 3], generator=sg.Generator().manual_seed(0))
    assert (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=sg.Generator().manual_seed(0))
    assert a.indices == a2.indices
    # floor(10 * 0.33) = 3 each, the remainder of 1 goes to the first subset
    parts = random_split(ds, [0.34, 0.33, 0.33], generator=sg.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [4, 3, 3]
    sg.manual_seed(5)
    first = random_split(ds, [5, 5])[0].indices
    sg.manual_seed(5)
    assert random_split(ds, [5, 5])[0].indices == first


@pytest.mark.parametrize(
    "lengths, message",
    [
        ([5, 4], r"sum to 9, but the dataset has 10 items"),
        ([0.5, 0.6], r"sum to 1"),
        ([11, -1], r"bad value at index 1"),
    ],
)
def test_random_split_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(Squares(10), lengths)


# --- samplers ------------------------------------------------------------------------------------


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    sampler = RandomSampler(range(20), generator=sg.Generator().manual_seed(3))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(20)) and first != second  # a new order each epoch
    again = list(RandomSampler(range(20), generator=sg.Generator().manual_seed(3)))
    assert again == first
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=sg.Generator()))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    longer = list(RandomSampler(range(4), num_samples=10))
    assert len(longer) == 10 and set(longer) == {0, 1, 2, 3}
    assert sorted(SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    batches = BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)
    assert list(batches) == [[0, 1], [2, 3], [4]] and len(batches) == 3
    batches = BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)
    assert list(batches) == [[0, 1], [2, 3]] and len(batches) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer, got 0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)


# --- collate -------------------------------------------------------------------------------------


def test_default_collate_structures():
    batch = default_collate([sg.ones(2, 3), sg.zeros(2, 3)])
    assert batch.shape == (2, 2, 3) and batch.numpy()[0].sum() == 6

    arrays = default_collate([np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32)])
    assert isinstance(arrays, sg.Tensor) and arrays.shape == (2, 3) and arrays.dtype == sg.float32

    assert default_collate([1.5, 2.5]).dtype == sg.float64  # as PyTorch
    ints = default_collate([1, 2, 3])
    assert ints.dtype == sg.int64 and ints.tolist() == [1, 2, 3]
    assert default_collate([True, False]).dtype == sg.bool
    assert default_collate([np.int32(1), np.int32(2)]).dtype == sg.int32
    assert default_collate(["a", "b"]) == ["a", "b"]

    nested = default_collate([{"x": np.zeros(2), "y": (1, "a")}, {"x": np.ones(2), "y": (2, "b")}])
    assert nested["x"].shape == (2, 2)
    assert nested["y"][0].tolist() == [1, 2] and nested["y"][1] == ["a", "b"]

    Point = namedtuple("Point", "x y")
    points = default_collate([Point(1.0, 2), Point(3.0, 4)])
    assert isinstance(points, Point) and points.x.tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    "batch, error, message",
    [
        ([sg.zeros(2), sg.zeros(3)], ValueError, r"same shape, got \[\(2,\), \(3,\)\]"),
        ([np.zeros(2), np.zeros(3)], ValueError, "same shape"),
        ([(1, 2), (1, 2, 3)], ValueError, r"same length, got \[2, 3\]"),
        ([object(), object()], TypeError, "found object"),
        ([], ValueError, "empty batch"),
    ],
)
def test_default_collate_errors(batch, error, message):
    with pytest.raises(error, match=message):
        default_collate(batch)


# --- DataLoader ----------------------------------------------------------------------------------


def test_loader_batches_in_order_with_last_partial_batch():
    loader = DataLoader(tensor_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    assert np.concatenate([y.numpy() for _, y in batches]).tolist() == list(range(10))
    assert batches[0][1].dtype == sg.int64
    assert len(DataLoader(tensor_dataset(10), batch_size=4, drop_last=True)) == 2
    assert [len(y.tolist()) for _, y in DataLoader(tensor_dataset(10), 4, drop_last=True)] == [4, 4]


def test_loader_shuffle_is_seeded_and_changes_each_epoch():
    def epoch_orders(loader, epochs=2):
        return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(epochs)]

    ds = tensor_dataset(12)
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=sg.Generator().manual_seed(0))
    first, second = epoch_orders(loader)
    assert sorted(first) == list(range(12)) and first != second and first != list(range(12))
    again = DataLoader(ds, batch_size=5, shuffle=True, generator=sg.Generator().manual_seed(0))
    assert epoch_orders(again) == [first, second]
    # Without a generator the global one shuffles: sg.manual_seed fixes the order.
    sg.manual_seed(11)
    global_a = epoch_orders(DataLoader(ds, batch_size=5, shuffle=True), 1)
    sg.manual_seed(11)
    assert epoch_orders(DataLoader(ds, batch_size=5, shuffle=True), 1) == global_a


def test_loader_samplers_batch_samplers_and_collate_fn():
    ds = Squares(6)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 3, 1])
    assert [b[0].tolist() for b in loader] == [[5, 3], [1]]
    loader = DataLoader(ds, batch_sampler=[[0, 2], [4]])
    assert [b[1].tolist() for b in loader] == [[0, 4], [16]] and len(loader) == 2
    loader = DataLoader(ds, batch_size=3, collate_fn=lambda items: [i for i, _ in items])
    assert list(loader) == [[0, 1, 2], [3, 4, 5]]
    single = list(DataLoader(ds, batch_size=None))
    assert single[2] == (2, 4) and len(DataLoader(ds, batch_size=None)) == 6


def test_loader_iterable_dataset():
    loader = DataLoader(Stream(5), batch_size=2)
    batches = list(loader)
    assert [tuple(b.shape) for b in batches] == [(2, 1), (2, 1), (1, 1)] and len(loader) == 3
    assert len(list(DataLoader(Stream(5), batch_size=2, drop_last=True))) == 2
    assert len(DataLoader(Stream(5), batch_size=2, drop_last=True)) == 2
    with pytest.raises(TypeError, match="without __len__"):
        len(DataLoader(Stream(5, with_len=False), batch_size=2))
    with pytest.raises(ValueError, match="shuffle=True is not possible with an IterableDataset"):
        DataLoader(Stream(5), shuffle=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler excludes"),
        (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler excludes"),
        (dict(sampler=[0, 1], shuffle=True), "either sampler or shuffle"),
        (dict(batch_size=None, drop_last=True), "drop_last=True needs a batch_size"),
        (dict(batch_size=0), "batch_size should be a positive integer, got 0"),
    ],
)
def test_loader_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Squares(4), **kwargs)


def test_loader_moves_batches_to_device():
    moved = []
    original_to = sg.Tensor.to

    def spy(self, *args, **kwargs):
        moved.append(args)
        return original_to(self, *args, **kwargs)

    loader = DataLoader(Squares(4), batch_size=2, device="cpu")
    sg.Tensor.to = spy
    try:
        batches = [b for b in loader]
    finally:
        sg.Tensor.to = original_to
    assert len(moved) == 4  # two tensors per batch, two batches
    assert all(str(b.device) == "cpu" for batch in batches for b in batch)


def test_tensor_dataset_batches_equal_per_sample_collation():
    x = sg.tensor(np.random.default_rng(0).normal(size=(23, 2, 3)).astype(np.float32))
    y = sg.tensor(np.arange(23), dtype=sg.int64)
    train, _ = random_split(TensorDataset(x, y), [17, 6], generator=sg.Generator().manual_seed(0))
    for dataset in (TensorDataset(x, y), train):

        def per_sample(samples):
            return default_collate(samples)

        fast = DataLoader(dataset, batch_size=5, shuffle=True, generator=sg.Generator().manual_seed(1))
        slow = DataLoader(
            dataset,
            batch_size=5,
            shuffle=True,
            generator=sg.Generator().manual_seed(1),
            collate_fn=per_sample,
        )
        pairs = list(zip(fast, slow, strict=True))
        assert len(pairs) == len(slow)
        for (fx, fy), (sx, sy) in pairs:
            assert isinstance(fx, sg.Tensor) and fx.shape == sx.shape and fy.dtype == sy.dtype
            np.testing.assert_array_equal(fx.numpy(), sx.numpy())
            np.testing.assert_array_equal(fy.numpy(), sy.numpy())
