"""Fuzzed elementwise ops: random shapes, dtypes, broadcasting, Python scalars.

Each call returns what NumPy computes (in float64, rounded to the result's dtype) with
PyTorch's result dtype, or raises a clear error that names the op.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_fuzzing import (
    NUMPY,
    assert_matches,
    clear_error_or_result,
    dtypes,
    fuzz,
    make,
    seeds,
    shapes,
    time_limit,
)

import somegrad as sg

_erf = np.vectorize(math.erf, otypes=[np.float64])

# name -> (somegrad function, NumPy reference in float64); float-only math gives the default
# float dtype for integer and bool inputs, the others keep the input's dtype.
FLOAT_MATH = {
    "exp": (sg.exp, np.exp),
    "log": (sg.log, np.log),
    "log1p": (sg.log1p, np.log1p),
    "expm1": (sg.expm1, np.expm1),
    "sqrt": (sg.sqrt, np.sqrt),
    "rsqrt": (sg.rsqrt, lambda x: 1 / np.sqrt(x)),
    "sin": (sg.sin, np.sin),
    "cos": (sg.cos, np.cos),
    "tanh": (sg.tanh, np.tanh),
    "sigmoid": (sg.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "erf": (sg.erf, _erf),
    "reciprocal": (sg.reciprocal, lambda x: 1 / x),
}
SAME_DTYPE = {
    "neg": (sg.neg, np.negative),
    "abs": (sg.abs, np.abs),
    "sign": (sg.sign, np.sign),
    "relu": (sg.relu, lambda x: np.maximum(x, 0)),
    "square": (sg.square, np.square),
    "floor": (sg.floor, np.floor),
    "ceil": (sg.ceil, np.ceil),
    "round": (sg.round, np.round),
}


pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, for log(0) and the like


@pytest.fixture(autouse=True)
def _no_hangs():
    with time_limit(120):
        yield


def _reference(fn, values, out_dtype):
    with np.errstate(all="ignore"):
        if out_dtype is sg.bool:
            return fn(values)
        if out_dtype.is_floating_point:
            return fn(values.astype(np.float64)).astype(NUMPY[out_dtype])
        return fn(values).astype(NUMPY[out_dtype])  # integer ops wrap in the input's dtype


@fuzz(1000)
@given(
    name=st.sampled_from(sorted(FLOAT_MATH) + sorted(SAME_DTYPE)),
    shape=shapes,
    dtype=dtypes,
    seed=seeds,
    method=st.booleans(),
)
def test_unary(name, shape, dtype, seed, method):
    values, x = make(shape, dtype, seed)
    fn, reference = FLOAT_MATH.get(name) or SAME_DTYPE[name]
    float_math = name in FLOAT_MATH
    out_dtype = dtype if (dtype.is_floating_point or not float_math) else sg.get_default_dtype()
    with clear_error_or_result(name) as outcome:
        outcome.value = getattr(x, name)() if method and hasattr(x, name) else fn(x)
    if outcome.raised:
        # Only bool inputs to the integer-keeping ops may be refused (PyTorch refuses neg,
        # abs, relu, floor... of bool).
        assert dtype is sg.bool and not float_math, outcome.raised
        return
    if dtype is sg.bool and not float_math:
        # PyTorch keeps bool (sign) or promotes to int64 (square): either, with the values of
        # the op on 0/1 integers.
        assert name != "neg", "neg of a bool tensor should be refused"
        assert outcome.value.dtype in (sg.bool, sg.int64), outcome.value.dtype
        expected = reference(values.astype(np.int64))
        assert_matches(outcome.value.to(sg.int64), expected, sg.int64)
        return
    expected = _reference(reference, values, out_dtype)
    assert_matches(outcome.value, expected, out_dtype)


BINARY = {
    "add": (sg.add, np.add),
    "sub": (sg.sub, np.subtract),
    "mul": (sg.mul, np.multiply),
    "div": (sg.div, np.true_divide),
    "pow": (sg.pow, np.power),
    "maximum": (sg.maximum, np.maximum),
    "minimum": (sg.minimum, np.minimum),
    "floor_divide": (sg.floor_divide, np.floor_divide),
    "remainder": (sg.remainder, np.remainder),
    "eq": (sg.eq, np.equal),
    "ne": (sg.ne, np.not_equal),
    "lt": (sg.lt, np.less),
    "le": (sg.le, np.less_equal),
    "gt": (sg.gt, np.greater),
    "ge": (sg.ge, np.greater_equal),
    "logical_and": (sg.logical_and, np.logical_and),
    "logical_or": (sg.logical_or, np.logical_or),
    "logical_xor": (sg.logical_xor, np.logical_xor),
}
COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}


@st.composite
def operand_pairs(draw):
    """Two operands: tensors of broadcastable (or, sometimes, incompatible) shapes, or a tensor
    and a Python bool, int or float."""
    shape = draw(shapes)
    kind = draw(st.sampled_from(["broadcast", "broadcast", "broadcast", "random", "scalar_right", "scalar_left"]))
    if kind == "broadcast":
        other = tuple(draw(st.sampled_from([s, 1])) for s in shape)
        other = other[draw(st.integers(0, len(other))) :]  # drop some leading dims
    elif kind == "random":
        other = draw(shapes)
    first = (shape, draw(dtypes), draw(seeds))
    if kind.startswith("scalar"):
        scalar = draw(st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from([-2.5, -0.5, 0.0, 0.25, 3.0])))
        return (first, scalar) if kind == "scalar_right" else (scalar, first)
    return first, (other, draw(dtypes), draw(seeds))


def _operand(spec):
    if isinstance(spec, tuple):
        values, tensor = make(*spec)
        return values, tensor
    return spec, spec


def _promoted_dtype(a, b):
    """The dtype an op computes in: PyTorch's result_type where torch is installed (an
    independent check of somegrad's promotion), else somegrad's."""
    try:
        import torch
    except ImportError:
        return sg.result_type(a, b)

    def convert(v):
        return torch.from_numpy(np.asarray(v.numpy())) if isinstance(v, sg.Tensor) else v

    return getattr(sg, str(torch.result_type(convert(a), convert(b))).removeprefix("torch."))


@fuzz(1500)
@given(name=st.sampled_from(sorted(BINARY)), operands=operand_pairs(), method=st.booleans())
def test_binary(name, operands, method):
    (a_values, a), (b_values, b) = (_operand(o) for o in operands)
    fn, reference = BINARY[name]
    dunder = {
        "add": "__add__",
        "sub": "__sub__",
        "mul": "__mul__",
        "div": "__truediv__",
        "pow": "__pow__",
        "eq": "__eq__",
        "lt": "__lt__",
        "floor_divide": "__floordiv__",
        "remainder": "__mod__",
    }.get(name)
    with clear_error_or_result(name, "bitwise") as outcome:
        if method and dunder and isinstance(a, sg.Tensor):
            outcome.value = getattr(a, dunder)(b)
        else:
            outcome.value = fn(a, b)
    a_shape, b_shape = np.shape(a_values), np.shape(b_values)
    try:
        shape = np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        assert outcome.raised is not None, f"{name} of shapes {a_shape} and {b_shape} should be refused"
        return
    integral = all(
        isinstance(v, (bool, int)) or (isinstance(v, sg.Tensor) and not v.dtype.is_floating_point) for v in (a, b)
    )
    if outcome.raised:
        # PyTorch refuses integer division by zero, integers to negative integer powers, and
        # subtraction with a bool operand; nothing else.
        message = str(outcome.raised)
        any_bool = any(isinstance(v, bool) or (isinstance(v, sg.Tensor) and v.dtype is sg.bool) for v in (a, b))
        if name == "sub":
            assert any_bool, message
        else:
            assert name in ("floor_divide", "remainder", "pow") and integral, message
        return
    assert not (
        name == "sub" and any(isinstance(v, bool) or (isinstance(v, sg.Tensor) and v.dtype is sg.bool) for v in (a, b))
    ), "subtraction with a bool operand should be refused"
    out = outcome.value
    compute = _promoted_dtype(a, b)
    if name in COMPARISONS:
        expected_dtype = sg.bool
    elif name == "div" and not compute.is_floating_point:
        expected_dtype = sg.get_default_dtype()
    else:
        expected_dtype = compute
    assert out.dtype is expected_dtype, (out.dtype, expected_dtype)
    assert out.shape == shape
    with np.errstate(all="ignore"):
        if expected_dtype.is_floating_point or compute.is_floating_point:
            a64, b64 = (np.asarray(v, dtype=np.float64) for v in (a_values, b_values))
            expected = np.asarray(reference(a64, b64))
        else:  # integers wrap in the dtype they compute in, as in PyTorch
            np_dtype = NUMPY[compute]
            expected = reference(np.asarray(a_values).astype(np_dtype), np.asarray(b_values).astype(np_dtype))
    assert_matches(out, np.broadcast_to(np.asarray(expected).astype(NUMPY[expected_dtype]), shape))
