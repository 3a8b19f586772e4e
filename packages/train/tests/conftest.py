"""Shared pieces of the train tests: a small model that behaves like an ``nn.Module`` (so the
loops and checkpoints are tested without depending on ``somegrad.nn``), a loss, and data."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import somegrad as sg


class TinyClassifier:
    """``logits = dropout(tanh(x @ w1 + b1)) @ w2 + b2``; x: (N, 4) -> logits: (N, 3).

    Dropout draws from the global generator in training mode, so resuming a run exactly needs
    the random state restored too. Implements the parts of ``nn.Module`` the loops use.
    """

    def __init__(self, d_in: int = 4, d_hidden: int = 8, d_out: int = 3, p: float = 0.2):
        self.w1 = (sg.randn(d_in, d_hidden) * 0.5).requires_grad_()
        self.b1 = sg.zeros(d_hidden, requires_grad=True)
        self.w2 = (sg.randn(d_hidden, d_out) * 0.5).requires_grad_()
        self.b2 = sg.zeros(d_out, requires_grad=True)
        self.p = p
        self.training = True
        self.calls = []  # (training, grad enabled) of each forward

    def parameters(self):
        return iter([self.w1, self.b1, self.w2, self.b2])

    def state_dict(self):
        return {name: getattr(self, name).detach() for name in ("w1", "b1", "w2", "b2")}

    def load_state_dict(self, state, strict=True):
        if strict and set(state) != {"w1", "b1", "w2", "b2"}:
            raise KeyError(f"unexpected keys {sorted(state)}")
        with sg.no_grad():
            for name, value in state.items():
                getattr(self, name).copy_(value)

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def __call__(self, x):
        self.calls.append((self.training, sg.is_grad_enabled()))
        h = (x @ self.w1 + self.b1).tanh()
        if self.training and self.p > 0:
            keep = (sg.rand(*h.shape) > self.p).float()
            h = h * keep / (1 - self.p)
        return h @ self.w2 + self.b2


def cross_entropy(logits, target):
    """Mean negative log-likelihood; logits: (N, C), target: (N,) int64."""
    log_probs = sg.log_softmax(logits, dim=1)
    return -log_probs.gather(1, target.reshape(-1, 1)).mean()


def blobs(n: int = 64, seed: int = 0):
    """Three Gaussian blobs in 4-D: x (n, 4) float32, y (n,) int64."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=np.float32)
    x = centers[y] + rng.normal(scale=0.5, size=(n, 4)).astype(np.float32)
    return sg.tensor(x), sg.tensor(y, dtype=sg.int64)


@pytest.fixture
def tiny_classifier():
    return TinyClassifier


@pytest.fixture
def loss_fn():
    return cross_entropy


@pytest.fixture
def make_blobs():
    return blobs


@pytest.fixture
def subprocess_env():
    """Environment for a child Python that imports somegrad exactly as this process does."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


@pytest.fixture
def scratch(tmp_path):
    """A folder for tests that rewrite a file thousands of times: in memory (/dev/shm) where
    there is one, since each rewrite on a disk mounted with ``discard`` costs milliseconds."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="somegrad-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
