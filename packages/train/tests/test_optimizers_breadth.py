"""Adadelta, Adamax, NAdam, RAdam, LBFGS and swa_utils: trajectories against float64 references
written from the published update rules, against PyTorch (parity), their state-dict layout, and
their use on real nn models."""

from __future__ import annotations

import math

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn, optim
from somegrad.optim import swa_utils

SHAPES = [(3, 4), (5,)]


def gradient(x: np.ndarray, i: int) -> np.ndarray:
    """d/dx of sum(h * (x - c)**2 / 2 + 0.3 * cos(x)): a different curvature per entry."""
    rng = np.random.default_rng(100 + i)
    h = rng.uniform(0.5, 3.0, size=x.shape)
    c = rng.normal(size=x.shape)
    return h * (x - c) - 0.3 * np.sin(x)


def initial_values() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.normal(size=shape) for shape in SHAPES]


def groups_for(params, lr):
    return [{"params": [params[0]]}, {"params": [params[1]], "lr": lr * 0.5}]


def run(lib, cls_name, kwargs, steps=20):
    make = (
        (lambda x: lib.tensor(x, requires_grad=True))
        if lib is not sg
        else (lambda x: sg.tensor(x, dtype=sg.float64, requires_grad=True))
    )
    params = [make(x) for x in initial_values()]
    opt = getattr(lib.optim, cls_name)(groups_for(params, kwargs["lr"]), **kwargs)
    for _ in range(steps):
        for i, p in enumerate(params):
            p.grad = lib.tensor(gradient(p.detach().numpy(), i))
            if lib is sg:
                p.grad = p.grad.to(sg.float64)
        opt.step()
    return [p.detach().numpy() for p in params], opt


# --- references in float64 NumPy, one per rule -----------------------------------------------------
def ref_adadelta(x, g, state, lr, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    g = (-g if maximize else g) + weight_decay * x
    v = state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(state.get("u", 0.0) + eps) / np.sqrt(v + eps) * g
    state["u"] = rho * state.get("u", 0.0) + (1 - rho) * delta * delta
    return x - lr * delta


def ref_adamax(x, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    b1, b2 = betas
    g = (-g if maximize else g) + weight_decay * x
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    u = state["u"] = np.maximum(b2 * state.get("u", 0.0), np.abs(g) + eps)
    return x - lr / (1 - b1**t) * m / u


def _decayed(x, g, lr, weight_decay, decoupled):
    if decoupled:
        return x * (1 - lr * weight_decay), g
    return x, g + weight_decay * x


def ref_nadam(
    x, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
    decoupled_weight_decay=False, maximize=False,
):  # fmt: skip
    b1, b2 = betas
    x, g = _decayed(x, -g if maximize else g, lr, weight_decay, decoupled_weight_decay)
    t = state["t"] = state.get("t", 0) + 1
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    # the product is kept in float32 (a 0-d tensor of the scalar dtype), as PyTorch keeps it
    prod = state["prod"] = float(np.float32(state.get("prod", 1.0)) * np.float32(mu))
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    d = np.sqrt(v / (1 - b2**t)) + eps
    return x - lr * (1 - mu) / (1 - prod) * g / d - lr * mu_next / (1 - prod * mu_next) * m / d


def ref_radam(x, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
              maximize=False):  # fmt: skip
    b1, b2 = betas
    x, g = _decayed(x, -g if maximize else g, lr, weight_decay, decoupled_weight_decay)
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
    m_hat = m / (1 - b1**t)
    if rho_t > 5:
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return x - lr * m_hat * r * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
    return x - lr * m_hat


CONFIGS = {
    "Adadelta": (ref_adadelta, dict(lr=1.0)),
    "Adadelta-rho-wd-maximize": (ref_adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
    "Adamax": (ref_adamax, dict(lr=0.05)),
    "Adamax-betas-wd": (ref_adamax, dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, eps=1e-3)),
    "NAdam": (ref_nadam, dict(lr=0.05)),
    "NAdam-wd-momentum-decay": (ref_nadam, dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    "NAdam-decoupled-maximize": (
        ref_nadam,
        dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    ),  # fmt: skip
    "RAdam": (ref_radam, dict(lr=0.05)),
    "RAdam-fast-beta2": (ref_radam, dict(lr=0.05, betas=(0.9, 0.5))),  # rho_t > 5 from the first steps
    "RAdam-decoupled-wd": (ref_radam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
}


def reference(rule, kwargs, steps=20):
    xs = initial_values()
    states = [{} for _ in xs]
    lrs = [kwargs["lr"], kwargs["lr"] * 0.5]
    options = {k: v for k, v in kwargs.items() if k != "lr"}
    for _ in range(steps):
        xs = [rule(x, gradient(x, i), states[i], lrs[i], **options) for i, x in enumerate(xs)]
    return xs


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_matches_update_rule(name):
    rule, kwargs = CONFIGS[name]
    ours, _ = run(sg, name.split("-")[0], kwargs)
    for a, e in zip(ours, reference(rule, kwargs), strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-11, atol=1e-13)
    assert not np.allclose(ours[0], initial_values()[0])


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_and_state_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    _, kwargs = CONFIGS[name]
    cls_name = name.split("-")[0]
    ours, opt = run(sg, cls_name, kwargs)
    theirs, torch_opt = run(torch, cls_name, kwargs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    mine, torch_state = opt.state_dict(), torch_opt.state_dict()
    assert set(mine["state"]) == set(torch_state["state"])
    for index, state in torch_state["state"].items():
        assert set(mine["state"][index]) == set(state)
        for key, value in state.items():
            np.testing.assert_allclose(np.asarray(mine["state"][index][key]), np.asarray(value), rtol=1e-10)
    for group, torch_group in zip(mine["param_groups"], torch_state["param_groups"], strict=True):
        for key in set(group) & set(torch_group) - {"params"}:
            assert group[key] == torch_group[key], key


@pytest.mark.parity
def test_defaults_are_pytorchs():
    torch = pytest.importorskip("torch")
    for name in ("Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"):
        mine = getattr(optim, name)([sg.zeros(2, requires_grad=True)]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
        for key in set(mine) & set(theirs):
            assert mine[key] == theirs[key], (name, key)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: optim.Adadelta(p, rho=1.5), "rho"),
        (lambda p: optim.Adamax(p, betas=(0.9,)), "betas"),
        (lambda p: optim.NAdam(p, lr=-1), "lr"),
        (lambda p: optim.RAdam(p, eps=-1), "eps"),
        (lambda p: optim.LBFGS(p, line_search_fn="armijo"), "strong_wolfe"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        make([sg.zeros(2, requires_grad=True)])


def test_the_new_optimizers_train_an_nn_model():
    sg.manual_seed(0)
    x = sg.randn(64, 4)
    y = (x @ sg.tensor([[1.0], [-2.0], [0.5], [3.0]])).tanh()
    for cls, kwargs in [(optim.Adadelta, {}), (optim.Adamax, {"lr": 0.02}), (optim.NAdam, {"lr": 0.02}),
                        (optim.RAdam, {"lr": 0.02})]:  # fmt: skip
        sg.manual_seed(1)
        model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
        opt = cls(model.parameters(), **kwargs)
        first = None
        for _ in range(60):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            first = first if first is not None else loss.item()
        assert loss.item() < 0.5 * first, cls.__name__
        assert all(isinstance(p, nn.Parameter) for p in model.parameters())


# --- LBFGS -------------------------------------------------------------------------------------------
def rosenbrock(lib, xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def lbfgs_run(lib, steps, **kwargs):
    if lib is sg:
        xy = sg.tensor([-1.5, 2.0], dtype=sg.float64, requires_grad=True)
    else:
        xy = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([xy], **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        loss = rosenbrock(lib, xy)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    return xy.detach().numpy(), losses, opt


def test_lbfgs_with_strong_wolfe_finds_the_rosenbrock_minimum():
    xy, losses, opt = lbfgs_run(sg, 5, line_search_fn="strong_wolfe")
    np.testing.assert_allclose(xy, [1.0, 1.0], atol=1e-4)
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert state["n_iter"] > 10 and state["func_evals"] >= state["n_iter"]


def test_lbfgs_needs_a_closure_and_one_group():
    p = sg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [p]}, {"params": [sg.zeros(1, requires_grad=True)]}])


def test_lbfgs_fits_a_linear_model_on_parameters():
    sg.manual_seed(0)
    model = nn.Linear(3, 1)
    x = sg.randn(32, 3)
    y = x @ sg.tensor([[1.0], [2.0], [-1.0]]) + 0.5
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(model.weight.detach().numpy(), [[1.0, 2.0, -1.0]], atol=1e-3)
    np.testing.assert_allclose(model.bias.detach().numpy(), [0.5], atol=1e-3)


@pytest.mark.parity
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"line_search_fn": "strong_wolfe"},
        {"history_size": 3, "max_iter": 7},
        {"lr": 0.5, "line_search_fn": "strong_wolfe", "tolerance_change": 1e-5},
    ],
)
def test_lbfgs_trajectory_is_pytorchs(kwargs):
    torch = pytest.importorskip("torch")
    ours, our_losses, opt = lbfgs_run(sg, 3, **kwargs)
    theirs, their_losses, torch_opt = lbfgs_run(torch, 3, **kwargs)
    # Rosenbrock's valley amplifies the last-bit differences of dot products (BLAS's against NumPy's
    # summation) over the 60 iterations: an error in the algorithm differs in the first digits
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5, atol=1e-9)
    mine = opt.state[opt.param_groups[0]["params"][0]]
    their_state = torch_opt.state[torch_opt.param_groups[0]["params"][0]]
    assert mine["func_evals"] == their_state["func_evals"] and mine["n_iter"] == their_state["n_iter"]


# --- swa_utils ------------------------------------------------------------------------------------------
def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def test_averaged_model_is_the_running_mean_and_ema():
    model = _model(sg)
    swa = swa_utils.AveragedModel(model)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9))
    history = []
    for k in range(4):
        with sg.no_grad():
            for p in model.parameters():
                p.add_(0.1 * (k + 1))
        history.append([p.detach().numpy().copy() for p in model.parameters()])
        swa.update_parameters(model)
        ema.update_parameters(model)
    assert int(swa.n_averaged.item()) == 4
    for i, p in enumerate(swa.module.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), np.mean([h[i] for h in history], axis=0), rtol=1e-6)
    for i, p in enumerate(ema.module.parameters()):
        expected = history[0][i]
        for h in history[1:]:
            expected = 0.9 * expected + 0.1 * h[i]
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-5)
    assert list(swa.state_dict())[0] == "n_averaged"
    assert all(k == "n_averaged" or k.startswith("module.") for k in swa.state_dict())


def test_update_bn_recomputes_the_statistics():
    model = _model(sg)
    swa = swa_utils.AveragedModel(model)
    swa.update_parameters(model)
    data = [sg.randn(8, 3) * 2 + 1 for _ in range(3)]
    swa_utils.update_bn([(x, 0) for x in data], swa)
    bn = swa.module[1]
    h = [swa.module[0](x) for x in data]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.detach().mean(0).numpy() for x in h], 0), rtol=1e-5)
    assert bn.momentum == 0.1 and swa.training


@pytest.mark.parity
@pytest.mark.parametrize("kwargs", [{}, {"use_buffers": True}, {"avg_fn": "ema"}])
def test_averaged_model_and_update_bn_are_pytorchs(kwargs):
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (torch, sg):
        model = _model(lib)
        if lib is sg:
            model.load_state_dict({k: sg.tensor(v.numpy()) for k, v in results[torch][2].items()})
        options = dict(kwargs)
        if options.get("avg_fn") == "ema":
            options["avg_fn"] = (torch.optim.swa_utils if lib is torch else swa_utils).get_ema_avg_fn(0.8)
        averaged = (torch.optim.swa_utils if lib is torch else swa_utils).AveragedModel(model, **options)
        state0 = {k: v.clone() for k, v in model.state_dict().items()}
        lib.manual_seed(1)
        rng = np.random.default_rng(0)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            x = lib.tensor(rng.normal(size=(8, 3)), dtype=lib.float32)
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
            averaged.update_parameters(model)
        data = [lib.tensor(rng.normal(size=(8, 3)), dtype=lib.float32) for _ in range(2)]
        (torch.optim.swa_utils if lib is torch else swa_utils).update_bn(data, averaged)
        results[lib] = ({k: v.detach().numpy() for k, v in averaged.state_dict().items()}, None, state0)
    ours, theirs = results[sg][0], results[torch][0]
    assert list(ours) == list(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parity
@pytest.mark.parametrize("options", [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.01], anneal_epochs=3,
                                     anneal_strategy="linear"), dict(swa_lr=0.2, anneal_epochs=0)])  # fmt: skip
def test_swalr_learning_rates_are_pytorchs(options):
    torch = pytest.importorskip("torch")
    rates = {}
    for lib, sched_module in ((torch, torch.optim.swa_utils), (sg, swa_utils)):
        groups = [{"params": [lib.zeros(2, requires_grad=True)]}, {"params": [lib.zeros(2, requires_grad=True)],
                                                                    "lr": 0.5}]  # fmt: skip
        opt = lib.optim.SGD(groups, lr=1.0)
        sched = sched_module.SWALR(opt, **options)
        seen = []
        for _ in range(12):
            opt.step()
            sched.step()
            seen.append([g["lr"] for g in opt.param_groups])
        rates[lib] = seen
    np.testing.assert_allclose(rates[sg], rates[torch], rtol=1e-12)


def test_swalr_refuses_bad_options():
    opt = optim.SGD([sg.zeros(2, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs"):
        swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_state_dict_resume_is_bit_identical(name):
    kwargs = CONFIGS[name][1]
    straight, _ = run(sg, name, kwargs, steps=20)
    params = [sg.tensor(x, dtype=sg.float64, requires_grad=True) for x in initial_values()]
    opt = getattr(optim, name)(groups_for(params, kwargs["lr"]), **kwargs)

    def steps(opt, params, n):
        for _ in range(n):
            for i, p in enumerate(params):
                p.grad = sg.tensor(gradient(p.detach().numpy(), i), dtype=sg.float64)
            opt.step()

    steps(opt, params, 10)
    saved = opt.state_dict()
    resumed = getattr(optim, name)(groups_for(params, kwargs["lr"]), **kwargs)
    resumed.load_state_dict(saved)
    steps(resumed, params, 10)
    for a, b in zip(params, straight, strict=True):
        if name == "NAdam":
            # mu_product is a float32 0-d tensor that loading casts to the parameter's dtype, as
            # PyTorch's load_state_dict does: the resumed product is no longer rounded to float32
            np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-8)
        else:
            np.testing.assert_array_equal(a.detach().numpy(), b)
