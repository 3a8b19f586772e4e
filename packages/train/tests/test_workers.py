"""DataLoader with worker processes: the same batches as without, PyTorch's per-worker
seeding, worker_init_fn, get_worker_info, persistent workers, errors from workers, and a
clear error (never a hang) when a worker dies or is slow. Every test is time-bounded."""

from __future__ import annotations

import os
import random
import signal
import time

import numpy as np
import pytest

import somegrad as sg
from somegrad.data import DataLoader, IterableDataset, TensorDataset
from somegrad.data.loader import _WorkerIterator
from somegrad.data.worker import _generate_state, get_worker_info


@pytest.fixture(autouse=True)
def _time_limit():
    """Fail (instead of hanging CI) when a test takes more than 60 seconds."""

    def expired(signum, frame):
        raise TimeoutError("worker test took more than 60 seconds")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class Squares(sg.data.Dataset):
    """Item i is (i, i*i as a numpy array, a float); optionally slow, failing or exiting at one index."""

    def __init__(self, n, delay=0.0, fail_at=None, exit_at=None):
        self.n, self.delay, self.fail_at, self.exit_at = n, delay, fail_at, exit_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay)
        if i == self.fail_at:
            raise ValueError(f"bad item {i}")
        if i == self.exit_at:
            os._exit(3)
        return i, np.array([i * i, -i], dtype=np.int64), float(i) / 2


class Seeds(sg.data.Dataset):
    """Item i: what the worker's random sources give, to check how workers are seeded."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "worker": info.id,
            "seed": info.seed,
            "python": random.random(),
            "numpy": float(np.random.rand()),
            "somegrad": sg.rand(1).item(),
            "initial_seed": sg.initial_seed(),
            "pid": os.getpid(),
        }


class Stream(IterableDataset):
    """0..n-1, shared out between workers with get_worker_info (or not, when shard=False)."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def _flatten(batches):
    out = []
    for index, square, half in batches:
        out.extend(zip(index.tolist(), square.tolist(), half.tolist()))
    return out


def test_same_batches_as_without_workers():
    dataset = Squares(11)
    plain = list(DataLoader(dataset, batch_size=3))
    workers = list(DataLoader(dataset, batch_size=3, num_workers=2, pin_memory=True))
    assert _flatten(workers) == _flatten(plain)
    assert [tuple(b[1].shape) for b in workers] == [(3, 2), (3, 2), (3, 2), (2, 2)]
    assert workers[0][1].dtype is sg.int64 and workers[0][2].dtype is sg.float64
    x, y = sg.randn(10, 3), sg.arange(10)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=4, num_workers=2, drop_last=True))
    assert len(fast) == 2 and np.array_equal(fast[1][0].numpy(), x[4:8].numpy())
    unbatched = list(DataLoader(dataset, batch_size=None, num_workers=2))
    assert [item[0] for item in unbatched] == list(range(11))


def test_batch_sampler_and_collate_fn_with_workers():
    loader = DataLoader(
        Squares(7),
        batch_sampler=[[6, 0], [3], [1, 2, 5]],
        num_workers=2,
        collate_fn=lambda items: [i[0] for i in items],
    )
    assert list(loader) == [[6, 0], [3], [1, 2, 5]] and len(loader) == 3


def test_shuffled_order_does_not_depend_on_num_workers():
    dataset = Squares(20)
    orders = []
    for num_workers in (0, 2):
        loader = DataLoader(
            dataset, batch_size=4, shuffle=True, num_workers=num_workers, generator=sg.Generator().manual_seed(5)
        )
        orders.append([b[0].tolist() for b in loader])
    assert orders[0] == orders[1] and sorted(sum(orders[0], [])) == list(range(20))


def test_iterable_dataset_with_workers():
    sharded = list(DataLoader(Stream(10), batch_size=2, num_workers=2))
    # batches alternate between the workers, as in PyTorch: worker 0 has 0,2,4.., worker 1 has 1,3,5..
    assert [b.tolist() for b in sharded] == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    duplicated = list(DataLoader(Stream(3, shard=False), batch_size=None, num_workers=2))
    assert sorted(int(v) for v in duplicated) == [0, 0, 1, 1, 2, 2]
    dropped = list(DataLoader(Stream(10), batch_size=2, num_workers=2, drop_last=True))
    assert [b.tolist() for b in dropped] == [[0, 2], [1, 3], [4, 6], [5, 7]]


def test_get_worker_info_and_worker_init_fn():
    assert get_worker_info() is None
    seen = list(DataLoader(Seeds(), batch_size=None, num_workers=2))
    assert {item["worker"] for item in seen} == {0, 1}

    class Tagged(sg.data.Dataset):
        tag = "main"

        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return f"{info.dataset.tag}-{info.id}-{info.num_workers}"

    def init(worker_id):
        get_worker_info().dataset.tag = f"init{worker_id}"

    tags = list(DataLoader(Tagged(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert sorted(tags) == ["init0-0-2", "init0-0-2", "init1-1-2", "init1-1-2"]
    assert Tagged.tag == "main"  # the main process's dataset is untouched


def test_workers_are_seeded_as_pytorch_seeds_them():
    loader = DataLoader(Seeds(), batch_size=None, num_workers=2, generator=sg.Generator().manual_seed(0))
    first = list(loader)
    base = first[0]["seed"] - first[0]["worker"]
    for item in first:
        worker, seed = item["worker"], item["seed"]
        assert seed == base + worker and item["initial_seed"] == seed
    # the first draw of each worker, recomputed here from its seed
    for worker in (0, 1):
        item = next(i for i in first if i["worker"] == worker)
        assert item["python"] == random.Random(base + worker).random()
        assert item["numpy"] == np.random.RandomState(_generate_state(base, worker)).rand()
    state = sg.get_rng_state()
    sg.manual_seed(base + 1)
    expected = sg.rand(1).item()
    sg.set_rng_state(state)
    assert next(i for i in first if i["worker"] == 1)["somegrad"] == expected
    # workers differ, epochs differ, and the same generator seed gives the same epoch again
    assert first[0]["numpy"] != next(i for i in first if i["worker"] == 1)["numpy"]
    second = list(loader)
    assert second[0]["seed"] != first[0]["seed"]
    again = list(DataLoader(Seeds(), batch_size=None, num_workers=2, generator=sg.Generator().manual_seed(0)))
    assert [i["numpy"] for i in again] == [i["numpy"] for i in first]


def test_persistent_workers_keep_processes_and_seeds():
    loader = DataLoader(Seeds(), batch_size=None, num_workers=2, persistent_workers=True, prefetch_factor=1)
    first, second = list(loader), list(loader)
    assert {i["pid"] for i in first} == {i["pid"] for i in second}
    assert {i["seed"] for i in first} == {i["seed"] for i in second}
    assert [i["python"] for i in first] != [i["python"] for i in second]  # the generators went on
    iterator = iter(loader)
    next(iterator)  # an epoch left half-way: the next one starts clean
    third = list(loader)
    assert len(third) == 4 and {i["pid"] for i in third} == {i["pid"] for i in first}
    streams = DataLoader(Stream(6), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in streams] == [b.tolist() for b in streams] == [[0, 2], [1, 3], [4], [5]]
    workers = list(loader._iterator._workers)
    loader._iterator._shutdown()
    assert not any(w.is_alive() for w in workers)


def test_workers_stop_after_an_epoch():
    iterator = iter(DataLoader(Squares(6), batch_size=2, num_workers=2))
    assert isinstance(iterator, _WorkerIterator) and len(iterator) == 3
    workers = list(iterator._workers)
    assert len(list(iterator)) == 3
    assert not any(w.is_alive() for w in workers)


def test_an_error_in_a_worker_is_raised_with_its_traceback():
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process \d.*bad item 4"):
        list(DataLoader(Squares(8, fail_at=4), batch_size=2, num_workers=2))

    def broken_init(worker_id):
        raise KeyError("no init")

    with pytest.raises(KeyError, match="no init"):
        list(DataLoader(Squares(4), batch_size=2, num_workers=2, worker_init_fn=broken_init))


def test_a_killed_worker_raises_instead_of_hanging():
    loader = DataLoader(Squares(40, delay=0.05), batch_size=2, num_workers=2)
    iterator = iter(loader)
    next(iterator)
    victim = iterator._workers[1]
    os.kill(victim.pid, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) {victim.pid}\) exited unexpectedly"):
        for _ in iterator:
            pass
    assert time.monotonic() - start < 10
    assert not any(w.is_alive() for w in iterator._workers)


def test_a_worker_that_exits_raises():
    with pytest.raises(RuntimeError, match=r"exited unexpectedly \(exit code 3\)"):
        list(DataLoader(Squares(8, exit_at=5), batch_size=1, num_workers=2))


def test_timeout():
    loader = DataLoader(Squares(4, delay=5.0), batch_size=1, num_workers=1, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        next(iter(loader))
    assert time.monotonic() - start < 4  # well before the item (5 s) would have come


def test_in_order_false_and_device():
    batches = list(DataLoader(Squares(9), batch_size=2, num_workers=2, in_order=False, device="cpu"))
    assert sorted(_flatten(batches)) == _flatten(list(DataLoader(Squares(9), batch_size=2)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_workers=-1), "num_workers option should be non-negative"),
        (dict(timeout=-1), "timeout option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
        (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(num_workers=1, multiprocessing_context="nope"), "multiprocessing_context option should specify"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Squares(3), **kwargs)


@pytest.mark.slow
def test_spawn_start_method():
    x, y = sg.randn(6, 2), sg.arange(6)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=3, num_workers=2, multiprocessing_context="spawn"))
    assert np.array_equal(np.concatenate([b[0].numpy() for b in batches]), x.numpy())


# --- parity -------------------------------------------------------------------------------------
@pytest.mark.parity
def test_parity_numpy_seed_hash():
    pytest.importorskip("torch")
    from torch.utils.data._utils.worker import _generate_state as torch_generate_state

    for base_seed in (0, 1, 12345, 2**32 + 7, 2**62 + 12345):
        for worker_id in (0, 1, 7):
            assert _generate_state(base_seed, worker_id) == torch_generate_state(base_seed, worker_id)


class TorchSeeds:
    """The `Seeds` dataset for PyTorch's DataLoader."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        import torch

        info = torch.utils.data.get_worker_info()
        return (info.id, info.seed, random.random(), float(np.random.rand()), torch.initial_seed())


@pytest.mark.parity
def test_parity_worker_seeding_and_batches():
    torch = pytest.importorskip("torch")
    # PyTorch's workers follow the same rules that ours are tested against above
    firsts = {}
    for worker, seed, python, numpy_value, initial in torch.utils.data.DataLoader(
        TorchSeeds(), batch_size=None, num_workers=2
    ):
        assert initial == seed
        firsts.setdefault(worker, (seed, python, numpy_value))
    assert sorted(firsts) == [0, 1]
    for worker, (seed, python, numpy_value) in firsts.items():
        base = seed - worker
        assert python == random.Random(seed).random()
        assert numpy_value == np.random.RandomState(_generate_state(base, worker)).rand()
    # and they deliver the same batches in the same order, map-style and iterable
    dataset = Squares(11)
    theirs = list(torch.utils.data.DataLoader(dataset, batch_size=3, num_workers=2))
    ours = list(DataLoader(dataset, batch_size=3, num_workers=2))
    assert _flatten(ours) == [(a, b, c) for i, s, h in theirs for a, b, c in zip(i.tolist(), s.tolist(), h.tolist())]

    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            return iter(range(info.id, 10, info.num_workers))

    theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchStream(), batch_size=2, num_workers=2)]
    assert [b.tolist() for b in DataLoader(Stream(10), batch_size=2, num_workers=2)] == theirs
