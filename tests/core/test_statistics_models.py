"""The statistics in use: a quantile (pinball) loss training a linear model, medians and modes of
parameters routing their gradient to the selected elements, aminmax's shared gradient at ties,
the gradient of q, and second derivatives through the selections."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn, optim


def test_quantile_regression_learns_the_upper_quantile():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(512, 1))
    y = 2 * x + rng.normal(0, 0.5, size=(512, 1))
    inputs, targets = sg.tensor(x, dtype=sg.float32), sg.tensor(y, dtype=sg.float32)
    model = nn.Linear(1, 1)
    opt = optim.SGD(model.parameters(), lr=0.5)
    tau = 0.9

    def pinball():
        error = targets - model(inputs)
        return sg.maximum(tau * error, (tau - 1) * error).mean()

    for _ in range(300):
        opt.zero_grad()
        loss = pinball()
        loss.backward()
        opt.step()
    # the fraction of targets below the fitted line is about tau
    below = (targets <= model(inputs)).float().mean().item()
    assert abs(below - tau) < 0.05
    # and the residuals' 0.9 quantile is about 0 (the line is the quantile)
    residual_quantile = sg.quantile((targets - model(inputs)).detach().reshape(-1), tau).item()
    assert abs(residual_quantile) < 0.05


def test_median_along_a_dim_sends_the_gradient_to_its_index():
    p = nn.Parameter(sg.tensor([[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0]]))
    values, indices = sg.median(p, dim=1)
    assert values.tolist() == [0.5, 0.0] and indices.tolist() == [3, 0]  # the lower medians
    values.sum().backward()
    expected = np.zeros((2, 4))
    expected[0, 3] = expected[1, 0] = 1.0
    np.testing.assert_array_equal(p.grad.numpy(), expected)


def test_median_of_a_whole_tensor_shares_its_gradient_among_ties():
    p = nn.Parameter(sg.tensor([1.0, 2.0, 2.0, 5.0, 2.0]))
    sg.median(p).backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 1 / 3, 1 / 3, 0.0, 1 / 3])


def test_mode_gradient_reaches_the_last_occurrence():
    p = nn.Parameter(sg.tensor([[2.0, 1.0, 2.0, 1.0, 3.0]]))
    out = sg.mode(p, 1)
    assert out.values.item() == 1.0 and out.indices.item() == 3  # 1 and 2 tie: the smaller, last seen
    (out.values * 5).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [[0.0, 0.0, 0.0, 5.0, 0.0]])


def test_aminmax_shares_the_gradient_at_ties():
    p = nn.Parameter(sg.tensor([[1.0, 3.0, 3.0], [0.0, 0.0, 2.0]]))
    low, high = sg.aminmax(p, dim=1)
    (low.sum() + 10 * high.sum()).backward()
    np.testing.assert_allclose(p.grad.numpy(), [[1.0, 5.0, 5.0], [0.5, 0.5, 10.0]])


def test_quantile_gradient_reaches_q_through_the_weights():
    x = sg.tensor([0.0, 1.0, 3.0, 6.0], dtype=sg.float64)
    q = sg.tensor([0.5], dtype=sg.float64, requires_grad=True)
    sg.quantile(x, q).sum().backward()
    # rank q * 3 = 1.5 lies between 1.0 and 3.0: d/dq = (3 - 1) * 3
    assert q.grad.item() == pytest.approx(6.0)


def test_second_derivative_through_quantile():
    x = sg.tensor([[0.3, -1.2, 2.0, 0.7]], dtype=sg.float64, requires_grad=True)
    (g,) = sg.autograd.grad(sg.quantile(x * x, 0.4, dim=1).sum(), [x], create_graph=True)
    (gg,) = sg.autograd.grad(g.sum(), [x])
    # rank 0.4 * 3 = 1.2 between the sorted squares 0.49 (x=0.7) and 1.44 (x=-1.2): weights 0.8
    # and 0.2; d/dx of w * x^2 is 2 w x, and its derivative 2 w
    np.testing.assert_allclose(g.detach().numpy(), [[0.0, 0.2 * 2 * -1.2, 0.0, 0.8 * 2 * 0.7]])
    np.testing.assert_allclose(gg.numpy(), [[0.0, 0.4, 0.0, 1.6]])


def test_var_mean_matches_var_and_mean_and_trains_batchnorm_like_statistics():
    x = nn.Parameter(sg.tensor(np.random.default_rng(1).normal(size=(8, 3))))
    var, mean = sg.var_mean(x, 0, correction=0)
    np.testing.assert_allclose(var.detach().numpy(), x.detach().var(0, correction=0).numpy())
    np.testing.assert_allclose(mean.detach().numpy(), x.detach().mean(0).numpy())
    ((x - mean) / (var + 1e-5).sqrt()).pow(2).sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


def test_nanmean_and_nansum_ignore_missing_values():
    p = nn.Parameter(sg.tensor([[1.0, float("nan"), 3.0], [2.0, 4.0, float("nan")]]))
    mean = sg.nanmean(p, 1)
    np.testing.assert_allclose(mean.detach().numpy(), [2.0, 3.0])
    (mean.sum() + sg.nansum(p)).backward()
    # 1/2 from each row's mean of two numbers, 1 from the sum; NaNs take no part
    np.testing.assert_allclose(p.grad.numpy(), [[1.5, 0.0, 1.5], [1.5, 1.5, 0.0]])


def test_statistics_on_a_large_input_are_vectorised():
    x = sg.tensor(np.random.default_rng(2).integers(0, 50, size=(300, 400)).astype(np.float32))
    values, indices = sg.mode(x, 1)
    assert values.shape == (300,) and indices.shape == (300,)
    row = x[0].numpy()
    unique, counts = np.unique(row, return_counts=True)
    assert values[0].item() == unique[np.argmax(counts)]
    assert sg.median(x, 0).values.shape == (400,)
    assert sg.quantile(x, sg.tensor([0.1, 0.9]), dim=1).shape == (2, 300)
