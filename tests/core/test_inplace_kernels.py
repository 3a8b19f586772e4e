"""In-place ops through the backends' in-place kernels agree with the out-of-place ops,
for every dtype, broadcast operands, scalars and views; and fall back where they must."""

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
def _adam_lists(dtype=sg.float32, shapes=((3, 4), (5,))):
    rng = np.random.default_rng(1)
    params = [sg.tensor(rng.normal(size=s), dtype=dtype) for s in shapes]
    grads = [sg.tensor(rng.normal(size=s), dtype=dtype) for s in shapes]
    avgs = [sg.zeros(*s, dtype=dtype) for s in shapes]
    sqs = [sg.zeros(*s, dtype=dtype) for s in shapes]
    return params, grads, avgs, sqs


ADAM = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=True)


def _foreach_adam(params, grads, avgs, sqs):
    steps = [1] * len(params)
    return sg.ops.foreach_kernel(
        params, "foreach_adam_step_", (grads, avgs, sqs), dict(ADAM, steps=steps), written=(avgs, sqs)
    )


def test_foreach_kernel_updates_every_tensor_and_bumps_the_written_versions():
    params, grads, avgs, sqs = _adam_lists()
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
    with pytest.raises(ValueError, match="foreach_adam_step_: 2 targets but an operand list of 1"):
        _foreach_adam(params, grads[:1], avgs, sqs)
    avgs[1] = sg.zeros(1).expand(5)  # several elements, one memory location
    with pytest.raises(RuntimeError, match="foreach_adam_step_: cannot write into one of these 2 tensors"):
        _foreach_adam(params, grads, avgs, sqs)
