"""PyTorch habits outside the data namespace: `somegrad.accelerator`, `cuda.manual_seed_all`,
BLAS threads, print options (the repr is unchanged by default)."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import accelerator, printing, threads


@pytest.fixture
def fake_device():
    """A second device type, "fake", served by a NumPy-backed backend from an in-process plugin."""
    from somegrad import plugins
    from somegrad_numpy.backend import NumpyBackend

    class FakeBackend(NumpyBackend):
        name = "fake"
        device_type = "fake"
        is_accelerator = True

    class Plugin:
        @sg.hookimpl
        def somegrad_register_backends(self, register):
            register("fake", device_type="fake", factory=FakeBackend)

    name = plugins.register_plugin(Plugin(), name="fake-accelerator-plugin")
    yield "fake"
    plugins.unregister_plugin(name)


@pytest.fixture(autouse=True)
def _default_printoptions():
    yield
    printing.set_printoptions(profile="default", linewidth=75)


# --- accelerator and cuda -------------------------------------------------------------------------
def test_accelerator_agrees_with_cuda():
    device = accelerator.current_accelerator()
    assert accelerator.is_available() == (device is not None)
    assert accelerator.current_accelerator(check_available=True) == device
    if sg.cuda.is_available():
        assert device == sg.device("cuda") and device.index is None
        assert accelerator.device_count() == sg.cuda.device_count() >= 1
        assert accelerator.current_device_index() == 0
    elif device is None:
        assert accelerator.device_count() == 0
        with pytest.raises(RuntimeError, match="no accelerator"):
            accelerator.current_device_index()
    accelerator.synchronize()  # a no-op without an accelerator


def test_accelerator_finds_a_plugin_device(fake_device):
    # with no GPU, a plugin's device that says it is an accelerator is the one; host-side
    # plugins (the example "strict" backend in the test environment) are not
    if sg.cuda.is_available():
        pytest.skip("a GPU is the accelerator here")
    assert accelerator.current_accelerator() == sg.device(fake_device)
    assert accelerator.is_available() and accelerator.device_count() >= 1


def test_manual_seed_seeds_every_device(fake_device):
    # the fake device's backend is loaded after manual_seed: it is seeded when it loads
    sg.manual_seed(11)
    a = sg.randn(4, device=fake_device).cpu().numpy()
    b = sg.randn(3).numpy()
    sg.manual_seed(11)  # now it is loaded: seeded directly
    assert np.array_equal(sg.randn(4, device=fake_device).cpu().numpy(), a)
    assert np.array_equal(sg.randn(3).numpy(), b)


def test_cuda_seeding_is_harmless_without_a_gpu_and_reproducible_with_one():
    sg.cuda.manual_seed_all(123)
    sg.cuda.manual_seed(123)
    sg.cuda.seed_all()
    if not sg.cuda.is_available():
        return
    sg.cuda.manual_seed_all(7)
    a = sg.randn(5, device="cuda").cpu().numpy()
    sg.cuda.manual_seed_all(7)
    b = sg.randn(5, device="cuda").cpu().numpy()
    assert np.array_equal(a, b) and sg.cuda.initial_seed() == 7


# --- threads --------------------------------------------------------------------------------------
def test_set_and_get_num_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(1)
        assert threads.get_num_threads() == 1
        blas = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        assert all(p["num_threads"] == 1 for p in blas)
        a = sg.randn(64, 64)
        assert (a @ a).shape == (64, 64)
    finally:
        threads.set_num_threads(before)
    assert threads.get_num_threads() == before


def test_set_num_threads_rejects_bad_values():
    for bad in (0, -2, 1.5, True):
        with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
            threads.set_num_threads(bad)


def test_set_num_threads_without_threadpoolctl(monkeypatch):
    monkeypatch.setattr(threads, "_threadpoolctl", lambda: None)
    for name in threads._ENVIRONMENT:
        monkeypatch.setenv(name, "2")
    with pytest.warns(RuntimeWarning, match="threadpoolctl is not installed"):
        threads.set_num_threads(3)
    import os

    assert os.environ["OMP_NUM_THREADS"] == "3" and threads.get_num_threads() == 3
    monkeypatch.setattr(threads, "_requested", None)
    assert threads.get_num_threads() == 3  # from the environment


# --- printing -------------------------------------------------------------------------------------
REPR_CASES = [
    lambda: sg.tensor([1.5, 2.0]),
    lambda: sg.tensor([1.0, 2.0]),
    lambda: sg.tensor(3.25),
    lambda: sg.tensor([1, 2], dtype=sg.int32),
    lambda: sg.tensor([True, False]),
    lambda: sg.tensor([[0.123456, 2.0], [3.0, 4.0]], dtype=sg.float64),
    lambda: sg.tensor([1e-5, 1.0]),
    lambda: sg.tensor([1.5, float("nan"), float("inf")]),
    lambda: sg.zeros(2, 0),
    lambda: sg.zeros(0, dtype=sg.int64),
    lambda: sg.tensor([1.0], requires_grad=True) * 2,
    lambda: sg.tensor([1.5], dtype=sg.bfloat16),
    lambda: sg.arange(40.0).reshape(2, 20) / 3,
    lambda: sg.arange(2000.0),
    lambda: sg.arange(3000).reshape(30, 100),
]


@pytest.mark.parametrize("case", range(len(REPR_CASES)))
def test_format_tensor_is_the_repr_by_default(case):
    t = REPR_CASES[case]()
    assert printing.format_tensor(t) == repr(t)


def test_printoptions_change_the_format():
    x = sg.tensor([1 / 3, 2 / 3, 1e-5])
    printing.set_printoptions(precision=2)
    assert printing.format_tensor(x) == "tensor([3.33e-01, 6.67e-01, 1.00e-05])"
    printing.set_printoptions(sci_mode=False)
    assert printing.format_tensor(x) == "tensor([0.33, 0.67, 0.00])"
    printing.set_printoptions(profile="default")
    assert printing.get_printoptions()["precision"] == 4
    printing.set_printoptions(sci_mode=True)
    assert printing.format_tensor(sg.tensor([1.0, 2.0])) == "tensor([1.0000e+00, 2.0000e+00])"
    printing.set_printoptions(sci_mode=None, threshold=5, edgeitems=1)
    assert printing.format_tensor(sg.arange(10)) == "tensor([0, ..., 9])"
    printing.set_printoptions(profile="full")
    assert "..." not in printing.format_tensor(sg.arange(2000))
    printing.set_printoptions(profile="short")
    assert printing.format_tensor(sg.tensor([1 / 3])) == "tensor([0.33])"
    with printing.printoptions(precision=6):
        assert printing.format_tensor(sg.tensor([1 / 3], dtype=sg.float64)).startswith("tensor([0.333333]")
    assert printing.get_printoptions()["precision"] == 2
    printing.set_printoptions(profile="default", linewidth=20)
    assert printing.format_tensor(sg.arange(8.0)).count("\n") >= 1
    with pytest.raises(ValueError, match="profile must be one of"):
        printing.set_printoptions(profile="long")


@pytest.mark.parity
def test_parity_printoptions():
    torch = pytest.importorskip("torch")
    values = [[1 / 3, 2 / 3, 1e-5], [1.0, 2.0, 3.0], [1e-3, 5.0, 100.5], [123456.0, 0.5, 7.25]]
    settings = [
        {"precision": 2},
        {"sci_mode": False},
        {"sci_mode": True},
        {"precision": 6, "sci_mode": False},
        {"profile": "short"},
        {"profile": "default"},
    ]
    try:
        for options in settings:
            torch.set_printoptions(**options)
            printing.set_printoptions(**options)
            for row in values:
                ours = printing.format_tensor(sg.tensor(row))
                theirs = repr(torch.tensor(row))
                assert ours == theirs, (options, row)
    finally:
        torch.set_printoptions(profile="default")
