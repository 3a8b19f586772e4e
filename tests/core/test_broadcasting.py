"""Binary ops broadcast like NumPy (and PyTorch) on random shapes; mismatches name op and shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import somegrad as sg

OPS = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "maximum": (sg.maximum, np.maximum),
    "lt": (lambda a, b: a < b, np.less),
    "eq": (lambda a, b: a == b, np.equal),
    "where": (lambda a, b: sg.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b)),
}


@settings(max_examples=60, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3),
    op=st.sampled_from(sorted(OPS)),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_like_numpy(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(0.5, 2.0, s) * rng.choice([-1, 1], s) for s in shapes.input_shapes)
    ours, theirs = OPS[op]
    out = ours(sg.tensor(a), sg.tensor(b))
    expected = theirs(a, b)
    assert out.shape == expected.shape == shapes.result_shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_three_way_broadcast_and_gradient_shapes(shapes):
    tensors = [sg.ones(s, dtype=sg.float64, requires_grad=True) for s in shapes.input_shapes]
    out = sg.where(tensors[0] > 0, tensors[1], tensors[2]) * tensors[0]
    assert out.shape == shapes.result_shape
    out.sum().backward()
    for t, s in zip(tensors, shapes.input_shapes):
        assert t.grad.shape == s


def test_mismatched_shapes_error_names_op_and_both_shapes():
    with pytest.raises(
        RuntimeError,
        match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast together: size 3 and size 4 differ at dimension -1",
    ):
        sg.zeros(2, 3) + sg.zeros(4)
    with pytest.raises(RuntimeError, match=r"mul: shapes \(2, 3\) and \(3, 3\)"):
        sg.zeros(2, 3) * sg.zeros(3, 3)
    with pytest.raises(RuntimeError, match=r"where: shapes"):
        sg.where(sg.zeros(2, dtype=sg.bool), sg.zeros(3), 1.0)
