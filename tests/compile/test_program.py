"""The replay program: fused runs, the memory plan, explain(), against eager and unfused."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad_numpy import fusion


def chain(x, a, b):
    y = x
    for i in range(12):
        y = (y * a, y + b, y.tanh(), y - a, y.exp() / 4.0)[i % 5] if i % 5 != 4 else y.exp() / 4.0
    return y.sum(-1)


@pytest.mark.parametrize("n", [16, 4 * fusion.BLOCK + 7])  # small, and large enough to go by blocks
def test_fused_runs_are_bit_identical_to_eager_and_unfused(n):
    a, b = sg.rand(n) + 0.5, sg.randn(n)
    fused = sg.compile(lambda x: chain(x, a, b))
    unfused = sg.compile(lambda x: chain(x, a, b), fuse=False)
    for _ in range(5):
        x = sg.randn(3, n) if n == 16 else sg.randn(n)
        expected = chain(x, a, b).numpy()
        assert np.array_equal(fused(x).numpy(), expected)
        assert np.array_equal(unfused(x).numpy(), expected)
    program = next(iter(fused.signatures.values())).program
    assert program.groups, program.explain()
    if n > fusion.BLOCK:
        assert any("blocked" in kernel.__name__ for _, _, kernel in program.groups)
    assert not next(iter(unfused.signatures.values())).program.groups


def test_fusion_hook_declines_what_it_cannot_fuse():
    from somegrad.compile.capture import Entry, Slot, SlotInfo

    f32 = np.dtype(np.float32)
    slots = [SlotInfo("input", (4,), f32), SlotInfo("produced", (4,), f32), SlotInfo("produced", (4,), np.int64)]
    add = Entry("op", "add", None, (Slot(0), Slot(0)), {}, (1,))
    assert fusion.out_kernel(add, slots) is np.add
    to_int = Entry("op", "add", None, (Slot(1), Slot(1)), {}, (2,))
    assert fusion.fuse([add, to_int], slots) is None  # the dtype changes along the run
    with_params = Entry("op", "add", None, (Slot(0), Slot(0)), {"alpha": 2}, (1,))
    assert fusion.out_kernel(with_params, slots) is None


def training_step():
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.GELU(), nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 10))
    opt = sg.optim.AdamW(model.parameters(), lr=1e-3, capturable=True)
    x, y = sg.randn(128, 64), sg.randint(0, 10, (128,))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def peak(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top - base


def test_peak_memory_is_no_higher_than_eager():
    eager = training_step()
    compiled = sg.compile(training_step())
    for _ in range(4):
        eager()
        compiled()
    program = next(iter(compiled.signatures.values())).program
    held = sum(a.nbytes for a in program.buffer_arrays)  # the planned buffers live between calls
    assert program.buffer_arrays
    assert peak(compiled) + held <= peak(eager)


def test_explain_lists_kernels_groups_buffers_and_refusals():
    a = sg.randn(8)
    fn = sg.compile(lambda x: ((x * a + 1.0).tanh() * 2.0).sum(0))
    for _ in range(3):
        fn(sg.randn(4, 8))
    out = io.StringIO()
    text = fn.explain(file=out)
    assert out.getvalue().strip() == text.strip()
    for expected in ("kernels over", "buffers:", "fused group 0", "mul", "tanh", "def replay("):
        assert expected in text
    refused = sg.compile(lambda x: x + x.sum().item(), allow_fallback=True)
    for _ in range(3):
        refused(sg.ones(2))
    assert "refused:\n  Tensor.item()" in refused.explain(file=io.StringIO())


def test_run_keeping_all_gives_the_same_outputs_and_keeps_every_array():
    w = sg.randn(6, 6)
    fn = sg.compile(lambda x: ((x @ w).tanh() * 2.0 + 1.0).sum(0))
    x = sg.randn(3, 6)
    for _ in range(3):
        fn(x)
    program = next(iter(fn.signatures.values())).program
    (plain,) = program.run([x._data])
    (kept_out,), kept = program.run_keeping_all([x._data])
    assert np.array_equal(plain, kept_out)
    assert len(kept) >= 2  # the intermediates a graph capture must keep alive
    assert "del " in program.source
