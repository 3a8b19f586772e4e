"""Optimizers: 20-step trajectories against float64 references written from the published
update rules, against PyTorch (parity), and the Optimizer base (groups, zero_grad, closures,
state dicts)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import somegrad as sg
from somegrad import optim

# --- a fixed problem: two parameters in two groups, a gradient with curvature ------------------

SHAPES = [(3, 4), (5,)]
GROUP_LRS = [None, 0.5]  # the second group scales the optimizer's lr


def gradient(x: np.ndarray, i: int) -> np.ndarray:
    """d/dx of sum(h * (x - c)**2 / 2 + 0.3 * cos(x)): a different curvature per entry."""
    rng = np.random.default_rng(100 + i)
    h = rng.uniform(0.5, 3.0, size=x.shape)
    c = rng.normal(size=x.shape)
    return h * (x - c) - 0.3 * np.sin(x)


def initial_values() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.normal(size=shape) for shape in SHAPES]


def make_params(dtype=None):
    dtype = dtype or sg.float64
    return [sg.tensor(x, dtype=dtype, requires_grad=True) for x in initial_values()]


def groups_for(params, lr):
    return [
        {"params": [params[0]]},
        {"params": [params[1]], "lr": lr * GROUP_LRS[1]},
    ]


def run_ours(cls, kwargs, steps=20):
    params = make_params()
    opt = cls(groups_for(params, kwargs["lr"]), **kwargs)
    for _ in range(steps):
        for i, p in enumerate(params):
            p.grad = sg.tensor(gradient(p.detach().numpy(), i), dtype=sg.float64)
        opt.step()
    return [p.detach().numpy() for p in params]


# --- references, one per update rule, in float64 numpy -------------------------------------------


def ref_sgd(x, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * x
    if momentum:
        if "b" not in state:
            state["b"] = g.copy()
        else:
            state["b"] = momentum * state["b"] + (1 - dampening) * g
        g = g + momentum * state["b"] if nesterov else state["b"]
    return x - lr * g


def ref_adam(
    x,
    g,
    state,
    lr,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas
    g = -g if maximize else g
    t = state["t"] = state.get("t", 0) + 1
    if decoupled:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    if amsgrad:
        v = state["vmax"] = np.maximum(state.get("vmax", 0.0), v)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(x, g, state, lr, weight_decay=1e-2, **kwargs):
    return ref_adam(x, g, state, lr, weight_decay=weight_decay, decoupled=True, **kwargs)


def ref_rmsprop(
    x,
    g,
    state,
    lr,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    g = -g if maximize else g
    g = g + weight_decay * x
    v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
    if centered:
        a = state["a"] = alpha * state.get("a", 0.0) + (1 - alpha) * g
        d = np.sqrt(v - a * a) + eps
    else:
        d = np.sqrt(v) + eps
    if momentum > 0:
        b = state["b"] = momentum * state.get("b", 0.0) + g / d
        return x - lr * b
    return x - lr * g / d


def ref_adagrad(
    x,
    g,
    state,
    lr,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    g = -g if maximize else g
    t = state["t"] = state.get("t", 0) + 1
    g = g + weight_decay * x
    s = state["s"] = state.get("s", initial_accumulator_value) + g * g
    return x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)


def run_reference(rule, kwargs, steps=20):
    xs = initial_values()
    states = [{} for _ in xs]
    lrs = [kwargs["lr"], kwargs["lr"] * GROUP_LRS[1]]
    options = {k: v for k, v in kwargs.items() if k != "lr"}
    for _ in range(steps):
        xs = [rule(x, gradient(x, i), states[i], lrs[i], **options) for i, x in enumerate(xs)]
    return xs


CONFIGS = {
    "SGD": (optim.SGD, ref_sgd, dict(lr=0.05)),
    "SGD-momentum": (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9)),
    "SGD-dampening-wd": (
        optim.SGD,
        ref_sgd,
        dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
    ),
    "SGD-nesterov": (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "SGD-maximize-wd": (
        optim.SGD,
        ref_sgd,
        dict(lr=0.05, momentum=0.5, maximize=True, weight_decay=0.1),
    ),
    "Adam": (optim.Adam, ref_adam, dict(lr=0.1)),
    "Adam-betas-eps": (optim.Adam, ref_adam, dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3)),
    "Adam-amsgrad-wd": (optim.Adam, ref_adam, dict(lr=0.1, amsgrad=True, weight_decay=0.05)),
    "Adam-maximize": (optim.Adam, ref_adam, dict(lr=0.1, maximize=True)),
    "AdamW": (optim.AdamW, ref_adamw, dict(lr=0.1)),
    "AdamW-wd-amsgrad": (optim.AdamW, ref_adamw, dict(lr=0.1, weight_decay=0.3, amsgrad=True)),
    "RMSprop": (optim.RMSprop, ref_rmsprop, dict(lr=0.01)),
    "RMSprop-centered-momentum": (
        optim.RMSprop,
        ref_rmsprop,
        dict(lr=0.01, centered=True, momentum=0.9, alpha=0.9),
    ),
    "RMSprop-wd-maximize": (
        optim.RMSprop,
        ref_rmsprop,
        dict(lr=0.01, weight_decay=0.1, maximize=True, eps=1e-4),
    ),
    "Adagrad": (optim.Adagrad, ref_adagrad, dict(lr=0.3)),
    "Adagrad-decay-wd-init": (
        optim.Adagrad,
        ref_adagrad,
        dict(lr=0.3, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6),
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_matches_update_rule(name):
    cls, rule, kwargs = CONFIGS[name]
    ours = run_ours(cls, kwargs)
    expected = run_reference(rule, kwargs)
    for a, e in zip(ours, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-11, atol=1e-13)
    start = initial_values()
    assert not np.allclose(ours[0], start[0])  # it moved


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_and_state_keys_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    cls, _, kwargs = CONFIGS[name]
    params = [torch.tensor(x, requires_grad=True) for x in initial_values()]
    torch_opt = getattr(torch.optim, cls.__name__)(groups_for(params, kwargs["lr"]), **kwargs)
    for _ in range(20):
        for i, p in enumerate(params):
            p.grad = torch.tensor(gradient(p.detach().numpy(), i))
        torch_opt.step()
    ours_params = make_params()
    ours = cls(groups_for(ours_params, kwargs["lr"]), **kwargs)
    for _ in range(20):
        for i, p in enumerate(ours_params):
            p.grad = sg.tensor(gradient(p.detach().numpy(), i), dtype=sg.float64)
        ours.step()
    for a, p in zip(ours_params, params, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), p.detach().numpy(), rtol=1e-10, atol=1e-12)
    theirs = torch_opt.state_dict()
    mine = ours.state_dict()
    assert set(mine["state"]) == set(theirs["state"])
    for index in theirs["state"]:
        assert set(mine["state"][index]) == set(theirs["state"][index])
    for group, torch_group in zip(mine["param_groups"], theirs["param_groups"], strict=True):
        assert group["params"] == torch_group["params"]
        for key in ("lr", "weight_decay", "maximize", "momentum", "betas", "eps", "alpha"):
            if key in torch_group:
                assert group[key] == torch_group[key], key


def test_defaults_are_pytorchs():
    p = [sg.zeros(2, requires_grad=True)]
    assert optim.SGD(p).defaults["lr"] == 1e-3
    adam = optim.Adam(p).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"]) == (
        1e-3,
        (0.9, 0.999),
        1e-8,
        0.0,
    )
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    rms = optim.RMSprop(p).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"]) == (1e-2, 0.99, 1e-8)
    ada = optim.Adagrad(p).defaults
    assert (ada["lr"], ada["eps"], ada["initial_accumulator_value"]) == (1e-2, 1e-10, 0.0)


# --- real gradients through autograd ------------------------------------------------------------


def test_descends_a_loss_through_autograd_float32():
    sg.manual_seed(0)
    target = sg.tensor([1.0, -2.0, 3.0])
    w = sg.zeros(3, requires_grad=True)
    opt = optim.AdamW([w], lr=0.1, weight_decay=0.0)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]
    np.testing.assert_allclose(w.detach().numpy(), target.numpy(), atol=0.05)
    assert w.dtype == sg.float32
    state = opt.state[w]
    assert not state["exp_avg"].requires_grad
    assert state["exp_avg"].dtype == sg.float32


def _count_kernel_calls(monkeypatch, name):
    """Count the calls of the numpy backend's multi-tensor kernel `name` (one entry per call:
    how many parameters it got)."""
    from somegrad.ops import dispatch

    backend = sg.backends.get_backend("numpy")
    calls = []
    kernel = backend.kernels[name]

    def counted(params, *args, **kwargs):
        calls.append(len(params))
        return kernel(params, *args, **kwargs)

    monkeypatch.setitem(backend.kernels, name, counted)
    monkeypatch.setattr(dispatch, "_kernels", {})  # resolution is cached per (backend, op)
    return calls


FOREACH_CONFIGS = [
    "SGD",
    "SGD-momentum",
    "SGD-dampening-wd",
    "SGD-nesterov",
    "SGD-maximize-wd",
    "Adam",
    "Adam-betas-eps",
    "Adam-amsgrad-wd",
    "Adam-maximize",
    "AdamW",
    "AdamW-wd-amsgrad",
]


@pytest.mark.parametrize("dtype", [sg.float32, sg.float64, sg.float16])
@pytest.mark.parametrize("name", FOREACH_CONFIGS)
def test_multi_tensor_step_matches_the_per_tensor_path_bit_for_bit(monkeypatch, name, dtype):
    """The numpy backend's foreach kernel runs the op's update rule over raw arrays, for a whole
    group in one call; the trajectories with it and through the op's decomposition (the
    per-tensor path of Tensor in-place ops) are identical, also where it declines (float16)."""
    from somegrad.ops.dispatch import use_decompositions

    cls, _, kwargs = CONFIGS[name]
    kwargs = dict(kwargs, weight_decay=0.1) if name in ("Adam", "AdamW") else kwargs
    kernel_name = "foreach_sgd_step_" if cls is optim.SGD else "foreach_adam_step_"
    calls = _count_kernel_calls(monkeypatch, kernel_name)

    def trajectory():
        params = make_params(dtype)
        opt = cls(groups_for(params, kwargs["lr"]), **kwargs)
        for _ in range(10):
            for i, p in enumerate(params):
                p.grad = sg.tensor(gradient(p.detach().float().numpy(), i), dtype=dtype)
            opt.step()
        state = opt.state.get(params[0], {})  # plain SGD keeps none
        buffers = [state[key] for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer") if key in state]
        # in-place updates bump the versions of the parameter and of its state, every step
        assert params[0]._version >= 10
        assert all(b._version >= 9 for b in buffers)
        return [t.detach().float().numpy() for t in (*params, *buffers)]

    with_kernel = trajectory()
    assert calls == [1] * 20  # once per group (two, of one parameter each) and step
    with use_decompositions():
        without = trajectory()
    assert len(calls) == 20  # the decomposition never asks the kernel
    for a, b in zip(with_kernel, without, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(with_kernel[0], initial_values()[0])


def _models():
    from somegrad import nn
    from somegrad.nn.models import GPT
    from somegrad.nn.models.gpt import GPTConfig

    sg.manual_seed(0)
    yield "Linear", nn.Linear(8, 4), (sg.randn(5, 8),)
    yield "MLP", nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10)), (sg.randn(5, 16),)
    gpt = GPT(GPTConfig(vocab_size=32, block_size=8, n_layer=2, n_head=2, n_embd=16))
    yield "GPT", gpt, (sg.randint(0, 32, (2, 8)),)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda p: optim.AdamW(p, lr=1e-2),
        lambda p: optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-3),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda p: optim.SGD(p, lr=0.1),
    ],
    ids=["AdamW", "Adam-amsgrad", "SGD-nesterov", "SGD"],
)
def test_nn_models_take_one_multi_tensor_call_per_step(monkeypatch, make_optimizer):
    """nn.Parameter is a Tensor subclass: a real model's parameters go through the multi-tensor
    kernel, once per step for the whole model, and end where the per-tensor path ends."""
    from somegrad.ops.dispatch import use_decompositions

    for label, model, inputs in _models():
        params = list(model.parameters())
        assert all(type(p) is not sg.Tensor for p in params)  # nn.Parameter
        start = [p.detach().numpy().copy() for p in params]
        results = []
        for decomposed in (False, True):
            with sg.no_grad():
                for p, value in zip(params, start):
                    p.copy_(sg.tensor(value))
            opt = make_optimizer(params)
            name = "foreach_sgd_step_" if isinstance(opt, optim.SGD) else "foreach_adam_step_"
            calls = _count_kernel_calls(monkeypatch, name)
            for _ in range(3):
                opt.zero_grad()
                out = model(*inputs)
                out = out[0] if isinstance(out, tuple) else out  # GPT: (logits, loss)
                (out.float() ** 2).mean().backward()
                with use_decompositions(decomposed):  # the step only: the same gradients both times
                    opt.step()
            assert calls == ([] if decomposed else [len(params)] * 3), label
            results.append([p.detach().numpy().copy() for p in params])
            monkeypatch.undo()
        for fused, reference in zip(*results, strict=True):
            np.testing.assert_array_equal(fused, reference)
        assert any(not np.array_equal(a, b) for a, b in zip(results[0], start)), label


def test_step_records_no_graph():
    w = sg.ones(4, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    assert w.requires_grad
    assert getattr(w, "grad_fn", None) is None  # still a leaf
    assert not opt.state[w]["momentum_buffer"].requires_grad
    np.testing.assert_allclose(w.detach().numpy(), np.full(4, 0.8))


def test_closure_runs_with_grad_enabled_and_returns_loss():
    w = sg.tensor([2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with sg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(w.detach().numpy(), [1.0])  # 2 - 0.25 * 4


def test_zero_grad():
    w = sg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = sg.ones(3)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert w.grad is None


def test_params_without_grad_are_skipped():
    a, b = sg.ones(2, requires_grad=True), sg.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = sg.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(2))
    assert b not in opt.state and a in opt.state
    assert opt.state[a]["step"] == 1


# --- groups ---------------------------------------------------------------------------------------


def test_param_groups_and_add_param_group():
    a, b, c = (sg.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": c, "momentum": 0.0})
    assert opt.param_groups[2]["params"][0] is c
    assert (opt.param_groups[2]["lr"], opt.param_groups[2]["momentum"]) == (0.1, 0.0)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda p: optim.SGD(p[0]), TypeError, "got a single tensor"),
        (lambda p: optim.SGD([]), ValueError, "empty parameter list"),
        (lambda p: optim.SGD([p[0], p[0]]), ValueError, "more than once"),
        (lambda p: optim.SGD([1.0]), TypeError, r"params\[0\] is a float"),
        (lambda p: optim.SGD(set(p)), TypeError, "not a set"),
        (lambda p: optim.SGD([p[0] * 2]), ValueError, r"can't optimize a non-leaf tensor"),
        (lambda p: optim.SGD(p, lr=-1.0), ValueError, "SGD: invalid lr -1.0"),
        (lambda p: optim.SGD(p, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), ValueError, "invalid beta1 1.0"),
        (lambda p: optim.AdamW(p, eps=-1e-8), ValueError, "AdamW: invalid eps"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), ValueError, "RMSprop: invalid alpha"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), ValueError, "Adagrad: invalid lr_decay"),
    ],
)
def test_bad_arguments_are_reported(make, error, message):
    params = [sg.ones(2, requires_grad=True), sg.ones(3, requires_grad=True)]
    with pytest.raises(error, match=message):
        make(params)


# --- state dicts --------------------------------------------------------------------------------


def _split_tensors(state_dict):
    """JSON for everything but tensors, which are kept aside (as a checkpoint does)."""
    tensors = {}

    def strip(value, key):
        if isinstance(value, sg.Tensor):
            tensors[key] = value.numpy().copy()
            return {"tensor": key}
        if isinstance(value, dict):
            return {k: strip(v, f"{key}.{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [strip(v, f"{key}.{i}") for i, v in enumerate(value)]
        return value

    return json.dumps(strip(state_dict, "")), tensors


def _join_tensors(text, tensors):
    def fill(value):
        if isinstance(value, dict):
            if set(value) == {"tensor"}:
                return sg.from_numpy(tensors[value["tensor"]].copy())
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(json.loads(text))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_resume_is_bit_identical(name):
    cls, _, kwargs = CONFIGS[name]

    def drive(params, opt, steps):
        for _ in range(steps):
            for i, p in enumerate(params):
                p.grad = sg.tensor(gradient(p.detach().numpy(), i), dtype=sg.float64)
            opt.step()

    params = make_params()
    opt = cls(groups_for(params, kwargs["lr"]), **kwargs)
    drive(params, opt, 12)
    uninterrupted = [p.detach().numpy().copy() for p in params]

    params = make_params()
    opt = cls(groups_for(params, kwargs["lr"]), **kwargs)
    drive(params, opt, 6)
    text, tensors = _split_tensors(opt.state_dict())
    values = [p.detach().numpy().copy() for p in params]

    params = [sg.tensor(v, dtype=sg.float64, requires_grad=True) for v in values]
    fresh = cls(groups_for(params, 123.0), **{**kwargs, "lr": 123.0})
    fresh.load_state_dict(_join_tensors(text, tensors))
    assert [g["lr"] for g in fresh.param_groups] == [g["lr"] for g in opt.param_groups]
    drive(params, fresh, 6)
    for a, b in zip(params, uninterrupted, strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b)


def test_state_dict_layout():
    a, b = sg.ones(2, requires_grad=True), sg.ones(3, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = sg.ones(2), sg.ones(3)
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert set(state["state"]) == {0, 1}
    assert state["state"][1]["step"] == 1
    assert state["state"][1]["exp_avg"].shape == (3,)
    assert "params" not in json.dumps(state["param_groups"][0]["betas"])


def test_load_state_dict_casts_and_checks_sizes():
    w = sg.ones(2, dtype=sg.float32, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    saved = {
        "state": {"0": {"momentum_buffer": sg.tensor([1.0, 2.0], dtype=sg.float64)}},
        "param_groups": [
            {
                "lr": 0.2,
                "momentum": 0.9,
                "dampening": 0.0,
                "weight_decay": 0.0,
                "nesterov": False,
                "maximize": False,
                "params": [0],
            }
        ],
    }
    opt.load_state_dict(saved)
    assert opt.state[w]["momentum_buffer"].dtype == sg.float32
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[0]["params"][0] is w
    with pytest.raises(ValueError, match="2 parameter groups, the optimizer has 1"):
        opt.load_state_dict({"state": {}, "param_groups": saved["param_groups"] * 2})
    with pytest.raises(ValueError, match="group 0 has 1 parameters, the saved group has 2"):
        opt.load_state_dict({"state": {}, "param_groups": [{**saved["param_groups"][0], "params": [0, 1]}]})


def test_load_state_dict_keeps_options_the_saved_state_lacks():
    w = sg.ones(2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1, amsgrad=True)
    state = opt.state_dict()
    del state["param_groups"][0]["amsgrad"], state["param_groups"][0]["maximize"]
    state["param_groups"][0]["lr"] = 0.5
    opt.load_state_dict(state)
    group = opt.param_groups[0]
    assert (group["lr"], group["amsgrad"], group["maximize"]) == (0.5, True, False)


def test_adam_betas_come_back_as_a_tuple_from_json():
    w = sg.ones(2, requires_grad=True)
    opt = optim.Adam([w], betas=(0.5, 0.6))
    state = json.loads(json.dumps(opt.state_dict()))
    opt.load_state_dict(state)
    assert opt.param_groups[0]["betas"] == (0.5, 0.6)


def test_one_cycle_drives_adam_beta1():
    w = sg.ones(2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    for _ in range(3):
        w.grad = sg.ones(2)
        opt.step()
        sched.step()
    beta1 = opt.param_groups[0]["betas"][0]
    assert 0.85 <= beta1 < 0.95 and math.isfinite(opt.param_groups[0]["lr"])
