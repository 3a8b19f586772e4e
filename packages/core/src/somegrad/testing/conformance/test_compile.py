"""Compiled and eager agree: a set of programs run eagerly and under `somegrad.compile` on each
backend under test, from identical states, call after call (the replays included).

A backend's fused kernels may reorder arithmetic (one CUDA kernel for a run of ops), so the
results are compared within float32 tolerance; the numpy backend's are bit-identical (its tests
in tests/compile check that exactly).
"""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad.compile import CaptureError
from somegrad.testing import cases
from somegrad.testing.comparison import assert_close

CALLS = 6  # 1 eager, 2 recorded, 3 replayed


def _tensor(device, rng, *shape, low=None):
    values = rng.uniform(low, low + 1.0, shape) if low is not None else rng.standard_normal(shape)
    return sg.tensor(values.astype(np.float32), device=device)


def _elementwise(device, rng):
    a = _tensor(device, rng, 5, 7, low=0.5)
    b = _tensor(device, rng, 7)

    def run(x):
        y = (x * a + b).tanh() - a
        return (y.exp() / (1.0 + y * y)).sqrt().sum(-1), y.amax()

    return run, lambda: (_tensor(device, rng, 5, 7),)


def _matmul_and_reductions(device, rng):
    w = _tensor(device, rng, 7, 3)

    def run(x):
        h = x @ w
        return h.softmax(-1).mean(0), h.logsumexp(-1), h.argmax(-1)

    return run, lambda: (_tensor(device, rng, 4, 7),)


def _in_place(device, rng):
    state = sg.zeros(6, device=device)

    def run(x):
        state.mul_(0.5)
        state.add_(x, alpha=2.0)
        state.clamp_(-1.0, 1.0)
        return state * 1.0

    return run, lambda: (_tensor(device, rng, 6),)


def _training(optimizer):
    def build(device, rng):
        nn = pytest.importorskip("somegrad.nn")
        model = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 3)).to(device)
        with sg.no_grad():
            for p in model.parameters():
                p.copy_(_tensor(device, rng, *p.shape) * 0.3)
        opt = optimizer(model.parameters())

        def run(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.detach(), model[0].weight.detach() * 1.0

        labels = lambda: sg.tensor(rng.integers(0, 3, 8), device=device)  # noqa: E731
        return run, lambda: (_tensor(device, rng, 8, 6), labels())

    return build


def _random(device, rng):
    def run(x):
        keep = sg.rand(x.shape, device=device) > 0.3
        return x * keep + sg.randn(x.shape, device=device) * 0.1

    return run, lambda: (_tensor(device, rng, 4, 5),)


def _sgd(params):
    optim = pytest.importorskip("somegrad.optim")
    return optim.SGD(params, lr=0.1, momentum=0.9)


def _adamw(params):
    optim = pytest.importorskip("somegrad.optim")
    return optim.AdamW(params, lr=1e-2, capturable=True)


PROGRAMS = {
    "elementwise": _elementwise,
    "matmul_and_reductions": _matmul_and_reductions,
    "in_place": _in_place,
    "random": _random,
    "training_sgd": _training(_sgd),
    "training_adamw": _training(_adamw),
}


def _host(backend, value):
    if isinstance(value, (tuple, list)):
        return [_host(backend, v) for v in value]
    return cases.to_host(backend, value)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_compiled_matches_eager(backend, program):
    device = cases.device_of(backend)
    kernel = {"training_adamw": "foreach_adam_step_", "training_sgd": "foreach_sgd_step_"}.get(program)
    if kernel is not None and kernel not in backend.kernels:
        # without the multi-tensor kernel the update computes its coefficients in Python: refused
        _, make_inputs = PROGRAMS[program](device, np.random.default_rng(0))
        compiled = sg.compile(PROGRAMS[program](device, np.random.default_rng(0))[0])
        compiled(*make_inputs())
        with pytest.raises(CaptureError, match=f"{kernel}: these parameters take the per-tensor path"):
            compiled(*make_inputs())
        return
    eager, make_inputs = PROGRAMS[program](device, np.random.default_rng(0))
    compiled_fn, _ = PROGRAMS[program](device, np.random.default_rng(0))
    compiled = sg.compile(compiled_fn)
    batches = [make_inputs() for _ in range(CALLS)]
    for i, batch in enumerate(batches):
        backend.seed(100 + i)  # the random program draws the same numbers eagerly and compiled
        expected = _host(backend, eager(*batch))
        backend.seed(100 + i)
        got = _host(backend, compiled(*batch))
        for e, g in zip(expected, got, strict=True):
            if e.dtype.kind in "iub":
                assert np.array_equal(g, e), f"{program}, call {i}"
            else:
                assert_close(g, e, rtol=1e-5, atol=1e-6, msg=f"{program}, call {i}")
    assert any(sig.program is not None for sig in compiled.signatures.values()), compiled.explain()
