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
