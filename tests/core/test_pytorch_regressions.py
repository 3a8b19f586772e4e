"""Behaviours outside test suites found to differ from PyTorch, each run on somegrad and on PyTorch
side by side: the same lambda, `m` being either module, must give the same values and dtype, or
raise the same class of error on both."""

import math

import numpy as np
import pytest

import somegrad as sg
import somegrad.nn.functional as sgF

torch = pytest.importorskip("torch")
import torch.nn.functional as torchF  # noqa: E402

pytestmark = pytest.mark.parity

F = {sg: sgF, torch: torchF}


def _dtype_name(dtype):
    return str(dtype).rsplit(".", 1)[-1].replace("bool_", "bool")


def _as_numpy(value):
    if isinstance(value, sg.Tensor):
        value = value.detach()
        return (value.float() if value.dtype is sg.bfloat16 else value).numpy(), _dtype_name(value.dtype)
    value = value.detach()
    return (value.float() if value.dtype is torch.bfloat16 else value).numpy(), _dtype_name(value.dtype)


def assert_same(fn, rtol=0.0):
    """Run `fn(m)` on somegrad and PyTorch; the results (a tensor or a tuple of them) must agree
    in dtype, shape and values (NaN where NaN; exactly unless `rtol` is given)."""
    ours, theirs = fn(sg), fn(torch)
    if not isinstance(ours, (tuple, list)):
        ours, theirs = (ours,), (theirs,)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        (a, a_dtype), (b, b_dtype) = _as_numpy(a), _as_numpy(b)
        assert a_dtype == b_dtype, (a_dtype, b_dtype)
        assert a.shape == b.shape
        if rtol:
            np.testing.assert_allclose(a, b, rtol=rtol)
        else:
            np.testing.assert_array_equal(a, b)


def assert_both_raise(fn, match, theirs=RuntimeError, ours=RuntimeError):
    """`fn(m)` raises `theirs` in PyTorch and `ours` (a RuntimeError: its subclass) in somegrad,
    whose message matches `match`."""
    with pytest.raises(theirs):
        fn(torch)
    with pytest.raises(ours, match=match):
        fn(sg)


# --- gradients -------------------------------------------------------------------------------
@pytest.mark.parametrize("exponent", ["scalar", "tensor"])
def test_gradient_of_x_to_the_zero_at_zero(exponent):
    def grad(m):
        x = m.tensor([0.0, 2.0, -1.5], dtype=m.float64, requires_grad=True)
        e = 0 if exponent == "scalar" else m.zeros(3, dtype=m.float64)
        (x**e).sum().backward()
        return x.grad

    assert_same(grad)


def test_gradient_of_x_to_the_zero_in_a_model():
    def grad(m):
        layer = (sg.nn if m is sg else torch.nn).Linear(2, 1).double()
        with m.no_grad():
            layer.weight.zero_()
        (layer.weight**0).sum().backward()
        return layer.weight.grad

    assert_same(grad)


# --- dtypes of results -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8"])
@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool2d_keeps_integer_dtypes(dtype, padding):
    values = np.arange(-10, 15).reshape(1, 1, 5, 5) % 37

    def pool(m):
        return F[m].max_pool2d(m.tensor(values, dtype=getattr(m, dtype)), 2, padding=padding)

    assert_same(pool)


def test_max_pool2d_of_bool_is_not_implemented():
    assert_both_raise(
        lambda m: F[m].max_pool2d(m.ones(1, 1, 2, 2, dtype=m.bool), 2), "not implemented", NotImplementedError
    )


def test_square_and_clamp_of_bool_promote():
    assert_same(lambda m: m.square(m.tensor([True, False])))
    assert_same(lambda m: m.square(m.tensor([3], dtype=m.int8)))
    assert_same(lambda m: m.clamp(m.tensor([True, False]), min=0))
    assert_same(lambda m: m.clamp(m.tensor([True, False]), min=0.5))
    assert_same(lambda m: m.clamp(m.tensor([1, 7], dtype=m.int8), min=0.5))
    assert_same(lambda m: m.tensor([3, 1, 2], dtype=m.uint8).clamp(-1, 2))  # -1 wraps to 255


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32", "bool"])
def test_all_and_any_dtype(op, dtype):
    assert_same(lambda m: getattr(m, op)(m.tensor([[6, 0], [1, 1]], dtype=getattr(m, dtype))))
    assert_same(lambda m: getattr(m.tensor([[6, 0], [1, 1]], dtype=getattr(m, dtype)), op)(1, keepdim=True))


def test_softmax_of_integer_inputs():
    assert_same(lambda m: m.softmax(m.zeros(0, dtype=m.int64), 0))
    assert_same(lambda m: m.softmax(m.tensor([1, 2]), 0, dtype=m.float64), rtol=1e-12)
    assert_both_raise(lambda m: m.softmax(m.tensor([1, 2]), 0), "not implemented", NotImplementedError)
    assert_both_raise(lambda m: m.log_softmax(m.tensor([1, 2]), 0), "not implemented", NotImplementedError)


def test_logsumexp_with_an_empty_dim_list():
    x = [[1.0, 2.0], [3.0, 5.0]]
    assert_both_raise(lambda m: m.logsumexp(m.tensor(x), dim=()), "dim=()")
    close = lambda m: m.logsumexp(m.tensor(x, dtype=m.float64), dim=[], keepdim=True)  # noqa: E731
    np.testing.assert_allclose(close(sg).numpy(), close(torch).numpy(), rtol=1e-12)
    assert tuple(close(sg).shape) == (1, 1)


def test_pow_of_bools_stays_bool():
    assert_same(lambda m: m.pow(m.tensor([True, False]), False))


# --- empty inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_along_a_non_empty_dim_of_an_empty_tensor(op, keepdim):
    assert_same(lambda m: tuple(getattr(m, op)(m.zeros(0, 3), dim=1, keepdim=keepdim)))
    assert_both_raise(lambda m: getattr(m, op)(m.zeros(0, 3), dim=0), "non-zero size", IndexError, IndexError)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_along_a_non_empty_dim_of_an_empty_tensor(op):
    assert_same(lambda m: getattr(m, op)(m.zeros(0, 3), dim=1))
    assert_same(lambda m: getattr(m, op)(m.zeros(3, 0, 2), dim=2, keepdim=True))
    assert_both_raise(lambda m: getattr(m, op)(m.zeros(0, 3), dim=0), "non-empty", IndexError, IndexError)


def test_topk_of_a_zero_dim_tensor():
    assert_same(lambda m: tuple(m.topk(m.tensor(1.5), 1)))
    assert_same(lambda m: tuple(m.topk(m.tensor(1.5), 0)))
    assert_both_raise(lambda m: m.topk(m.tensor(1.5), 2), "topk: k")
    assert_both_raise(lambda m: m.topk(m.tensor([1.5]), 2), "topk: k")


# --- Python numbers that do not fit the dtype ----------------------------------------------------
def _filled(m, dtype, value):
    x = m.zeros(3, dtype=getattr(m, dtype))
    x.fill_(value)
    return x


def _set(m, dtype, value):
    x = m.zeros(3, dtype=getattr(m, dtype))
    x[0] = value
    return x


WRITES = {
    "fill_": _filled,
    "setitem": _set,
    "full": lambda m, dtype, value: m.full((2,), value, dtype=getattr(m, dtype)),
    "tensor": lambda m, dtype, value: m.tensor([value, 1], dtype=getattr(m, dtype)),
    "masked_fill": lambda m, dtype, value: m.zeros(2, dtype=getattr(m, dtype)).masked_fill(
        m.tensor([True, False]), value
    ),
}
OVERFLOWS = [
    ("int32", math.nan),
    ("int32", math.inf),
    ("int64", -math.inf),
    ("int32", 1e10),
    ("int32", 2**31),
    ("int32", 2147483647.5),
    ("uint8", 300),
    ("uint8", -256),
    ("uint8", -1.0),
    ("uint8", 255.5),
    ("int8", 128),
    ("int8", -129),
    ("int8", 127.9),
    ("int16", math.nan),
    ("int64", 2**63),
    ("float32", 1e40),
]
FITS = [("uint8", -1), ("uint8", -255), ("int8", 2.7), ("int32", -(2**31)), ("bool", 5), ("float32", math.inf)]


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("dtype, value", OVERFLOWS, ids=[f"{d}-{v!r}"[:30] for d, v in OVERFLOWS])
def test_numbers_that_do_not_fit_the_dtype_raise(write, dtype, value):
    if write in ("tensor", "setitem") and isinstance(value, int) and not -(2**63) <= value < 2**63:
        # PyTorch raises ValueError ("Overflow when unpacking long long") for Python ints beyond
        # int64 there; somegrad's ValueOverflowError is a ValueError too
        assert_both_raise(lambda m: WRITES[write](m, dtype, value), "int64", ValueError, ValueError)
        return
    if write == "tensor" and dtype.startswith("float"):
        assert_same(lambda m: WRITES[write](m, dtype, value))  # tensor() of Python floats gives inf
        return
    assert_both_raise(lambda m: WRITES[write](m, dtype, value), "cannot be converted to type .* without overflow")


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("dtype, value", FITS, ids=[f"{d}-{v!r}" for d, v in FITS])
def test_numbers_that_fit_or_wrap_are_written(write, dtype, value):
    assert_same(lambda m: WRITES[write](m, dtype, value))


@pytest.mark.parametrize("dtype, value", [("float16", 1e5), ("float16", 70000), ("bfloat16", 1e39)])
def test_half_precision_assignment_overflows_to_infinity_but_fills_refuse(dtype, value):
    assert_same(lambda m: _set(m, dtype, value))
    assert_same(lambda m: m.where(m.tensor([False, True]), m.zeros(2, dtype=getattr(m, dtype)), value))
    assert_both_raise(lambda m: _filled(m, dtype, value), "without overflow")
    assert_both_raise(lambda m: m.full((3,), value, dtype=getattr(m, dtype)), "without overflow")
    assert_both_raise(
        lambda m: m.zeros(2, dtype=getattr(m, dtype)).masked_fill(m.tensor([True, False]), value), "without overflow"
    )


def test_clamp_and_where_bounds_must_fit():
    assert_both_raise(lambda m: m.tensor([1], dtype=m.int8).clamp(max=1000), "without overflow")
    assert_both_raise(lambda m: m.tensor([1.0], dtype=m.float16).clamp(max=70000), "without overflow")
    assert_both_raise(lambda m: m.tensor([1.0]).clamp(max=1e40), "without overflow")
    assert_same(lambda m: m.tensor([1.0]).clamp(max=math.inf))
    assert_both_raise(lambda m: m.where(m.tensor([True]), m.tensor([1], dtype=m.int8), 1000), "without overflow")
    assert_same(lambda m: m.where(m.tensor([True, False]), m.tensor([1.0, 2.0], dtype=m.float16), 1e5))


def test_linspace():
    assert_both_raise(lambda m: m.linspace(0, 1, 3, dtype=m.bool), "not implemented", NotImplementedError)
    assert_both_raise(lambda m: m.linspace(0, 300, 4, dtype=m.uint8), "without overflow")
    assert_both_raise(lambda m: m.linspace(0, 1e5, 3, dtype=m.float16), "without overflow")
    assert_same(lambda m: m.linspace(-1, 1, 5, dtype=m.int8))
    assert_same(lambda m: m.linspace(0, 10, 4, dtype=m.int64))


def test_arange_refuses_bool_and_non_finite_bounds():
    assert_both_raise(lambda m: m.arange(3, dtype=m.bool), "not implemented", NotImplementedError)
    assert_both_raise(lambda m: m.arange(0, math.inf), "unsupported range")
    assert_both_raise(lambda m: m.arange(0, 3, 0), "nonzero")
    assert_both_raise(lambda m: m.arange(0, 3, -1), "inconsistent")


# --- low precision with Python numbers -----------------------------------------------------------
SCALAR_CASES = [
    ("float16", "mul", 2**31),
    ("float16", "mul", -(2**63)),
    ("float16", "mul", 70000),
    ("float16", "mul", 1e-8),
    ("float16", "div", 1e5),
    ("float16", "add", 2**31),
    ("float16", "sub", 1e5),
    ("float16", "add", 1e-8),
    ("float16", "div", 0.1),
    ("float16", "mul", 0.1),
    ("float16", "add", 1.0001),
    ("bfloat16", "mul", 2**31),
    ("bfloat16", "mul", 1e-40),
    ("bfloat16", "div", 3.0),
    ("float32", "mul", 1e40),
    ("float32", "mul", 1e-50),
]


@pytest.mark.parametrize("dtype, op, scalar", SCALAR_CASES, ids=[f"{d}-{o}-{s!r}" for d, o, s in SCALAR_CASES])
def test_arithmetic_with_python_numbers_rounds_once(dtype, op, scalar):
    values = [-0.0, 0.0, 1.5, 1000.0, -3.25, 65504.0 if dtype == "float16" else 1e30]
    assert_same(lambda m: getattr(m, op)(m.tensor(values, dtype=getattr(m, dtype)), scalar))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("scalar", [2049.0, 16777217.0, 70000, 1e-8])
def test_comparisons_with_python_numbers(dtype, scalar):
    assert_same(lambda m: m.tensor([2048.0, 16777216.0, 1e-8], dtype=getattr(m, dtype)) == scalar)
    assert_same(lambda m: m.tensor([2048.0, 16777216.0, 1e-8], dtype=getattr(m, dtype)) < scalar)


@pytest.mark.parametrize("exponent", [1e-50, 1e-46, 1e-40, 1e40, 1e300, 0.5, 2.0])
def test_float32_pow_of_a_python_float_exponent(exponent):
    assert_same(lambda m: m.tensor([0.0, 0.5, 1.0, 2.0]) ** exponent)
    assert_same(lambda m: m.tensor([False, True]) ** exponent)
    assert_same(lambda m: m.tensor([0, 3]) ** exponent)


def test_float32_pow_of_an_inexact_exponent_is_close_to_pytorch():
    x = [2.0, 3.0, 5.0, 7.3, 1e-3]
    ours = (sg.tensor(x) ** 0.1).numpy()
    theirs = (torch.tensor(x) ** 0.1).numpy()
    np.testing.assert_array_max_ulp(ours, theirs, maxulp=1)


def test_half_precision_pow_rounds_the_exponent_as_pytorch_does():
    assert_same(lambda m: m.tensor([0.0, 2.0], dtype=m.float16) ** 1e-8)
    assert_same(lambda m: m.tensor([0.0, 2.0], dtype=m.bfloat16) ** 1e-50)
    assert_same(lambda m: m.tensor([0.0, 2.0], dtype=m.bfloat16) ** 1e-30)


# --- alpha ------------------------------------------------------------------------------------
ALPHA_CASES = [
    ("float64", [1.0], "int32", [2**31 - 1], "sub", 3),
    ("int32", [-1], "uint8", [255], "add", 2),
    ("float16", [1.0], "int16", [32767], "add", 2),
    ("bool", [True, False], "bool", [True, True], "add", 2),
    ("float32", [1.0], "float32", [3.0], "add", 2.5),
]


@pytest.mark.parametrize("a_dtype, a, b_dtype, b, op, alpha", ALPHA_CASES)
def test_alpha_is_applied_after_promotion(a_dtype, a, b_dtype, b, op, alpha):
    assert_same(
        lambda m: getattr(m.tensor(a, dtype=getattr(m, a_dtype)), op)(
            m.tensor(b, dtype=getattr(m, b_dtype)), alpha=alpha
        )
    )


def test_alpha_takes_no_part_in_promotion():
    assert_same(lambda m: m.tensor(-5, dtype=m.int8).add(m.tensor([True, False]), alpha=2))
    assert_both_raise(lambda m: m.tensor([1]).add(1, alpha=2.5), "alpha must not be a floating point")


# --- NumPy operands ------------------------------------------------------------------------------
NUMPY_CASES = {
    "float-array": lambda m: m.tensor([1.0, 2.0]) + np.array([1.0, 2.5]),
    "int-arrays": lambda m: m.tensor([1, 2]) + np.array([1, 2]),
    "float32-arrays": lambda m: m.tensor([1.0, 2.0]) * np.array([1.5, 2.0], dtype=np.float32),
    "float64-tensor-float32-array": lambda m: m.tensor([1.0], dtype=m.float64) * np.array([1.5], dtype=np.float32),
    "0d-array": lambda m: m.tensor([1.0, 2.0]) + np.array(1.0),
    "compare-array": lambda m: m.tensor([1.0, 2.0]) == np.array([1.0, 3.0]),
    "pow-array": lambda m: m.tensor([1.0, 2.0]) ** np.array([2.0, 3.0]),
    "matmul-array": lambda m: m.tensor([[1.0, 2.0]]) @ np.array([[1.0], [2.0]]),
    "float32-scalar": lambda m: m.tensor([1, 2]) * np.float32(3),
    "float16-tensor-float32-scalar": lambda m: m.tensor([1.0, 2.0], dtype=m.float16) * np.float32(3),
    "float64-scalar": lambda m: m.tensor([1, 2]) * np.float64(3),
    "int64-scalar": lambda m: m.tensor([1, 2], dtype=m.int8) * np.int64(3),
    "uint8-scalar": lambda m: m.tensor([1], dtype=m.int8) + np.uint8(3),
    "bool-scalar": lambda m: m.tensor([1, 2], dtype=m.int8) * np.bool_(True),
    "scalar-on-the-left": lambda m: np.float32(3) * m.tensor([1, 2]),
    "compare-scalar": lambda m: m.tensor([1, 2], dtype=m.int8) < np.float32(1.5),
    "where-scalar": lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2], dtype=m.int8), np.float32(1.5)),
    "pow-scalar": lambda m: m.tensor([1, 2]) ** np.float32(2),
    "clamp-scalar": lambda m: m.tensor([1.0, 2.0]).clamp(max=np.float32(1.5)),
    "fill-scalar": lambda m: m.tensor([1, 2]).fill_(np.float32(1.5)),
    "masked-fill-scalar": lambda m: m.tensor([1, 2]).masked_fill(m.tensor([True, False]), np.float32(1.5)),
}


# (PyTorch hands `tensor + array` to NumPy, which computes with NumPy's promotion and wraps the
# result: float32 + an int64 array is float64 there. somegrad promotes as PyTorch does between
# tensors, so the cases above are those where the two rules agree.)
@pytest.mark.parametrize("case", list(NUMPY_CASES))
def test_numpy_arrays_and_scalars_as_operands(case):
    assert_same(NUMPY_CASES[case])


# --- in-place ops with Python ints out of range: they wrap, as the out-of-place ops do -------------
@pytest.mark.parametrize(
    "dtype, op, value", [("uint8", "add_", -1), ("int8", "mul_", 1000), ("int8", "add_", 128), ("int8", "sub_", 2**40)]
)
def test_inplace_ops_wrap_out_of_range_python_ints(dtype, op, value):
    assert_same(lambda m: getattr(m.tensor([5, 0], dtype=getattr(m, dtype)), op)(value))


# --- error classes -------------------------------------------------------------------------------
ERRORS = {
    "matmul-shapes": (lambda m: m.ones(2, 3) @ m.ones(2, 3), "cannot be multiplied"),
    "matmul-0d": (lambda m: m.ones(()) @ m.ones(2), "at least 1 dimension"),
    "matmul-batch": (lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 2), "broadcast"),
    "broadcast": (lambda m: m.ones(2, 3) + m.ones(2, 4), "cannot be broadcast"),
    "where-broadcast": (lambda m: m.where(m.tensor([True, False]), m.ones(3), 0.0), "cannot be broadcast"),
    "reshape-two-minus-ones": (lambda m: m.ones(4).reshape(-1, -1, 2), "only one dimension can be inferred"),
    "reshape-size": (lambda m: m.ones(4).reshape(3), "invalid for input"),
    "reshape-negative": (lambda m: m.ones(4).reshape(-2, 2), "invalid shape"),
    "view-size": (lambda m: m.ones(2, 3).view(4), "invalid for input"),
    "permute-duplicate": (lambda m: m.ones(2, 3).permute(0, 0), "permutation"),
    "permute-length": (lambda m: m.ones(2, 3).permute(0), "expected 2 dims"),
    "flip-duplicate": (lambda m: m.ones(2, 3).flip((0, 0)), "more than once"),
    "sum-duplicate": (lambda m: m.ones(2, 3).sum((0, 0)), "more than once"),
    "expand-size": (lambda m: m.ones(2, 3).expand(4, 3), "must match"),
    "expand-fewer": (lambda m: m.ones(2, 3).expand(3), "fewer dimensions"),
    "cat-shapes": (lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), "must match"),
    "cat-0d": (lambda m: m.cat([m.ones(()), m.ones(())]), "zero-dimensional"),
    "stack-shapes": (lambda m: m.stack([m.ones(2), m.ones(3)]), "equal size"),
    "stack-empty": (lambda m: m.stack([]), "non-empty"),
    "narrow-length": (lambda m: m.ones(3).narrow(0, 1, 5), "exceeds"),
    "narrow-0d": (lambda m: m.tensor(1.0).narrow(0, 0, 1), "0-dim"),
    "split-sizes": (lambda m: m.ones(3).split([1, 1]), "add up"),
    "chunk-zero": (lambda m: m.ones(3).chunk(0), "positive"),
    "repeat-few": (lambda m: m.ones(2, 3).repeat(2), "repeat sizes"),
    "tril-1d": (lambda m: m.ones(3).tril(), "at least 2 dimensions"),
    "flatten-order": (lambda m: m.ones(2, 3, 4).flatten(2, 1), "comes after"),
    "unflatten-sizes": (lambda m: m.ones(2, 6).unflatten(1, (4, 2)), "don.t multiply up to the size of dim"),
    "pad-odd": (lambda m: F[m].pad(m.ones(2, 3), (1,)), "divisible by 2"),
    "zeros-negative": (lambda m: m.zeros(-1), "non-negative"),
    "eye-negative": (lambda m: m.eye(-1), "greater or equal to 0"),
    "div-rounding-mode": (lambda m: m.div(m.ones(2), 2, rounding_mode="x"), "rounding_mode"),
    "clamp-no-bounds": (lambda m: m.clamp(m.ones(2)), "at least one of min and max"),
    "mean-int": (lambda m: m.ones(2, dtype=m.int32).mean(), "floating point"),
    "var-int": (lambda m: m.ones(2, dtype=m.int32).var(), "floating point"),
    "std-bool": (lambda m: m.ones(2, dtype=m.bool).std(), "floating point"),
    "gather-ndim": (lambda m: m.gather(m.zeros(3, 2), 0, m.tensor([0])), "as many dimensions"),
    "gather-float-index": (lambda m: m.gather(m.zeros(3), 0, m.tensor([0.0])), "integer tensor"),
    "gather-out-of-range": (lambda m: m.gather(m.zeros(3), 0, m.tensor([5])), "out of bounds"),
    "scatter-add-out-of-range": (lambda m: m.zeros(3).scatter_add(0, m.tensor([5]), m.ones(1)), "out of bounds"),
    "index-select-int16": (lambda m: m.zeros(3).index_select(0, m.tensor([0], dtype=m.int16)), "int32 or int64"),
    "setitem-shape": (lambda m: m.zeros(3).__setitem__([0, 1], m.ones(3)), "shape mismatch"),
    "masked-fill-int-mask": (lambda m: m.ones(2).masked_fill(m.tensor([1, 0]), 0.0), "bool"),
    "masked-fill-value-with-dims": (
        lambda m: m.ones(2).masked_fill(m.tensor([True, False]), m.tensor([5.0, 6.0])),
        "0-dimensional value",
    ),
    "masked-fill-broadcast": (lambda m: m.ones(2).masked_fill(m.tensor([True, False, True]), 0.0), "broadcast"),
    "conv-kernel-larger": (lambda m: F[m].conv2d(m.ones(1, 1, 2, 2), m.ones(1, 1, 3, 3)), "larger than"),
    "conv-channels": (lambda m: F[m].conv2d(m.ones(1, 2, 3, 3), m.ones(1, 1, 1, 1)), "channels"),
    "conv-groups": (lambda m: F[m].conv2d(m.ones(1, 2, 3, 3), m.ones(1, 2, 1, 1), groups=0), "groups"),
    "conv-stride": (lambda m: F[m].conv2d(m.ones(1, 1, 3, 3), m.ones(1, 1, 1, 1), stride=0), "stride"),
    "conv-padding-string": (lambda m: F[m].conv2d(m.ones(1, 1, 3, 3), m.ones(1, 1, 1, 1), padding="x"), "padding"),
    "conv-bias": (lambda m: F[m].conv2d(m.ones(1, 1, 3, 3), m.ones(1, 1, 1, 1), bias=m.ones(2)), "bias"),
    "conv-transpose-channels": (
        lambda m: F[m].conv_transpose2d(m.ones(1, 2, 3, 3), m.ones(1, 1, 1, 1)),
        "expected input",
    ),
    "max-pool-kernel-larger": (lambda m: F[m].max_pool2d(m.ones(1, 1, 2, 2), 3), "larger than"),
    "max-pool-padding": (lambda m: F[m].max_pool2d(m.ones(1, 1, 4, 4), 2, padding=2), "at most half"),
    "avg-pool-kernel-larger": (lambda m: F[m].avg_pool2d(m.ones(1, 1, 2, 2), 3), "larger than"),
    "cross-entropy-weight": (
        lambda m: F[m].cross_entropy(m.ones(2, 3), m.tensor([0, 1]), weight=m.ones(2)),
        "weight of shape",
    ),
    "cross-entropy-label-smoothing": (
        lambda m: F[m].cross_entropy(m.ones(2, 3), m.tensor([0, 1]), label_smoothing=2.0),
        "label_smoothing",
    ),
    "cross-entropy-probabilities-shape": (
        lambda m: F[m].cross_entropy(m.ones(2, 3), m.ones(2, 4)),
        "input's shape",
    ),
    "gelu-approximate": (lambda m: F[m].gelu(m.ones(2), approximate="x"), "approximate"),
    "randint-bounds": (lambda m: m.randint(3, 3, (2,)), "less than"),
    "multinomial-ndim": (lambda m: m.multinomial(m.ones(1, 1, 2), 1), "1-d or 2-d"),
    "multinomial-too-many": (lambda m: m.multinomial(m.ones(2), 3), "without replacement"),
    "multinomial-int": (lambda m: m.multinomial(m.tensor([1, 2]), 1), "floating point"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_mistakes_raise_what_pytorch_raises(case):
    fn, match = ERRORS[case]
    assert_both_raise(fn, match)


NOT_IMPLEMENTED = {
    "matmul-bool": lambda m: m.ones(2, 2, dtype=m.bool) @ m.ones(2, 2, dtype=m.bool),
    "rand-int": lambda m: m.rand(2, dtype=m.int64),
    "randn-int": lambda m: m.randn(2, dtype=m.int64),
    "topk-bool": lambda m: m.topk(m.tensor([True, False]), 1),
    "clamp-bool-bounds": lambda m: m.clamp(m.tensor([True, False]), max=True),
}


@pytest.mark.parametrize("case", list(NOT_IMPLEMENTED))
def test_unsupported_dtypes_raise_not_implemented_or_runtime_error(case):
    # PyTorch raises NotImplementedError (a RuntimeError) or RuntimeError; somegrad's
    # UnsupportedDTypeError is both.
    assert_both_raise(NOT_IMPLEMENTED[case], "not implemented|not support", RuntimeError, NotImplementedError)


# --- shifts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
@pytest.mark.parametrize("by", [0, 1, 7, 8, 9, 70, -1])
def test_integer_shifts(dtype, by):
    values = [0, 3, 100] + ([] if dtype == "uint8" else [-5, -128])
    assert_same(lambda m: m.tensor(values, dtype=getattr(m, dtype)) << by)
    assert_same(lambda m: m.tensor(values, dtype=getattr(m, dtype)) >> by)


def test_shifts_of_tensors_bools_and_floats():
    assert_same(lambda m: m.tensor([1, 2]) << m.tensor([1, 3]))
    assert_same(lambda m: 2 << m.tensor([1, 3]))
    assert_same(lambda m: m.tensor([True]) << 1)
    assert_both_raise(lambda m: m.tensor([1.5]) << 1, "not implemented", NotImplementedError)
    assert_both_raise(lambda m: m.tensor([1.5]) >> 1, "not implemented", NotImplementedError)


def test_later_fuzz_findings():
    assert_same(lambda m: m.tensor([float("nan"), -1.0, 0.0, 2.0]).sign())
    assert_same(lambda m: m.tensor([float("nan"), -1.0], dtype=m.float16).sign())
    assert_same(lambda m: m.tensor([-math.inf, 2.0, -1.0]) ** (2**31 - 1))
    assert_same(lambda m: m.floor_divide(m.empty((0,), dtype=m.uint8), m.tensor(0, dtype=m.uint8)))
    assert_same(lambda m: m.remainder(m.empty((0, 2), dtype=m.int32), 0))


def test_python_int_divisors_and_exponents_that_do_not_fit_integer_tensors():
    a = [5, -7]
    assert_both_raise(lambda m: m.tensor(a, dtype=m.int16) // -(2**63), "division by zero")
    assert_both_raise(lambda m: m.tensor(a, dtype=m.int16) % 2**31, "division by zero")
    assert_same(lambda m: m.tensor(a, dtype=m.int16) // 65537)  # wraps to 1
    assert_both_raise(lambda m: m.tensor(a, dtype=m.int16) ** 2**62, "without overflow")
    assert_both_raise(lambda m: m.tensor(a, dtype=m.int8) ** 2**63, "without overflow")
    assert_same(lambda m: m.tensor(a, dtype=m.int8) ** 3)
