"""Gradient checks against central finite differences, shared by the core's tests."""

from __future__ import annotations

import numpy as np

import somegrad as sg


def numerical_gradients(fn, arrays, weight, eps=1e-6):
    """Central differences of `sum(fn(*arrays) * weight)` with respect to each float64 array."""

    def loss(values):
        with sg.no_grad():
            out = fn(*[sg.tensor(v) for v in values])
        return float((out.numpy().astype(np.float64) * weight).sum())

    grads = []
    for i, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for position in np.ndindex(array.shape):
            values = [a.copy() for a in arrays]
            values[i][position] += eps
            plus = loss(values)
            values[i][position] -= 2 * eps
            minus = loss(values)
            grad[position] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def check_gradients(fn, *arrays, seed=0, atol=1e-6, rtol=1e-5):
    """Compare the autograd gradients of `fn` at float64 `arrays` with central differences."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    inputs = [sg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    weight = rng.standard_normal(out.shape)
    if out.requires_grad:  # else the gradient is zero (a constant of the inputs)
        (out * sg.tensor(weight)).sum().backward()
    expected = numerical_gradients(fn, arrays, weight)
    for i, (t, want) in enumerate(zip(inputs, expected)):
        got = np.zeros_like(want) if t.grad is None else t.grad.numpy()
        assert got.shape == want.shape, f"input {i}: gradient shape {got.shape}, expected {want.shape}"
        np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")


def check_second_gradients(fn, *arrays, seed=0, atol=1e-5, rtol=1e-4):
    """Compare the gradient of the first-order gradient (via create_graph) with central
    differences of the first-order gradient."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    with sg.no_grad():
        out_shape = fn(*[sg.tensor(a) for a in arrays]).shape
    weight = sg.tensor(rng.standard_normal(out_shape))
    directions = [rng.standard_normal(a.shape) for a in arrays]

    def first_order(*inputs):
        with sg.enable_grad():
            inputs = [t.detach().requires_grad_() if not t.requires_grad else t for t in inputs]
            grads = sg.autograd.grad((fn(*inputs) * weight).sum(), inputs, create_graph=True, allow_unused=True)
        total = sg.tensor(0.0, dtype=sg.float64)
        for g, v in zip(grads, directions):
            if g is not None:
                total = total + (g * sg.tensor(v)).sum()
        return total

    check_gradients(first_order, *arrays, seed=seed, atol=atol, rtol=rtol)
