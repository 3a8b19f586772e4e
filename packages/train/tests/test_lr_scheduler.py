"""Learning-rate schedulers: sequences against closed-form references written from the formulas
(float64, no torch needed), against PyTorch's own schedulers (parity), and state-dict resumes."""

from __future__ import annotations

import json
import math
import warnings

import pytest

from somegrad.optim import lr_scheduler as sched


class FakeOptimizer:
    """What a scheduler needs from an optimizer: ``param_groups`` and ``defaults``."""

    def __init__(self, lrs=(0.1,), momentum=None, betas=None):
        self.defaults = {"lr": lrs[0]}
        self.param_groups = []
        for lr in lrs:
            group = {"params": [], "lr": lr}
            if momentum is not None:
                group["momentum"] = momentum
                self.defaults["momentum"] = momentum
            if betas is not None:
                group["betas"] = betas
                self.defaults["betas"] = betas
            self.param_groups.append(group)


def run(scheduler, optimizer, steps):
    """The learning rates of every group used at epochs 0 .. steps-1."""
    lrs = []
    for _ in range(steps):
        lrs.append([group["lr"] for group in optimizer.param_groups])
        scheduler.step()
    return lrs


def assert_close_sequences(actual, expected, rel=1e-12, abs_=1e-15):
    assert len(actual) == len(expected)
    for epoch, (a_row, e_row) in enumerate(zip(actual, expected, strict=True)):
        for a, e in zip(a_row, e_row, strict=True):
            assert a == pytest.approx(e, rel=rel, abs=abs_), f"epoch {epoch}: {a} != {e}"


# --- closed-form references, written from the published formulas --------------------------------

BASES = (0.1, 0.03)


def reference(formula, steps, bases=BASES):
    return [[formula(base, t) for base in bases] for t in range(steps)]


CASES = {
    "StepLR": (
        lambda opt: sched.StepLR(opt, step_size=3, gamma=0.5),
        lambda base, t: base * 0.5 ** (t // 3),
    ),
    "MultiStepLR": (
        lambda opt: sched.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.1),
        lambda base, t: base * 0.1 ** sum(m <= t for m in [2, 5, 5, 9]),
    ),
    "ExponentialLR": (
        lambda opt: sched.ExponentialLR(opt, gamma=0.9),
        lambda base, t: base * 0.9**t,
    ),
    "ConstantLR": (
        lambda opt: sched.ConstantLR(opt, factor=0.25, total_iters=4),
        lambda base, t: base * (0.25 if t < 4 else 1.0),
    ),
    "LinearLR": (
        lambda opt: sched.LinearLR(opt, start_factor=0.2, end_factor=0.9, total_iters=6),
        lambda base, t: base * (0.2 + 0.7 * min(t, 6) / 6),
    ),
    "PolynomialLR": (
        lambda opt: sched.PolynomialLR(opt, total_iters=8, power=2.0),
        lambda base, t: base * (1 - min(t, 8) / 8) ** 2,
    ),
    "CosineAnnealingLR": (
        lambda opt: sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
        # The chainable rule keeps following the cosine past T_max (up again, then down).
        lambda base, t: 0.001 + (base - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2,
    ),
    "CosineAnnealingWarmRestarts": (
        lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.0),
        # Periods 3, 6, 12: restarts at epochs 3 and 9.
        lambda base, t: (
            base * (1 + math.cos(math.pi * _restart_position(t, 3, 2)[0] / _restart_position(t, 3, 2)[1])) / 2
        ),
    ),
    "LambdaLR": (
        lambda opt: sched.LambdaLR(opt, lr_lambda=lambda epoch: 1.0 / (epoch + 1)),
        lambda base, t: base / (t + 1),
    ),
    "MultiplicativeLR": (
        lambda opt: sched.MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.8),
        lambda base, t: base * 0.8**t,
    ),
    "WarmupCosineLR": (
        lambda opt: sched.WarmupCosineLR(opt, warmup_steps=4, total_steps=12, eta_min=0.002),
        lambda base, t: (
            base * t / 4 if t < 4 else 0.002 + (base - 0.002) * (1 + math.cos(math.pi * min(t - 4, 8) / 8)) / 2
        ),
    ),
}


def _restart_position(t, period, mult):
    """(position inside the current period, period length) for SGDR."""
    while t >= period:
        t -= period
        period *= mult
    return t, period


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequence_matches_formula(name):
    make, formula = CASES[name]
    opt = FakeOptimizer(lrs=BASES)
    scheduler = make(opt)
    assert_close_sequences(run(scheduler, opt, 30), reference(formula, 30), rel=1e-11)


@pytest.mark.parametrize("name", sorted(CASES))
def test_get_last_lr_is_the_lr_in_the_groups(name):
    opt = FakeOptimizer(lrs=BASES)
    scheduler = CASES[name][0](opt)
    for _ in range(7):
        assert scheduler.get_last_lr() == [group["lr"] for group in opt.param_groups]
        scheduler.step()


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR"])
def test_step_with_epoch_uses_the_closed_form(name):
    make, formula = CASES[name]
    opt = FakeOptimizer(lrs=BASES)
    scheduler = make(opt)
    for epoch in (7, 2, 4):  # jumps, also backwards
        scheduler.step(epoch)
        assert scheduler.get_last_lr() == pytest.approx([formula(b, epoch) for b in BASES])


def test_warm_restarts_fractional_epochs():
    opt = FakeOptimizer()
    scheduler = sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    for epoch, (position, period) in [(0.5, (0.5, 2)), (2.5, (0.5, 4)), (7.0, (1.0, 8))]:
        scheduler.step(epoch)
        expected = 0.1 * (1 + math.cos(math.pi * position / period)) / 2
        assert scheduler.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="non-negative epoch"):
        scheduler.step(-1)


def test_sequential_warmup_then_cosine():
    opt = FakeOptimizer(lrs=BASES)
    warmup = sched.LinearLR(opt, start_factor=0.1, total_iters=4)
    decay = sched.CosineAnnealingLR(opt, T_max=10)
    scheduler = sched.SequentialLR(opt, [warmup, decay], milestones=[4])

    def formula(base, t):
        if t < 4:
            return base * (0.1 + 0.9 * t / 4)
        return base * (1 + math.cos(math.pi * (t - 4) / 10)) / 2

    assert_close_sequences(run(scheduler, opt, 14), reference(formula, 14), rel=1e-11)


def test_warmup_cosine_equals_sequential_linear_then_cosine():
    opt_a, opt_b = FakeOptimizer(lrs=BASES), FakeOptimizer(lrs=BASES)
    a = sched.WarmupCosineLR(opt_a, warmup_steps=5, total_steps=20, eta_min=1e-4, warmup_start_factor=0.2)
    b = sched.SequentialLR(
        opt_b,
        [
            sched.LinearLR(opt_b, start_factor=0.2, total_iters=5),
            sched.CosineAnnealingLR(opt_b, T_max=15, eta_min=1e-4),
        ],
        milestones=[5],
    )
    assert_close_sequences(run(a, opt_a, 21), run(b, opt_b, 21), rel=1e-10)
    # Past total_steps the warmup-cosine schedule stays at eta_min.
    for _ in range(5):
        a.step()
        assert a.get_last_lr() == [1e-4, 1e-4]


def test_chained_scheduler_multiplies_factors():
    opt = FakeOptimizer(lrs=BASES)
    scheduler = sched.ChainedScheduler([sched.ExponentialLR(opt, gamma=0.9), sched.StepLR(opt, step_size=3, gamma=0.5)])
    expected = reference(lambda base, t: base * 0.9**t * 0.5 ** (t // 3), 12)
    assert_close_sequences(run(scheduler, opt, 12), expected)


def _one_cycle_reference(t, total, max_lr, pct=0.3, div=25.0, final_div=1e4):
    warm_end = pct * total - 1
    initial, minimum = max_lr / div, max_lr / div / final_div

    def cos_anneal(start, end, p):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * p))

    if t <= warm_end:
        lr = cos_anneal(initial, max_lr, t / warm_end)
        momentum = cos_anneal(0.95, 0.85, t / warm_end)
    else:
        p = (t - warm_end) / (total - 1 - warm_end)
        lr = cos_anneal(max_lr, minimum, p)
        momentum = cos_anneal(0.85, 0.95, p)
    return lr, momentum


def test_one_cycle_lr_and_momentum():
    opt = FakeOptimizer(lrs=(0.5,), momentum=0.9)
    scheduler = sched.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    for t in range(20):
        lr, momentum = _one_cycle_reference(t, 20, 1.0)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-12)
        if t < 19:
            scheduler.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 25 / 1e4)
    scheduler.step()  # step 20 == total_steps is allowed, 21 is not
    with pytest.raises(ValueError, match="total_steps is 20"):
        scheduler.step()


def test_one_cycle_cycles_adam_beta1_and_checks_momentum():
    opt = FakeOptimizer(betas=(0.9, 0.999))
    sched.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="cycle_momentum"):
        sched.OneCycleLR(FakeOptimizer(), max_lr=0.1, total_steps=10)
    sched.OneCycleLR(FakeOptimizer(), max_lr=0.1, total_steps=10, cycle_momentum=False)
    with pytest.raises(ValueError, match="total_steps or both epochs"):
        sched.OneCycleLR(FakeOptimizer(), max_lr=0.1, cycle_momentum=False)


def test_reduce_on_plateau_patience_threshold_cooldown():
    opt = FakeOptimizer(lrs=(1.0, 0.5))
    scheduler = sched.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=[0.0, 0.2])
    # 1.0 improves; 0.9999 is within the relative threshold 1e-4 of 1.0, so it does not.
    losses = [1.0, 0.9999, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    expected_first_group = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    seen = []
    for loss in losses:
        scheduler.step(loss)
        seen.append(scheduler.get_last_lr())
    assert [lrs[0] for lrs in seen] == expected_first_group
    assert [lrs[1] for lrs in seen][-1] == 0.2  # clamped at its min_lr
    assert scheduler.best == 0.5


def test_reduce_on_plateau_max_mode_abs_threshold():
    opt = FakeOptimizer(lrs=(1.0,))
    scheduler = sched.ReduceLROnPlateau(opt, mode="max", threshold=0.1, threshold_mode="abs", patience=0, factor=0.1)
    scheduler.step(0.5)  # improves on -inf
    scheduler.step(0.55)  # not by more than 0.1: reduce (patience 0)
    assert scheduler.get_last_lr() == [pytest.approx(0.1)]
    scheduler.step(0.7)  # improves
    assert scheduler.get_last_lr() == [pytest.approx(0.1)]


# --- state dicts ---------------------------------------------------------------------------------

RESUMABLE = dict(CASES)
RESUMABLE["SequentialLR"] = (
    lambda opt: sched.SequentialLR(
        opt,
        [sched.ConstantLR(opt, factor=0.5, total_iters=2), sched.ExponentialLR(opt, gamma=0.8)],
        milestones=[3],
    ),
    None,
)
RESUMABLE["OneCycleLR"] = (lambda opt: sched.OneCycleLR(opt, max_lr=0.4, total_steps=40), None)


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_state_dict_round_trips_through_json(name):
    """Stop after 9 steps, save the scheduler's and the groups' state as JSON, resume in fresh
    objects: the rest of the sequence is identical to an uninterrupted run."""
    make = RESUMABLE[name][0]
    opt = FakeOptimizer(lrs=BASES, momentum=0.9)
    scheduler = make(opt)
    uninterrupted = run(scheduler, opt, 25)

    opt = FakeOptimizer(lrs=BASES, momentum=0.9)
    scheduler = make(opt)
    first = run(scheduler, opt, 9)
    saved = json.dumps({"scheduler": scheduler.state_dict(), "groups": opt.param_groups})

    opt = FakeOptimizer(lrs=BASES, momentum=0.9)
    resumed = make(opt)
    loaded = json.loads(saved)
    for group, saved_group in zip(opt.param_groups, loaded["groups"], strict=True):
        group.update(saved_group)
    resumed.load_state_dict(loaded["scheduler"])
    assert first + run(resumed, opt, 16) == uninterrupted


def test_reduce_on_plateau_state_dict_round_trips():
    opt = FakeOptimizer()
    scheduler = sched.ReduceLROnPlateau(opt, patience=1)
    for loss in [3.0, 2.0, 2.5]:
        scheduler.step(loss)
    state = json.loads(json.dumps(scheduler.state_dict()))
    other = sched.ReduceLROnPlateau(FakeOptimizer(), patience=1)
    assert other.best == math.inf
    other.load_state_dict(state)
    assert (other.best, other.num_bad_epochs, other.last_epoch) == (2.0, 1, 3)


def test_lambda_lr_state_saves_callable_objects_not_functions():
    class Warmup:
        def __init__(self):
            self.steps = 10

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    opt = FakeOptimizer(lrs=(0.1, 0.2))
    scheduler = sched.LambdaLR(opt, [Warmup(), lambda epoch: 1.0])
    scheduler.lr_lambdas[0].steps = 4
    state = json.loads(json.dumps(scheduler.state_dict()))
    assert state["lr_lambdas"] == [{"steps": 4}, None]
    other = sched.LambdaLR(FakeOptimizer(lrs=(0.1, 0.2)), [Warmup(), lambda epoch: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].steps == 4


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(FakeOptimizer(), step_size=2, last_epoch=4)
    opt = FakeOptimizer()
    opt.param_groups[0]["initial_lr"] = 1.0
    scheduler = sched.ExponentialLR(opt, gamma=0.5, last_epoch=4)
    assert scheduler.base_lrs == [1.0]
    assert scheduler.last_epoch == 5


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda opt: sched.StepLR(opt, step_size=0), "step_size must be a positive integer, got 0"),
        (lambda opt: sched.LinearLR(opt, start_factor=0.0), "start_factor must be in"),
        (lambda opt: sched.CosineAnnealingLR(opt, T_max=0), "T_max must be positive"),
        (lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=0), "positive integer T_0"),
        (lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), "T_mult >= 1"),
        (lambda opt: sched.ReduceLROnPlateau(opt, factor=1.0), "factor must be < 1.0"),
        (lambda opt: sched.ReduceLROnPlateau(opt, mode="up"), "mode must be 'min' or 'max'"),
        (lambda opt: sched.WarmupCosineLR(opt, 10, 5), "greater than warmup_steps"),
        (lambda opt: sched.LambdaLR(opt, [lambda e: 1.0] * 2), "2 values, expected one per"),
        (lambda opt: sched.SequentialLR(opt, [], milestones=[]), "at least one scheduler"),
        (
            lambda opt: sched.SequentialLR(opt, [sched.StepLR(opt, 2)], milestones=[3]),
            "expected 0 milestones for 1 schedulers, got 1",
        ),
        (
            lambda opt: sched.SequentialLR(opt, [sched.StepLR(FakeOptimizer(), 2)], []),
            "different optimizer",
        ),
    ],
)
def test_bad_arguments_are_reported(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(FakeOptimizer())


def test_needs_param_groups():
    with pytest.raises(TypeError, match="StepLR: expected an optimizer with a `param_groups`"):
        sched.StepLR(object(), step_size=2)


# --- parity with PyTorch -------------------------------------------------------------------------

PARITY = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=4, gamma=0.3),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.5),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.3, total_iters=6),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.05, end_factor=0.7, total_iters=13),
    "LinearLR-defaults": lambda m, o: m.LinearLR(o),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=17, power=1.7),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=9, eta_min=0.002),
    "CosineAnnealingLR-long": lambda m, o: m.CosineAnnealingLR(o, T_max=4),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3, eta_min=1e-3),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95**e + 0.01 * (e % 3)),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=40),
    "OneCycleLR-three-phase-linear": lambda m, o: m.OneCycleLR(
        o,
        max_lr=0.3,
        epochs=4,
        steps_per_epoch=10,
        pct_start=0.25,
        anneal_strategy="linear",
        three_phase=True,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o,
        [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=30)],
        milestones=[5],
    ),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o,
        [
            m.ConstantLR(o, factor=0.5, total_iters=3),
            m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=2, gamma=0.5),
        ],
        milestones=[4, 12],
    ),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, gamma=0.9), m.LinearLR(o, start_factor=0.3, total_iters=5)]
    ),
}


def _torch_optimizer(torch, lrs):
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(PARITY))
def test_sequence_is_pytorchs(name):
    torch = pytest.importorskip("torch")
    steps = 40
    opt = FakeOptimizer(lrs=(0.1, 0.04), momentum=0.9)
    ours = run(PARITY[name](sched, opt), opt, steps)
    ours_momentum = [group["momentum"] for group in opt.param_groups]

    torch_opt = _torch_optimizer(torch, (0.1, 0.04))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_sched = PARITY[name](torch.optim.lr_scheduler, torch_opt)
        theirs = []
        for _ in range(steps):
            theirs.append([group["lr"] for group in torch_opt.param_groups])
            torch_opt.step()
            torch_sched.step()
    assert ours == theirs  # the same floats, not just close ones
    assert ours_momentum == [group["momentum"] for group in torch_opt.param_groups]


@pytest.mark.parity
def test_reduce_on_plateau_is_pytorchs():
    torch = pytest.importorskip("torch")
    metrics = [5, 4, 4.1, 4.0, 4.2, 3.9996, 4, 4, 3, 3, 3, 3, 3, 3, 2.5, 2.6, 2.7, 2.8, 2.9] * 2

    def drive(module, opt):
        scheduler = module.ReduceLROnPlateau(opt, factor=0.3, patience=1, cooldown=2, min_lr=1e-3)
        out = []
        for value in metrics:
            scheduler.step(value)
            out.append(list(scheduler.get_last_lr()))
        return out

    ours = drive(sched, FakeOptimizer(lrs=(0.1, 0.04)))
    theirs = drive(torch.optim.lr_scheduler, _torch_optimizer(torch, (0.1, 0.04)))
    assert ours == theirs


@pytest.mark.parity
def test_warmup_cosine_is_the_transformers_schedule():
    """``transformers.get_cosine_schedule_with_warmup`` is a LambdaLR with this lambda."""
    torch = pytest.importorskip("torch")
    warmup, total = 6, 30

    def lr_lambda(step):
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))

    torch_opt = _torch_optimizer(torch, (0.1, 0.04))
    torch_sched = torch.optim.lr_scheduler.LambdaLR(torch_opt, lr_lambda)
    opt = FakeOptimizer(lrs=(0.1, 0.04))
    ours = run(sched.WarmupCosineLR(opt, warmup_steps=warmup, total_steps=total), opt, total + 1)
    theirs = []
    for _ in range(total + 1):
        theirs.append([group["lr"] for group in torch_opt.param_groups])
        torch_opt.step()
        torch_sched.step()
    assert_close_sequences(ours, theirs, rel=1e-12)
