"""Every refusal: what cannot be replayed raises CaptureError naming the op and the reason,
after the call ran eagerly once; allow_fallback=True runs eagerly instead."""

from __future__ import annotations

import re

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.compile import CaptureError
from somegrad.compile.capture import Recorder
from somegrad.optim.lr_scheduler import StepLR


def calls(fn, *args, n=4):
    return [fn(*args) for _ in range(n)]


@pytest.mark.parametrize(
    ("read", "named"),
    [
        (lambda t: t.sum().item(), "Tensor.item()"),
        (lambda t: bool(t.sum() > 0), "bool(tensor)"),
        (lambda t: t.numpy(), "Tensor.numpy()"),
        (lambda t: repr(t), "printing a tensor"),
        (lambda t: t.tolist(), "Tensor.tolist()"),
        (lambda t: float(t.sum()), "float(tensor)"),
    ],
)
def test_host_reads_are_refused_naming_the_read(read, named):
    def step(x):
        y = x * 2
        read(y)
        return y

    fn = sg.compile(step)
    x = sg.ones(3)
    fn(x)  # eager
    with pytest.raises(CaptureError, match=re.escape(named) + ".*host read") as info:
        fn(x)
    assert "ran eagerly" in str(info.value)
    assert any(r.op == named for r in fn.refusals)


def test_host_read_with_fallback_runs_eagerly_and_stays_right():
    seen = []

    def step(x):
        y = x + 1
        seen.append(y.sum().item())
        return y

    fn = sg.compile(step, allow_fallback=True)
    for i in range(5):
        out = fn(sg.full((2,), float(i)))
        assert np.array_equal(out.numpy(), np.full(2, i + 1.0, dtype=np.float32))
    assert seen == [2.0 * (i + 1) for i in range(5)]
    assert "host read" in fn.fallback_reason


def test_data_dependent_shape_is_refused():
    fn = sg.compile(lambda x: (x > 0).nonzero())
    x = sg.tensor([1.0, -1.0, 2.0])
    fn(x)
    with pytest.raises(CaptureError, match="nonzero.*data-dependent shape"):
        fn(x)


def test_python_value_that_changes_between_calls_is_refused():
    state = {"scale": 1.0}

    def step(x):
        state["scale"] += 1.0
        return x * state["scale"]

    fn = sg.compile(step)
    x = sg.ones(2)
    fn(x)
    fn(x)
    # the number reaches the kernels as a new constant tensor, or as a cached one: either way refused
    with pytest.raises(
        CaptureError,
        match="(Python value that changes between calls|values that change per call|a different one at each call)",
    ):
        fn(x)


def test_control_flow_on_changing_python_values_is_refused():
    state = {"n": 0}

    def step(x):
        state["n"] += 1
        return x + 1 if state["n"] % 2 else (x + 1) * 3

    fn = sg.compile(step)
    x = sg.ones(2)
    fn(x)
    fn(x)
    with pytest.raises(CaptureError, match="ran different kernels"):
        fn(x)


def test_host_data_that_changes_is_refused():
    source = np.zeros(3, dtype=np.float32)

    def step(x):
        source[:] += 1
        return x + sg.tensor(source)

    fn = sg.compile(step)
    x = sg.ones(3)
    fn(x)
    fn(x)
    with pytest.raises(CaptureError, match="from_numpy: the host data copied into a tensor inside the step changes"):
        fn(x)


def model_and_step(optimizer, scheduler_inside=False):
    sg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = optimizer(model.parameters())
    sched = StepLR(opt, step_size=2) if scheduler_inside else None

    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    return step


def test_non_capturable_adam_is_refused():
    fn = sg.compile(model_and_step(lambda p: sg.optim.Adam(p, lr=0.1)))
    x = sg.randn(4, 3)
    fn(x)
    with pytest.raises(CaptureError, match="Adam.step: param_groups\\[0\\] is not capturable.*capturable=True"):
        fn(x)


def test_scheduler_step_inside_is_refused():
    fn = sg.compile(model_and_step(lambda p: sg.optim.SGD(p, lr=0.1), scheduler_inside=True))
    x = sg.randn(4, 3)
    fn(x)
    with pytest.raises(CaptureError, match="StepLR.step: the learning rate is computed in Python"):
        fn(x)


def test_scheduler_outside_changes_the_replayed_learning_rate():
    sg.manual_seed(0)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    results = []
    for model, compiled in ((a, False), (b, True)):
        opt = sg.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        sched = StepLR(opt, step_size=3, gamma=0.1)  # changes long after the recording

        def step(x, model=model, opt=opt):
            opt.zero_grad()
            loss = model(x).square().mean()
            loss.backward()
            opt.step()
            return loss

        fn = sg.compile(step) if compiled else step
        sg.manual_seed(1)
        losses = []
        for _ in range(10):
            losses.append(fn(sg.randn(4, 3)).item())
            sched.step()
        results.append((losses, model.weight.numpy(force=True).copy()))
    assert results[0][0] == results[1][0]
    assert np.array_equal(results[0][1], results[1][1])


def test_output_with_a_live_graph_is_refused():
    w = sg.randn(3, requires_grad=True)
    fn = sg.compile(lambda x: (x * w).tanh())
    x = sg.ones(3)
    fn(x)
    with pytest.raises(CaptureError, match="output: a returned tensor still carries a graph"):
        fn(x)


def test_too_many_signatures():
    fn = sg.compile(lambda x: x + 1, cache_size=2)
    fn(sg.ones(1))
    fn(sg.ones(2))
    with pytest.raises(CaptureError, match="more than cache_size=2"):
        fn(sg.ones(3))
    fallback = sg.compile(lambda x: x + 1, cache_size=1, allow_fallback=True)
    fallback(sg.ones(1))
    assert np.array_equal(fallback(sg.ones(2)).numpy(), [2.0, 2.0])


def test_a_compiled_function_called_inside_another_is_part_of_its_recording():
    inner = sg.compile(lambda x: x * 2)

    def outer(x):
        return inner(x) + 1

    fn = sg.compile(outer)
    for i in range(5):
        x = sg.full((2,), float(i))
        assert np.array_equal(fn(x).numpy(), np.full(2, 2.0 * i + 1, dtype=np.float32))
    assert all(sig.calls == 1 for sig in inner.signatures.values())  # only outer's eager call reached it
    program = next(iter(fn.signatures.values())).program
    assert [e.name for e in program.entries].count("mul") == 1
    with pytest.raises(RuntimeError, match="while another one was being recorded"):
        with Recorder([]), Recorder([]):
            pass


def test_invisible_kernel_arguments_and_tensor_arguments_are_refused():
    recorder = Recorder([])
    recorder.kernel("mystery_", (), lambda: None)
    assert any("cannot be seen" in r.reason for r in recorder.refusals)
    recorder._map(sg.ones(1))
    assert any("a Tensor object passed to a kernel" in r.reason for r in recorder.refusals)


def test_validation_reads_are_allowed_and_listed():
    emb = nn.Embedding(5, 2)
    fn = sg.compile(lambda i: emb(i).detach())
    i = sg.tensor([0, 4, 2])
    for _ in range(4):
        assert np.array_equal(fn(i).numpy(), emb(i).detach().numpy())
    text = fn.explain(file=open("/dev/null", "w"))  # noqa: SIM115
    assert "embedding's index bounds check" in text


def test_guards_grad_mode_and_requires_grad():
    w = sg.randn(3)
    fn = sg.compile(lambda x: (x * w).sum().detach())
    x = sg.ones(3)
    calls(fn, x)
    with sg.no_grad():
        calls(fn, x)
    calls(fn, sg.ones(3, requires_grad=True))
    calls(fn, sg.ones(3, dtype=sg.float64))
    assert len(fn.signatures) == 4


def test_default_dtype_and_active_modes_are_guards():
    fn = sg.compile(lambda x: x + sg.ones(2))
    x = sg.ones(2, dtype=sg.float64)
    calls(fn, x)
    previous = sg.get_default_dtype()
    sg.set_default_dtype(sg.float64)
    try:
        assert fn(x).dtype is sg.float64
    finally:
        sg.set_default_dtype(previous)
    assert len(fn.signatures) == 2
    from somegrad import profiler

    with profiler.profile():
        fn(x)
    assert len(fn.signatures) == 3


def test_array_entering_from_outside_the_ops_is_refused():
    from somegrad.tensor import Tensor

    def step(x):
        # an array made without any op or backend call: the recording cannot know where it came from
        outside = Tensor._make(np.full(3, 2.0, dtype=np.float32), sg.float32, x.device)
        return x * outside

    fn = sg.compile(step)
    x = sg.ones(3)
    fn(x)
    fn(x)
    with pytest.raises(CaptureError, match="mul: an array it reads entered the step from outside the ops"):
        fn(x)


def test_per_tensor_optimizer_path_is_refused():
    # float16 parameters take the per-tensor path of foreach_sgd_step_ (the numpy kernel declines them)
    p = nn.Parameter(sg.ones(4, dtype=sg.float16))
    opt = sg.optim.SGD([p], lr=0.1)

    def step(x):
        opt.zero_grad()
        (p * x).sum().backward()
        opt.step()
        return p.detach() * 1

    fn = sg.compile(step)
    x = sg.ones(4, dtype=sg.float16)
    fn(x)
    with pytest.raises(CaptureError, match="foreach_sgd_step_: these parameters take the per-tensor path"):
        fn(x)


def test_a_parameter_given_a_new_array_records_again():
    sg.manual_seed(0)
    model = nn.Linear(3, 2)
    fn = sg.compile(lambda x: model(x).detach())
    x = sg.randn(4, 3)
    calls(fn, x)
    model.weight.data = sg.zeros(2, 3)  # a new array, not written in place
    assert np.array_equal(fn(x).numpy(), np.broadcast_to(model.bias.detach().numpy(), (4, 2)))
    for _ in range(4):
        assert np.array_equal(fn(x).numpy(), model(x).detach().numpy())
    assert next(iter(fn.signatures.values())).program is not None


def test_gradients_cleared_outside_the_step_record_again():
    sg.manual_seed(0)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())

    def make(model):
        def step(x):  # accumulates into .grad; zero_grad is called outside, now and then
            model(x).square().sum().backward()
            return model.weight.grad.detach() * 1

        return step

    eager, compiled = make(a), sg.compile(make(b))
    for i in range(12):
        x = sg.randn(4, 3)
        assert np.array_equal(compiled(x).numpy(), eager(x).numpy()), i
        if i == 5:  # after the program exists: the replay would add into the old .grad arrays
            a.zero_grad()
            b.zero_grad()
    assert next(iter(compiled.signatures.values())).program is not None


def test_gradients_toggling_while_recording_is_refused():
    model = nn.Linear(3, 2)

    def step(x):
        model(x).square().sum().backward()
        return model.bias.grad.detach() * 1

    fn = sg.compile(step)
    x = sg.randn(4, 3)
    fn(x)
    model.zero_grad()
    fn(x)  # recorded with .grad None: a new .grad is made
    with pytest.raises(CaptureError, match="ran different kernels"):
        fn(x)  # recorded with .grad present: accumulated into


def test_clip_grad_norm_replays_like_eager():
    # clip_grad_norm_ scales by a tensor coefficient (PyTorch's formulation), with no host read
    def train(compiled):
        sg.manual_seed(0)
        model = nn.Linear(3, 2)
        opt = sg.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            model(x).square().sum().backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        fn = sg.compile(step) if compiled else step
        for i in range(6):
            fn(sg.full((4, 3), 3.0 + i))  # large gradients: every step clips
        return [p.detach().numpy().copy() for p in model.parameters()]

    for compiled, eager in zip(train(True), train(False)):
        np.testing.assert_array_equal(compiled, eager)
