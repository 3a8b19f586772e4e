"""The elementwise math in use: the Tensor surface (aliases, methods, in-place forms), a model
trained through atan, logaddexp and hypot, second derivatives, in-place forms on tensors saved
for backward, and nan_to_num / isclose / allclose on parameters."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn, optim

ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh"}


@pytest.mark.parametrize("alias,name", [*ALIASES.items(), ("arctanh", "atanh"), ("fix", "trunc")])
def test_aliases_are_the_same_function_method_and_inplace_form(alias, name):
    x = sg.tensor([0.2, 0.5, 0.7]) + (1.5 if name == "acosh" else 0.0)
    expected = getattr(sg, name)(x).numpy()
    np.testing.assert_array_equal(getattr(sg, alias)(x).numpy(), expected)
    np.testing.assert_array_equal(getattr(x, alias)().numpy(), expected)
    y = x.clone()
    assert getattr(y, alias + "_")() is y
    np.testing.assert_array_equal(y.numpy(), expected)


def test_a_model_trains_through_atan_logaddexp_and_hypot():
    rng = np.random.default_rng(0)
    x = sg.tensor(rng.uniform(-1, 1, size=(256, 2)), dtype=sg.float32)
    target = sg.tensor(np.hypot(x.numpy()[:, :1], 0.5) + 0.1, dtype=sg.float32)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(2, 16)
            self.second = nn.Linear(16, 1)

        def forward(self, x):
            h = self.first(x)
            h = sg.atan(h) + sg.logaddexp(h, -h) - sg.hypot(h, sg.ones_like(h))
            return self.second(h)

    model = Net()
    opt = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())


@pytest.mark.parametrize(
    "fn,second",
    [
        (sg.tan, lambda x: 2 * np.tan(x) / np.cos(x) ** 2),
        (sg.asin, lambda x: x / (1 - x * x) ** 1.5),
        (sg.atanh, lambda x: 2 * x / (1 - x * x) ** 2),
        (sg.log2, lambda x: -1 / (x * x * np.log(2))),
        (sg.sinh, np.sinh),
    ],
    ids=["tan", "asin", "atanh", "log2", "sinh"],
)
def test_second_derivatives(fn, second):
    values = np.array([0.2, 0.45, 0.7])
    x = sg.tensor(values, dtype=sg.float64, requires_grad=True)
    (g,) = sg.autograd.grad(fn(x).sum(), [x], create_graph=True)
    (gg,) = sg.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.numpy(), second(values), rtol=1e-10)


def test_an_inplace_form_on_a_tensor_saved_for_backward_is_caught():
    x = sg.tensor([0.1, 0.2], requires_grad=True)
    y = x * 2
    z = sg.asin(y)  # saves y
    y.tan_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        z.sum().backward()


def test_inplace_math_on_an_integer_tensor_is_refused():
    with pytest.raises(RuntimeError):
        sg.tensor([1, 2]).tan_()


def test_nan_to_num_guards_a_loss_and_its_gradient():
    p = nn.Parameter(sg.tensor([float("inf"), 1.0, float("nan"), -float("inf")]))
    cleaned = sg.nan_to_num(p, nan=0.0, posinf=10.0, neginf=-10.0)
    assert cleaned.tolist() == [10.0, 1.0, 0.0, -10.0]
    (cleaned * 3).sum().backward()
    # the gradient flows where p is finite (as PyTorch's), and is 0 at the replaced values
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 3.0, 0.0, 0.0])


def test_isclose_and_allclose_compare_parameters():
    a = nn.Parameter(sg.tensor([1.0, 2.0, 3.0]))
    b = a.detach() + sg.tensor([0.0, 1e-6, 1e-3])
    assert sg.isclose(a, b).tolist() == [True, True, False]
    assert sg.allclose(a, b, atol=1e-2) is True
    assert a.allclose(b) is False
    with pytest.raises(RuntimeError, match="same dtype"):
        sg.isclose(a, b.double())


def test_fmod_and_remainder_differ_in_sign():
    a = sg.tensor([-7.0, 7.0, -7.5])
    assert sg.fmod(a, 2).tolist() == [-1.0, 1.0, -1.5]
    assert sg.remainder(a, 2).tolist() == [1.0, 1.0, 0.5]
    assert sg.fmod(sg.tensor([-7, 7]), -3).tolist() == [-1, 1]
