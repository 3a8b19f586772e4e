"""`__getitem__` and `__setitem__` against NumPy on random shapes (hypothesis), with PyTorch's
rule that ints apply before advanced indices; gather, scatter_add, index_select, masked_fill."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import somegrad as sg

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


def torch_order_reference(array, key):
    """NumPy's `array[key]` with PyTorch's order: int indices first, then advanced ones."""
    has_advanced = any(isinstance(k, (list, np.ndarray)) for k in key)
    if not has_advanced or not any(isinstance(k, int) for k in key):
        return array[key]
    dim, first = 0, []
    rest = []
    for k in key:
        if isinstance(k, int):
            first.append(k)
            dim += 1
        elif k is None:
            first.append(slice(None))  # keep as-is; None adds a dim in the second pass
            rest.append(None)
            first.pop()
        elif k is Ellipsis:
            raise AssertionError("the strategy resolves Ellipsis itself")
        else:
            first.append(slice(None))
            rest.append(k)
            dim += 1
    return array[tuple(first)][tuple(rest)]


@st.composite
def basic_keys(draw, shape):
    """ints (also negative), slices with steps, None and at most one Ellipsis."""
    key, dims = [], list(shape)
    n = draw(st.integers(0, len(dims)))
    for size in dims[:n]:
        kind = draw(st.sampled_from(["int", "slice", "none", "full"]))
        if kind == "int":
            key.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size - 1, size + 1))
            stop = draw(st.none() | st.integers(-size - 1, size + 1))
            key.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
        elif kind == "none":
            key.extend([None, slice(None)])
        else:
            key.append(slice(None))
    if draw(st.booleans()):
        # Ellipsis stands for the dims the key leaves out: at the end, or anywhere in a full key.
        key.insert(draw(st.integers(0, len(key))) if n == len(dims) else len(key), Ellipsis)
    return tuple(key)


@SETTINGS
@given(st.data())
def test_getitem_basic_matches_numpy(data):
    shape = data.draw(shapes)
    array = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    key = data.draw(basic_keys(shape))
    out = sg.tensor(array)[key]
    expected = array[key]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


@st.composite
def advanced_keys(draw, shape):
    """A mix of ints, full slices, None, and int arrays / lists (negative too)."""
    key = []
    length = draw(st.integers(1, 3))  # index arrays of one key broadcast together
    for size in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "list", "none"]))
        if kind == "int":
            key.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            key.append(slice(None, None, draw(st.integers(1, 2))))
        elif kind == "none":
            key.append(None)
            key.append(slice(None))
        else:
            values = draw(st.lists(st.integers(-size, size - 1), min_size=length, max_size=length))
            key.append(values if kind == "list" else np.array(values))
    return tuple(key)


@SETTINGS
@given(st.data())
def test_getitem_advanced_matches_numpy_with_pytorch_int_order(data):
    shape = data.draw(shapes)
    array = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    key = data.draw(advanced_keys(shape))
    expected = torch_order_reference(array, key)
    sg_key = tuple(sg.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
    out = sg.tensor(array)[sg_key]
    assert out.shape == expected.shape, (key, out.shape, expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected)


@SETTINGS
@given(st.data())
def test_getitem_bool_mask_matches_numpy(data):
    shape = data.draw(shapes)
    array = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    ndim = data.draw(st.integers(1, len(shape)))
    mask = np.array(
        data.draw(st.lists(st.booleans(), min_size=int(np.prod(shape[:ndim])), max_size=int(np.prod(shape[:ndim]))))
    ).reshape(shape[:ndim])
    out = sg.tensor(array)[sg.tensor(mask)]
    np.testing.assert_array_equal(out.numpy(), array[mask])


@st.composite
def setitem_keys(draw, shape):
    """A basic key, or slices with one index array of distinct positions (repeated positions
    have no defined winner) or one bool mask."""
    kind = draw(st.sampled_from(["basic", "array", "mask"]))
    if kind == "basic":
        return draw(basic_keys(shape))
    dim = draw(st.integers(0, len(shape) - 1))
    size = shape[dim]
    if kind == "array":
        positions = draw(
            st.lists(st.integers(-size, size - 1), min_size=1, max_size=size, unique_by=lambda i: i % size)
        )
        index = np.array(positions)
    else:
        index = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    return (slice(None),) * dim + (index,)


@SETTINGS
@given(st.data())
def test_setitem_matches_numpy(data):
    shape = data.draw(shapes)
    array = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    key = data.draw(setitem_keys(shape))
    expected = array.copy()
    target_shape = expected[key].shape
    # a value that broadcasts along all but the last dim
    value = np.random.default_rng(0).standard_normal(target_shape[-1:])
    expected[key] = value
    t = sg.tensor(array)
    t[tuple(sg.tensor(k) if isinstance(k, np.ndarray) else k for k in key)] = sg.tensor(value)
    np.testing.assert_array_equal(t.numpy(), expected)


def test_int_before_advanced_index_order_differs_from_numpy():
    x = np.arange(24).reshape(2, 3, 4)
    out = sg.tensor(x)[0, :, [1, 2]]
    assert out.shape == (3, 2)  # NumPy gives (2, 3)
    np.testing.assert_array_equal(out.numpy(), x[0][:, [1, 2]])


@pytest.mark.parametrize(
    "key",
    [([0, 1], slice(None), [1, 0]), (slice(None), [0, 0], slice(None), [1, 3]), (slice(None), [2, 0], [1, 0])],
    ids=str,
)
def test_separated_advanced_indices_go_first(key):
    x = np.arange(48).reshape(2, 3, 2, 4)
    out = sg.tensor(x)[key]
    assert out.shape == x[key].shape
    np.testing.assert_array_equal(out.numpy(), x[key])
    t = sg.tensor(x)
    t[key] = -1
    expected = x.copy()
    expected[key] = -1
    np.testing.assert_array_equal(t.numpy(), expected)


def test_setitem_scalar_broadcast_and_mask():
    t = sg.zeros(2, 3)
    t[0] = 1.0
    t[:, 1:] = sg.tensor([5.0, 6.0])
    t[t > 5.5] = -1.0
    assert t.tolist() == [[1.0, 5.0, -1.0], [0.0, 5.0, -1.0]]


def test_setitem_converts_value_dtype():
    t = sg.zeros(3, dtype=sg.int64)
    t[1] = 2.7
    assert t.dtype is sg.int64 and t.tolist() == [0, 2, 0]


def test_setitem_through_view_writes_base():
    base = sg.zeros(2, 3)
    view = base[1]
    view[1:] = 4.0
    assert base.tolist() == [[0.0, 0.0, 0.0], [0.0, 4.0, 4.0]]


@pytest.mark.parametrize(
    "key, error, message",
    [
        (5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
        ((0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
        ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
        (slice(None, None, -1), ValueError, "step must be positive"),
        ([0, 7], IndexError, "index 7 is out of bounds for dimension 0 with size 3"),
        ("a", TypeError, "unsupported index of type str"),
    ],
)
def test_bad_index_errors(key, error, message):
    with pytest.raises(error, match=message):
        sg.zeros(3, 4)[key]


def test_float_index_tensor_errors():
    with pytest.raises(IndexError, match="must be long, int, byte or bool, got float32"):
        sg.zeros(3)[sg.tensor([1.0])]


def test_mask_shape_mismatch_errors():
    with pytest.raises(IndexError, match=r"mask of shape \(2,\) does not match the indexed dimensions \(3,\)"):
        sg.zeros(3, 4)[sg.tensor([True, False])]


def test_gather_scatter_add_index_select_masked_fill():
    x = sg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.gather(1, sg.tensor([[2, 0], [1, 1]])).tolist() == [[3.0, 1.0], [5.0, 5.0]]
    assert x.gather(0, sg.tensor([[1, 0, 1]])).tolist() == [[4.0, 2.0, 6.0]]
    out = sg.zeros(3).scatter_add(0, sg.tensor([0, 2, 0, 2]), sg.tensor([1.0, 2.0, 3.0, 4.0]))
    assert out.tolist() == [4.0, 0.0, 6.0]
    assert x.index_select(1, sg.tensor([2, 2, 0])).tolist() == [[3.0, 3.0, 1.0], [6.0, 6.0, 4.0]]
    assert x.index_select(0, sg.tensor(1)).tolist() == [[4.0, 5.0, 6.0]]
    assert x.masked_fill(sg.tensor([True, False, True]), -1.0).tolist() == [[-1.0, 2.0, -1.0], [-1.0, 5.0, -1.0]]
    assert x.masked_fill(x > 4, sg.tensor(0.0)).tolist() == [[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]]


def test_gather_errors():
    x = sg.zeros(2, 3)
    with pytest.raises(IndexError, match="gather: index 3 is out of bounds for dimension 1 with size 3"):
        x.gather(1, sg.tensor([[3]]))
    with pytest.raises(RuntimeError, match="gather: index must have as many dimensions"):
        x.gather(1, sg.tensor([0]))
    with pytest.raises(RuntimeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(sg.zeros(3), 1.0)


def test_nonzero():
    assert sg.tensor([[0, 1], [2, 0]]).nonzero().tolist() == [[0, 1], [1, 0]]
    assert sg.zeros(2, 3).nonzero().shape == (0, 2)


@pytest.mark.parity
@SETTINGS
@given(st.data())
def test_getitem_advanced_matches_torch(data):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes)
    array = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    key = data.draw(advanced_keys(shape))
    expected = torch.tensor(array)[tuple(torch.tensor(k) if isinstance(k, np.ndarray) else k for k in key)]
    out = sg.tensor(array)[tuple(sg.tensor(k) if isinstance(k, np.ndarray) else k for k in key)]
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
