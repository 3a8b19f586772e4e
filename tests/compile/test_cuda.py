"""somegrad.compile on the cuda backend: generated ElementwiseKernels and the whole step as a
CUDA graph. Skipped without CuPy and a GPU."""

from __future__ import annotations

import numpy as np
import pytest

cupy = pytest.importorskip("cupy")

import somegrad as sg  # noqa: E402
from somegrad import nn  # noqa: E402

try:
    device = sg.device("cuda")
    sg.ones(1, device=device)
except Exception as exc:  # noqa: BLE001
    pytest.skip(f"no usable GPU: {exc}", allow_module_level=True)


def make(seed=0):
    sg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 10)).to(device)
    opt = sg.optim.AdamW(model.parameters(), lr=1e-3, capturable=True)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    return model, step


def test_training_step_replays_as_a_cuda_graph():
    (m1, eager), (m2, step) = make(), make()
    m2.load_state_dict(m1.state_dict())
    compiled = sg.compile(step)
    for _ in range(8):
        x, y = sg.randn(16, 32, device=device), sg.randint(0, 10, (16,), device=device)
        np.testing.assert_allclose(compiled(x, y).numpy(), eager(x, y).numpy(), rtol=1e-5, atol=1e-6)
    runner = next(iter(compiled.signatures.values())).program.runner
    assert runner.reason is None and runner.graph is not None
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_elementwise_runs_fuse_into_one_kernel():
    a = sg.randn(1000, device=device)
    fn = sg.compile(lambda x: ((x * a + 1.0).tanh() - a).exp().sum())
    for _ in range(4):
        x = sg.randn(1000, device=device)
        np.testing.assert_allclose(fn(x).numpy(), ((x * a + 1.0).tanh() - a).exp().sum().numpy(), rtol=1e-5)
    program = next(iter(fn.signatures.values())).program
    assert any("elementwise_kernel" in kernel.__name__ for _, _, kernel in program.groups)
