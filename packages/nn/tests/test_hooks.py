"""Module hooks as in PyTorch: forward (pre-)hooks with kwargs, prepend and always_call, full
backward (pre-)hooks, global module hooks, handles; compared with PyTorch's call order and
arguments in the parity environment."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.nn import hooks as hooks_api
from somegrad.nn import module as module_api


class Scale(nn.Module):
    """y = x * factor * weight; factor is a plain number, passed positionally or by keyword."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(sg.tensor([2.0]))

    def forward(self, x, factor=1.0, *, shift=0.0):
        return x * factor * self.weight + shift


class TwoOut(nn.Module):
    def forward(self, a, b):
        return a * 2, a * b


def test_forward_hook_order_prepend_and_removal():
    calls = []
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre0"), prepend=True)
    h1 = m.register_forward_hook(lambda mod, args, out: calls.append("post1"))
    m.register_forward_hook(lambda mod, args, out: calls.append("post0"), prepend=True)
    m(sg.tensor([1.0]))
    assert calls == ["pre0", "pre1", "post0", "post1"]
    h1.remove()
    h1.remove()  # twice is harmless
    calls.clear()
    m(sg.tensor([1.0]))
    assert calls == ["pre0", "pre1", "post0"]


def test_replacing_args_and_output():
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: args[0] * 10)  # one value becomes a 1-tuple
    m.register_forward_hook(lambda mod, args, out: out + 1)
    assert m(sg.tensor([1.0])).tolist() == [21.0]


def test_with_kwargs_hooks():
    seen = {}
    m = Scale()

    def pre(mod, args, kwargs):
        seen["pre"] = (len(args), dict(kwargs))
        return args, {**kwargs, "shift": 100.0}

    def post(mod, args, kwargs, out):
        seen["post"] = dict(kwargs)
        return out * 2

    m.register_forward_pre_hook(pre, with_kwargs=True)
    m.register_forward_hook(post, with_kwargs=True)
    out = m(sg.tensor([1.0]), 3.0, shift=1.0)
    assert out.tolist() == [(1 * 3 * 2 + 100) * 2]
    assert seen == {"pre": (2, {"shift": 1.0}), "post": {"shift": 100.0}}
    bad = Scale()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\)"):
        bad(sg.tensor([1.0]))


def test_always_call_runs_when_forward_raises():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")

    calls = []
    m = Broken()
    m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: calls.append("normal"))
    with pytest.raises(ValueError, match="broken forward"):
        m(sg.tensor([1.0]))
    assert calls == [("always", None)]


def test_handles_as_context_managers_and_the_fast_path_returns():
    m = Scale()
    assert not m._has_hooks
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert m._has_hooks and m(sg.tensor([1.0])).tolist() == [0.0]
    assert not m._has_hooks and m(sg.tensor([1.0])).tolist() == [2.0]
    handle = m.register_full_backward_hook(lambda mod, gi, go: None)
    assert m._has_hooks
    handle.remove()
    assert not m._has_hooks


def test_full_backward_hook_arguments_on_a_linear_layer():
    sg.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    seen = []
    layer.register_full_backward_pre_hook(lambda mod, grad_output: seen.append(("pre", grad_output)))
    layer.register_full_backward_hook(
        lambda mod, grad_input, grad_output: seen.append(("full", grad_input, grad_output))
    )
    x = sg.randn(4, 3, dtype=sg.float64, requires_grad=True)
    weight = sg.randn(4, 2, dtype=sg.float64)
    (layer(x) * weight).sum().backward()
    assert [s[0] for s in seen] == ["pre", "full"]
    (grad_output,) = seen[0][1]
    np.testing.assert_allclose(grad_output.numpy(), weight.numpy())
    (grad_input,) = seen[1][1]
    np.testing.assert_allclose(grad_input.numpy(), weight.numpy() @ layer.weight.detach().numpy())
    np.testing.assert_allclose(grad_input.numpy(), x.grad.numpy())
    np.testing.assert_allclose(seen[1][2][0].numpy(), weight.numpy())


def test_backward_hooks_replace_gradients():
    m = Scale()
    m.register_full_backward_pre_hook(lambda mod, grad_output: (grad_output[0] * 10,))
    m.register_full_backward_hook(lambda mod, grad_input, grad_output: (grad_input[0] + 1,))
    x = sg.tensor([3.0], requires_grad=True)
    m(x).sum().backward()
    assert m.weight.grad.tolist() == [30.0]  # d/dw (x w) * 10
    assert x.grad.tolist() == [21.0]  # w * 10, then + 1


def test_backward_hooks_with_non_tensor_inputs_several_outputs_and_order():
    seen = []
    m = TwoOut()
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    b = sg.tensor([3.0, 4.0])  # needs no gradient
    first, second = m(a, b)
    (first.sum() + second.sum() * 2).backward()
    ((grad_a, grad_b), (go1, go2)) = seen[0]
    assert grad_b is None and grad_a.tolist() == [2 + 6, 2 + 8]
    assert go1.tolist() == [1.0, 1.0] and go2.tolist() == [2.0, 2.0]

    order = []
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    for name, child in model.named_children():
        child.register_full_backward_hook(lambda mod, gi, go, name=name: order.append(name))
        child.register_forward_hook(lambda mod, args, out, name=name: order.append("f" + name))
    model(sg.randn(3, 2, requires_grad=True)).sum().backward()
    assert order == ["f0", "f1", "f2", "2", "1", "0"]
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        broken = nn.ReLU()
        broken.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        broken(sg.randn(2, requires_grad=True)).sum().backward()


def test_backward_hook_when_no_input_requires_grad():
    seen = []
    layer = nn.Linear(2, 1)
    layer.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        layer(sg.randn(3, 2)).sum().backward()
    assert seen == [((None,), (3, 1))]
    assert layer.weight.grad is not None


def test_global_hooks_run_before_the_modules_own():
    calls = []
    m = Scale()
    m.register_forward_hook(lambda mod, args, out: calls.append("own"))
    handles = [
        module_api.register_module_forward_pre_hook(lambda mod, args: calls.append("global pre")),
        module_api.register_module_forward_hook(lambda mod, args, out: calls.append("global post")),
        module_api.register_module_full_backward_hook(lambda mod, gi, go: calls.append("global backward")),
        module_api.register_module_full_backward_pre_hook(lambda mod, go: calls.append("global backward pre")),
    ]
    try:
        m(sg.tensor([1.0], requires_grad=True)).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    assert calls == ["global pre", "global post", "own", "global backward pre", "global backward"]
    assert hooks_api.GLOBAL_HOOKS.any is False
    calls.clear()
    m(sg.tensor([1.0]))
    assert calls == ["own"]


def test_hooks_and_double_backward():
    layer = nn.Linear(2, 1).double()
    grads = []
    layer.register_full_backward_hook(lambda mod, gi, go: grads.append(gi[0]))
    x = sg.randn(3, 2, dtype=sg.float64, requires_grad=True)
    y = (layer(x) ** 2).sum()
    (gx,) = sg.autograd.grad(y, x, create_graph=True)
    gx.sum().backward()
    assert len(grads) >= 1 and x.grad is not None


# --- parity: the same hooks on the same model in PyTorch -----------------------------------------
def _log_hooks(model, log, lib):
    handles = []
    for name, child in model.named_children():
        handles.append(child.register_forward_pre_hook(lambda m, args, n=name: log.append(("pre", n, args[0].shape))))
        handles.append(
            child.register_forward_hook(
                lambda m, args, kwargs, out, n=name: log.append(("fwd", n, tuple(out.shape), sorted(kwargs))),
                with_kwargs=True,
            )
        )
        handles.append(
            child.register_full_backward_pre_hook(
                lambda m, go, n=name: log.append(("bpre", n, [g.detach().numpy().copy() for g in go]))
            )
        )
        handles.append(
            child.register_full_backward_hook(
                lambda m, gi, go, n=name: log.append(
                    ("bwd", n, [None if g is None else g.detach().numpy().copy() for g in gi])
                )
            )
        )
    return handles


@pytest.mark.parity
def test_parity_hook_order_and_arguments():
    torch = pytest.importorskip("torch")
    sg.manual_seed(0)
    ours = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    array = np.random.default_rng(0).standard_normal((5, 4))
    log_ours, log_theirs = [], []
    _log_hooks(ours, log_ours, sg)
    _log_hooks(theirs, log_theirs, torch)
    x = sg.tensor(array, requires_grad=True)
    tx = torch.tensor(array, requires_grad=True)
    (ours(x) ** 2).sum().backward()
    (theirs(tx) ** 2).sum().backward()
    assert [entry[:2] for entry in log_ours] == [entry[:2] for entry in log_theirs]
    for a, b in zip(log_ours, log_theirs):
        if a[0] in ("pre", "fwd"):
            assert tuple(a[2]) == tuple(b[2]) and a[3:] == b[3:]
        else:
            assert len(a[2]) == len(b[2])
            for u, v in zip(a[2], b[2]):
                assert (u is None) == (v is None)
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parity
def test_parity_replacing_and_always_call():
    torch = pytest.importorskip("torch")
    results = []
    for lib, mod in ((sg, nn), (torch, torch.nn)):
        layer = mod.Linear(2, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
            layer.bias.copy_(lib.tensor([0.5, -0.5]))
        layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        layer.register_forward_hook(lambda m, args, out: out + 1)
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        layer.register_full_backward_hook(lambda m, gi, go: (gi[0] - 1,))
        x = lib.tensor([[1.0, -1.0]], requires_grad=True)
        out = layer(x)
        out.sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy(), layer.weight.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b)
