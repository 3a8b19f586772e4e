"""The keywords PyTorch code passes: NumPy's `axis=`/`keepdims=` for `dim=`/`keepdim=` on every
function and method that has them, and the tensor factories' `size=`, `requires_grad=`,
`layout=`, `pin_memory=`, `memory_format=`, `generator=` and `out=`, side by side with PyTorch."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import somegrad as sg
from somegrad.ops import OPS

X = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7 - 1


AXIS_CALLS = [
    ("sum", lambda lib, x: lib.sum(x, axis=1)),
    ("sum-keepdims", lambda lib, x: x.sum(axis=(0, 2), keepdims=True)),
    ("mean", lambda lib, x: lib.mean(x, axis=-1, keepdims=True)),
    ("amax", lambda lib, x: x.amax(axis=0)),
    ("argmax", lambda lib, x: lib.argmax(x, axis=2)),
    ("max-dim", lambda lib, x: x.max(axis=1)[0]),
    ("std", lambda lib, x: x.std(axis=1)),
    ("softmax", lambda lib, x: lib.softmax(x, axis=-1)),
    ("cumsum", lambda lib, x: x.cumsum(axis=1)),
    ("cat", lambda lib, x: lib.cat([x, x], axis=1)),
    ("stack", lambda lib, x: lib.stack([x, x], axis=0)),
    ("unsqueeze", lambda lib, x: x.unsqueeze(axis=0)),
    ("logsumexp", lambda lib, x: lib.logsumexp(x, axis=1, keepdims=True)),
    ("any", lambda lib, x: (x > 0).any(axis=1)),
    ("all", lambda lib, x: lib.all(x > -2, axis=0)),
    ("prod", lambda lib, x: x.prod(axis=2, keepdims=True)),
    ("sort", lambda lib, x: lib.sort(x, axis=1)[0]),
]


@pytest.mark.parametrize(("name", "call"), AXIS_CALLS, ids=[n for n, _ in AXIS_CALLS])
def test_axis_is_dim_and_keepdims_is_keepdim(name, call):
    x = sg.tensor(X)
    # the same call with dim= and keepdim= written out must agree
    np.testing.assert_array_equal(call(sg, x).numpy(), _rewrite(call)(sg, x).numpy())


def _rewrite(call):
    source = inspect.getsource(call).split("lambda lib, x:", 1)[1].rsplit(")", 1)[0]
    source = source.replace("axis=", "dim=").replace("keepdims=", "keepdim=")
    return eval(f"lambda lib, x: {source}", {})  # noqa: S307  (the test's own source)


@pytest.mark.parity
@pytest.mark.parametrize(("name", "call"), AXIS_CALLS, ids=[n for n, _ in AXIS_CALLS])
def test_axis_calls_are_pytorchs(name, call):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(call(sg, sg.tensor(X)).numpy(), call(torch, torch.tensor(X)).numpy(), rtol=1e-12)


def test_every_op_with_a_dim_takes_axis():
    x = sg.tensor(X)
    checked = 0
    for spec in OPS.values():
        fn = spec.function
        if fn is None or "dim" not in inspect.signature(fn).parameters:
            continue
        assert getattr(fn, "__wrapped__", None) is not None, spec.name
        checked += 1
    assert checked > 20
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        x.sum(dim=0, axis=1)
    with pytest.raises(TypeError):
        x.exp(axis=0)  # no dim: no alias


FACTORY_CALLS = [
    ("randint-high-size", lambda lib: lib.randint(high=10, size=(3,))),
    ("randint-high-positional", lambda lib: lib.randint(10, (3, 2))),
    ("randint-low-high", lambda lib: lib.randint(2, 10, (4,), dtype=lib.int32)),
    ("randint-requires-grad-false", lambda lib: lib.randint(10, (3,), requires_grad=False)),
    ("randint-float-requires-grad", lambda lib: lib.randint(0, 10, (3,), dtype=lib.float32, requires_grad=True)),
    ("zeros-size", lambda lib: lib.zeros(size=(2, 3))),
    (
        "ones-keywords",
        lambda lib: lib.ones(
            2, 3, dtype=lib.float64, layout=lib.strided, device="cpu", pin_memory=False, requires_grad=True
        ),
    ),  # fmt: skip
    ("empty-memory-format", lambda lib: lib.empty((2,), memory_format=lib.contiguous_format)),
    ("full-size", lambda lib: lib.full(size=(2, 2), fill_value=3)),
    ("rand-size", lambda lib: lib.rand(size=(2, 3), requires_grad=True)),
    ("randn-generator", lambda lib: lib.randn(3, generator=lib.Generator().manual_seed(0), dtype=lib.float64)),
    ("randperm", lambda lib: lib.randperm(5, dtype=lib.int32, requires_grad=False)),
    ("zeros-like", lambda lib: lib.zeros_like(lib.ones(2), memory_format=lib.preserve_format, requires_grad=True)),
    ("rand-like", lambda lib: lib.rand_like(lib.ones(2, 2), requires_grad=True)),
    ("randint-like-high", lambda lib: lib.randint_like(lib.ones(2), high=5)),
    ("randint-like-low-high", lambda lib: lib.randint_like(lib.ones(3), 1, 5)),
    ("normal-tensors", lambda lib: lib.normal(lib.zeros(3, 2), lib.ones(3, 2))),
    ("normal-tensor-mean", lambda lib: lib.normal(lib.zeros(2, 3), 2.0)),
    ("normal-numbers", lambda lib: lib.normal(0.0, 1.0, size=(4,))),
    ("arange-keywords", lambda lib: lib.arange(0, 5, 1, dtype=lib.float32, requires_grad=True)),
    ("eye-out", lambda lib: lib.eye(2, out=lib.ones(2, 2))),
    ("zeros-out", lambda lib: lib.zeros(3, out=lib.ones(3))),
    ("linspace-rg", lambda lib: lib.linspace(0, 1, steps=5, requires_grad=True)),
    ("tensor-pin-memory", lambda lib: lib.tensor([1.0, 2.0], pin_memory=False, requires_grad=True)),
]


@pytest.mark.parametrize(("name", "call"), FACTORY_CALLS, ids=[n for n, _ in FACTORY_CALLS])
def test_factory_keywords(name, call):
    out = call(sg)
    assert isinstance(out, sg.Tensor)


@pytest.mark.parity
@pytest.mark.parametrize(("name", "call"), FACTORY_CALLS, ids=[n for n, _ in FACTORY_CALLS])
def test_factory_keywords_are_pytorchs(name, call):
    torch = pytest.importorskip("torch")
    ours, theirs = call(sg), call(torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.requires_grad == theirs.requires_grad
    if name in ("eye-out", "zeros-out", "full-size", "zeros-size", "ones-keywords", "arange-keywords", "linspace-rg"):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())


def test_randint_bounds_and_dtype():
    values = sg.randint(high=3, size=(1000,)).numpy()
    assert set(np.unique(values)) == {0, 1, 2}
    values = sg.randint(5, 8, size=(1000,)).numpy()
    assert values.min() == 5 and values.max() == 7


def test_out_writes_into_the_given_tensor():
    buffer = sg.ones(2, 2)
    result = sg.eye(2, out=buffer)
    assert result is buffer
    np.testing.assert_array_equal(buffer.numpy(), np.eye(2))


def test_normal_with_tensors_uses_each_mean_and_std():
    sg.manual_seed(0)
    means = sg.tensor([0.0, 100.0, -100.0]).expand(4000, 3)
    stds = sg.tensor([1.0, 0.01, 5.0]).expand(4000, 3)
    draws = sg.normal(means, stds).numpy()
    np.testing.assert_allclose(draws.mean(0), [0, 100, -100], atol=0.3)
    np.testing.assert_allclose(draws.std(0), [1, 0.01, 5], rtol=0.1)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda lib: lib.zeros(2, layout="strided"), TypeError),
        (lambda lib: lib.randint(10), TypeError),
        (lambda lib: lib.randint(5, (2,), requires_grad=True), RuntimeError),
        (lambda lib: lib.randperm(3, requires_grad=True), RuntimeError),
        (lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)), RuntimeError),
        (lambda lib: lib.normal(0.0, -1.0, size=(2,)), RuntimeError),
        (lambda lib: lib.empty(2, memory_format="contiguous"), TypeError),
    ],
)
def test_bad_factory_keywords(call, error):
    with pytest.raises(error):
        call(sg)


@pytest.mark.parity
@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(2, layout="strided"),
        lambda lib: lib.randint(10),
        lambda lib: lib.randint(5, (2,), requires_grad=True),
        lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
        lambda lib: lib.empty(2, memory_format="contiguous"),
    ],
)
def test_bad_factory_keywords_raise_pytorchs_class(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(sg)
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


@pytest.mark.parity
def test_in_place_remainder_is_pytorchs():
    torch = pytest.importorskip("torch")
    for lib in (sg, torch):
        x = lib.tensor([5.0, -3.0, -0.0, 7.5])
        x.remainder_(2)
        x %= 1.5
        y = lib.tensor([5, -3, 7])
        y %= 2
        if lib is sg:
            ours = (x.numpy(), y.numpy())
        else:
            np.testing.assert_array_equal(ours[0], x.numpy())
            np.testing.assert_array_equal(np.signbit(ours[0]), np.signbit(x.numpy()))
            np.testing.assert_array_equal(ours[1], y.numpy())


@pytest.mark.parity
def test_where_takes_bool_and_byte_conditions_only():
    torch = pytest.importorskip("torch")
    for dtype in ("bool", "uint8", "float32", "int64"):
        outcomes = []
        for lib in (torch, sg):
            condition = lib.tensor([1, 0, 1]).to(getattr(lib, dtype))
            try:
                outcomes.append(lib.where(condition, lib.ones(3), lib.zeros(3)).tolist())
            except RuntimeError as error:
                outcomes.append(f"RuntimeError: {error}"[:12])
        assert outcomes[0] == outcomes[1], (dtype, outcomes)


def test_inplace_method_records_a_tensor_given_by_keyword():
    x = sg.zeros(2, 3).requires_grad_() * 1
    src = sg.ones(2, 3, requires_grad=True)
    x.scatter_add_(1, sg.tensor([[0, 1, 2], [2, 1, 0]]), src=src)
    x.sum().backward()
    assert src.grad is not None and src.grad.numpy().tolist() == [[1, 1, 1], [1, 1, 1]]
