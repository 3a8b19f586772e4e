"""Fixtures for the core's tests: restored global state, a second device from a plugin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import somegrad as sg
from somegrad import plugins

# Test modules import the shared helpers (gradient_checks.py, plugin_helpers.py) from this folder.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may change the default dtype or the grad mode; put them back."""
    dtype, grad_enabled = sg.get_default_dtype(), sg.is_grad_enabled()
    yield
    sg.set_default_dtype(dtype)
    sg.set_grad_enabled(grad_enabled)


@pytest.fixture
def fake_device():
    """A second device type, "fake", served by a NumPy-backed backend from an in-process plugin."""
    from plugin_helpers import make_plugin

    from somegrad_numpy.backend import NumpyBackend

    class FakeBackend(NumpyBackend):
        name = "fake"
        device_type = "fake"

    name = plugins.register_plugin(make_plugin(FakeBackend, "fake", "fake"), name="fake-device-plugin")
    yield sg.device("fake")
    plugins.unregister_plugin(name)
