"""Creating tensors: from Python data and NumPy, constants, ranges, random draws and seeding."""

import numpy as np
import pytest

import somegrad as sg


@pytest.mark.parametrize(
    "data, dtype, shape",
    [
        (1.5, sg.float32, ()),
        (3, sg.int64, ()),
        (True, sg.bool, ()),
        ([1, 2, 3], sg.int64, (3,)),
        ([[1.0, 2.0], [3.0, 4.0]], sg.float32, (2, 2)),
        ([[1, 2.5]], sg.float32, (1, 2)),
        ([[[True], [False]]], sg.bool, (1, 2, 1)),
        ([], sg.float32, (0,)),
        (np.arange(6, dtype=np.int16).reshape(2, 3), sg.int16, (2, 3)),
        (np.ones(3, dtype=np.float64), sg.float64, (3,)),
        (np.float32(2.0), sg.float32, ()),
        (np.array([1, 2], dtype=np.uint8), sg.uint8, (2,)),
    ],
)
def test_tensor_infers_dtype_and_shape(data, dtype, shape):
    t = sg.tensor(data)
    assert t.dtype is dtype and t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_tensor_copies_its_input():
    array = np.zeros(3)
    t = sg.tensor(array)
    array[0] = 1
    assert t[0].item() == 0


def test_tensor_with_explicit_dtype_and_requires_grad():
    t = sg.tensor([1, 2], dtype=sg.float64, requires_grad=True)
    assert t.dtype is sg.float64 and t.requires_grad and t.is_leaf
    assert sg.tensor([1.7, -1.7], dtype=sg.int32).tolist() == [1, -1]
    assert sg.tensor(t).requires_grad is False


@pytest.mark.parametrize("bad, error", [([[1, 2], [3]], ValueError), (["a"], TypeError), ([None], TypeError)])
def test_tensor_rejects_bad_data(bad, error):
    with pytest.raises(error, match="tensor:"):
        sg.tensor(bad)


def test_from_numpy_shares_memory():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = sg.from_numpy(array)
    assert t.dtype is sg.float32
    array[0, 0] = 42
    assert t[0, 0].item() == 42
    t[1, 2] = -1.0
    assert array[1, 2] == -1
    assert np.shares_memory(t.numpy(), array)
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray"):
        sg.from_numpy([1, 2])


def test_constants():
    assert sg.zeros(2, 3).tolist() == [[0.0] * 3] * 2 and sg.zeros((2, 3)).shape == (2, 3)
    assert sg.ones(2, dtype=sg.int32).dtype is sg.int32
    assert sg.full((2,), 7).dtype is sg.int64 and sg.full((2,), 7.0).dtype is sg.float32
    assert sg.full((2,), True).dtype is sg.bool
    assert sg.full((), 2.5).item() == 2.5
    assert sg.empty(0, 4).shape == (0, 4)
    x = sg.ones(2, 3, dtype=sg.float64)
    for like, value in ((sg.zeros_like, 0), (sg.ones_like, 1), (sg.empty_like, 0), (lambda t: sg.full_like(t, 4), 4)):
        out = like(x)
        assert out.shape == (2, 3) and out.dtype is sg.float64 and (out == value).all().item()
    assert sg.zeros_like(x, dtype=sg.int8).dtype is sg.int8
    with pytest.raises(RuntimeError, match="zeros: sizes must be non-negative"):
        sg.zeros(-1)
    with pytest.raises(TypeError, match="zeros: sizes must be ints"):
        sg.zeros(2.5)


@pytest.mark.parametrize(
    "args, kwargs, expected",
    [
        ((5,), {}, np.arange(5)),
        ((2, 8, 3), {}, np.arange(2, 8, 3)),
        ((5, 0, -2), {}, np.arange(5, 0, -2)),
        ((0.0, 1.0, 0.25), {}, np.arange(0.0, 1.0, 0.25, dtype=np.float32)),
        ((3,), {"dtype": sg.float64}, np.arange(3.0)),
        ((0,), {}, np.arange(0)),
    ],
)
def test_arange(args, kwargs, expected):
    out = sg.arange(*args, **kwargs)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.numpy().dtype == expected.dtype


def test_arange_errors():
    with pytest.raises(RuntimeError, match="arange: step must be nonzero"):
        sg.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="arange: upper bound and lower bound inconsistent"):
        sg.arange(0, 5, -1)


def test_linspace_and_eye():
    np.testing.assert_allclose(sg.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5, dtype=np.float32))
    out = sg.linspace(-3, 7, 11, dtype=sg.float64)
    assert out[0].item() == -3 and out[-1].item() == 7 and out.dtype is sg.float64
    assert sg.linspace(2, 5, 1).tolist() == [2.0] and sg.linspace(0, 1, 0).shape == (0,)
    np.testing.assert_array_equal(sg.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(sg.eye(2, 4, dtype=sg.int64).numpy(), np.eye(2, 4, dtype=np.int64))


def test_random_shapes_dtypes_and_ranges():
    r = sg.rand(1000)
    assert r.dtype is sg.float32 and 0 <= r.min().item() and r.max().item() < 1 and 0.4 < r.mean().item() < 0.6
    n = sg.randn(4000, dtype=sg.float64)
    assert n.dtype is sg.float64 and abs(n.mean().item()) < 0.1 and 0.9 < n.std().item() < 1.1
    i = sg.randint(3, 7, (500,))
    assert i.dtype is sg.int64 and set(i.tolist()) == {3, 4, 5, 6}
    assert sg.randint(5, (2, 2)).shape == (2, 2) and sg.randint(5, (3,), dtype=sg.int8).dtype is sg.int8
    x = sg.zeros(2, 3, dtype=sg.float64)
    assert sg.rand_like(x).shape == (2, 3) and sg.randn_like(x).dtype is sg.float64
    assert sg.randint_like(sg.zeros(4, dtype=sg.int32), 2).dtype is sg.int32
    assert sorted(sg.randperm(6).tolist()) == list(range(6))
    assert sg.rand(2, 3, requires_grad=True).requires_grad
    with pytest.raises(NotImplementedError, match="rand: not implemented for int64; expected a floating point dtype"):
        sg.rand(2, dtype=sg.int64)
    with pytest.raises(RuntimeError, match=r"randint: low \(5\) must be less than high \(5\)"):
        sg.randint(5, 5, (2,))


def test_manual_seed_makes_draws_reproducible():
    def draws():
        return (
            sg.rand(5).tolist(),
            sg.randn(3, 2).tolist(),
            sg.randint(0, 100, (4,)).tolist(),
            sg.randperm(5).tolist(),
            sg.multinomial(sg.ones(10), 3).tolist(),
            sg.bernoulli(sg.full((6,), 0.5)).tolist(),
        )

    sg.manual_seed(1234)
    first = draws()
    sg.manual_seed(1234)
    assert draws() == first
    sg.manual_seed(4321)
    assert draws() != first


def test_generator_argument_and_rng_state():
    g = sg.Generator().manual_seed(7)
    a = sg.rand(3, generator=g).tolist()
    assert sg.rand(3, generator=sg.Generator().manual_seed(7)).tolist() == a
    sg.manual_seed(0)
    state = sg.get_rng_state()
    first = sg.randn(4).tolist()
    sg.set_rng_state(state)
    assert sg.randn(4).tolist() == first
