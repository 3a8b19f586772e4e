"""Helpers for the somegrad.nn tests: tensors from NumPy, and gradient checks by central
finite differences in float64 along random directions."""

from __future__ import annotations

import numpy as np

import somegrad as sg
from somegrad import testing
from somegrad.ops.dispatch import use_decompositions

RNG = np.random.default_rng(1234)


def array(*shape, low=None, high=None):
    if low is not None:
        return RNG.uniform(low, high, shape)
    return RNG.standard_normal(shape)


def t64(a, requires_grad=True):
    """A float64 tensor from a NumPy array (leaf, requiring grad by default)."""
    return sg.tensor(np.asarray(a, dtype=np.float64), dtype=sg.float64, requires_grad=requires_grad)


def value(t):
    return t.detach().numpy()


def assert_close(actual, expected, atol=1e-10, rtol=1e-8):
    """`somegrad.testing.assert_close` with the tight float64 tolerances these references allow
    (the expected values are NumPy float64 arrays, so dtypes are not compared)."""
    testing.assert_close(actual, np.asarray(expected), rtol=rtol, atol=atol, check_dtype=False)


def gradcheck(fn, inputs, directions=3, eps=1e-6, atol=1e-6, rtol=1e-5):
    """Check the autograd gradient of `fn(*inputs)` (float64) against central differences:
    for random output weights w and input directions v, <grad(w . f), v> must equal
    (w . f(x + eps v) - w . f(x - eps v)) / 2 eps."""
    leaves = [t for t in inputs if isinstance(t, sg.Tensor) and t.requires_grad]
    out = fn(*inputs)
    weights = RNG.standard_normal(out.shape)
    (out * sg.tensor(weights, dtype=out.dtype)).sum().backward()
    grads = [leaf.grad.numpy() if leaf.grad is not None else np.zeros(leaf.shape) for leaf in leaves]
    bases = [value(leaf).copy() for leaf in leaves]

    def objective(shifts):
        shifted = []
        it = iter(shifts)
        for t in inputs:
            if isinstance(t, sg.Tensor) and t.requires_grad:
                # requires grad, so that functions which differentiate inside still work
                shifted.append(sg.tensor(next(it), dtype=sg.float64, requires_grad=True))
            else:
                shifted.append(t)
        return float((value(fn(*shifted)) * weights).sum())

    for _ in range(directions):
        vs = [RNG.standard_normal(b.shape) for b in bases]
        plus = objective([b + eps * v for b, v in zip(bases, vs)])
        minus = objective([b - eps * v for b, v in zip(bases, vs)])
        numeric = (plus - minus) / (2 * eps)
        analytic = sum(float((g * v).sum()) for g, v in zip(grads, vs))
        assert abs(numeric - analytic) <= atol + rtol * abs(numeric), (numeric, analytic)


def fused_and_decomposed(fn, inputs):
    """Outputs and input gradients of `fn` with fused kernels and with decompositions forced."""
    results = []
    for decompose in (False, True):
        fresh = [
            t64(value(t), t.requires_grad) if isinstance(t, sg.Tensor) and t.dtype.is_floating_point else t
            for t in inputs
        ]
        with use_decompositions(decompose):
            out = fn(*fresh)
            weights = sg.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), dtype=out.dtype)
            (out * weights).sum().backward()
        grads = [t.grad.numpy() for t in fresh if isinstance(t, sg.Tensor) and t.requires_grad and t.grad is not None]
        results.append((value(out), grads))
    return results


def assert_fused_matches_decomposition(fn, inputs, atol=1e-10):
    (out_f, grads_f), (out_d, grads_d) = fused_and_decomposed(fn, inputs)
    np.testing.assert_allclose(out_f, out_d, atol=atol, rtol=1e-9)
    assert len(grads_f) == len(grads_d)
    for a, b in zip(grads_f, grads_d):
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-9)
