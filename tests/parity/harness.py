"""One call, written once, run on somegrad and on PyTorch, compared.

The ported API is the point: the same lambda runs on both libraries, given the library as its
first argument (`somegrad` or `torch`) and the inputs built in it from the same NumPy values.

    CASES = [
        Case("cumprod-dim1", lambda lib, x: lib.cumprod(x, dim=1), [(3, 4)]),
        Case("gather", lambda lib, x, i: lib.gather(x, 1, i), [(3, 4), np.array([[0, 1], [2, 3], [1, 1]])]),
    ]

    @pytest.mark.parity
    @pytest.mark.parametrize("case", CASES, ids=str)
    @pytest.mark.parametrize("dtype", ["float64", "float32"])
    def test_parity(case, dtype):
        check(case, dtype)

An input is a shape (seeded values in `case.low..case.high` of the dtype under test, which
require grad) or a NumPy array (floating arrays are cast to the dtype under test and require
grad; integer and bool arrays keep their dtype: indices, masks). `check` compares every output
(tensors in tuples, lists and named tuples, Python numbers and bools) and, with `grad=True`,
the gradient of every floating input for the same random output weights. `check_error`
asserts both libraries refuse a call with the same exception class. `check_module` builds a
module in both libraries, copies PyTorch's state dict into somegrad's (the keys must be the
same) and compares outputs, input gradients and parameter gradients.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import somegrad as sg  # noqa: E402
import somegrad.nn  # noqa: E402, F401

TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (1e-4, 1e-5)}


@dataclass
class Case:
    name: str
    call: Callable
    inputs: Sequence = ()
    grad: bool = True
    low: float = -1.0
    high: float = 1.0
    rtol: float | None = None
    atol: float | None = None
    dtypes: tuple = ("float64", "float32")

    def __str__(self):
        return self.name


@dataclass
class ModuleCase:
    """`make(lib)` builds the module (`lib.nn.LSTM(4, 8)`); `call(module, *inputs)` runs it
    (default `module(*inputs)`)."""

    name: str
    make: Callable
    inputs: Sequence = ()
    call: Callable | None = None
    grad: bool = True
    low: float = -1.0
    high: float = 1.0
    rtol: float | None = None
    atol: float | None = None
    train: bool = True
    dtypes: tuple = ("float64", "float32")
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.name


def _seed(name, index):
    return np.random.default_rng(zlib.crc32(f"{name}/{index}".encode()))


def host_inputs(case) -> list:
    """The case's inputs as NumPy values (shapes become seeded floats in float64)."""
    out = []
    for i, spec in enumerate(case.inputs):
        if isinstance(spec, tuple):
            out.append(_seed(case.name, i).uniform(case.low, case.high, size=spec))
        else:
            out.append(np.asarray(spec) if not isinstance(spec, (int, float, bool, str)) else spec)
    return out


def _floating(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def build(lib, host: list, dtype: str, grad: bool) -> list:
    """The inputs as tensors of `lib`; floating ones in `dtype` (requiring grad with `grad`)."""
    out = []
    for a in host:
        if _floating(a):
            t = lib.tensor(a.astype(np.float64), dtype=getattr(lib, dtype))
            if grad:
                t.requires_grad_(True)
            out.append(t)
        elif isinstance(a, np.ndarray):
            out.append(lib.tensor(a) if lib is torch else lib.tensor(a))
        else:
            out.append(a)
    return out


def to_numpy(x):
    """A tensor of either library (or a number) as a NumPy float64/int/bool array."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype in (torch.bfloat16, torch.float16):
            x = x.float()
        if x.is_complex():
            return x.resolve_conj().resolve_neg().numpy()
        return x.numpy()
    if isinstance(x, sg.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def flatten(out) -> list:
    """Every tensor or number in a (nested) result, in order."""
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in flatten(item)]
    return [out]


def assert_close(got, want, rtol, atol, what):
    if want is None or got is None:  # an output that is absent (attention weights not asked for)
        assert got is None and want is None, f"{what}: {got!r}, PyTorch {want!r}"
        return
    got_np, want_np = to_numpy(got), to_numpy(want)
    assert got_np.shape == want_np.shape, f"{what}: shape {got_np.shape}, PyTorch {want_np.shape}"
    if isinstance(want, torch.Tensor) and isinstance(got, sg.Tensor):
        want_dtype = str(want.dtype).removeprefix("torch.")
        assert got.dtype.name == want_dtype, f"{what}: dtype {got.dtype.name}, PyTorch {want_dtype}"
    if want_np.dtype.kind in "biu" or want_np.dtype == bool:
        np.testing.assert_array_equal(got_np, want_np, err_msg=what)
    else:
        np.testing.assert_allclose(got_np, want_np, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _tolerance(case, dtype):
    rtol, atol = TOLERANCE[dtype]
    return case.rtol if case.rtol is not None else rtol, case.atol if case.atol is not None else atol


def _weights(outputs, name):
    """Fixed random weights for each floating output, so that every gradient entry matters."""
    rng = _seed(name, "weights")
    return [rng.uniform(0.5, 1.5, size=tuple(o.shape)) for o in outputs]


def _backward(lib, outputs, weights):
    total = None
    for o, w in zip(outputs, weights):
        term = (o * lib.tensor(w, dtype=o.dtype)).sum()
        total = term if total is None else total + term
    if total is not None and total.requires_grad:
        total.backward()
    return total is not None and total.requires_grad


def _float_tensors(leaves, lib):
    kind = torch.Tensor if lib is torch else sg.Tensor
    return [o for o in leaves if isinstance(o, kind) and o.dtype.is_floating_point]


def check(case: Case, dtype: str = "float64"):
    """Run `case` on both libraries in `dtype`; compare outputs and input gradients."""
    if dtype not in case.dtypes:
        pytest.skip(f"{case.name} is not compared in {dtype}")
    rtol, atol = _tolerance(case, dtype)
    host = host_inputs(case)
    results = {}
    for lib in (torch, sg):
        inputs = build(lib, host, dtype, case.grad)
        out = case.call(lib, *inputs)
        results[lib] = (inputs, flatten(out))
    (t_in, t_out), (s_in, s_out) = results[torch], results[sg]
    assert len(s_out) == len(t_out), f"{case.name}: {len(s_out)} outputs, PyTorch {len(t_out)}"
    for k, (s, t) in enumerate(zip(s_out, t_out)):
        assert_close(s, t, rtol, atol, f"{case.name} output {k}")
    if not case.grad:
        return
    t_float, s_float = _float_tensors(t_out, torch), _float_tensors(s_out, sg)
    weights = _weights(t_float, case.name)
    if not _backward(torch, t_float, weights):
        return
    assert _backward(sg, s_float, weights), f"{case.name}: the output does not require grad"
    for k, (s, t) in enumerate(zip(s_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert s.grad is None or not s.grad.numpy().any(), f"{case.name}: grad of input {k}"
                continue
            assert s.grad is not None, f"{case.name}: no gradient for input {k}"
            assert_close(s.grad, t.grad, rtol, atol, f"{case.name} grad of input {k}")


def check_error(call: Callable, inputs: Sequence = (), dtype: str = "float32", match: str | None = None):
    """Both libraries refuse `call(lib, *inputs)`; somegrad with an instance of PyTorch's class
    (and, with `match`, a message containing it)."""
    case = Case("error", call, inputs)
    host = host_inputs(case)
    with pytest.raises(Exception) as torch_error:
        call(torch, *build(torch, host, dtype, False))
    expected = type(torch_error.value)
    with pytest.raises(Exception) as sg_error:
        call(sg, *build(sg, host, dtype, False))
    assert isinstance(sg_error.value, expected), (
        f"somegrad raised {type(sg_error.value).__name__}: {sg_error.value}; PyTorch raises {expected.__name__}"
    )
    if match is not None:
        assert match in str(sg_error.value), str(sg_error.value)


def copy_state(torch_module, sg_module):
    """PyTorch's parameters and buffers into somegrad's module; the keys must be the same."""
    t_state, s_state = torch_module.state_dict(), sg_module.state_dict()
    assert list(s_state) == list(t_state), f"state dict keys {list(s_state)}, PyTorch {list(t_state)}"
    sg_module.load_state_dict({k: sg.tensor(to_numpy(v)) for k, v in t_state.items()})


def check_module(case: ModuleCase, dtype: str = "float64"):
    """Build `case.make(lib)` in both libraries with PyTorch's weights; compare outputs and the
    gradients of the floating inputs and of every parameter (by name)."""
    if dtype not in case.dtypes:
        pytest.skip(f"{case.name} is not compared in {dtype}")
    rtol, atol = _tolerance(case, dtype)
    torch.manual_seed(0)
    t_mod = case.make(torch).to(getattr(torch, dtype))
    s_mod = case.make(sg).to(getattr(sg, dtype))
    copy_state(t_mod, s_mod)
    t_mod.train(case.train)
    s_mod.train(case.train)
    host = host_inputs(case)
    results = {}
    for lib, mod in ((torch, t_mod), (sg, s_mod)):
        inputs = build(lib, host, dtype, case.grad)
        out = case.call(mod, *inputs) if case.call else mod(*inputs)
        results[lib] = (inputs, flatten(out))
    (t_in, t_out), (s_in, s_out) = results[torch], results[sg]
    assert len(s_out) == len(t_out), f"{case.name}: {len(s_out)} outputs, PyTorch {len(t_out)}"
    for k, (s, t) in enumerate(zip(s_out, t_out)):
        assert_close(s, t, rtol, atol, f"{case.name} output {k}")
    if not case.grad:
        return
    t_float, s_float = _float_tensors(t_out, torch), _float_tensors(s_out, sg)
    weights = _weights(t_float, case.name)
    if not _backward(torch, t_float, weights):
        return
    assert _backward(sg, s_float, weights)
    for k, (s, t) in enumerate(zip(s_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.grad is not None:
            assert s.grad is not None, f"{case.name}: no gradient for input {k}"
            assert_close(s.grad, t.grad, rtol, atol, f"{case.name} grad of input {k}")
    s_params = dict(s_mod.named_parameters())
    for name, p in t_mod.named_parameters():
        if p.grad is None:
            continue
        assert s_params[name].grad is not None, f"{case.name}: no gradient for {name}"
        assert_close(s_params[name].grad, p.grad, rtol, atol, f"{case.name} grad of {name}")
