"""Behaviours that were once wrong, each pinned by the test that would have caught it."""

import math

import numpy as np
import pytest

import somegrad as sg
from somegrad.ops.dispatch import use_decompositions


def test_a_view_taken_before_a_recorded_inplace_op_refuses_to_backpropagate():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    v = y[0]
    y.mul_(3)  # v now holds 6 * x[0], but its graph still says 2 * x[0]
    with pytest.raises(RuntimeError, match="getitem: this view was taken before its base was modified"):
        v.backward()
    y = x * 2
    y.mul_(3)
    y[0].backward()  # a view taken afterwards is fine
    assert x.grad.tolist() == [6.0, 0.0]


def test_views_of_tensors_modified_without_recording_keep_working():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    v = y[1]
    with sg.no_grad():
        y.add_(1.0)
    v.backward()
    assert x.grad.tolist() == [0.0, 2.0]


def test_second_derivative_of_prod_with_two_zeros():
    x = sg.tensor([0.0, 0.0, 3.0], dtype=sg.float64, requires_grad=True)
    (g,) = sg.autograd.grad(x.prod(), x, create_graph=True)
    assert g.tolist() == [0.0, 0.0, 0.0]
    (h,) = sg.autograd.grad(g[0], x)
    assert h.tolist() == [0.0, 3.0, 0.0]


@pytest.mark.parametrize("dtype, tolerance", [(sg.float64, 1e-13), (sg.float32, 3e-7)])
def test_erf_matches_math_erf_everywhere(dtype, tolerance):
    values = np.concatenate([np.linspace(-7, 7, 2001), [0.0, 1e-30, -1e-8, 2.5, -2.5, 40.0, -np.inf, np.inf]])
    result = sg.tensor(values, dtype=dtype).erf().double().numpy()
    expected = np.array([math.erf(v) for v in values])
    np.testing.assert_allclose(result, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [sg.float16, sg.bfloat16])
def test_half_precision_uniform_draws_stay_below_one(dtype):
    sg.manual_seed(0)
    draws = sg.rand(200_000, dtype=dtype).float()
    assert draws.max().item() < 1.0 and draws.min().item() >= 0.0
    assert abs(draws.mean().item() - 0.5) < 0.01


def test_descending_sort_of_bfloat16():
    x = sg.tensor([0.5, 0.25, 0.75, 0.25], dtype=sg.bfloat16)
    assert sg.argsort(x, descending=True).tolist() == [2, 0, 1, 3]


def test_an_empty_dim_list_reduces_everything_like_pytorch():
    x = sg.arange(6.0).reshape(2, 3)
    assert x.sum(()).item() == 15.0
    assert x.mean(dim=[]).item() == 2.5


def test_writing_into_an_expanded_view_is_a_clear_error():
    e = sg.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match=r"add_: cannot write into this tensor of shape \(2, 3\).*expand"):
        e.add_(1.0)


def test_logsumexp_of_an_empty_dim_is_minus_infinity_on_both_paths():
    x = sg.zeros(0, 3, dtype=sg.float64)
    assert sg.logsumexp(x, 0).tolist() == [-math.inf] * 3
    with use_decompositions():
        assert sg.logsumexp(x, 0).tolist() == [-math.inf] * 3


def test_fill_with_a_tensor_value_passes_its_gradient():
    x = sg.zeros(3, requires_grad=True)
    value = sg.tensor(2.0, requires_grad=True)
    y = x * 1
    y.fill_(value)
    y.sum().backward()
    assert y.tolist() == [2.0, 2.0, 2.0] and value.grad.item() == 3.0
    with pytest.raises(RuntimeError, match="fill_: only supports a 0-dimension value tensor"):
        sg.zeros(2).fill_(sg.ones(2))


def test_invert_is_for_bool_tensors_only():
    assert (~sg.tensor([True, False])).tolist() == [False, True]
    with pytest.raises(TypeError, match="bitwise_not: only bool tensors"):
        ~sg.tensor([1, 2])


def test_grad_fn_names_follow_pytorch():
    y = sg.tensor([1.0], requires_grad=True).log_softmax(0)
    assert repr(y.grad_fn) == "<LogSoftmaxBackward0>"


def test_cross_entropy_refuses_a_weight_that_wants_a_gradient():
    import somegrad.nn.functional as F

    weight = sg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for 'weight' is not implemented"):
        F.cross_entropy(sg.randn(2, 3), sg.tensor([0, 1]), weight=weight)
    F.cross_entropy(sg.randn(2, 3), sg.tensor([0, 1]), weight=weight.detach())
