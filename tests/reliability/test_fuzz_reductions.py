"""Fuzzed reductions and scans: random shapes (empty ones too), dtypes, `dim` (ints, tuples,
out of range, repeated) and `keepdim`, against NumPy with PyTorch's conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given
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

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, for log(0) and the like


@pytest.fixture(autouse=True)
def _no_hangs():
    with time_limit(120):
        yield


dims = st.one_of(
    st.none(),
    st.integers(-5, 4),
    st.lists(st.integers(-5, 4), min_size=0, max_size=3).map(tuple),
)


def _axes(dim, ndim, empty_means_all=True):
    """`dim` as NumPy axes with PyTorch's conventions (0-d tensors take dim 0 and -1; an empty
    tuple reduces everything), or raise like NumPy for a bad dim."""
    if dim is None or (dim == () and empty_means_all):
        return None
    listed = (dim,) if isinstance(dim, int) else dim
    bound = max(ndim, 1)
    for d in listed:
        if not -bound <= d < bound:
            raise IndexError(f"dim {d} out of range")
    normalized = [d % bound for d in listed]
    if len(set(normalized)) != len(normalized):
        raise ValueError("repeated dim")
    if ndim == 0:
        return None
    return tuple(normalized)


def _sum_dtype(dtype):
    return dtype if dtype.is_floating_point else sg.int64


# name -> (call(x, dim, keepdim), NumPy reference(values, axes, keepdim), result dtype(input dtype))
REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda v, a, k: np.sum(v, axis=a, keepdims=k), _sum_dtype),
    "prod": (lambda x, d, k: x.prod(d, keepdim=k), lambda v, a, k: np.prod(v, axis=a, keepdims=k), _sum_dtype),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda v, a, k: np.mean(v, axis=a, keepdims=k), None),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda v, a, k: np.amax(v, axis=a, keepdims=k), None),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda v, a, k: np.amin(v, axis=a, keepdims=k), None),
    "var": (lambda x, d, k: x.var(d, keepdim=k), lambda v, a, k: np.var(v, axis=a, keepdims=k, ddof=1), None),
    "std": (lambda x, d, k: x.std(d, correction=0, keepdim=k), lambda v, a, k: np.std(v, axis=a, keepdims=k), None),
    "logsumexp": (
        lambda x, d, k: x.logsumexp(d, keepdim=k),
        lambda v, a, k: np.log(np.sum(np.exp(v), axis=a, keepdims=k)),
        None,
    ),
    # bool results, but uint8 for a uint8 input (as in PyTorch)
    "all": (
        lambda x, d, k: x.all(d, keepdim=k),
        lambda v, a, k: np.all(v, axis=a, keepdims=k),
        lambda t: t if t is sg.uint8 else sg.bool,
    ),
    "any": (
        lambda x, d, k: x.any(d, keepdim=k),
        lambda v, a, k: np.any(v, axis=a, keepdims=k),
        lambda t: t if t is sg.uint8 else sg.bool,
    ),
}
FLOAT_ONLY = {"mean", "var", "std"}
NONEMPTY = {"amax", "amin"}


@fuzz(1500)
@given(
    name=st.sampled_from(sorted(REDUCTIONS)), shape=shapes, dtype=dtypes, seed=seeds, dim=dims, keepdim=st.booleans()
)
@example(name="var", shape=(2, 3), dtype=sg.float32, seed=0, dim=(), keepdim=False)  # () is every dim
@example(name="std", shape=(2, 3), dtype=sg.float16, seed=0, dim=(), keepdim=True)
def test_reductions(name, shape, dtype, seed, dim, keepdim):
    values, x = make(shape, dtype, seed)
    call, reference, result_dtype = REDUCTIONS[name]
    with clear_error_or_result(name) as outcome:
        outcome.value = call(x, dim, keepdim)
    try:
        # PyTorch reads dim=() as every dim, except for all/any (no dim); its logsumexp takes
        # dim=() only with keepdim=True (and then reduces every dim); dim=None, which
        # PyTorch's logsumexp refuses, is every dim here.
        no_dims = ("all", "any")
        axes = _axes(dim, x.ndim, empty_means_all=name not in no_dims)
        if dim == () and name in no_dims:
            axes = ()
        if dim == () and name == "logsumexp" and not keepdim:
            raise ValueError("logsumexp: dim=() needs keepdim=True")
        if name in FLOAT_ONLY and not dtype.is_floating_point:
            raise TypeError("float only")
        if name in NONEMPTY and 0 in [x.shape[a] for a in (range(x.ndim) if axes is None else axes)]:
            raise IndexError("empty")
    except (IndexError, ValueError, TypeError) as why:
        assert outcome.raised is not None, f"{name}(shape {shape}, dim={dim}) should be refused ({why})"
        return
    assert outcome.raised is None, outcome.raised
    out_dtype = result_dtype(dtype) if result_dtype else dtype
    if name == "logsumexp" and not dtype.is_floating_point:
        out_dtype = sg.get_default_dtype()
    with np.errstate(all="ignore"):
        if out_dtype.is_floating_point:
            compute = values.astype(np.float64)
        elif out_dtype is sg.bool:
            compute = values
        else:  # integer sums and products in int64, wrapping as PyTorch's do
            compute = values.astype(NUMPY[out_dtype])
        if name == "prod" and out_dtype.is_floating_point:
            # A running product that overflows the dtype before it meets a zero is NaN in the
            # dtype (inf * 0), as in PyTorch, where the float64 reference says 0: not compared.
            partial = np.cumprod(np.abs(compute).ravel()).astype(NUMPY[out_dtype])
            assume(np.all(np.isfinite(partial)))
        if x.ndim == 0 and axes is None and keepdim:
            expected = reference(compute, None, False)
        else:
            expected = reference(compute, axes, keepdim)
    assert_matches(outcome.value, np.asarray(expected).astype(NUMPY[out_dtype]), out_dtype)


# name -> (call(x, dim), NumPy reference(values, axis), result dtype(input dtype))
ALONG_ONE_DIM = {
    "softmax": (lambda x, d: x.softmax(d), lambda v, a: np.exp(v - np.log(np.sum(np.exp(v), axis=a, keepdims=True)))),
    "log_softmax": (lambda x, d: x.log_softmax(d), lambda v, a: v - np.log(np.sum(np.exp(v), axis=a, keepdims=True))),
    "cumsum": (lambda x, d: x.cumsum(d), lambda v, a: np.cumsum(v, axis=a)),
    "argmax": (lambda x, d: x.argmax(d), lambda v, a: np.argmax(v, axis=a)),
    "argmin": (lambda x, d: x.argmin(d), lambda v, a: np.argmin(v, axis=a)),
    "max": (lambda x, d: x.max(d), lambda v, a: (np.amax(v, axis=a), np.argmax(v, axis=a))),
    "min": (lambda x, d: x.min(d), lambda v, a: (np.amin(v, axis=a), np.argmin(v, axis=a))),
    "flip": (lambda x, d: x.flip(d), lambda v, a: np.flip(v, axis=a)),
}


@fuzz(800)
@given(name=st.sampled_from(sorted(ALONG_ONE_DIM)), shape=shapes, dtype=dtypes, seed=seeds, dim=st.integers(-5, 4))
@example(name="cumsum", shape=(), dtype=sg.float32, seed=0, dim=0)  # a 0-d scan
def test_ops_along_one_dim(name, shape, dtype, seed, dim):
    values, x = make(shape, dtype, seed)
    call, reference = ALONG_ONE_DIM[name]
    with clear_error_or_result(name) as outcome:
        outcome.value = call(x, dim)
    bound = max(x.ndim, 1)
    refused = not -bound <= dim < bound
    if name in ("argmax", "argmin", "max", "min") and not refused and x.ndim and x.shape[dim % bound] == 0:
        # Refused along an empty dim, as PyTorch; along a non-empty dim of an empty tensor
        # the result is empty, as in PyTorch.
        refused = True
    floating = name in ("softmax", "log_softmax")
    if floating and not dtype.is_floating_point and not refused:
        # Not implemented for integers, as in PyTorch; an empty input comes back as it is.
        if x.numel():
            assert outcome.raised is not None, f"{name} of {dtype.name} should be refused"
            return
        assert outcome.raised is None and outcome.value.dtype is dtype and outcome.value.shape == x.shape
        return
    if refused:
        assert outcome.raised is not None, f"{name}(shape {shape}, dim={dim}) should be refused"
        return
    assert outcome.raised is None, outcome.raised
    axis = dim % bound if x.ndim else None
    with np.errstate(all="ignore"):
        compute = values.astype(np.float64) if (dtype.is_floating_point or floating) else values
        if x.ndim == 0:
            expected = reference(compute.reshape(1), 0)
            expected = (
                tuple(np.asarray(e).reshape(()) for e in expected)
                if name in ("max", "min")
                else np.asarray(expected).reshape(())
            )
        else:
            expected = reference(compute, axis)
    if name in ("max", "min"):
        values_out, indices_out = outcome.value
        assert_matches(values_out, np.asarray(expected[0]).astype(NUMPY[dtype]), dtype)
        assert_matches(indices_out, expected[1], sg.int64)
    elif name in ("argmax", "argmin"):
        assert_matches(outcome.value, expected, sg.int64)
    else:
        out_dtype = (
            (dtype if dtype.is_floating_point else sg.get_default_dtype())
            if floating
            else (dtype if dtype.is_floating_point or name == "flip" else sg.int64)
        )
        assert_matches(outcome.value, np.asarray(expected).astype(NUMPY[out_dtype]), out_dtype)
