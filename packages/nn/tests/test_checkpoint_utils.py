"""somegrad.utils.checkpoint: gradients equal to the plain call (finite differences in float64,
with nn.Parameters and real modules), random state restored, several outputs,
checkpoint_sequential, autograd.grad and hooks reaching the parameters."""

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.testing.gradcheck import check_vjp
from somegrad.utils.checkpoint import checkpoint, checkpoint_sequential


def grads_of(model, fn, x):
    model.zero_grad()
    x.grad = None
    fn(x).sum().backward()
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


def test_checkpoint_matches_the_plain_call_and_finite_differences():
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.LayerNorm(6), nn.Linear(6, 3)).double()
    x = sg.randn(5, 4, dtype=sg.float64, requires_grad=True)
    plain = grads_of(model, model, x)
    checked = grads_of(model, lambda x: checkpoint(model, x, use_reentrant=False), x)
    for a, b in zip(plain, checked, strict=True):
        np.testing.assert_array_equal(a, b)
    check_vjp(lambda x: checkpoint(model, x, use_reentrant=False), [x.detach()])


def test_dropout_masks_are_recomputed_from_the_saved_random_state():
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    x = sg.randn(16, 8, requires_grad=True)
    sg.manual_seed(9)
    plain = grads_of(model, model, x)
    after_plain = sg.rand(3).tolist()
    sg.manual_seed(9)
    checked = grads_of(model, lambda x: checkpoint(model, x), x)
    assert sg.rand(3).tolist() == after_plain  # the backward's recomputation left the state alone
    for a, b in zip(plain, checked, strict=True):
        np.testing.assert_array_equal(a, b)


def test_several_outputs_and_non_tensor_ones():
    linear = nn.Linear(3, 4).double()
    x = sg.randn(2, 3, dtype=sg.float64, requires_grad=True)

    def fn(x, scale):
        h = linear(x)
        return h.tanh() * scale, "label", h.sum(-1)

    a, label, b = checkpoint(fn, x, 2.0)
    assert label == "label" and a.shape == (2, 4) and b.shape == (2,)
    ((a**2).sum() + b.sum()).backward()
    expected = [linear.weight.grad.numpy().copy(), x.grad.numpy().copy()]
    linear.zero_grad()
    x.grad = None
    a, _, b = fn(x, 2.0)
    ((a**2).sum() + b.sum()).backward()
    np.testing.assert_allclose(expected[0], linear.weight.grad.numpy(), atol=1e-14)
    np.testing.assert_allclose(expected[1], x.grad.numpy(), atol=1e-14)


def test_autograd_grad_and_parameter_hooks_reach_the_parameters():
    linear = nn.Linear(3, 2)
    x = sg.randn(4, 3)  # needs no grad: only the parameters do
    seen = []
    linear.weight.register_hook(lambda g: seen.append(tuple(g.shape)))
    out = checkpoint(linear, x).sum()
    (gw, gb) = sg.autograd.grad(out, [linear.weight, linear.bias])
    np.testing.assert_allclose(gw.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-6)
    np.testing.assert_allclose(gb.numpy(), [4.0, 4.0])
    assert seen == [(2, 3)]


def test_checkpoint_sequential_equals_the_plain_run():
    sg.manual_seed(1)
    model = nn.Sequential(*[layer for _ in range(4) for layer in (nn.Linear(5, 5), nn.GELU())])
    x = sg.randn(3, 5, requires_grad=True)
    plain = grads_of(model, model, x)
    for segments in (1, 2, 3, 8):
        checked = grads_of(model, lambda x, n=segments: checkpoint_sequential(model, n, x, use_reentrant=False), x)
        for a, b in zip(plain, checked, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="segments must be a positive integer"):
        checkpoint_sequential(model, 0, x)


def test_plain_call_without_grad_and_errors():
    linear = nn.Linear(2, 2)
    with sg.no_grad():
        out = checkpoint(linear, sg.ones(1, 2))
    assert out.grad_fn is None
    outside = linear(sg.ones(1, 2))  # requires grad, computed outside the function

    def uses_closure(x):
        return x * outside

    with pytest.raises(RuntimeError, match=r"uses_closure uses a tensor of shape \(1, 2\) .*pass it as an argument"):
        checkpoint(uses_closure, sg.ones(1, 2))
    with pytest.raises(TypeError, match="use_reentrant must be a bool"):
        checkpoint(linear, sg.ones(1, 2), use_reentrant="no")
    x = sg.ones(1, 2)
    out = checkpoint(linear, x).sum()
    out.backward(retain_graph=True)
    out.backward()  # retain_graph keeps the node's inputs, as for any op
    with pytest.raises(RuntimeError, match="trying to backward through the graph a second time"):
        out.backward()


def test_an_argument_changed_in_place_before_the_backward_is_an_error():
    linear = nn.Linear(2, 2)
    x = sg.ones(1, 2)
    out = checkpoint(linear, x).sum()
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="checkpoint: one of the tensors needed for the gradient has been modified"):
        out.backward()


def test_the_recomputation_runs_under_the_forwards_autocast_settings():
    sg.manual_seed(2)
    w = nn.Parameter(sg.randn(4, 4))
    x = sg.randn(3, 4)

    def fn(x):
        return (x @ w).tanh()

    grads = []
    for wrap in (fn, lambda x: checkpoint(fn, x)):
        w.grad = None
        with sg.autocast("cpu"):
            out = wrap(x)
        assert out.dtype is sg.bfloat16
        out.float().sum().backward()  # outside the region: the recomputation still runs in bfloat16
        grads.append(w.grad.numpy().copy())
    np.testing.assert_array_equal(grads[0], grads[1])
