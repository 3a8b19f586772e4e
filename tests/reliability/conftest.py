"""Fixtures for the reliability tests: restored global state; the shared helpers on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import somegrad as sg

# Test modules import the shared helpers (reliability_helpers.py) from this folder.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests change the seed, the grad mode, anomaly detection; put them back."""
    dtype, grad_enabled = sg.get_default_dtype(), sg.is_grad_enabled()
    anomaly = sg.autograd.is_anomaly_enabled()
    rng_state = sg.get_rng_state()
    yield
    sg.set_default_dtype(dtype)
    sg.set_grad_enabled(grad_enabled)
    sg.autograd.set_detect_anomaly(anomaly)
    sg.set_rng_state(rng_state)
