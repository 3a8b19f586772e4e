"""The example third-party backend (examples/backend-plugin): registered through its entry
point, only primitives native, and a small MLP trains on its device."""

import pytest

import somegrad as sg
from somegrad import backends
from somegrad.cli import op_coverage
from somegrad.ops import primitives


@pytest.fixture
def strict():
    info = {i.name: i for i in backends.backends()}.get("arraystrict")
    if info is None:
        pytest.skip("somegrad-arraystrict is not installed (pip install ./examples/backend-plugin)")
    if info.backend is None:
        pytest.skip(f"the arraystrict backend is {info.status}: {info.reason}")
    return info.backend


def test_registered_with_its_own_device(strict):
    assert strict.device_type == "strict"
    x = sg.tensor([1.0, 2.0], device="strict")
    assert x.device.type == "strict"
    assert (x * 2).tolist() == [2.0, 4.0]


def test_implements_only_the_primitives(strict):
    coverage = op_coverage(strict)
    assert coverage["missing"] == []
    assert set(coverage["native"]) == set(primitives())


def test_mlp_trains_on_it(strict):
    nn = pytest.importorskip("somegrad.nn", reason="somegrad.nn is not installed yet")
    sg.manual_seed(0)
    x = sg.randn(64, 4, device="strict")
    y = (x[:, :1] * 2 - x[:, 1:2] + 0.5).detach()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1)).to("strict")
    losses = []
    for _ in range(60):
        loss = ((model(x) - y) ** 2).mean()
        for p in model.parameters():
            p.grad = None
        loss.backward()
        with sg.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0], losses[::10]
