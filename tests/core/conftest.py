"""Helpers for the core's tests: finite-difference gradients, a second device from a plugin."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import plugins


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may change the default dtype or the grad mode; put them back."""
    dtype, grad_enabled = sg.get_default_dtype(), sg.is_grad_enabled()
    yield
    sg.set_default_dtype(dtype)
    sg.set_grad_enabled(grad_enabled)


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


def make_plugin(backend_class, name, device_type):
    """A plugin object registering `backend_class` as backend `name` for `device_type`."""

    class Plugin:
        @sg.hookimpl
        def somegrad_register_backends(self, register):
            register(name, device_type=device_type, factory=backend_class)

    return Plugin()


@pytest.fixture
def fake_device():
    """A second device type, "fake", served by a NumPy-backed backend from an in-process plugin."""
    from somegrad_numpy.backend import NumpyBackend

    class FakeBackend(NumpyBackend):
        name = "fake"
        device_type = "fake"

    name = plugins.register_plugin(make_plugin(FakeBackend, "fake", "fake"), name="fake-device-plugin")
    yield sg.device("fake")
    plugins.unregister_plugin(name)
