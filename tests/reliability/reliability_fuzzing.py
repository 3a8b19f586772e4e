"""What the fuzz tests share: hypothesis strategies for shapes, dtypes and values, and the
contract every call must keep (the right result, or a clear error naming the op)."""

from __future__ import annotations

import contextlib
import re
import signal
import sys

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import somegrad as sg

# derandomize: the same examples on every run (CI stability); deadline: timings vary on CI.
_FUZZ = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None)


def fuzz(max_examples: int):
    """The fuzz tests' hypothesis settings, with `max_examples` examples."""
    return settings(_FUZZ, max_examples=max_examples)


CLEAR_ERRORS = (ValueError, TypeError, IndexError, RuntimeError)

FLOAT_DTYPES = [sg.float32, sg.float64, sg.float16]
INT_DTYPES = [sg.int64, sg.int32, sg.int8, sg.uint8]
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + [sg.bool]

NUMPY = {
    sg.float32: np.float32,
    sg.float64: np.float64,
    sg.float16: np.float16,
    sg.int64: np.int64,
    sg.int32: np.int32,
    sg.int16: np.int16,
    sg.int8: np.int8,
    sg.uint8: np.uint8,
    sg.bool: np.bool_,
}

dtypes = st.sampled_from(ALL_DTYPES)
float_dtypes = st.sampled_from(FLOAT_DTYPES)
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
seeds = st.integers(0, 2**32 - 1)


def random_values(shape, dtype, seed, low=-6, high=7):
    """NumPy values for a tensor: small integers, halves and quarters, zeros and negatives,
    exactly representable in every float dtype."""
    rng = np.random.default_rng(seed)
    if dtype is sg.bool:
        values = rng.random(shape) < 0.5
    elif dtype is sg.uint8:
        values = rng.integers(0, high, size=shape).astype(np.uint8)
    elif not dtype.is_floating_point:
        values = rng.integers(low, high, size=shape).astype(NUMPY[dtype])
    else:
        values = (rng.integers(4 * low, 4 * high, size=shape) / 4).astype(NUMPY[dtype])
    return np.asarray(values)  # an array even for shape ()


def make(shape, dtype, seed, **kwargs):
    values = random_values(shape, dtype, seed, **kwargs)
    return values, sg.tensor(values, dtype=dtype)


@contextlib.contextmanager
def clear_error_or_result(*names):
    """Run the body; an exception must be a ValueError/TypeError/IndexError/RuntimeError whose
    message names one of `names` (the op, as a word: "pow" is not named by "powers"). Anything
    else propagates and fails the test.

        with clear_error_or_result("sum") as outcome:
            outcome.value = sg.sum(x, dim)
        if outcome.raised: return
    """
    outcome = _Outcome()
    try:
        yield outcome
    except CLEAR_ERRORS as exc:
        message = str(exc)
        assert any(re.search(rf"(?<![\w.]){re.escape(name)}\b", message) for name in names), (
            f"{type(exc).__name__} whose message does not name {' or '.join(names)}: {message!r}"
        )
        outcome.raised = exc


class _Outcome:
    value = None
    raised = None


def tolerance(dtype):
    if dtype is sg.float16:
        return dict(rtol=4e-3, atol=4e-3)
    if dtype is sg.float32 or dtype is sg.bfloat16:
        return dict(rtol=2e-6, atol=2e-6)
    return dict(rtol=1e-12, atol=1e-12)


def assert_matches(result, expected, dtype=None):
    """`result` (a Tensor) has `expected`'s shape and values (NumPy), and `dtype` if given."""
    assert isinstance(result, sg.Tensor), type(result)
    if dtype is not None:
        assert result.dtype is dtype, (result.dtype, dtype)
    actual = result.detach().numpy()
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if result.dtype.is_floating_point:
        np.testing.assert_allclose(
            actual.astype(np.float64), expected.astype(np.float64), equal_nan=True, **tolerance(result.dtype)
        )
    else:
        np.testing.assert_array_equal(actual, expected.astype(actual.dtype))


@contextlib.contextmanager
def time_limit(seconds):
    """Fail instead of hanging (POSIX main thread only; elsewhere a no-op)."""
    if sys.platform == "win32" or not hasattr(signal, "SIGALRM"):
        yield
        return

    def fail(*_):
        raise TimeoutError(f"the fuzz test ran for more than {seconds} s: a hang?")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
