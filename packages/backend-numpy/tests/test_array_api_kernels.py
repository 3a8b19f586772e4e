"""The shared Array API kernel table (`somegrad.backends.array_api`), which this backend starts
from, on array libraries other than NumPy: array-api-strict (the standard and nothing more) and,
in the parity environment, PyTorch through array-api-compat. NumPy is the reference."""

from __future__ import annotations

import numpy as np
import pytest

from somegrad import dtypes
from somegrad.backends.array_api import array_api_kernels


def _namespaces():
    yield "numpy", lambda: np
    yield "array_api_strict", lambda: pytest.importorskip("array_api_strict")

    def torch_namespace():
        pytest.importorskip("torch")
        return pytest.importorskip("array_api_compat.torch")

    yield "torch", torch_namespace


NAMESPACES = dict(_namespaces())


@pytest.fixture(params=["numpy", "array_api_strict", pytest.param("torch", marks=pytest.mark.parity)])
def xp(request):
    return NAMESPACES[request.param]()


def _kernels(xp):
    def native(dtype):
        return getattr(xp, "bool" if dtype is dtypes.bool_ else dtype.name)

    return array_api_kernels(xp, native)


def _host(array):
    if hasattr(array, "numpy"):  # torch
        return array.numpy()
    return np.from_dlpack(array)


@pytest.mark.parametrize(
    "shape, index_shape, dim",
    [((5,), (7,), 0), ((4, 3), (6, 3), 0), ((4, 3), (4, 5), 1), ((2, 3, 4), (2, 2, 6), 2), ((4, 3), (2, 2), 1)],
)
def test_scatter_add_adds_every_repeated_index(xp, shape, index_shape, dim):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    index = rng.integers(0, shape[dim], size=index_shape)  # repeats, and targets never hit
    src = rng.normal(size=tuple(max(a, b) for a, b in zip(index_shape, shape)))
    expected = x.copy()
    for position in np.ndindex(*index_shape):
        target = list(position)
        target[dim] = index[position]
        expected[tuple(target)] += src[position]
    scatter_add = _kernels(xp)["scatter_add"]
    out = scatter_add(xp.asarray(x), xp.asarray(index), xp.asarray(src), dim=dim)
    np.testing.assert_allclose(_host(out), expected, rtol=1e-12)


def test_scatter_add_of_an_empty_index_is_the_input(xp):
    out = _kernels(xp)["scatter_add"](
        xp.asarray(np.ones(3)), xp.asarray(np.zeros(0, dtype=np.int64)), xp.asarray(np.ones(0)), dim=0
    )
    np.testing.assert_array_equal(_host(out), np.ones(3))


def test_index_put_accumulates_repeated_indices(xp):
    if xp.__name__.startswith("array_api_strict"):
        pytest.skip("array-api-strict has no indexing with an index array beside other keys")
    x = np.arange(12.0).reshape(3, 4)
    rows = np.array([0, 2, 0, 0])
    values = np.array([1.0, 2.0, 3.0, 4.0])
    expected = x.copy()
    np.add.at(expected, (rows, slice(1, 2)), values.reshape(4, 1))
    out = _kernels(xp)["index_put"](
        xp.asarray(x), xp.asarray(values.reshape(4, 1)), (xp.asarray(rows), slice(1, 2)), True
    )
    np.testing.assert_array_equal(_host(out), expected)


def test_sign_of_bool_is_itself(xp):
    values = np.array([True, False, True])
    out = _kernels(xp)["sign"](xp.asarray(values))
    np.testing.assert_array_equal(_host(out), values)
    np.testing.assert_array_equal(_host(_kernels(xp)["sign"](xp.asarray(np.array([-2.0, 0.0, 3.0])))), [-1, 0, 1])


def test_gather_takes_along_a_dim_of_a_larger_input(xp):
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[3, 0], [1, 1]])
    out = _kernels(xp)["gather"](xp.asarray(x), xp.asarray(index), dim=1)
    np.testing.assert_array_equal(_host(out), np.take_along_axis(x[:2], index, axis=1))
