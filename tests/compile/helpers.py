"""Running one training step eagerly and compiled, side by side, from identical states."""

from __future__ import annotations

import copy

import numpy as np

import somegrad as sg


def twins(make_model, make_optimizer, make_scheduler=None, seed=0):
    """Two identical (model, optimizer, scheduler) triples."""
    sg.manual_seed(seed)
    model = make_model()
    other = copy.deepcopy(model)
    result = []
    for m in (model, other):
        opt = make_optimizer(m)
        sched = make_scheduler(opt) if make_scheduler is not None else None
        result.append((m, opt, sched))
    return result


def assert_same_state(a, b, exact=True, rtol=0.0, atol=0.0):
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        if exact:
            assert np.array_equal(p.numpy(force=True), q.numpy(force=True)), name
        else:
            np.testing.assert_allclose(p.numpy(force=True), q.numpy(force=True), rtol=rtol, atol=atol, err_msg=name)
        if p.grad is None:
            assert q.grad is None, name
        else:
            assert np.array_equal(p.grad.numpy(), q.grad.numpy()) if exact else True, f"{name}.grad"


def run_side_by_side(make_step, triples, batches, exact=True, rtol=0.0, atol=0.0, **compile_options):
    """Run `make_step(model, opt, sched)` eagerly on the first triple and compiled on the
    second for every batch; assert equal losses and states after each step. Returns the
    compiled function."""
    (m1, o1, s1), (m2, o2, s2) = triples
    eager = make_step(m1, o1, s1)
    compiled = sg.compile(make_step(m2, o2, s2), **compile_options)
    for i, batch in enumerate(batches):
        sg.manual_seed(1000 + i)
        l1 = eager(*batch)
        sg.manual_seed(1000 + i)
        l2 = compiled(*batch)
        a, b = l1.detach().numpy(), l2.detach().numpy()
        if exact:
            assert np.array_equal(a, b), (i, a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
        if s1 is not None:
            s1.step()
            s2.step()
    assert_same_state(m1, m2, exact, rtol, atol)
    return compiled
