"""The generic conformance tests: one per property, parametrised over backends x op samples
by the `somegrad.testing.plugin` pytest plugin."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from somegrad import dtypes
from somegrad.ops import OPS
from somegrad.ops.dispatch import use_decompositions
from somegrad.testing import cases
from somegrad.testing.comparison import assert_close
from somegrad.testing.gradcheck import check_grads, vjp
from somegrad.testing.samples import numpy_dtype, ops_without_samples, samples_for

F32, F64 = dtypes.float32, dtypes.float64


def test_every_op_has_samples():
    missing = ops_without_samples()
    assert not missing, (
        f"these op specs have no conformance samples: {missing}; register them with "
        "somegrad.testing.samples.register_samples"
    )


def test_no_missing_primitives(backend_name, backend):
    from somegrad.cli import op_coverage

    missing = op_coverage(backend)["missing"]
    assert not missing, f"backend {backend_name!r} has no kernel for the primitives {missing}"


def test_dtypes_round_trip(backend):
    device = cases.device_of(backend)
    for dtype in backend.dtypes:
        host = np.array([[0, 1, 2], [3, 4, 5]]).astype(numpy_dtype(dtype) or np.float32)
        array = backend.from_numpy(host, dtype, device)
        back = np.asarray(backend.to_numpy(array))
        assert back.shape == (2, 3)
        assert np.array_equal(back.astype(np.float64), host.astype(np.float64)), dtype
        if numpy_dtype(dtype) is not None:
            assert back.dtype == numpy_dtype(dtype), f"{dtype.name} comes back as {back.dtype}"


def _run(backend, case, tensors):
    with use_decompositions(case.decomposed):
        return cases.call(backend, case.sample, tensors)


def test_forward(backend, forward_case):
    """The result has the right dtype, device, shape and values (vs. the NumPy reference)."""
    case, sample = forward_case, forward_case.sample
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        tensors, host = cases.make_inputs(backend, sample, case.dtype)
        if sample.check is not None:
            backend.seed(1234)
        out = _run(backend, case, tensors)
    warned = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not warned, (
        f"{sample.op} ({case.id}): the backend warned {warned[0]!r}; inf and NaN results come back "
        "without a warning, as in PyTorch"
    )
    out_dtype = cases._dtype_on(backend, sample.out_dtype)
    assert out.dtype is out_dtype, f"{sample.op}: result dtype {out.dtype.name}, expected {out_dtype.name}"
    assert out.device == cases.device_of(backend), f"{sample.op}: result on {out.device}"
    actual = cases.to_host(backend, out)
    native = numpy_dtype(out_dtype)
    if native is not None:
        assert actual.dtype == native, f"{sample.op}: the backend array holds {actual.dtype}, expected {native}"
    assert tuple(actual.shape) == tuple(out.shape), f"{sample.op}: array shape {actual.shape}, tensor {out.shape}"
    if sample.check is not None:
        sample.check(actual, *host, **sample.params)
        return
    expected = cases.expected_output(sample, host, out_dtype)
    assert actual.shape == expected.shape, f"{sample.op}: result shape {actual.shape}, expected {expected.shape}"
    ran_decomposition = case.decomposed or sample.op not in backend.kernels
    rtol, atol = cases.forward_tolerance(sample, out_dtype, case.spec, ran_decomposition)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True, msg=f"{sample.op} ({case.id})")


def _function_of_float_inputs(backend, case, tensors):
    """`(fn, leaves)`: the op as a function of the inputs that require grad only."""
    leaves = [t for t in tensors if t.requires_grad]
    positions = [i for i, t in enumerate(tensors) if t.requires_grad]

    def fn(*xs):
        merged = list(tensors)
        for i, x in zip(positions, xs):
            merged[i] = x
        return _run(backend, case, merged)

    return fn, leaves


def test_gradient(backend_name, backend, grad_case):
    """float64: the backward agrees with finite differences, to second order. Without
    float64: the float32 gradients agree with the reference backend's."""
    case, sample = grad_case, grad_case.sample
    tensors, _ = cases.make_inputs(backend, sample, case.dtype, requires_grad=True)
    fn, leaves = _function_of_float_inputs(backend, case, tensors)
    if not leaves:
        pytest.skip("no floating point input")
    if F64 in backend.dtypes:
        check_grads(fn, leaves, order=sample.grad_order)
        return
    try:
        reference = __import__("somegrad").backends.get_backend(cases.REFERENCE_BACKEND)
    except RuntimeError as exc:
        pytest.skip(f"{backend_name} has no float64 and the reference backend cannot load: {exc}")
    ref_tensors, _ = cases.make_inputs(reference, sample, F64, requires_grad=True)
    ref_fn, ref_leaves = _function_of_float_inputs(reference, case, ref_tensors)
    out = fn(*leaves)
    u = np.random.default_rng(0).standard_normal(out.shape)
    _, grads = vjp(fn, leaves, u)
    _, ref_grads = vjp(ref_fn, ref_leaves, u)
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        if g is None or r is None:
            assert g is None and r is None, f"{sample.op}: input {i} gets a gradient on one backend only"
            continue
        assert_close(
            cases.to_host(backend, g),
            cases.to_host(reference, r),
            rtol=1e-4,
            atol=1e-5,
            msg=f"{sample.op}: gradient of input {i} vs the {cases.REFERENCE_BACKEND} backend",
        )


def test_composite_matches_decomposition(backend, composite_case):
    """A fused kernel agrees with the op's reference decomposition, in value and gradient."""
    case, sample = composite_case, composite_case.sample
    spec = case.spec
    differentiable = (
        sample.grad and spec.differentiable and case.dtype in (F32, F64) and sample.out_dtype.is_floating_point
    )
    tensors, _ = cases.make_inputs(backend, sample, case.dtype, requires_grad=differentiable)
    results = {}
    for decomposed in (False, True):
        mode = cases.Case(sample, decomposed, case.dtype)
        fn, leaves = _function_of_float_inputs(backend, mode, tensors)
        if differentiable and leaves:
            out = fn(*leaves)
            u = np.random.default_rng(0).standard_normal(out.shape)
            out, grads = vjp(fn, leaves, u)
        else:
            out, grads = _run(backend, mode, tensors), []
        results[decomposed] = out, grads
    (fused, fused_grads), (reference, reference_grads) = results[False], results[True]
    rtol, atol = cases.forward_tolerance(sample, case.dtype, spec, True)
    assert_close(
        fused.detach(),
        reference.detach(),
        rtol=rtol,
        atol=atol,
        equal_nan=True,
        msg=f"{sample.op}: fused kernel vs decomposition",
    )
    for i, (g, r) in enumerate(zip(fused_grads, reference_grads)):
        if g is None or r is None:
            continue
        assert_close(
            g,
            r,
            rtol=max(rtol, 1e-5),
            atol=atol * 10,
            equal_nan=True,
            msg=f"{sample.op}: gradient of input {i}, fused kernel vs decomposition",
        )


def test_error(backend, error_case):
    """Bad input raises the op's clear error on every backend: the shape rule's, before any
    kernel runs, or a data-dependent check's, from the fused kernel and the decomposition alike."""
    sample = error_case.sample
    tensors, _ = cases.make_inputs(backend, sample, error_case.dtype)
    with pytest.raises(sample.error, match=re.escape(sample.match)):
        _run(backend, error_case, tensors)


def test_random_ops_follow_the_seed(backend):
    """Reseeding the backend replays the same draws; a saved generator state restores them."""
    device = cases.device_of(backend)
    for name in [n for n, spec in OPS.items() if spec.kind == "random" and not spec.inputs]:
        sample = next(s for s in samples_for(name) if cases._supported(backend, s, s.dtype))
        backend.seed(7)
        first = cases.to_host(backend, cases.call(backend, sample, []))
        state = backend.get_rng_state()
        second = cases.to_host(backend, cases.call(backend, sample, []))
        backend.seed(7)
        assert np.array_equal(cases.to_host(backend, cases.call(backend, sample, [])), first), name
        backend.set_rng_state(state)
        assert np.array_equal(cases.to_host(backend, cases.call(backend, sample, [])), second), name
    assert device is not None


def _binary_public_functions():
    return [
        spec
        for spec in OPS.values()
        if spec.kind == "elementwise" and len(spec.inputs) == 2 and spec.function is not None and spec.export
    ]


def test_python_scalars_promote_like_tensors_of_their_result_type(backend):
    """A binary op's public function given a Python number computes what it computes for a tensor
    of the number converted to PyTorch's result dtype (`x + 2.5` with int x is float32)."""
    import somegrad as sg

    device = cases.device_of(backend)
    checked = 0
    for spec in _binary_public_functions():
        fn = spec.function
        for dtype in (dtypes.float32, dtypes.int64, dtypes.bool_):
            if dtype not in backend.dtypes:
                continue
            x = sg.tensor([[0, 1, 3], [2, 1, 0]], device=device).to(dtype)
            for scalar in (2, 2.5, True):
                for swapped in (False, True):
                    wide = sg.full(x.shape, scalar, dtype=dtypes.result_type(x, scalar), device=device)
                    args, reference_args = ((scalar, x), (wide, x)) if swapped else ((x, scalar), (x, wide))
                    try:
                        expected = fn(*reference_args)
                    except Exception as exc:
                        with pytest.raises((type(exc), TypeError)) as refused:
                            fn(*args)
                        if not isinstance(refused.value, type(exc)):  # tensors only, as PyTorch's isclose
                            assert "must be a Tensor" in str(refused.value), f"{spec.name}: {refused.value}"
                        continue
                    try:
                        out = fn(*args)
                    except TypeError as exc:
                        # an op that takes tensors only, as PyTorch's (`isclose(x, 2)`)
                        assert "must be a Tensor" in str(exc), f"{spec.name}: {exc}"
                        continue
                    except RuntimeError as exc:
                        # refused for the number's kind (`x - True`, as PyTorch): then a tensor of
                        # that kind is refused too
                        own = sg.full(x.shape, scalar, dtype=dtypes.scalar_dtype(scalar), device=device)
                        with pytest.raises(type(exc)):
                            fn(*((own, x) if swapped else (x, own)))
                        continue
                    label = f"{spec.name}({'scalar, x' if swapped else 'x, scalar'}) with {dtype.name} x, {scalar!r}"
                    assert out.dtype is expected.dtype, f"{label}: {out.dtype.name}, expected {expected.dtype.name}"
                    assert_close(
                        cases.to_host(backend, out), cases.to_host(backend, expected), equal_nan=True, msg=label
                    )
                    checked += 1
    if _binary_public_functions():
        assert checked, "no binary op took a Python scalar"
