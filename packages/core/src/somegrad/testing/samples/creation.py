"""Samples for creation ops (full, arange) and random ops (uniform, normal, randint, multinomial).

Random ops have no reference value: their samples `check` properties of the draws (range,
moments, which categories can appear) that any correct generator has.
"""

from __future__ import annotations

import math

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    ALL,
    FLOATS,
    INTEGERS,
    ErrorSample,
    Input,
    Sample,
    register_samples,
)

F32, F64 = dtypes.float32, dtypes.float64


@register_samples("full")
def _full_samples():
    def ref(shape, dtype, fill_value):
        return np.full(shape, fill_value)

    for dtype in ALL:
        fill = True if dtype is dtypes.bool_ else 7 if not dtype.is_floating_point else -1.5
        yield Sample((), {"shape": (2, 3), "dtype": dtype, "fill_value": fill}, ref, dtype, name="2x3")
    yield Sample((), {"shape": (), "dtype": F32, "fill_value": 2.5}, ref, F32, name="0d")
    yield Sample((), {"shape": (0, 3), "dtype": F32, "fill_value": 1.0}, ref, F32, name="size0")
    for fill in (math.inf, -math.inf, math.nan, 1e30):
        yield Sample((), {"shape": (2,), "dtype": F32, "fill_value": fill}, ref, F32, name=f"fill-{fill}")


@register_samples("arange")
def _arange_samples():
    def ref(start, stop, step, dtype):
        return start + np.arange(max(0, math.ceil((stop - start) / step))) * step

    cases = (
        ("ints", 0, 5, 1, dtypes.int64),
        ("step2", 1, 10, 3, dtypes.int64),
        ("down", 5, 0, -1, dtypes.int64),
        ("empty", 3, 3, 1, dtypes.int64),
        ("float-step", 0.5, 3.0, 0.5, F32),
        ("tenths", 0.0, 1.0, 0.1, F64),
        ("negative", -2.0, 2.0, 0.75, F64),
        ("int32", 0, 7, 2, dtypes.int32),
    )
    for name, start, stop, step, dtype in cases:
        yield Sample((), {"start": start, "stop": stop, "step": step, "dtype": dtype}, ref, dtype, name=name)
    yield ErrorSample(
        (),
        {"start": 0, "stop": 5, "step": 0, "dtype": dtypes.int64},
        ValueError,
        "step must be nonzero",
        name="zero-step",
    )
    yield ErrorSample(
        (),
        {"start": 0, "stop": 5, "step": -1, "dtype": dtypes.int64},
        ValueError,
        "inconsistent with step sign",
        name="wrong-sign",
    )


def _check_uniform(out, shape, dtype, low, high):
    out = out.astype(np.float64)
    assert np.all((out >= low) & (out < high)), f"uniform draws outside [{low}, {high}): {out.min()}..{out.max()}"
    if out.size >= 1000:
        mean, spread = (low + high) / 2, (high - low) / math.sqrt(12)
        tolerance = 6 * spread / math.sqrt(out.size) + (high - low) * 1e-2 * (
            dtype in (dtypes.float16, dtypes.bfloat16)
        )
        assert abs(out.mean() - mean) < tolerance, f"uniform mean {out.mean()} is far from {mean}"
        assert abs(out.std() - spread) < 0.05 * spread, f"uniform std {out.std()} is far from {spread}"


def _check_normal(out, shape, dtype, mean, std):
    out = out.astype(np.float64)
    assert np.all(np.isfinite(out)), "normal draws must be finite"
    if out.size >= 1000:
        assert abs(out.mean() - mean) < 6 * std / math.sqrt(out.size) + abs(mean) * 1e-2, f"normal mean {out.mean()}"
        assert abs(out.std() - std) < 0.05 * std, f"normal std {out.std()} is far from {std}"


def _check_randint(out, shape, dtype, low, high):
    assert np.all((out >= low) & (out < high)), f"randint draws outside [{low}, {high})"
    if out.size >= 1000:
        assert set(np.unique(out).tolist()) == set(range(low, high)), "randint should draw every value in range"


@register_samples("uniform")
def _uniform_samples():
    for dtype in FLOATS:
        yield Sample(
            (),
            {"shape": (100, 100), "dtype": dtype, "low": 0.0, "high": 1.0},
            dtype=dtype,
            check=_check_uniform,
            name="unit",
        )
    yield Sample(
        (),
        {"shape": (50, 40), "dtype": F64, "low": -3.0, "high": 5.0},
        dtype=F64,
        check=_check_uniform,
        name="range",
    )
    yield Sample(
        (),
        {"shape": (), "dtype": F32, "low": 0.0, "high": 1.0},
        dtype=F32,
        check=_check_uniform,
        name="0d",
    )
    yield Sample(
        (),
        {"shape": (0, 3), "dtype": F32, "low": 0.0, "high": 1.0},
        dtype=F32,
        check=_check_uniform,
        name="size0",
    )


@register_samples("normal")
def _normal_samples():
    for dtype in FLOATS:
        yield Sample(
            (),
            {"shape": (100, 100), "dtype": dtype, "mean": 0.0, "std": 1.0},
            dtype=dtype,
            check=_check_normal,
            name="standard",
        )
    yield Sample(
        (),
        {"shape": (50, 40), "dtype": F64, "mean": 3.0, "std": 0.5},
        dtype=F64,
        check=_check_normal,
        name="shifted",
    )
    yield Sample(
        (),
        {"shape": (), "dtype": F32, "mean": 0.0, "std": 1.0},
        dtype=F32,
        check=_check_normal,
        name="0d",
    )
    yield Sample(
        (),
        {"shape": (0,), "dtype": F32, "mean": 0.0, "std": 1.0},
        dtype=F32,
        check=_check_normal,
        name="size0",
    )


@register_samples("randint")
def _randint_samples():
    for dtype in INTEGERS:
        yield Sample(
            (),
            {"shape": (50, 40), "dtype": dtype, "low": 0, "high": 10},
            dtype=dtype,
            check=_check_randint,
            name="0-10",
        )
    yield Sample(
        (),
        {"shape": (50, 40), "dtype": dtypes.int64, "low": -5, "high": 5},
        dtype=dtypes.int64,
        check=_check_randint,
        name="negative",
    )
    yield Sample(
        (),
        {"shape": (), "dtype": dtypes.int64, "low": 3, "high": 4},
        dtype=dtypes.int64,
        check=_check_randint,
        name="0d",
    )


def _check_multinomial(out, probs, num_samples, replacement):
    assert out.shape == probs.shape[:-1] + (num_samples,)
    rows = out.reshape(-1, num_samples)
    p = probs.reshape(-1, probs.shape[-1])
    for row, weights in zip(rows, p):
        assert np.all((row >= 0) & (row < weights.shape[0])), f"multinomial drew a category out of range: {row}"
        assert np.all(weights[row] > 0), f"multinomial drew a category of probability zero: {row} for {weights}"
        if not replacement:
            assert len(set(row.tolist())) == len(row), f"multinomial without replacement repeated a category: {row}"


@register_samples("multinomial")
def _multinomial_samples():
    probs = np.array([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    for dtype in (F32, F64):
        yield Sample(
            (Input(probs),),
            {"num_samples": 8, "replacement": True},
            dtype=dtype,
            out_dtype=dtypes.int64,
            check=_check_multinomial,
            name="replacement",
        )
    yield Sample(
        (Input(probs[1:]),),
        {"num_samples": 1, "replacement": False},
        dtype=F32,
        out_dtype=dtypes.int64,
        check=_check_multinomial,
        name="no-replacement",
    )
    yield Sample(
        (Input(probs[2] * 10),),
        {"num_samples": 4, "replacement": False},
        dtype=F64,
        out_dtype=dtypes.int64,
        check=_check_multinomial,
        name="1d-unnormalised",
    )
    yield ErrorSample(
        (Input(probs),),
        {"num_samples": 5, "replacement": False},
        ValueError,
        "cannot draw 5 samples without replacement",
        name="too-many",
    )
    yield ErrorSample(
        (Input(np.ones((2, 2, 2))),),
        {"num_samples": 1, "replacement": True},
        ValueError,
        "must be 1-d or 2-d",
        name="bad-rank",
    )


# --- tensors shaped like another: implicit composites over full ---------------------------------
def _like_samples(op, value):
    @register_samples(op)
    def samples():
        def ref(x, dtype, fill_value=value):
            return np.full(x.shape, fill_value)

        for dtype in ALL:
            fill = {} if value is not None else {"fill_value": True if dtype is dtypes.bool_ else 3}
            yield Sample((Input(np.ones((2, 3))),), {"dtype": dtype, **fill}, ref, dtype, name="2x3", grad=False)
        fill = {} if value is not None else {"fill_value": -2.5}
        yield Sample((Input(np.ones((0, 2))),), {"dtype": F64, **fill}, ref, F64, name="size0", grad=False)
        yield Sample((Input(np.array(1.0)),), {"dtype": F32, **fill}, ref, F32, name="0d", grad=False)


_like_samples("full_like", None)
_like_samples("zeros_like", 0)
_like_samples("ones_like", 1)


@register_samples("fill")
def _fill_samples():
    def ref(x, value):
        return np.full(x.shape, value)

    for dtype in ALL:
        value = np.array(True if dtype is dtypes.bool_ else 4)
        yield Sample((Input(np.zeros((2, 3))), Input(value)), {}, ref, dtype, name="2x3")
    # the gradient reaches the value: the sum of the incoming gradient
    yield Sample((Input(np.zeros((3, 2))), Input(np.array(-1.25))), {}, ref, F64, name="grad")
    yield Sample((Input(np.zeros((0, 2))), Input(np.array(2.0))), {}, ref, F64, name="size0")
