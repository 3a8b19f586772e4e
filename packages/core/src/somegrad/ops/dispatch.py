"""Calling an op: infer and validate, resolve a kernel, run it, wrap it, record the graph.

This is the one path every operation takes (`apply`). Kernel resolution, per (backend, op),
cached: the backend's kernel table, else the op's decomposition, else an error naming
the backend and the op. `use_decompositions(True)` forces every composite to decompose,
so the conformance suite tests the reference path even where a fused kernel exists.
"""

from __future__ import annotations

import threading
from typing import Any

from somegrad import backends as _backends
from somegrad import dtypes as _dtypes
from somegrad.autograd.grad_mode import _Anomaly, is_grad_enabled, no_grad
from somegrad.autograd.grad_mode import _state as _grad_state
from somegrad.autograd.graph import Node, SavedTensor
from somegrad.errors import UnsupportedDTypeError
from somegrad.tensor import Tensor

__all__ = [
    "apply",
    "backward_op",
    "create",
    "resolve",
    "use_decompositions",
    "clear_kernel_cache",
    "DispatchMode",
    "check_declarations",
    "run_kernel",
]

_kernels: dict[tuple[str, str], object] = {}
_switches = threading.local()

# The active dispatch modes, innermost last. Empty, the one cost to every op is this list's
# truth test at the top of `apply`.
_modes: list[DispatchMode] = []


class DispatchMode:
    """Something that sees every op call while it is active: autocast, the profiler, capture.

    `with mode:` pushes it onto the stack of active modes and pops it on exit. Each handler is
    given the call and `proceed`, which runs it through the modes below (and finally the plain
    dispatch); a handler returns what `proceed` returned, or something in its place. Ops that a
    handler runs itself go through every active mode again, this one included.

    * `apply(spec, inputs, params, proceed)`: an op on tensors (forward, backward rules alike);
    * `create(spec, device, params, proceed)`: a creation or random op;
    * `kernel(name, tensors, run)`: an in-place or multi-tensor kernel (`add_`,
      `foreach_adam_step_`) writing into `tensors`; `run()` calls it and returns its result.
    """

    def apply(self, spec, inputs, params, proceed):
        return proceed(spec, inputs, params)

    def create(self, spec, device, params, proceed):
        return proceed(spec, device, params)

    def kernel(self, name, tensors, run):
        return run()

    def __enter__(self):
        _modes.append(self)
        return self

    def __exit__(self, *exc):
        _modes.remove(self)


def _through_modes(handler, plain, index, *call):
    if index < 0:
        return plain(*call)
    mode = _modes[index]
    return getattr(mode, handler)(*call, lambda *c: _through_modes(handler, plain, index - 1, *c))


def run_kernel(name, tensors, kernel, *args, **kwargs):
    """Call an in-place or multi-tensor `kernel(*args, **kwargs)` writing into `tensors`,
    where the active dispatch modes see it."""
    if not _modes:
        return kernel(*args, **kwargs)

    def step(index):
        if index < 0:
            return kernel(*args, **kwargs)
        run = lambda: step(index - 1)  # noqa: E731
        run.call = (kernel, args, kwargs)  # what a capture records
        return _modes[index].kernel(name, tensors, run)

    return step(len(_modes) - 1)


class use_decompositions:
    """While active (in this thread), composites run their reference decomposition even on
    backends that have a fused kernel for them."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self):
        self.prev = getattr(_switches, "decompose", False)
        _switches.decompose = self.enabled

    def __exit__(self, *exc):
        _switches.decompose = self.prev


def clear_kernel_cache() -> None:
    _kernels.clear()


def resolve(backend, spec):
    """The backend's kernel for `spec`, or None when the op runs its decomposition."""
    key = (backend.name, spec.name)
    try:
        kernel = _kernels[key]
    except KeyError:
        # An implicit composite always decomposes: its autograd lives in the ops it is made of,
        # so a kernel for it (which would record no graph) is never used.
        kernel = backend.kernels.get(spec.name) if spec.decompose is None or spec.explicit else None
        if kernel is None and spec.decompose is None:
            raise NotImplementedError(
                f"{spec.name}: backend {backend.name!r} has no kernel for this primitive op, and "
                "primitives have no decomposition to fall back on"
            ) from None
        _kernels[key] = kernel
    if kernel is not None and spec.decompose is not None and getattr(_switches, "decompose", False):
        return None
    return kernel


def _backend(device):
    backend = _backends._backend_cache.get(device.type)
    return backend if backend is not None else _backends.backend_for(device)


def _wrong_shape(backend, spec, data, shape):
    got = "no array" if data is None else f"an array of shape {tuple(data.shape)}"
    return RuntimeError(
        f"{spec.name}: backend {backend.name!r} returned {got}, "
        f"but the op's shape rule says {shape}; the backend's kernel is wrong"
    )


def apply(spec, inputs, params):
    """Run `spec` on `inputs` (a tuple of Tensors) with keyword `params`; return a Tensor
    (a tuple of them for an op with several outputs)."""
    if _modes:
        return _through_modes("apply", _apply, len(_modes) - 1, spec, inputs, params)
    return _apply(spec, inputs, params)


def _apply(spec, inputs, params):
    if spec.implicit:
        return _apply_implicit(spec, inputs, params)
    if spec.outputs != 1:
        return _apply_several(spec, inputs, params)
    if spec.accepted_dtypes:
        _check_accepted(spec, inputs)
    shape, dtype = spec.infer(*inputs, **params)
    first = inputs[0]
    device = first.device
    requires_grad = False
    for t in inputs:
        if t.device is not device and t.device != device:
            raise RuntimeError(
                f"{spec.name}: expected all tensors on the same device, but found tensors on "
                f"{device} and {t.device}; move them with .to(device)"
            )
        if t.requires_grad:
            requires_grad = True
    backend = _backend(device)
    kernel = resolve(backend, spec)
    if kernel is None:
        with no_grad():
            result = spec.decompose(*inputs, **params)
        data = result._data
        _check_result(spec, data, result.dtype, shape, dtype)
    else:
        if spec.variadic:
            data = kernel([t._data for t in inputs], **params)
        elif len(inputs) == 1:
            data = kernel(first._data, **params)
        elif len(inputs) == 2:
            data = kernel(first._data, inputs[1]._data, **params)
        else:
            data = kernel(*[t._data for t in inputs], **params)
        if data is None or (data.shape != shape and shape is not None):  # None: data-dependent (nonzero)
            raise _wrong_shape(backend, spec, data, shape)
        if _dtype_name(data.dtype) != dtype.name:
            raise _wrong_dtype(backend, spec, data, dtype)
    out = Tensor._make(data, dtype, device)
    aliased = spec.view and _is_view(data, first._data)
    if aliased:
        out._version_counter = first._version_counter
        out._base = first if first._base is None else first._base
    if (
        requires_grad
        and spec.backward is not None
        and dtype.is_floating_point
        and getattr(_grad_state, "enabled", True)
    ):
        record(spec, inputs, params, out, aliased)
    if _Anomaly.enabled and not getattr(_grad_state, "unchecked", False):
        _check_finite(spec, inputs, out)
    return out


class check_declarations:
    """While active (in this thread), the result of every implicit composite is checked against
    its op's shape and dtype rule, as kernels' results always are (the conformance suite runs
    with it on; it costs a comparison per composite)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self):
        self.prev = getattr(_switches, "check", False)
        _switches.check = self.enabled

    def __exit__(self, *exc):
        _switches.check = self.prev


_REAL_DTYPES = tuple(d for d in _dtypes.all_dtypes if not d.is_complex)


def _check_accepted(spec, inputs):
    accepted = spec.accepted_dtypes
    for i, t in enumerate(inputs):
        allowed = accepted[0] if spec.variadic else accepted[i]
        if allowed is not None and t.dtype not in allowed:
            name = spec.inputs[0 if spec.variadic else i].lstrip("*")
            if t.dtype.is_complex and all(d in allowed for d in _REAL_DTYPES):
                raise UnsupportedDTypeError(
                    f"{spec.name}: does not support complex input (input {name!r} is {t.dtype.name})"
                )
            expected = ", ".join(d.name for d in sorted(allowed, key=lambda d: (d.category, d.itemsize, d.name)))
            raise UnsupportedDTypeError(
                f"{spec.name}: input {name!r} has dtype {t.dtype.name}, but the op accepts only {expected}"
            )


def _is_view(result, source) -> bool:
    """Whether the array `result` shares `source`'s memory, asked of the arrays themselves: both
    lead to the same base array (NumPy's and CuPy's `.base`). Arrays that cannot tell (no `.base`)
    count as views, the safe side: a copy taken for a view only makes in-place checks stricter."""
    if result is source:
        return True
    base: Any = getattr(result, "base", _unknown)
    if base is _unknown:
        return True
    if base is None:
        return False
    while getattr(base, "base", None) is not None:
        base = base.base
    root = source
    while getattr(root, "base", None) is not None:  # a DLPack capsule ends the chain
        root = root.base
    return base is root


_unknown = object()
_native_names: dict = {}


def _dtype_name(native) -> str:
    """The somegrad name of a backend's array dtype: NumPy's and CuPy's `float32`, ml_dtypes'
    `bfloat16`, `torch.float32` or `array_api_strict.float32` of an outside backend."""
    # keyed by type too: a lookup must never compare one library's dtype with another's (equal
    # hashes make the dict call __eq__, which array-api-strict warns about)
    key = (type(native), native)
    name = _native_names.get(key)
    if name is None:
        name = _native_names[key] = str(getattr(native, "name", native)).rsplit(".", 1)[-1]
    return name


def _wrong_dtype(backend, spec, data, dtype):
    return RuntimeError(
        f"{spec.name}: backend {backend.name!r} returned an array of dtype {_dtype_name(data.dtype)}, "
        f"but the op's dtype rule says {dtype.name}; the backend's kernel is wrong"
    )


def _check_result(spec, data, got_dtype, shape, dtype):
    """A decomposition's result against the op's shape and dtype rule."""
    if shape is not None and tuple(data.shape) != shape:
        raise RuntimeError(
            f"{spec.name}: its decomposition returned shape {tuple(data.shape)}, but the op's shape rule says {shape}"
        )
    if got_dtype is not dtype:
        raise RuntimeError(
            f"{spec.name}: its decomposition returned dtype {got_dtype.name}, but the op's dtype rule says {dtype.name}"
        )


def _apply_implicit(spec, inputs, params):
    """An implicit composite: its declaration's dtype and shape rules (where bad input gets its
    error), then its decomposition, whose ops autograd records; under `check_declarations` the
    result is checked against the rules."""
    if spec.accepted_dtypes:
        _check_accepted(spec, inputs)
    meta = spec.infer(*inputs, **params)
    out = spec.decompose(*inputs, **params)
    if getattr(_switches, "check", False):
        if spec.outputs == 1:
            _check_result(spec, out._data, out.dtype, meta[0], meta[1])
        else:
            if len(out) != len(meta):
                raise RuntimeError(
                    f"{spec.name}: its decomposition returned {len(out)} outputs, "
                    f"but the op's shape rule says {len(meta)}"
                )
            for t, (shape, dtype) in zip(out, meta):
                _check_result(spec, t._data, t.dtype, shape, dtype)
    return out


def _apply_several(spec, inputs, params):
    """`apply` for an op with several outputs: a tuple of Tensors, None where the shape rule
    says an output is not computed. Nothing is recorded (such ops have no backward)."""
    metas = spec.infer(*inputs, **params)
    device = inputs[0].device
    for t in inputs:
        if t.device is not device and t.device != device:
            raise RuntimeError(
                f"{spec.name}: expected all tensors on the same device, but found tensors on "
                f"{device} and {t.device}; move them with .to(device)"
            )
    backend = _backend(device)
    kernel = resolve(backend, spec)
    if kernel is None:
        with no_grad():
            arrays = tuple(None if t is None else t._data for t in spec.decompose(*inputs, **params))
    else:
        arrays = kernel(*[t._data for t in inputs], **params)
    outs = []
    for data, meta in zip(arrays, metas, strict=True):
        if meta is None:
            outs.append(None)
            continue
        shape, dtype = meta
        if data is None or data.shape != shape:
            raise _wrong_shape(backend, spec, data, shape)
        if _dtype_name(data.dtype) != dtype.name:
            raise _wrong_dtype(backend, spec, data, dtype)
        outs.append(Tensor._make(data, dtype, device))
    return tuple(outs)


def backward_op(spec, inputs, params, formula):
    """Run a backward as the fused op `spec` when no graph is recorded, else as the
    differentiable `formula` (for `create_graph=True`)."""
    if is_grad_enabled():
        return formula(*inputs, **params)
    return apply(spec, inputs, params)


def record(spec, inputs, params, out, aliased=False):
    """Attach a graph node to `out` so the backward can reach `inputs`."""
    saved = {}
    names = spec.inputs
    for i in spec.saved_inputs:
        if i == -1:
            saved[names[0][1:]] = [SavedTensor(t) for t in inputs]
        else:
            saved[names[i]] = SavedTensor(inputs[i])
    if spec.saves_output:
        saved["out"] = SavedTensor(out, is_output=True)
    edges = []
    meta = []
    for t in inputs:
        edges.append(t.grad_fn if t.grad_fn is not None else (t if t.requires_grad else None))
        meta.append((t._data.shape, t.dtype))
    node = out.grad_fn = Node(spec, params, saved, edges, meta)
    out.requires_grad = True
    if aliased:
        node.view_of = (inputs[0]._version_counter, inputs[0]._version_counter[1])


def create(spec, device, params):
    """Run a creation or random op (no tensor inputs) on `device`."""
    if _modes:
        return _through_modes("create", _create, len(_modes) - 1, spec, device, params)
    return _create(spec, device, params)


def _create(spec, device, params):
    shape, dtype = spec.infer(**params)
    backend = _backend(device)
    data = resolve(backend, spec)(device=device, **params)
    if data is None or data.shape != shape:
        raise _wrong_shape(backend, spec, data, shape)
    if _dtype_name(data.dtype) != dtype.name:
        raise _wrong_dtype(backend, spec, data, dtype)
    return Tensor._make(data, dtype, device)


def _non_finite(t):
    """Which of "NaN" and "inf" occur in `t` (an empty set for finite or non-float tensors)."""
    if not t.dtype.is_floating_point:
        return set()
    t = t.detach()
    if bool(t.isfinite().all()):
        return set()
    nan = t.isnan()
    kinds = {"NaN"} if bool(nan.any()) else set()
    if bool((t.isfinite() | nan).logical_not().any()):
        kinds.add("inf")
    return kinds


def _check_finite(spec, inputs, out):
    # Only the op that produced a NaN or an inf is at fault, not the ones that pass on an
    # input's: a causal mask's -inf flows through `where`, `sub` and `exp` on purpose.
    produced = _non_finite(out)
    if produced:
        produced -= set().union(*(_non_finite(t) for t in inputs))
    if produced:
        raise RuntimeError(
            f"{spec.name}: the forward produced NaN or inf ({' and '.join(sorted(produced))} from inputs "
            f"without any; output shape {tuple(out.shape)}); detected by set_detect_anomaly(True)"
        )
