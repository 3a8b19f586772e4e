"""Fuzzed movement ops: reshape, permute, transpose, movedim, squeeze, unsqueeze, flatten,
expand, repeat, cat, stack, split, chunk, narrow, pad, tril/triu, with random (often wrong)
arguments. Each call returns what NumPy computes, or raises a clear error naming the op."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from reliability_fuzzing import assert_matches, clear_error_or_result, dtypes, fuzz, make, seeds, shapes, time_limit

import somegrad as sg

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(autouse=True)
def _no_hangs():
    with time_limit(120):
        yield


small_ints = st.integers(-5, 5)


def _bad(expected_refusal, outcome, what):
    assert outcome.raised is not None, f"{what} should be refused ({expected_refusal})"


def _norm(dim, ndim):
    """PyTorch's dim normalisation, or None when out of range."""
    bound = max(ndim, 1)
    return dim % bound if -bound <= dim < bound else None


@st.composite
def reshape_targets(draw, shape):
    numel = math.prod(shape)
    if draw(st.booleans()) and numel:
        # a valid target: split the element count into factors, maybe with one -1
        factors, rest = [], numel
        for p in (2, 3, 2, 5, 7):
            while rest % p == 0 and draw(st.booleans()):
                factors.append(p)
                rest //= p
        factors.append(rest)
        target = draw(st.permutations(factors))
        if draw(st.booleans()):
            target[draw(st.integers(0, len(target) - 1))] = -1
        return tuple(target)
    return tuple(draw(st.lists(st.integers(-3, 6), max_size=4)))


@fuzz(500)
@given(data=st.data(), shape=shapes, dtype=dtypes, seed=seeds)
@example(data=None, shape=(2, 3), dtype=sg.float32, seed=0).via("two negative sizes whose product is right")
def test_reshape(data, shape, dtype, seed):
    values, x = make(shape, dtype, seed)
    target = (-2, -3) if data is None else data.draw(reshape_targets(shape))
    with clear_error_or_result("reshape", "view") as outcome:
        outcome.value = x.reshape(target)
    try:
        if any(s < -1 for s in target):
            raise ValueError("negative size")
        expected = values.reshape(target)
    except ValueError as why:
        return _bad(why, outcome, f"reshape {shape} to {target}")
    assert_matches(outcome.value, expected, dtype)


@fuzz(800)
@given(
    name=st.sampled_from(["permute", "transpose", "movedim", "squeeze", "unsqueeze", "flatten", "tril", "triu"]),
    shape=shapes,
    dtype=dtypes,
    seed=seeds,
    dims=st.lists(small_ints, max_size=5),
    dim_tuple=st.booleans(),
)
def test_dim_arguments(name, shape, dtype, seed, dims, dim_tuple):
    values, x = make(shape, dtype, seed)
    ndim = len(shape)
    a, b = (dims + [0, 0])[:2]
    calls = {
        "permute": lambda: x.permute(*dims),
        "transpose": lambda: x.transpose(a, b),
        "movedim": lambda: x.movedim(a, b),
        "squeeze": lambda: x.squeeze(tuple(dims) if dim_tuple else (dims[0] if dims else None)),
        "unsqueeze": lambda: x.unsqueeze(a),
        "flatten": lambda: x.flatten(a, b),
        "tril": lambda: x.tril(a),
        "triu": lambda: x.triu(a),
    }
    with clear_error_or_result(name) as outcome:
        outcome.value = calls[name]()
    try:
        expected = _movement_reference(name, values, dims, dim_tuple, a, b, ndim)
    except (ValueError, IndexError) as why:
        return _bad(why, outcome, f"{name}(shape {shape}, {dims})")
    assert outcome.raised is None, outcome.raised
    assert_matches(outcome.value, expected, dtype)


def _movement_reference(name, v, dims, dim_tuple, a, b, ndim):
    def norm(d, n=ndim):
        out = _norm(d, n)
        if out is None:
            raise IndexError(f"dim {d} out of range")
        return out

    if name == "permute":
        normalized = [norm(d) for d in dims]
        if sorted(normalized) != list(range(ndim)):
            raise ValueError("not a permutation")
        return np.transpose(v, normalized) if ndim else v
    if name == "transpose":
        a, b = norm(a), norm(b)
        return np.swapaxes(v, a, b) if ndim else v
    if name == "movedim":
        a, b = norm(a), norm(b)
        return np.moveaxis(v, a, b) if ndim else v
    if name == "squeeze":
        if dim_tuple:
            chosen = [norm(d) for d in dims]
            if len(set(chosen)) != len(chosen):
                raise ValueError("repeated dim")
        else:
            chosen = list(range(ndim)) if not dims else [norm(dims[0])]
        keep = [s for i, s in enumerate(v.shape) if not (i in chosen and s == 1)]
        return v.reshape(keep)
    if name == "unsqueeze":
        return np.expand_dims(v, norm(a, ndim + 1))
    if name == "flatten":
        if ndim == 0:
            norm(a), norm(b)
            return v.reshape(1)
        a, b = norm(a), norm(b)
        if a > b:
            raise ValueError("start after end")
        return v.reshape(v.shape[:a] + (math.prod(v.shape[a : b + 1]),) + v.shape[b + 1 :])
    if name in ("tril", "triu"):
        if ndim < 2:
            raise ValueError("needs 2 dims")
        return (np.tril if name == "tril" else np.triu)(v, a)
    raise AssertionError(name)


@st.composite
def expand_targets(draw, shape):
    if draw(st.booleans()):
        lead = draw(st.lists(st.integers(0, 3), max_size=2))
        tail = [draw(st.sampled_from([s, -1] + ([2, 3] if s == 1 else []))) for s in shape]
        return tuple(lead + tail)
    return tuple(draw(st.lists(st.integers(-2, 4), max_size=5)))


@fuzz(500)
@given(data=st.data(), shape=shapes, dtype=dtypes, seed=seeds, repeat=st.booleans())
def test_expand_and_repeat(data, shape, dtype, seed, repeat):
    values, x = make(shape, dtype, seed)
    if repeat:
        sizes = tuple(data.draw(st.lists(st.integers(-1, 3), max_size=5)))
        with clear_error_or_result("repeat") as outcome:
            outcome.value = x.repeat(*sizes) if sizes else x.repeat(())
        if len(sizes) < len(shape) or any(s < 0 for s in sizes):
            return _bad("fewer sizes than dims, or a negative one", outcome, f"repeat {shape} by {sizes}")
        assert_matches(outcome.value, np.tile(values, sizes) if sizes else values, dtype)
        return
    target = data.draw(expand_targets(shape))
    with clear_error_or_result("expand") as outcome:
        outcome.value = x.expand(*target) if target else x.expand(())
    lead = len(target) - len(shape)
    try:
        if lead < 0 or any(s == -1 for s in target[: max(lead, 0)]) or any(s < -1 for s in target):
            raise ValueError("bad target")
        resolved = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(target))
        expected = np.broadcast_to(values, resolved)
    except ValueError as why:
        return _bad(why, outcome, f"expand {shape} to {target}")
    assert_matches(outcome.value, expected, dtype)


@st.composite
def tensor_lists(draw):
    """1-4 tensors of one dtype whose shapes agree except along one dim (or, sometimes, not)."""
    base = list(draw(shapes))
    dtype = draw(dtypes)
    along = draw(st.integers(0, max(len(base) - 1, 0)))
    specs = []
    for _ in range(draw(st.integers(1, 4))):
        shape = list(base)
        if shape and draw(st.booleans()):
            shape[along] = draw(st.integers(0, 3))
        if draw(st.integers(0, 9)) == 0:
            shape = list(draw(shapes))  # a misfit
        specs.append((tuple(shape), dtype, draw(seeds)))
    return specs


@fuzz(500)
@given(specs=tensor_lists(), dim=small_ints, stack=st.booleans())
def test_cat_and_stack(specs, dim, stack):
    made = [make(*spec) for spec in specs]
    arrays, tensors = [m[0] for m in made], [m[1] for m in made]
    name = "stack" if stack else "cat"
    with clear_error_or_result(name) as outcome:
        outcome.value = (sg.stack if stack else sg.cat)(tensors, dim)
    try:
        if not stack and any(a.ndim == 0 for a in arrays):
            raise ValueError("0-d tensors")
        if not stack:  # PyTorch's legacy rule: 1-D empty tensors beside others are skipped
            kept = [a for a in arrays if a.shape != (0,)]
            arrays = kept if kept and len(kept) < len(arrays) else arrays
        ndim = arrays[0].ndim + (1 if stack else 0)
        axis = _norm(dim, ndim)
        if axis is None or ndim == 0:
            raise ValueError("dim out of range, or 0-d tensors")
        expected = (np.stack if stack else np.concatenate)(arrays, axis=axis)
    except ValueError as why:
        return _bad(why, outcome, f"{name} of {[a.shape for a in arrays]} along {dim}")
    assert_matches(outcome.value, expected, specs[0][1])


@fuzz(600)
@given(
    shape=shapes,
    dtype=dtypes,
    seed=seeds,
    dim=small_ints,
    how=st.sampled_from(["split_size", "sections", "chunk", "narrow"]),
    numbers=st.lists(st.integers(-2, 5), min_size=1, max_size=4),
)
def test_split_chunk_narrow(shape, dtype, seed, dim, how, numbers):
    values, x = make(shape, dtype, seed)
    name = "split" if how in ("split_size", "sections") else how
    with clear_error_or_result(name, "index") as outcome:
        if how == "split_size":
            outcome.value = x.split(numbers[0], dim)
        elif how == "sections":
            outcome.value = x.split(numbers, dim)
        elif how == "chunk":
            outcome.value = x.chunk(numbers[0], dim)
        else:
            outcome.value = x.narrow(dim, numbers[0], (numbers + [1])[1])
    axis = _norm(dim, x.ndim)
    if axis is None or x.ndim == 0:
        return _bad("dim out of range, or a 0-d tensor", outcome, f"{how}({shape}, dim={dim})")
    size = shape[axis]

    def piece(start, length):
        return np.take(values, range(start, start + length), axis=axis)

    if how == "split_size" or how == "chunk":
        n = numbers[0]
        if how == "split_size" and n == 0 and size == 0:
            return  # PyTorch splits an empty dim by 0 into one empty piece; refusing is fine too
        if n <= 0:
            return _bad("a non-positive size", outcome, f"{how} by {n}")
        step = n if how == "split_size" else max(1, -(-size // n))
        expected = [piece(s, min(step, size - s)) for s in range(0, size, step)] or [piece(0, 0)]
    elif how == "sections":
        if sum(numbers) != size or any(n < 0 for n in numbers):
            return _bad("sections that do not add up", outcome, f"split {size} into {numbers}")
        starts = np.cumsum([0] + numbers[:-1])
        expected = [piece(int(s), n) for s, n in zip(starts, numbers)]
    else:
        start, length = numbers[0], (numbers + [1])[1]
        # PyTorch: start may be negative (from the end), length must fit.
        start = start + size if start < 0 else start
        if not 0 <= start <= size or length < 0 or start + length > size:
            return _bad("out of range", outcome, f"narrow({size}, {numbers[0]}, {length})")
        expected = [piece(start, length)]
    assert outcome.raised is None, outcome.raised
    pieces = list(outcome.value) if isinstance(outcome.value, tuple) else [outcome.value]
    assert len(pieces) == len(expected)
    for got, want in zip(pieces, expected):
        assert_matches(got, want, dtype)


@fuzz(300)
@given(
    shape=shapes,
    dtype=dtypes,
    seed=seeds,
    pad=st.lists(st.integers(-1, 3), max_size=9),
    value=st.sampled_from([0, 1.5, -2]),
)
def test_pad(shape, dtype, seed, pad, value):
    values, x = make(shape, dtype, seed)
    with clear_error_or_result("pad") as outcome:
        outcome.value = sg.pad(x, pad, value=value)
    if len(pad) % 2 or len(pad) // 2 > len(shape) or any(p < 0 for p in pad):
        # Odd lengths and too many pairs are refused by PyTorch too; negative padding (which
        # crops in PyTorch) is refused here.
        return _bad("a bad pad", outcome, f"pad {shape} by {pad}")
    widths = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        widths[len(shape) - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    fill = np.asarray(value).astype(values.dtype)
    assert_matches(outcome.value, np.pad(values, widths, constant_values=fill) if widths else values, dtype)
