"""Cheap gradient checks: compare a vector-Jacobian product with finite differences.

For a function `f` and random directions `u` (on the output) and `v` (on the inputs), the
identity `<v, vjp(u)> == <u, jvp(v)>` holds for the true derivative. The left side costs one
backward; the right side is a central finite difference, `(f(x + eps v) - f(x - eps v)) / 2eps`,
two forward calls. One scalar comparison per check instead of one per element (HIPS
autograd's `check_vjp`). Second order applies the same check to `x -> <vjp(x, u), w>`,
built with `create_graph=True`. Use float64 inputs: float32 cannot resolve the difference.

    from somegrad.testing.gradcheck import check_grads
    check_grads(lambda x, y: (x * y).sum(dim=1), [x, y], order=2)
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_vjp", "check_grads", "vjp"]


def _host(t) -> np.ndarray:
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _like(array, t):
    """A tensor of `array`'s values with the dtype and device of `t`."""
    from somegrad import tensor

    return tensor(np.asarray(array), dtype=t.dtype, device=t.device)


def _leaves(arrays, like):
    return [_like(a, t).requires_grad_() for a, t in zip(arrays, like)]


def vjp(fn, inputs, cotangent, create_graph=False):
    """`(out, grads)`: `fn(*inputs)` and the gradient of `<out, cotangent>` with respect to each
    input (zeros where the output does not depend on it). `inputs` must require grad."""
    from somegrad import autograd

    out = fn(*inputs)
    if not out.requires_grad:
        return out, [None] * len(inputs)
    grads = autograd.grad(
        out,
        inputs,
        grad_outputs=_like(cotangent, out),
        create_graph=create_graph,
        allow_unused=True,
    )
    return out, list(grads)


def check_vjp(fn, inputs, *, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0) -> None:
    """Check `fn`'s backward at `inputs` against central finite differences, along one random
    output direction and one random input direction. Raises AssertionError with both sides."""
    rng = np.random.default_rng(seed)
    points = [_host(x) for x in inputs]
    xs = _leaves(points, inputs)
    out = fn(*xs)
    u = rng.standard_normal(out.shape)
    directions = [rng.standard_normal(p.shape) for p in points]
    _, grads = vjp(fn, xs, u)
    for i, (g, x) in enumerate(zip(grads, xs)):
        if g is not None and (tuple(g.shape) != tuple(x.shape) or g.dtype is not x.dtype):
            raise AssertionError(
                f"the gradient of input {i} has shape {tuple(g.shape)} and dtype {g.dtype.name}, but the input has "
                f"shape {tuple(x.shape)} and dtype {x.dtype.name}"
            )
    backward = sum(float(np.sum(_host(g) * v)) for g, v in zip(grads, directions) if g is not None)
    plus = _host(fn(*_leaves([p + eps * v for p, v in zip(points, directions)], inputs)))
    minus = _host(fn(*_leaves([p - eps * v for p, v in zip(points, directions)], inputs)))
    forward = float(np.sum(u * (plus - minus) / (2 * eps)))
    scale = float(np.sum(np.abs(u) * np.abs(plus + minus) / 2)) if out.numel() else 0.0
    if not abs(backward - forward) <= atol * (1 + scale) + rtol * max(abs(backward), abs(forward)):
        raise AssertionError(
            f"the backward disagrees with finite differences: <v, vjp(u)> = {backward!r} but "
            f"<u, (f(x + eps v) - f(x - eps v)) / 2eps> = {forward!r} (eps={eps}, difference "
            f"{abs(backward - forward):.3g})"
        )


def check_grads(fn, inputs, *, order=2, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0) -> None:
    """`check_vjp` for `fn`, then for its derivative, up to `order`."""
    check_vjp(fn, inputs, eps=eps, rtol=rtol, atol=atol, seed=seed)
    if order < 2:
        return
    rng = np.random.default_rng(seed + 1)
    probe = fn(*_leaves([_host(x) for x in inputs], inputs))
    u = rng.standard_normal(probe.shape)
    weights = [rng.standard_normal(tuple(x.shape)) for x in inputs]

    def derivative(*xs):
        # <vjp(x, u), w>: a scalar whose gradient is the Hessian-vector product.
        _, grads = vjp(fn, xs, u, create_graph=True)
        terms = [(g * _like(w, g)).sum() for g, w in zip(grads, weights) if g is not None]
        total = _like(np.zeros(()), xs[0])
        for term in terms:
            total = total + term
        return total

    check_grads(derivative, inputs, order=order - 1, eps=eps, rtol=rtol * 10, atol=atol * 10, seed=seed + 2)
