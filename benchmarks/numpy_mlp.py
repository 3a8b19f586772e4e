"""The MLP written by hand in NumPy: the floor that a NumPy-based framework can reach."""

from __future__ import annotations

import numpy as np


class NumpyMLP:
    """The MLP by hand in NumPy: forward, backward and AdamW, the floor for a NumPy framework."""

    def __init__(self, weights: dict[str, np.ndarray], n_layers: int, lr: float, weight_decay: float):
        self.lr, self.weight_decay = lr, weight_decay
        self.names = [f"{2 * i}.{kind}" for i in range(n_layers) for kind in ("weight", "bias")]
        self.params = {name: weights[name].copy() for name in self.names}
        self.m = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.v = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.n_layers = n_layers
        self.t = 0

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        p = self.params
        activations = [x]
        h = x
        for i in range(self.n_layers):
            h = h @ p[f"{2 * i}.weight"].T
            h += p[f"{2 * i}.bias"]
            if i < self.n_layers - 1:
                np.maximum(h, 0, out=h)
                activations.append(h)
        # cross-entropy through a stable log-softmax
        n = h.shape[0]
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)  # h is now softmax
        loss = -float(np.log(h[np.arange(n), y]).mean())
        grad = h
        grad[np.arange(n), y] -= 1
        grad /= n
        grads = {}
        for i in reversed(range(self.n_layers)):
            a = activations[i]
            grads[f"{2 * i}.weight"] = grad.T @ a
            grads[f"{2 * i}.bias"] = grad.sum(axis=0)
            if i > 0:
                grad = grad @ p[f"{2 * i}.weight"]
                grad *= a > 0
        self.adamw(grads)
        return loss

    def adamw(self, grads: dict[str, np.ndarray], beta1=0.9, beta2=0.999, eps=1e-8) -> None:
        self.t += 1
        bias1 = 1 - beta1**self.t
        bias2 = 1 - beta2**self.t
        for name, param in self.params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            param *= 1 - self.lr * self.weight_decay
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denom = np.sqrt(v / bias2)
            denom += eps
            param -= (self.lr / bias1) * m / denom
