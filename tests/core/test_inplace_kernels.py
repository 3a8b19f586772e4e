"""In-place ops through the backends' in-place kernels agree with the out-of-place ops,
for every dtype, broadcast operands, scalars and views; and fall back where they must."""

import re

import numpy as np
import pytest

import somegrad as sg

CASES = {
    "add_": (lambda x, a, b: x.add_(a, alpha=2), lambda x, a, b: x + 2 * a),
    "sub_": (lambda x, a, b: x.sub_(a), lambda x, a, b: x - a),
    "mul_": (lambda x, a, b: x.mul_(a), lambda x, a, b: x * a),
    "div_": (lambda x, a, b: x.div_(b), lambda x, a, b: x / b),
    "addcmul_": (lambda x, a, b: x.addcmul_(a, b, value=0.5), lambda x, a, b: x + 0.5 * a * b),
    "addcdiv_": (lambda x, a, b: x.addcdiv_(a, b, value=-3), lambda x, a, b: x - 3 * a / b),
    "lerp_": (lambda x, a, b: x.lerp_(a, 0.25), lambda x, a, b: x + 0.25 * (a - x)),
}


@pytest.mark.parametrize("dtype", [sg.float32, sg.float64, sg.float16, sg.bfloat16])
@pytest.mark.parametrize("name", sorted(CASES))
def test_inplace_matches_out_of_place(name, dtype):
    inplace, reference = CASES[name]
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(3, 4))
    a0 = rng.normal(size=(4,))  # broadcasts over x's rows
    b0 = rng.uniform(1, 2, size=(3, 1))
    x, a, b = (sg.tensor(v, dtype=dtype) for v in (x0, a0, b0))
    expected = reference(x0, a0, b0)
    result = inplace(x, a, b)
    assert result is x and x.dtype is dtype
    tolerance = 2e-2 if dtype in (sg.float16, sg.bfloat16) else 1e-6
    np.testing.assert_allclose(x.float().numpy(), expected, rtol=tolerance, atol=tolerance)
    assert x._version == 1


def test_inplace_on_a_view_writes_through_and_bumps_the_shared_version():
    base = sg.zeros(2, 3)
    row = base[1]
    row.add_(sg.ones(3), alpha=4)
    assert base.tolist() == [[0, 0, 0], [4, 4, 4]]
    assert base._version == row._version == 1


def test_integer_targets_take_integers_and_refuse_floats():
    x = sg.tensor([1, 2, 3])
    x.mul_(3)
    x += 1
    assert x.tolist() == [4, 7, 10]
    with pytest.raises(TypeError, match="add_: result type float32 can't be cast to the desired output type int64"):
        x.add_(0.5)


def test_operand_that_would_grow_the_target_is_an_error():
    x = sg.zeros(3)
    with pytest.raises(RuntimeError, match=r"output with shape \(3,\) doesn't match the broadcast shape \(2, 3\)"):
        x.add_(sg.ones(2, 3))


def test_recorded_inplace_falls_back_and_differentiates():
    w = sg.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1.0
    y.mul_(w)  # y = w * w, recorded
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_optimizer_style_update_under_no_grad_changes_the_parameter_in_place():
    p = sg.ones(4, requires_grad=True)
    storage = p.numpy(force=True)
    with sg.no_grad():
        p.addcdiv_(sg.ones(4), sg.full((4,), 2.0), value=-0.5)
    assert np.shares_memory(storage, p.numpy(force=True))
    np.testing.assert_allclose(storage, 0.75)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p.add_(1.0)


# --- multi-tensor kernels ------------------------------------------------------------------------
class Parameter(sg.Tensor):
    """A Tensor subclass, as nn.Parameter is (the core's tests do not import nn)."""

    __slots__ = ()


def _adam_lists(dtype=sg.float32, shapes=((3, 4), (5,)), cls=sg.Tensor):
    rng = np.random.default_rng(1)
    params = [sg.tensor(rng.normal(size=s), dtype=dtype) for s in shapes]
    if cls is not sg.Tensor:
        params = [cls._make(p._data, p.dtype, p.device) for p in params]
    grads = [sg.tensor(rng.normal(size=s), dtype=dtype) for s in shapes]
    avgs = [sg.zeros(*s, dtype=dtype) for s in shapes]
    sqs = [sg.zeros(*s, dtype=dtype) for s in shapes]
    return params, grads, avgs, sqs


ADAM = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=True)


def _foreach_adam(params, grads, avgs, sqs):
    steps = [1] * len(params)
    return sg.ops.foreach_kernel(
        params, "foreach_adam_step_", (grads, avgs, sqs, None), dict(ADAM, steps=steps), written=(avgs, sqs)
    )


@pytest.mark.parametrize("cls", [sg.Tensor, Parameter])
def test_foreach_kernel_updates_every_tensor_and_bumps_the_written_versions(cls):
    params, grads, avgs, sqs = _adam_lists(cls=cls)
    before = [p.numpy().copy() for p in params]
    assert _foreach_adam(params, grads, avgs, sqs)
    for p, g, m, v, p0 in zip(params, grads, avgs, sqs, before):
        # Adam's first step: m = 0.1 g, v = 0.001 g^2, and p moves by lr * sign(g)
        np.testing.assert_allclose(m.numpy(), 0.1 * g.numpy(), rtol=1e-6)
        np.testing.assert_allclose(v.numpy(), 0.001 * g.numpy() ** 2, rtol=1e-5)
        np.testing.assert_allclose(p.numpy(), p0 - 0.1 * np.sign(g.numpy()), rtol=1e-5, atol=1e-6)
        assert p._version == m._version == v._version == 1
        assert g._version == 0  # read, not written


@pytest.mark.parametrize(
    "spoil",
    [
        lambda lists: lists[1].__setitem__(1, lists[1][1].double()),  # a gradient of another dtype
        lambda lists: lists[0].__setitem__(1, lists[0][1].double()),  # a parameter of another dtype
        lambda lists: lists[2].__setitem__(0, sg.zeros(4)),  # a state buffer that only broadcasts
        lambda lists: lists[1].__setitem__(0, 1.0),  # not a tensor
    ],
)
def test_foreach_kernel_leaves_a_group_it_cannot_take_untouched(spoil):
    lists = _adam_lists()
    spoil(lists)
    params, grads, avgs, sqs = lists
    before = [t.numpy().copy() for t in (*params, *avgs, *sqs)]
    assert not _foreach_adam(params, grads, avgs, sqs)
    for t, b in zip((*params, *avgs, *sqs), before):
        np.testing.assert_array_equal(t.numpy(), b)
        assert t._version == 0


def test_foreach_kernel_that_declines_writes_nothing():
    params, grads, avgs, sqs = _adam_lists(dtype=sg.float16)  # the numpy kernel leaves half dtypes to the core
    before = [p.float().numpy().copy() for p in params]
    assert not _foreach_adam(params, grads, avgs, sqs)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.float().numpy(), b)
        assert p._version == 0


def test_foreach_kernel_declines_while_a_graph_is_recorded():
    params, grads, avgs, sqs = _adam_lists()
    params[0].requires_grad_()
    assert not _foreach_adam(params, grads, avgs, sqs)
    with sg.no_grad():
        assert _foreach_adam(params, grads, avgs, sqs)


def test_foreach_kernel_errors_name_the_kernel():
    params, grads, avgs, sqs = _adam_lists()
    with pytest.raises(RuntimeError, match="foreach_adam_step_: tensor lists must have the same number of tensors"):
        _foreach_adam(params, grads[:1], avgs, sqs)
    avgs[1] = sg.zeros(1).expand(5)  # several elements, one memory location
    with pytest.raises(RuntimeError, match="foreach_adam_step_: cannot write into one of these 2 tensors"):
        _foreach_adam(params, grads, avgs, sqs)


# --- the optimizer ops ---------------------------------------------------------------------------
def _adam_op(params, grads, avgs, sqs, maxima=None, steps=None):
    from somegrad.ops.optim import foreach_adam_step_

    foreach_adam_step_(params, grads, avgs, sqs, maxima, steps=steps or [1] * len(params), **ADAM)


def test_adam_op_runs_each_dtype_as_one_kernel_call_and_mixed_rows_per_tensor(monkeypatch):
    from somegrad.ops import dispatch

    backend = sg.backends.get_backend("numpy")
    calls = []
    kernel = backend.kernels["foreach_adam_step_"]
    monkeypatch.setitem(
        backend.kernels,
        "foreach_adam_step_",
        lambda params, *a, **k: calls.append(len(params)) or kernel(params, *a, **k),
    )
    monkeypatch.setattr(dispatch, "_kernels", {})
    lists = _adam_lists(shapes=((3,), (2, 2), (4,), (5,)))
    for i in (1, 3):  # parameters 1 and 3, with all their tensors, in float64
        for tensors in lists:
            tensors[i] = tensors[i].double()
    lists[1][2] = lists[1][2].double()  # parameter 2 is float32, its gradient float64: per tensor
    expected = [_adam_reference(p, g) for p, g in zip(lists[0], lists[1])]
    _adam_op(*lists)
    assert sorted(calls) == [1, 2]  # float32 [0] (2 is mixed), float64 [1, 3]
    for p, e in zip(lists[0], expected):
        np.testing.assert_allclose(p.double().numpy(), e, rtol=1e-5, atol=1e-6)


def _adam_reference(p, g):
    """Adam's first step from zero moments, in float64: p - lr * g / (|g| + eps)."""
    g = g.double().numpy()
    return p.double().numpy() - 0.1 * g / (np.abs(g) + 1e-8)


@pytest.mark.parametrize(
    "spoil, error, match",
    [
        (lambda lists: lists[1].pop(), RuntimeError, "tensor lists must have the same number of tensors, got 2 params"),
        (lambda lists: lists[2].__setitem__(0, sg.zeros(4)), RuntimeError, "exp_avgs[0] has shape (4,)"),
        (lambda lists: lists[1].__setitem__(1, 0.5), TypeError, "grads[1] is a float, expected a Tensor"),
        (
            lambda lists: lists[0].__setitem__(0, sg.zeros(3, 4, dtype=sg.int64)),
            RuntimeError,
            "params[0] has dtype int64",
        ),
    ],
)
def test_adam_op_refuses_lists_that_do_not_fit_before_writing(spoil, error, match):
    lists = _adam_lists()
    spoil(lists)
    before = [t.numpy().copy() for t in lists[0]]
    with pytest.raises(error, match=re.escape(f"foreach_adam_step_: {match}")):
        _adam_op(*lists)
    for t, b in zip(lists[0], before):
        np.testing.assert_array_equal(t.numpy(), b)


def test_dispatch_modes_see_in_place_and_multi_tensor_kernels():
    from somegrad.ops.dispatch import DispatchMode

    class Recorder(DispatchMode):
        def __init__(self):
            self.kernels = []

        def kernel(self, name, tensors, run):
            self.kernels.append((name, len(tensors)))
            return run()

    x = sg.zeros(3)
    lists = _adam_lists()
    with Recorder() as recorder:
        x.add_(1.0)
        _adam_op(*lists)
    assert recorder.kernels == [("add_", 1), ("foreach_adam_step_", 2)]
    assert x.tolist() == [1.0, 1.0, 1.0]
    assert lists[2][0]._version == 1  # the kernel ran
