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


def test_invert_is_logical_for_bool_and_bitwise_for_integers():
    assert (~sg.tensor([True, False])).tolist() == [False, True]
    assert (~sg.tensor([1, -2], dtype=sg.int8)).tolist() == [-2, 1]
    assert (~sg.tensor([0, 255], dtype=sg.uint8)).tolist() == [255, 0]
    with pytest.raises(NotImplementedError, match="bitwise_not: not implemented for float32"):
        ~sg.tensor([1.0, 2.0])


def test_grad_fn_names_follow_pytorch():
    y = sg.tensor([1.0], requires_grad=True).log_softmax(0)
    assert repr(y.grad_fn) == "<LogSoftmaxBackward0>"


def test_cross_entropy_refuses_a_weight_that_wants_a_gradient():
    import somegrad.nn.functional as F

    weight = sg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for 'weight' is not implemented"):
        F.cross_entropy(sg.randn(2, 3), sg.tensor([0, 1]), weight=weight)
    F.cross_entropy(sg.randn(2, 3), sg.tensor([0, 1]), weight=weight.detach())


# --- found by outside test suites (each also checked against PyTorch in test_pytorch_regressions.py)
def test_gradient_of_x_to_the_zero_at_zero_is_zero_like_finite_differences():
    from gradient_checks import check_gradients

    at_zero = np.array([0.0, 2.0, -1.5])
    check_gradients(lambda x: x**0, at_zero)
    check_gradients(lambda x: sg.pow(x, sg.zeros(3, dtype=sg.float64)), at_zero)
    weight = sg.nn.Parameter(sg.zeros(2, 3, dtype=sg.float64))
    (weight**0).sum().backward()
    assert weight.grad.tolist() == [[0.0] * 3] * 2
    # the second derivative too
    x = sg.tensor(at_zero, requires_grad=True)
    (g,) = sg.autograd.grad((x**0).sum(), x, create_graph=True)
    assert g.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", [sg.int32, sg.int64, sg.uint8, sg.int8])
def test_max_pool2d_keeps_integer_dtypes(dtype):
    import somegrad.nn.functional as F

    values = np.arange(-12, 13).reshape(1, 1, 5, 5) % 37
    x = sg.tensor(values, dtype=dtype)
    for padding in (0, 1):
        out = F.max_pool2d(x, 2, padding=padding)
        expected = F.max_pool2d(sg.tensor(values, dtype=sg.float64), 2, padding=padding)
        assert out.dtype is dtype
        assert out.tolist() == expected.to(dtype).tolist()
    pool = sg.nn.MaxPool2d(2)
    assert pool(x).dtype is dtype
    with pytest.raises(NotImplementedError, match="max_pool2d: not implemented for bool"):
        F.max_pool2d(x.bool(), 2)


def test_linspace_refuses_bool_and_bounds_that_do_not_fit():
    with pytest.raises(NotImplementedError, match="linspace: not implemented for bool"):
        sg.linspace(0, 1, 3, dtype=sg.bool)
    with pytest.raises(RuntimeError, match="linspace: value 300 cannot be converted to type uint8 without overflow"):
        sg.linspace(0, 300, 4, dtype=sg.uint8)
    assert sg.linspace(-1, 1, 5, dtype=sg.int8).tolist() == [-1, 0, 0, 0, 1]


def _fill(dtype, value):
    return sg.zeros(3, dtype=dtype).fill_(value)


def _setitem(dtype, value):
    x = sg.zeros(3, dtype=dtype)
    x[0] = value
    return x


_WRITES = {
    "fill_": _fill,
    "setitem": _setitem,
    "full": lambda dtype, value: sg.full((2,), value, dtype=dtype),
    "full_like": lambda dtype, value: sg.full_like(sg.zeros(2, dtype=dtype), value),
    "tensor": lambda dtype, value: sg.tensor([value, 1], dtype=dtype),
    "masked_fill": lambda dtype, value: sg.zeros(2, dtype=dtype).masked_fill(sg.tensor([True, False]), value),
}


@pytest.mark.parametrize("write", list(_WRITES))
@pytest.mark.parametrize(
    "dtype, value",
    [
        (sg.int32, math.nan),
        (sg.int64, math.inf),
        (sg.int8, -math.inf),
        (sg.int32, 1e10),
        (sg.int32, 2**31),
        (sg.uint8, 300),
        (sg.uint8, -256),
        (sg.uint8, -2.5),
        (sg.int8, 128),
        (sg.int16, math.nan),
        (sg.float32, 1e40),
    ],
)
def test_numbers_that_do_not_fit_an_integer_dtype_raise(write, dtype, value):
    if write == "tensor" and dtype.is_floating_point:
        assert _WRITES[write](dtype, value).tolist() == [math.inf, 1.0]  # tensor() rounds floats as a cast
        return
    with pytest.raises(RuntimeError, match=f"value .* cannot be converted to type {dtype.name} without overflow"):
        _WRITES[write](dtype, value)


@pytest.mark.parametrize("write", list(_WRITES))
def test_numbers_that_fit_or_wrap_are_written_as_pytorch_writes_them(write):
    assert _WRITES[write](sg.uint8, -1).tolist()[0] == 255  # negative ints wrap into uint8
    assert _WRITES[write](sg.int8, 2.7).tolist()[0] == 2
    assert _WRITES[write](sg.int32, -(2**31)).tolist()[0] == -(2**31)


def test_python_ints_past_int64_are_refused_by_tensor():
    with pytest.raises(ValueError, match="too large for int64"):
        sg.tensor([2**63, 1])
    assert sg.tensor([2**63], dtype=sg.float32).tolist() == [2.0**63]


def test_float16_times_a_large_python_number_is_computed_in_float32():
    x = sg.tensor([-0.0, 0.0, 1.5, 1000.0], dtype=sg.float16)
    for scalar in (2**31, 70000, 1e5, 1e-8):
        expected = (x.numpy().astype(np.float32) * np.float32(scalar)).astype(np.float16)
        np.testing.assert_array_equal((x * scalar).numpy(), expected)
        assert (x * scalar).dtype is sg.float16
    assert (x * 2**31).tolist()[:2] == [0.0, 0.0]  # not 0 * inf = NaN
    assert (x / 1e5).tolist()[2] == float(np.float16(np.float32(1.5) / np.float32(1e5)))
    y = sg.tensor([0.0, 1.0], dtype=sg.bfloat16)
    assert (y * 2**31).tolist() == [0.0, 2.0**31]
    # gradients flow through the float32 computation
    w = sg.tensor([1.0, 2.0], dtype=sg.float16, requires_grad=True)
    (w * 1e-8).sum().backward()
    assert w.grad.dtype is sg.float16 and w.grad.tolist() == [float(np.float16(1e-8))] * 2


def test_float32_to_a_tiny_python_exponent_keeps_it():
    assert (sg.tensor([0.0, 2.0]) ** 1e-50).tolist() == [0.0, 1.0]
    assert (sg.tensor([False, True]) ** 1e-50).tolist() == [0.0, 1.0]
    assert (sg.tensor([0.5, 2.0]) ** 1e40).tolist() == [0.0, math.inf]
    x = sg.tensor([0.5, 2.0], requires_grad=True)
    (x**1e-50).sum().backward()
    assert x.grad.dtype is sg.float32 and x.grad.tolist() == [2e-50 * 0, 0.0]


def test_tensors_combine_with_numpy_arrays_and_scalars():
    x = sg.tensor([1.0, 2.0])
    out = x + np.array([1.0, 2.5])
    assert out.dtype is sg.float64 and out.tolist() == [2.0, 4.5]
    assert (x + np.array([1, 2])).dtype is sg.float32  # PyTorch's promotion between tensors
    assert (x + np.array(1.0)).dtype is sg.float64  # a 0-d array counts as a tensor with dims
    assert (x == np.array([1.0, 3.0])).tolist() == [True, False]
    assert (np.array([1.0, 2.0]) + x).tolist() == [2.0, 4.0]
    ints = sg.tensor([1, 2], dtype=sg.int8)
    assert (ints * np.int64(3)).dtype is sg.int8
    assert (ints * np.float32(1.5)).dtype is sg.float32 and (ints * np.float32(1.5)).tolist() == [1.5, 3.0]
    assert (sg.tensor([1.0], dtype=sg.float16) * np.float64(3)).dtype is sg.float16
    assert (np.float32(3) * ints).tolist() == [3.0, 6.0]
    assert (ints < np.float32(1.5)).tolist() == [True, False]
    assert x.clamp(max=np.float32(1.5)).tolist() == [1.0, 1.5]
    assert (x ** np.float32(2)).tolist() == [1.0, 4.0]
    assert ints.masked_fill(sg.tensor([True, False]), np.int64(7)).tolist() == [7, 2]


def test_square_and_clamp_of_bool_give_int64():
    mask = sg.tensor([True, False])
    assert mask.square().dtype is sg.int64 and mask.square().tolist() == [1, 0]
    assert sg.tensor([3], dtype=sg.int8).square().dtype is sg.int8
    assert mask.clamp(min=0).dtype is sg.int64
    assert mask.clamp(min=0.5).tolist() == [1.0, 0.5]
    assert sg.tensor([1, 7], dtype=sg.int8).clamp(min=0.5).dtype is sg.float32
    assert sg.tensor([3, 1, 2], dtype=sg.uint8).clamp(-1, 2).tolist() == [2, 2, 2]  # -1 is 255 in uint8
    with pytest.raises(RuntimeError, match="clamp: value 1000 cannot be converted to type int8"):
        sg.tensor([1], dtype=sg.int8).clamp(max=1000)
    with pytest.raises(NotImplementedError, match="clamp: not implemented for bool"):
        mask.clamp(max=True)


def test_all_and_any_of_uint8_give_uint8():
    x = sg.tensor([[6, 0], [1, 1]], dtype=sg.uint8)
    assert x.all().dtype is sg.uint8 and x.all().item() == 0
    assert x.any(1, keepdim=True).dtype is sg.uint8 and x.any(1, keepdim=True).tolist() == [[1], [1]]
    assert sg.tensor([1, 0], dtype=sg.int32).any().dtype is sg.bool


def test_softmax_of_integers_needs_a_dtype():
    empty = sg.zeros(0, dtype=sg.int64)
    assert sg.softmax(empty, 0).dtype is sg.int64 and sg.softmax(empty, 0).shape == (0,)
    with pytest.raises(NotImplementedError, match="softmax: not implemented for int64"):
        sg.softmax(sg.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError, match="log_softmax: not implemented for int64"):
        sg.tensor([1, 2]).log_softmax(0)
    assert sg.softmax(sg.tensor([1, 2]), 0, dtype=sg.float64).dtype is sg.float64


def test_logsumexp_of_an_empty_dim_list():
    x = sg.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=sg.float64)
    with pytest.raises(RuntimeError, match=r"logsumexp: dim=\(\) without keepdim=True"):
        x.logsumexp(())
    out = x.logsumexp([], keepdim=True)
    assert out.shape == (1, 1) and out.item() == pytest.approx(math.log(sum(math.exp(v) for v in (1, 2, 3, 5))))
    assert x.sum(()).item() == 11.0  # sum still reduces everything
    assert x.prod(()).item() == 30.0 and x.prod([], keepdim=True).shape == (1, 1)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_and_min_along_a_non_empty_dim_of_an_empty_tensor(op):
    values, indices = getattr(sg.zeros(0, 3), op)(dim=1)
    assert values.shape == indices.shape == (0,) and indices.dtype is sg.int64
    values, indices = getattr(sg, op)(sg.zeros(0, 3), dim=1, keepdim=True)
    assert values.shape == (0, 1)
    with pytest.raises(IndexError, match=f"{op}: expected reduction dim 0 to have non-zero size"):
        getattr(sg.zeros(0, 3), op)(dim=0)
    with pytest.raises(RuntimeError, match=f"{op}: expected reduction dim to be specified"):
        getattr(sg.zeros(0, 3), op)()


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_along_a_non_empty_dim_of_an_empty_tensor(op):
    assert getattr(sg.zeros(0, 3), op)(1).shape == (0,)
    assert getattr(sg.zeros(3, 0, 2), op)(2, keepdim=True).shape == (3, 0, 1)
    with pytest.raises(IndexError, match=f"{op}: expected a non-empty reduction over dim 0"):
        getattr(sg.zeros(0, 3), op)(0)


def test_topk_of_a_zero_dim_tensor():
    values, indices = sg.topk(sg.tensor(1.5), 1)
    assert values.shape == indices.shape == () and values.item() == 1.5 and indices.item() == 0
    with pytest.raises(RuntimeError, match=r"topk: k \(2\) is out of range for dimension 0 of size 1"):
        sg.topk(sg.tensor(1.5), 2)


def test_alpha_is_applied_in_the_promoted_dtype():
    a, b = sg.tensor([1.0], dtype=sg.float64), sg.tensor([2**31 - 1], dtype=sg.int32)
    assert a.sub(b, alpha=3).tolist() == [1.0 - 3 * (2**31 - 1)]
    assert sg.tensor([-1], dtype=sg.int32).add(sg.tensor([255], dtype=sg.uint8), alpha=2).tolist() == [509]
    assert sg.tensor(-5, dtype=sg.int8).add(sg.tensor([True, False]), alpha=2).dtype is sg.int8
    assert sg.tensor([True, False]).add(sg.tensor([True, True]), alpha=2).tolist() == [True, True]
    with pytest.raises(RuntimeError, match="add: for integral input tensors, argument alpha must not be a floating"):
        sg.tensor([1]).add(1, alpha=2.5)


def test_pow_of_bools_stays_bool():
    assert sg.pow(sg.tensor([True, False]), False).tolist() == [True, True]
    assert sg.pow(sg.tensor([True, False]), True).tolist() == [True, False]
    assert sg.pow(sg.tensor([True, False]), False).dtype is sg.bool


def test_where_refuses_a_number_that_does_not_fit():
    with pytest.raises(RuntimeError, match="where: value 1000 cannot be converted to type int8"):
        sg.where(sg.tensor([True]), sg.tensor([1], dtype=sg.int8), 1000)
    half = sg.where(sg.tensor([False]), sg.tensor([1.0], dtype=sg.float16), 1e5)
    assert half.tolist() == [math.inf]  # as PyTorch: float16 takes it as inf


@pytest.mark.parametrize(
    "call, old_class",
    [
        (lambda: sg.ones(2, 3) @ sg.ones(2, 3), ValueError),
        (lambda: sg.ones(2, 3) + sg.ones(2, 4), ValueError),
        (lambda: sg.ones(4).reshape(-1, -1, 2), ValueError),
        (lambda: sg.ones(2, 3).permute(0, 0), ValueError),
        (lambda: sg.ones(2, 3).flip((0, 0)), ValueError),
        (lambda: sg.nn.functional.conv2d(sg.ones(1, 1, 2, 2), sg.ones(1, 1, 3, 3)), ValueError),
        (lambda: sg.div(sg.ones(2), 2, rounding_mode="x"), ValueError),
        (lambda: sg.ones(2, dtype=sg.int32).mean(), TypeError),
        (lambda: sg.ones(2, 2, dtype=sg.bool) @ sg.ones(2, 2, dtype=sg.bool), TypeError),
        (lambda: sg.nn.functional.max_pool2d(sg.ones(1, 1, 2, 2), 3), ValueError),
        (lambda: sg.gather(sg.zeros(3), 0, sg.tensor([5])), IndexError),
    ],
)
def test_mistakes_raise_runtime_errors_that_are_also_the_old_class(call, old_class):
    from somegrad import errors

    with pytest.raises(RuntimeError) as raised:
        call()
    assert isinstance(raised.value, old_class)
    assert type(raised.value).__module__ == errors.__name__


def test_shift_operators_on_integers_and_floats():
    x = sg.tensor([-5, 3, 100], dtype=sg.int8)
    assert (x << 1).tolist() == [-10, 6, -56]  # wraps in int8
    assert (x >> 1).tolist() == [-3, 1, 50]  # rounds toward negative infinity
    assert (x << 8).tolist() == [0, 0, 0] and (x >> 70).tolist() == [-1, 0, 0]
    assert (sg.tensor([1, 2]) << sg.tensor([1, 3])).tolist() == [2, 16]
    assert (2 << sg.tensor([1, 3])).tolist() == [4, 16]
    assert sg.tensor([200], dtype=sg.uint8).bitwise_right_shift(7).tolist() == [1]
    assert (x >> -1).tolist() == [-1, 0, 0]
    with pytest.raises(NotImplementedError, match="bitwise_left_shift: not implemented for float32"):
        sg.tensor([1.5]) << 1


def test_sign_of_nan_large_odd_exponents_and_division_of_empty_tensors():
    assert sg.tensor([math.nan, -1.0, 0.0, 2.0]).sign().tolist() == [0.0, -1.0, 0.0, 1.0]
    assert (sg.tensor([-math.inf, 2.0]) ** (2**31 - 1)).tolist() == [-math.inf, math.inf]
    assert sg.floor_divide(sg.zeros(0, dtype=sg.uint8), sg.tensor(0, dtype=sg.uint8)).shape == (0,)
    with pytest.raises(RuntimeError, match="integer division by zero"):
        sg.floor_divide(sg.ones(2, dtype=sg.uint8), 0)


def test_matmul_takes_a_numpy_array_on_either_side():
    a = sg.tensor([[1.0, 2.0]], requires_grad=True)
    out = a @ np.array([[3.0], [4.0]], dtype=np.float32)
    assert out.tolist() == [[11.0]] and out.dtype is sg.float32
    out.sum().backward()
    assert a.grad.tolist() == [[3.0, 4.0]]
    assert (np.array([[1.0, 2.0]], dtype=np.float32) @ sg.tensor([[3.0], [4.0]])).tolist() == [[11.0]]
    with pytest.raises(TypeError, match="matmul: expected Tensors"):
        sg.ones(2) @ "x"


def test_backward_from_the_same_output_twice_counts_both():
    # a root listed twice was counted twice as an edge into its producer, which then never ran
    x = sg.ones(2, requires_grad=True)
    y = x * 3 + 0  # a root whose producer's input is itself produced by an op
    sg.autograd.backward([y, y], [sg.ones(2), sg.ones(2)], retain_graph=True)
    assert x.grad.tolist() == [6.0, 6.0]
    (g,) = sg.autograd.grad([y, y], [x], [sg.ones(2), sg.full((2,), 2.0)])
    assert g.tolist() == [9.0, 9.0]
