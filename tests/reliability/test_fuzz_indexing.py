"""Fuzzed indexing and matmul: getitem/setitem with random ints, slices, None, Ellipsis, lists
and masks; gather, scatter_add and index_select with random (often out-of-range) indices;
matmul with random, often mismatched, shapes. Against NumPy, with PyTorch's rules where they
differ (integers are applied before index tensors)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_fuzzing import (
    FLOAT_DTYPES,
    INT_DTYPES,
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

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(autouse=True)
def _no_hangs():
    with time_limit(120):
        yield


INDEX_ERRORS = ("index", "getitem", "setitem")


@st.composite
def keys(draw, shape):
    """A key of up to 4 parts: ints, slices, None, Ellipsis, int lists and bool masks (shaped
    for the dims they would index, or not)."""
    parts, dim = [], 0
    for _ in range(draw(st.integers(0, 4))):
        size = shape[dim] if dim < len(shape) else 3
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis", "list", "mask"]))
        if kind == "int":
            parts.append(draw(st.integers(-size - 1, size)))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
            parts.append(slice(draw(bound), draw(bound), draw(st.one_of(st.none(), st.integers(-1, 3)))))
        elif kind == "none":
            parts.append(None)
            continue
        elif kind == "ellipsis":
            parts.append(Ellipsis)
            continue
        elif kind == "list":
            parts.append(draw(st.lists(st.integers(-size - 1, size), min_size=0, max_size=3)))
        else:
            mask_shape = tuple(shape[dim : dim + draw(st.integers(1, 2))]) or (size,)
            if draw(st.integers(0, 5)) == 0:
                mask_shape = (size + 1,)  # a misfit
            rng = np.random.default_rng(draw(seeds))
            parts.append(rng.random(mask_shape) < 0.5)
            dim += len(mask_shape) - 1
        dim += 1
    return tuple(parts)


def _consumed(part):
    if part is None or part is Ellipsis:
        return 0
    return part.ndim if isinstance(part, np.ndarray) and part.dtype == bool else 1


def _pytorch_getitem(values, key):
    """`values[key]` with PyTorch's rules, on NumPy: integers first (as basic indices), then
    the index arrays; NumPy alone would treat the integers as index arrays too."""
    if sum(part is Ellipsis for part in key) > 1:
        raise IndexError("two ellipses")
    consumed = sum(_consumed(part) for part in key)
    if consumed > values.ndim:
        raise IndexError("too many indices")
    expanded = []
    for part in key:
        if part is Ellipsis:
            expanded += [slice(None)] * (values.ndim - consumed)
        else:
            expanded.append(np.asarray(part, dtype=np.int64) if isinstance(part, list) else part)
    dim = 0
    for part in expanded:
        if isinstance(part, slice) and part.step is not None and part.step <= 0:
            raise ValueError("step must be positive")
        if isinstance(part, np.ndarray) and part.dtype == bool and part.shape != values.shape[dim : dim + part.ndim]:
            raise IndexError("the mask's shape does not match the dims it indexes")  # NumPy lets empty ones by
        dim += _consumed(part)
    arrays = [p for p in expanded if isinstance(p, np.ndarray)]
    if not arrays or not any(isinstance(p, int) for p in expanded):
        return values[tuple(expanded)]
    first, second = [], []
    for part in expanded:
        if isinstance(part, np.ndarray):
            first += [slice(None)] * _consumed(part)
            second.append(part)
        elif isinstance(part, int):
            first.append(part)
        else:
            first.append(part)
            second.append(slice(None))
    return values[tuple(first)][tuple(second)]


def _to_somegrad_key(key):
    return tuple(sg.tensor(part) if isinstance(part, np.ndarray) else part for part in key)


@fuzz(1000)
@given(data=st.data(), shape=shapes, dtype=dtypes, seed=seeds, tensor_indices=st.booleans())
def test_getitem(data, shape, dtype, seed, tensor_indices):
    values, x = make(shape, dtype, seed)
    key = data.draw(keys(shape))
    sg_key = tuple(
        sg.tensor(part, dtype=sg.int64) if tensor_indices and isinstance(part, list) else part
        for part in _to_somegrad_key(key)
    )
    with clear_error_or_result(*INDEX_ERRORS) as outcome:
        outcome.value = x[sg_key if len(sg_key) != 1 else sg_key[0]]
    try:
        expected = _pytorch_getitem(values, key)
    except (IndexError, ValueError) as why:
        assert outcome.raised is not None, f"{shape}[{key}] should be refused ({why})"
        return
    if outcome.raised is not None and expected.size == 0:
        return  # index arrays broadcast to nothing: PyTorch skips their bounds check, we don't
    assert outcome.raised is None, f"{shape}[{key}]: {outcome.raised}"
    assert_matches(outcome.value, expected, dtype)


@fuzz(500)
@given(data=st.data(), shape=shapes, dtype=dtypes, seed=seeds, scalar=st.booleans())
def test_setitem(data, shape, dtype, seed, scalar):
    """Writes through keys without repeated indices (whose order PyTorch leaves undefined) and
    without integers mixed with index arrays."""
    values, x = make(shape, dtype, seed)
    key = data.draw(keys(shape))
    has_list = any(isinstance(p, list) for p in key)
    if has_list and any(isinstance(p, int) for p in key):
        key = tuple(p for p in key if not isinstance(p, int))
    key = tuple(sorted(set(p)) if isinstance(p, list) else p for p in key)  # no repeats
    try:
        target_shape = _pytorch_getitem(values, key).shape
    except (IndexError, ValueError):
        target_shape = None
    if scalar:
        value_values, value = values.dtype.type(3), 3 if dtype is not sg.bool else True
    else:
        if target_shape is not None and data.draw(st.integers(0, 4)):
            value_shape = target_shape[data.draw(st.integers(0, len(target_shape))) :]  # broadcasts
        else:
            value_shape = data.draw(shapes)
        value_values, value = make(tuple(value_shape), dtype, data.draw(seeds))
        try:
            if target_shape is not None and np.broadcast_shapes(value_shape, target_shape) != target_shape:
                target_shape = None
        except ValueError:
            target_shape = None  # the value does not fit: refused
    with clear_error_or_result(*INDEX_ERRORS) as outcome:
        x[_to_somegrad_key(key) if len(key) != 1 else _to_somegrad_key(key)[0]] = value
    if target_shape is None:
        assert outcome.raised is not None, f"{shape}[{key}] = ... should be refused"
        return
    if outcome.raised is not None and 0 in target_shape:
        return  # as in test_getitem
    assert outcome.raised is None, f"{shape}[{key}] = {np.shape(value_values)}: {outcome.raised}"
    expected = values.copy()
    expected[tuple(np.asarray(p, dtype=np.int64) if isinstance(p, list) else p for p in key)] = value_values
    assert_matches(x, expected, dtype)


@fuzz(600)
@given(
    name=st.sampled_from(["gather", "scatter_add", "index_select"]),
    shape=shapes,
    dtype=st.sampled_from(FLOAT_DTYPES + INT_DTYPES),
    seed=seeds,
    dim=st.integers(-4, 3),
    index_shape=shapes,
    index_dtype=st.sampled_from([sg.int64, sg.int32, sg.uint8, sg.float32, sg.bool]),
    fit_index=st.booleans(),
)
def test_gather_scatter_index_select(name, shape, dtype, seed, dim, index_shape, index_dtype, fit_index):
    values, x = make(shape, dtype, seed)
    ndim = len(shape)
    bound = max(ndim, 1)
    axis = dim % bound if -bound <= dim < bound else None
    size = (shape[axis] if ndim else 1) if axis is not None else 3
    if fit_index and axis is not None:
        # mostly in range: index shape no larger than the input's outside `dim`
        index_shape = tuple(min(i, s) for i, s in zip(index_shape + shape[len(index_shape) :], shape))
        if name == "index_select":
            index_shape = index_shape[:1]
    rng = np.random.default_rng(seed + 1)
    index_values = rng.integers(-1 if not fit_index else 0, max(size, 1) + (0 if fit_index else 1), size=index_shape)
    index = sg.tensor(index_values).to(index_dtype) if index_dtype is not sg.bool else sg.tensor(index_values > 0)
    src_values, src = make(index_shape, dtype, seed + 2)
    with clear_error_or_result(name) as outcome:
        if name == "gather":
            outcome.value = x.gather(dim, index)
        elif name == "scatter_add":
            outcome.value = x.scatter_add(dim, index, src)
        else:
            outcome.value = x.index_select(dim, index)
    try:
        expected = _index_reference(name, values, axis, index_values, index_dtype, src_values, size)
    except (IndexError, ValueError, TypeError) as why:
        assert outcome.raised is not None, (
            f"{name}({shape}, dim={dim}, index {index_shape} {index_dtype}) should be refused ({why})"
        )
        return
    assert outcome.raised is None, outcome.raised
    assert_matches(outcome.value, expected, dtype)


def _index_reference(name, values, axis, index, index_dtype, src, size):
    if axis is None:
        raise IndexError("dim out of range")
    if index_dtype.is_floating_point or index_dtype is sg.bool or (name == "index_select" and index_dtype is sg.uint8):
        raise TypeError("index must be an integer tensor (int32 or int64 for index_select)")
    if index_dtype is sg.uint8 and index.min(initial=0) < 0:
        index = index.astype(np.uint8).astype(np.int64)  # -1 wraps to 255: out of range
    if index.size and (index.min() < 0 or index.max() >= size):
        raise IndexError("index out of range")
    if name == "index_select":
        if index.ndim > 1:
            raise ValueError("index must be 0-d or 1-d")
        if values.ndim == 0:
            if index.size != 1:
                raise IndexError("a 0-d input takes one index")
            return values
        return np.take(values, index.reshape(-1), axis=axis)
    if index.ndim != values.ndim:
        raise ValueError("index and input need the same number of dims")
    if any(i > s for d, (i, s) in enumerate(zip(index.shape, values.shape)) if d != axis):
        raise ValueError("index larger than the input outside dim")
    if values.ndim == 0:
        return values.copy() if name == "gather" else values + (src if index.size else 0)
    if name == "gather":
        limited = values[tuple(slice(0, s) if d != axis else slice(None) for d, s in enumerate(index.shape))]
        return np.take_along_axis(limited, index, axis=axis)
    out = values.copy()
    grid = list(np.indices(index.shape, sparse=False))
    grid[axis] = index
    np.add.at(out, tuple(grid), src)
    return out


@st.composite
def matmul_shapes(draw):
    a = list(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    b = list(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    if a and b and draw(st.booleans()):  # make the inner dims agree
        b[-2 if len(b) > 1 else 0] = a[-1]
    return tuple(a), tuple(b)


@fuzz(600)
@given(
    operand_shapes=matmul_shapes(),
    dtype=st.sampled_from(FLOAT_DTYPES + [sg.int64, sg.int32]),
    seed=seeds,
    operator=st.booleans(),
)
def test_matmul(operand_shapes, dtype, seed, operator):
    (a_values, a), (b_values, b) = make(operand_shapes[0], dtype, seed), make(operand_shapes[1], dtype, seed + 1)
    with clear_error_or_result("matmul") as outcome:
        outcome.value = a @ b if operator else sg.matmul(a, b)
    try:
        compute = np.float64 if dtype.is_floating_point else a_values.dtype
        expected = np.matmul(a_values.astype(compute), b_values.astype(compute))
    except ValueError as why:
        assert outcome.raised is not None, f"matmul {operand_shapes} should be refused ({why})"
        return
    assert outcome.raised is None, outcome.raised
    assert_matches(outcome.value, np.asarray(expected).astype(a_values.dtype), dtype)
