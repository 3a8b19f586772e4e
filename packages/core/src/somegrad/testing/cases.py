"""Turning samples into conformance cases: which backend runs which sample, and how.

The pytest plugin calls `parametrize` for every test that asks for `backend_name`; a test
that also asks for `forward_case`, `grad_case`, `composite_case`, `error_case` or `op_name`
gets one parameter per (backend, case). `run_sample` and `make_inputs` do the work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import (
    LOW_PRECISION,
    ErrorSample,
    IndexArray,
    Sample,
    error_samples_for,
    numpy_dtype,
    samples_for,
)

REFERENCE_BACKEND = "numpy"
_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7}
F32, F64 = dtypes.float32, dtypes.float64


@dataclass
class Case:
    """One sample on one backend; `decomposed`: run composites through their decomposition."""

    sample: Sample | ErrorSample
    decomposed: bool = False
    dtype: object = None  # the sample's dtype on this backend (float64 -> float32 without float64)

    @property
    def id(self) -> str:
        mode = "-decomposed" if self.decomposed else ""
        return self.sample.id + mode

    @property
    def spec(self):
        from somegrad.ops import OPS

        return OPS[self.sample.op]


# --- which cases a backend runs --------------------------------------------------------------
def _dtype_on(backend, dtype):
    """`dtype` as the backend runs it: float64 samples run in float32 on backends without float64."""
    if dtype is F64 and F64 not in backend.dtypes:
        return F32
    return dtype


def _supported(backend, sample, dtype) -> bool:
    wanted = [dtype, getattr(sample, "out_dtype", None)]
    wanted += [i.dtype for i in sample.inputs]
    wanted += [v for v in sample.params.values() if isinstance(v, dtypes.DType)]
    return all(d is None or _dtype_on(backend, d) in backend.dtypes for d in wanted)


def _op_names():
    from somegrad.ops import OPS

    return sorted(OPS)


def forward_cases(backend):
    for op in _op_names():
        spec_has_kernel = op in backend.kernels
        composite = _is_composite(op)
        for sample in samples_for(op):
            dtype = _dtype_on(backend, sample.dtype)
            if not _supported(backend, sample, dtype):
                continue
            if not composite or spec_has_kernel:
                yield Case(sample, False, dtype)
            if composite:
                yield Case(sample, True, dtype)


def _is_composite(op):
    from somegrad.ops import OPS

    return OPS[op].decompose is not None


def _differentiable(sample, spec, backend) -> bool:
    return (
        sample.grad
        and sample.check is None
        and spec.differentiable
        and sample.dtype.is_floating_point
        and sample.out_dtype.is_floating_point
        and sample.dtype not in LOW_PRECISION
    )


def grad_cases(backend):
    """float64 samples checked against finite differences; without float64, the float32
    samples checked against the reference backend's gradients."""
    from somegrad.ops import OPS

    has_f64 = F64 in backend.dtypes
    for op in _op_names():
        spec = OPS[op]
        composite = spec.decompose is not None
        for sample in samples_for(op):
            if not _differentiable(sample, spec, backend) or sample.dtype is not (F64 if has_f64 else F32):
                continue
            if not _supported(backend, sample, sample.dtype):
                continue
            if not composite or op in backend.kernels:
                yield Case(sample, False, sample.dtype)
            if composite:
                yield Case(sample, True, sample.dtype)


def composite_cases(backend):
    """Composites with a fused kernel on this backend: the kernel and the decomposition must agree."""
    for op in _op_names():
        if not _is_composite(op) or op not in backend.kernels:
            continue
        for sample in samples_for(op):
            dtype = _dtype_on(backend, sample.dtype)
            if _supported(backend, sample, dtype):
                yield Case(sample, False, dtype)


def error_cases(backend):
    """Every error sample; a composite with a fused kernel here also through its decomposition
    (a data-dependent check, such as cross_entropy's class indices, lives in both)."""
    for op in _op_names():
        fused = _is_composite(op) and op in backend.kernels
        for sample in error_samples_for(op):
            dtype = _dtype_on(backend, sample.dtype)
            if _supported(backend, sample, dtype):
                yield Case(sample, False, dtype)
                if fused:
                    yield Case(sample, True, dtype)


_KINDS = {
    "forward_case": forward_cases,
    "grad_case": grad_cases,
    "composite_case": composite_cases,
    "error_case": error_cases,
}


def parametrize(metafunc, names):
    """Parametrise `backend_name` (and a case fixture, if the test asks for one) over `names`.

    A backend that is unavailable here is one skipped parameter with the reason; an unknown
    or broken one still gets a parameter, whose test fails with the loading error."""
    import pytest

    from somegrad import backends

    registry = {info.name: info for info in backends.backends()}
    kind = next((k for k in _KINDS if k in metafunc.fixturenames), None)
    wants_op = "op_name" in metafunc.fixturenames
    argnames = ["backend_name"] + ([kind] if kind else []) + (["op_name"] if wants_op else [])
    params = []
    for name in names:
        info = registry.get(name)
        if info is None or info.backend is None:
            marks = ()
            if info is not None and info.status == "unavailable":
                marks = (pytest.mark.skip(reason=f"somegrad backend {name!r} is unavailable here: {info.reason}"),)
            filler = [None] * (len(argnames) - 1)
            params.append(pytest.param(name, *filler, marks=marks, id=name))
            continue
        backend = info.backend
        if kind:
            for case in _KINDS[kind](backend):
                extra = [case.sample.op] if wants_op else []
                case_id = f"{name}-{case.id}"
                marks = known_failure(kind, case_id, getattr(backend, "known_failures", ()))
                params.append(pytest.param(name, case, *extra, id=case_id, marks=marks))
        elif wants_op:
            params.extend(pytest.param(name, op, id=f"{name}-{op}") for op in _op_names())
        else:
            params.append(pytest.param(name, id=name))
    metafunc.parametrize(argnames, params)


def known_failure(kind, case_id, backend_failures=()):
    """An xfail(strict=True) mark for a case listed in `known_failures.KNOWN_FAILURES` (the
    core's) or in the backend's own `known_failures` attribute (entries of the same form)."""
    import pytest

    from somegrad.testing.conformance.known_failures import KNOWN_FAILURES

    test = kind.removesuffix("_case")
    for kinds, pattern, reason in (*KNOWN_FAILURES, *backend_failures):
        if test in kinds and re.fullmatch(pattern, case_id):
            return (pytest.mark.xfail(strict=True, reason=reason),)
    return ()


# --- running a sample ------------------------------------------------------------------------
def device_of(backend):
    from somegrad.device import device

    return backend.canonical_device(device(backend.device_type))


def to_host(backend, t) -> np.ndarray:
    return np.asarray(backend.to_numpy(t.detach()._data))


def _build(value, dtype, device, layout):
    """A tensor holding `value` with the given memory layout."""
    from somegrad import tensor

    if dtype is dtypes.bool_:
        value = value.astype(bool)
    if layout == "transposed" and value.ndim >= 2:
        order = tuple(reversed(range(value.ndim)))
        return tensor(np.ascontiguousarray(np.transpose(value, order)), dtype=dtype, device=device).permute(order)
    if layout == "stepped" and value.ndim >= 1:
        wide = np.zeros(value.shape[:-1] + (2 * value.shape[-1],), dtype=value.dtype)
        wide[..., ::2] = value
        return tensor(wide, dtype=dtype, device=device)[..., ::2]
    return tensor(value, dtype=dtype, device=device)


def make_inputs(backend, sample, dtype, requires_grad=False):
    """`(tensors, host_values)`: the sample's inputs on `backend`, and the values the backend
    actually holds (float inputs as float64, after rounding to their dtype)."""
    device = device_of(backend)
    tensors, host = [], []
    for item in sample.inputs:
        item_dtype = _dtype_on(backend, item.dtype or dtype)
        t = _build(item.value, item_dtype, device, item.layout)
        if requires_grad and item_dtype.is_floating_point and item.dtype is None:
            t = t.detach().requires_grad_()
        tensors.append(t)
        value = to_host(backend, t)
        host.append(value.astype(np.float64) if item_dtype.is_floating_point else value)
    return tensors, host


def kernel_params(backend, params):
    """The sample's params with IndexArrays turned into the backend's int64 arrays."""
    device = device_of(backend)

    def convert(value):
        if isinstance(value, IndexArray):
            return backend.from_numpy(value.value, dtypes.int64, device)
        if isinstance(value, tuple):
            return tuple(convert(v) for v in value)
        return value

    return {name: convert(value) for name, value in params.items()}


def call(backend, sample, tensors):
    """Run the sample's op on `tensors` through the dispatcher (or the sample's public call),
    with every implicit composite's result checked against its declaration."""
    from somegrad.ops import OPS, dispatch

    with dispatch.check_declarations():
        if sample.call is not None:
            return sample.call(*tensors)
        spec = OPS[sample.op]
        params = kernel_params(backend, sample.params)
        if not spec.inputs:
            params = {k: (_dtype_on(backend, v) if isinstance(v, dtypes.DType) else v) for k, v in params.items()}
            return dispatch.create(spec, device_of(backend), params)
        return dispatch.apply(spec, tuple(tensors), params)


def expected_output(sample, host, out_dtype):
    """The reference result, rounded to the output dtype as a correct kernel's would be."""
    # The references meet inf, NaN and zero divisors on purpose: no warnings for those.
    with np.errstate(all="ignore"):
        expected = np.asarray(sample.reference(*host, **sample.params))
    target = numpy_dtype(out_dtype)
    if target is not None and out_dtype.is_floating_point:
        with np.errstate(over="ignore", invalid="ignore"):
            expected = expected.astype(target).astype(np.float64)
    elif target is not None:
        with np.errstate(invalid="ignore"):
            expected = expected.astype(target)
    return expected


def forward_tolerance(sample, dtype, spec, decomposition_ran):
    """(rtol, atol) for comparing a result of `dtype` with the float64 reference; approximate
    decompositions add their declared error."""
    from somegrad.testing.comparison import default_tolerance

    rtol, atol = default_tolerance(dtype)
    if sample.rtol is not None:
        rtol = sample.rtol
    if sample.atol is not None:
        atol = sample.atol
    if decomposition_ran:
        atol += spec.decomposition_tolerance
        if dtype in LOW_PRECISION:
            # A decomposition rounds after every op it is made of: allow a few ulps.
            rtol, atol = max(rtol, 4 * _EPS[dtype.name]), max(atol, 4 * _EPS[dtype.name])
    return rtol, atol
