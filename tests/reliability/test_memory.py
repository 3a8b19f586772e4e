"""Memory under long runs: nothing a training step allocates outlives it.

A graph and what it saved are freed after each backward (or when its output goes away, if it
is never backpropagated), by reference counting alone: the graph has no reference cycles, so
memory does not wait for the cyclic garbage collector. `retain_graph=True` keeps the saved
tensors, and nothing else, until the output goes away.

Run with `pytest -s` to see the figures.
"""

from __future__ import annotations

import time
import tracemalloc
import weakref

import numpy as np
import pytest
from reliability_helpers import (
    VOCAB,
    gc_disabled,
    graph_objects_in_cycles,
    live_tensors,
    resident_bytes,
    small_gpt,
    train_step,
)

import somegrad as sg

MiB = 2**20


@pytest.mark.slow
def test_gpt_training_keeps_memory_and_live_tensors_flat():
    """2,000 steps of the small GPT with AdamW and dropout: RSS, the number of live tensors and
    the bytes Python has allocated stay where they were after a short warm-up."""
    steps, warmup, traced_from, traced_warmup = 2000, 100, 1940, 10
    model, optimizer = small_gpt(seed=0, dropout=0.1)
    tokens = np.random.default_rng(0).integers(0, VOCAB, size=(512, 17))
    picks = np.random.default_rng(1).integers(0, len(tokens), size=(steps, 4))
    samples = []  # (step, rss, live tensors)
    traced = {}
    start = time.perf_counter()
    losses = []
    for step in range(steps):
        if step == traced_from:
            tracemalloc.start()
        batch = tokens[picks[step]]
        losses.append(train_step(model, optimizer, sg.tensor(batch[:, :-1]), sg.tensor(batch[:, 1:])))
        done = step + 1
        if done == traced_from + traced_warmup or done == steps:
            traced[done] = tracemalloc.get_traced_memory()[0]
        if done == warmup or done % 100 == 0:
            samples.append((done, resident_bytes(), live_tensors()))
    tracemalloc.stop()
    elapsed = time.perf_counter() - start

    (_, rss_start, live_start), (_, rss_end, live_end) = samples[0], samples[-1]
    rss_peak = max(rss for _, rss, _ in samples)
    live_counts = [live for _, _, live in samples]
    traced_growth = traced[steps] - traced[traced_from + traced_warmup]
    traced_steps = steps - traced_from - traced_warmup
    print(
        f"\n[memory] GPT 2x32, block 16, batch 4, {steps} steps in {elapsed:.1f} s "
        f"({1000 * elapsed / steps:.1f} ms/step); loss {losses[0]:.3f} -> {losses[-1]:.3f}\n"
        f"[memory] RSS after {warmup} steps {rss_start / MiB:.2f} MiB, after {steps} {rss_end / MiB:.2f} MiB, "
        f"peak {rss_peak / MiB:.2f} MiB; live tensors {live_start} -> {live_end} "
        f"(min {min(live_counts)}, max {max(live_counts)})\n"
        f"[memory] tracemalloc over the last {traced_steps} steps: {traced_growth:+d} bytes "
        f"({traced_growth / traced_steps:+.1f} bytes/step)"
    )
    assert np.isfinite(losses).all()
    # One step's activations are ~100 KiB, its graph far more: a leak of even a small part
    # of it per step would add tens of MiB over 1,900 steps.
    assert rss_peak - rss_start < 8 * MiB
    assert max(live_counts) - min(live_counts) <= 4, samples
    assert traced_growth < 64 * 1024


def test_a_graph_never_backpropagated_is_freed_by_reference_counting():
    x = sg.randn(32, 32, requires_grad=True)
    (x * 2).sin().matmul(x).log_softmax(-1).sum()  # first calls import and cache things
    with gc_disabled():
        h = x * 2
        y = (h.sin() @ x).log_softmax(-1)  # sin saves h
        loss = y.sum()
        node, saved = weakref.ref(loss.grad_fn), weakref.ref(h)
        del h
        assert saved() is not None, "the graph should keep what its backward needs"
        del y
        assert node() is not None
        del loss
        assert node() is None and saved() is None
        assert graph_objects_in_cycles() == []


def test_gpt_forward_passes_without_backward_are_freed_by_reference_counting():
    """Forward passes under grad mode that never backpropagate (an evaluation written without
    no_grad): each graph dies with its loss; no cycles, no growth."""
    model, _ = small_gpt(seed=0, dropout=0.1)
    tokens = sg.tensor(np.random.default_rng(0).integers(0, VOCAB, size=(4, 17)))
    x, y = tokens[:, :-1], tokens[:, 1:]
    model(x, y)  # warm the caches (kernels, scalar constants)
    with gc_disabled():
        before = live_tensors()
        logits, loss = model(x, y)
        saved_logits = weakref.ref(loss.grad_fn.saved["x"].tensor)  # cross_entropy's input
        nodes = [weakref.ref(loss.grad_fn), weakref.ref(logits.grad_fn)]
        del logits
        assert saved_logits() is not None
        del loss
        assert all(n() is None for n in nodes) and saved_logits() is None
        for _ in range(20):
            model(x, y)
        after = live_tensors()
        in_cycles = graph_objects_in_cycles()
    print(f"\n[memory] GPT forward without backward: live tensors {before} -> {after}, in cycles {len(in_cycles)}")
    assert after == before
    assert in_cycles == []


def test_training_steps_create_no_reference_cycles():
    """With the cyclic collector off, 10 GPT training steps leave nothing for it to find."""
    model, optimizer = small_gpt(seed=0, dropout=0.1)
    tokens = sg.tensor(np.random.default_rng(0).integers(0, VOCAB, size=(4, 17)))
    train_step(model, optimizer, tokens[:, :-1], tokens[:, 1:])
    with gc_disabled():
        before = live_tensors()
        for _ in range(10):
            train_step(model, optimizer, tokens[:, :-1], tokens[:, 1:])
        after = live_tensors()
        assert graph_objects_in_cycles() == []
    assert after == before


def test_backward_frees_saved_tensors_while_the_output_lives_on():
    """After backward, the loss may stay referenced (logged, say): its graph's saved tensors
    must be gone all the same."""
    x = sg.randn(256, 256, dtype=sg.float64, requires_grad=True)  # 512 KiB
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = (x * 3).sin().exp().tanh().sum()  # sin saves its input, exp and tanh their outputs
        graph = tracemalloc.get_traced_memory()[0] - base
        loss.backward()
        kept = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    grad = x.grad.nbytes
    print(
        f"\n[memory] graph {graph / 1024:.0f} KiB; after backward, with the loss alive: "
        f"{kept / 1024:.0f} KiB (x.grad is {grad / 1024:.0f} KiB)"
    )
    assert graph >= 3 * grad  # three saved 256x256 float64 arrays
    assert kept < grad + 64 * 1024


def test_retain_graph_keeps_the_saved_tensors_and_nothing_else():
    x = sg.randn(256, 256, dtype=sg.float64, requires_grad=True)
    with gc_disabled():
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            loss = (x * 3).sin().exp().tanh().sum()
            graph = tracemalloc.get_traced_memory()[0] - base
            node = weakref.ref(loss.grad_fn)
            loss.backward(retain_graph=True)
            after_first = tracemalloc.get_traced_memory()[0] - base
            loss.backward(retain_graph=True)  # the saved tensors are still there
            after_second = tracemalloc.get_traced_memory()[0] - base
            del loss
            released = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        assert node() is None
        assert graph_objects_in_cycles() == []
    v = 3 * x.detach().numpy()
    e = np.exp(np.sin(v))
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - np.tanh(e) ** 2) * e * np.cos(v) * 3, rtol=1e-12)
    grad = x.grad.nbytes
    print(
        f"\n[memory] retain_graph: graph {graph / 1024:.0f} KiB; after backward 1 {after_first / 1024:.0f} KiB, "
        f"after backward 2 {after_second / 1024:.0f} KiB, after the loss goes {released / 1024:.0f} KiB "
        f"(x.grad {grad / 1024:.0f} KiB)"
    )
    slack = 64 * 1024
    # Backward adds x.grad and nothing more (the intermediate gradients are freed) ...
    assert abs(after_first - (graph + grad)) < slack
    # ... a second backward accumulates into it in place ...
    assert abs(after_second - after_first) < slack
    # ... and dropping the output frees the whole graph.
    assert abs(released - grad) < slack


def test_retain_graph_then_a_plain_backward_frees_the_graph():
    x = sg.tensor([0.5, 1.5], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == pytest.approx([2 * float(np.exp(0.5)) * 1.5, 2 * float(np.exp(1.5)) * 2.5])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
