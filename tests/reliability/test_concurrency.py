"""Concurrency: two threads training separate models at once get exactly the results of
sequential runs. Grad mode and the decomposition switch are per thread, anomaly mode is
process-wide; the caches the dispatcher shares (kernels, scalar constants) are safe to share."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from reliability_helpers import parameter_bytes, small_gpt, token_dataset, train_step

import somegrad as sg


@pytest.fixture(autouse=True)
def _switch_threads_often():
    """Hand the GIL over every microsecond, so the two runs interleave op by op."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _build(seed):
    from somegrad.data import DataLoader

    model, optimizer = small_gpt(seed, dropout=0.0)  # dropout would share the global generator
    loader = DataLoader(
        token_dataset(16, seed=seed), batch_size=4, shuffle=True, generator=sg.Generator().manual_seed(seed)
    )
    return model, optimizer, loader


def _train(model, optimizer, loader, epochs, decomposed=False):
    from somegrad.ops.dispatch import use_decompositions

    losses = []
    with use_decompositions(decomposed):
        for _ in range(epochs):
            for x, y in loader:
                losses.append(train_step(model, optimizer, x, y))
                with sg.no_grad():  # an evaluation in between: no_grad must stay in this thread
                    model.eval()
                    model(x, y)
                    model.train()
    return losses, parameter_bytes(model)


def _run_in_threads(jobs):
    results, errors = [None] * len(jobs), []

    def run(i, job):
        try:
            results[i] = job()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a training thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("decomposed", [(False, False), (True, False)], ids=["both-fused", "one-decomposed"])
def test_two_threads_train_like_two_sequential_runs(decomposed):
    """Models are built in the main thread (initialisation draws from the global generator),
    then trained at once; each thread's losses and parameters match a sequential run bit for bit."""
    epochs = 3
    sequential = [_train(*_build(seed), epochs, decomposed=d) for seed, d in zip((1, 2), decomposed)]
    built = [_build(seed) for seed in (1, 2)]
    concurrent = _run_in_threads([lambda b=b, d=d: _train(*b, epochs, decomposed=d) for b, d in zip(built, decomposed)])
    for (seq_losses, seq_params), (con_losses, con_params) in zip(sequential, concurrent):
        assert con_losses == seq_losses
        assert con_params == seq_params
    assert sequential[0][0] != sequential[1][0]  # the two runs are different runs


def test_a_backward_under_anomaly_mode_leaves_other_threads_checked():
    """Anomaly mode is process-wide (as in PyTorch). While one thread backpropagates (whose
    rules run unchecked, so that errors name the node), another thread's forward ops are still
    checked: a NaN from log there is reported every time."""
    stop = threading.Event()

    def backpropagate():
        x = sg.randn(64, requires_grad=True)
        while not stop.is_set():
            ((x * 2).sin().exp() * x).sum().backward()

    def produce_nans():
        missed = 0
        try:
            for _ in range(300):
                try:
                    sg.tensor([-1.0]).log()
                    missed += 1
                except RuntimeError as exc:
                    assert str(exc).startswith("log: the forward produced NaN")
        finally:
            stop.set()
        return missed

    sg.autograd.set_detect_anomaly(True)
    try:
        _, missed = _run_in_threads([backpropagate, produce_nans])
    finally:
        sg.autograd.set_detect_anomaly(False)
    assert missed == 0, f"{missed} of 300 NaNs went unreported while another thread ran a backward"
    assert not sg.autograd.is_anomaly_enabled()


def test_many_threads_share_the_scalar_cache_safely():
    """Python scalars become cached 0-d constants; eight threads using hundreds of distinct
    ones (past the cache's limit, so it is cleared under their feet) compute correctly."""

    def work(offset):
        x = sg.arange(4, dtype=sg.float64)
        total = 0.0
        for i in range(600):
            total += float(((x * (offset + i * 0.5)) + i).sum())
        return total

    expected = [work(k * 1000) for k in range(8)]
    assert _run_in_threads([lambda k=k: work(k * 1000) for k in range(8)]) == expected
    assert np.isfinite(expected).all()
