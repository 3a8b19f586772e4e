"""The index and mask writes and the cumulative scans beyond their samples: the shared
kernels on NumPy and array-api-strict against `ufunc.at` on random inputs, in-place variants
inside recorded graphs, and a small model that trains through them."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import somegrad as sg
from somegrad import dtypes, nn
from somegrad.backends import array_api_scatter

UFUNCS = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
IDENTITY = {"sum": 0.0, "prod": 1.0, "amax": -np.inf, "amin": np.inf}


def _namespaces():
    spaces = [np]
    try:
        import array_api_strict

        spaces.append(array_api_strict)
    except ImportError:
        pass
    return spaces


def _kernels(xp):
    def native(dtype):
        return getattr(xp, "bool" if dtype is dtypes.bool_ else dtype.name)

    return array_api_scatter.kernels(xp, native)


def _grid(index, dim):
    grid = list(np.ogrid[tuple(slice(0, s) for s in index.shape)])
    grid[dim] = index
    return tuple(grid)


@pytest.mark.parametrize("xp", _namespaces(), ids=lambda xp: xp.__name__)
@pytest.mark.parametrize("reduce", ["sum", "prod", "amax", "amin", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_kernel_matches_ufunc_at(xp, reduce, include_self):
    rng = np.random.default_rng(zlib.crc32(f"{reduce}-{include_self}".encode()))
    kernel = _kernels(xp)["scatter_reduce"]
    for shape, index_shape, dim in (((5, 7), (4, 30), 1), ((9,), (50,), 0), ((3, 4, 5), (2, 4, 9), 2)):
        x = rng.normal(size=shape)
        src = rng.uniform(0.5, 1.5, size=index_shape)  # products of 50 stay finite
        index = rng.integers(0, shape[dim], size=index_shape)
        want, grid = x.copy(), _grid(index, dim)
        count = np.full(shape, 1.0 if include_self else 0.0)
        np.add.at(count, grid, 1.0)
        if not include_self:
            want[grid] = IDENTITY.get(reduce, 0.0)
        if reduce == "mean":
            np.add.at(want, grid, src)
            want = np.where(count > 0, want / np.maximum(count, 1), want)
        else:
            UFUNCS[reduce].at(want, grid, src)
        got = kernel(
            xp.asarray(x), xp.asarray(index), xp.asarray(src), dim=dim, reduce=reduce, include_self=include_self
        )
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)  # sums are differences of prefix sums


@pytest.mark.parametrize("xp", _namespaces(), ids=lambda xp: xp.__name__)
def test_cumulative_index_kernels_match_a_scan(xp):
    rng = np.random.default_rng(7)
    x = rng.integers(-3, 4, size=(4, 65)).astype(np.float64)  # many ties, several log-steps
    x[1, 10] = x[2, 0] = np.nan
    kernels = _kernels(xp)
    for name, better in (("cummax_indices", np.greater_equal), ("cummin_indices", np.less_equal)):
        got = np.asarray(kernels[name](xp.asarray(x), dim=1))
        for row in range(x.shape[0]):
            best, at = x[row, 0], 0
            for j, v in enumerate(x[row]):
                if np.isnan(v) or (not np.isnan(best) and better(v, best)):
                    best, at = v, j
                assert got[row, j] == at, (name, row, j)


def test_the_log_step_fallback_agrees_with_accumulate():
    """array-api-strict has no ufunc.accumulate: the log-step scan serves it; both agree."""
    pytest.importorskip("array_api_strict")
    import array_api_strict

    x = np.random.default_rng(3).normal(size=(3, 100))
    fast = np.asarray(_kernels(np)["cummax_indices"](x, dim=1))
    scanned = np.asarray(_kernels(array_api_strict)["cummax_indices"](array_api_strict.asarray(x), dim=1))
    np.testing.assert_array_equal(fast, scanned)


def test_in_place_variants_record_the_graph_of_a_non_leaf():
    x = sg.randn(4, 3, requires_grad=True)
    src = sg.randn(2, 3, requires_grad=True)
    y = x * 2
    y.index_add_(0, sg.tensor([3, 0]), src, alpha=3)
    y.scatter_(1, sg.tensor([[0], [2], [1], [0]]), src=sg.zeros(4, 1))
    y.sum().backward()
    expected_x = np.full((4, 3), 2.0)
    expected_x[[0, 1, 2, 3], [0, 2, 1, 0]] = 0.0  # overwritten by the scatter
    np.testing.assert_allclose(x.grad.numpy(), expected_x)
    np.testing.assert_allclose(src.grad.numpy(), [[0.0, 3.0, 3.0], [0.0, 3.0, 3.0]])  # both sent to a row at col 0


def test_a_keyword_src_of_an_in_place_scatter_gets_its_gradient():
    x = sg.zeros(2, 3)
    src = sg.randn(2, 3, requires_grad=True)
    x.scatter_(1, sg.tensor([[1], [2]]), src=src)
    x.sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    w = nn.Parameter(sg.zeros(3))
    with pytest.raises(RuntimeError, match="leaf"):
        w.index_fill_(0, sg.tensor([1]), 1.0)
    with sg.no_grad():
        w.index_fill_(0, sg.tensor([1]), 1.0)
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 1.0, 0.0])


def test_setitem_and_index_put_are_one_op():
    x = sg.zeros(3, 4)
    x[1, [0, 3]] = sg.tensor([5.0, 6.0])
    y = sg.zeros(3, 4).index_put((sg.tensor([1, 1]), sg.tensor([0, 3])), sg.tensor([5.0, 6.0]))
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    z = sg.zeros(3, 4)
    z.index_put_((sg.tensor([0, 0]),), sg.tensor(1.0), accumulate=True)
    np.testing.assert_array_equal(z.numpy()[0], [2.0] * 4)


class SegmentPool(nn.Module):
    """Per-segment mean and max of projected rows (graph pooling), then a linear head."""

    def __init__(self):
        super().__init__()
        self.project = nn.Linear(4, 3)
        self.head = nn.Linear(6, 1)

    def forward(self, x, segments, count):
        h = self.project(x)
        index = segments.reshape(-1, 1).expand(h.shape)
        mean = sg.zeros(count, 3).scatter_reduce(0, index, h, "mean", include_self=False)
        peak = sg.full((count, 3), -1e9).scatter_reduce(0, index, h, "amax", include_self=False)
        return self.head(sg.cat([mean, peak], dim=1)).squeeze(1)


def test_a_model_trains_through_scatter_reduce():
    sg.manual_seed(0)
    model = SegmentPool()
    optimizer = __import__("somegrad.optim", fromlist=["SGD"]).SGD(model.parameters(), lr=0.1)
    x = sg.randn(10, 4)
    segments = sg.tensor([0, 0, 1, 1, 1, 2, 2, 3, 3, 3])
    target = sg.tensor([1.0, -1.0, 0.5, 2.0])
    losses = []
    for _ in range(30):
        loss = ((model(x, segments, 4) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < 0.5 * losses[0]


def test_cummax_of_a_parameter_sends_the_gradient_to_the_running_maximum():
    w = nn.Parameter(sg.tensor([1.0, 3.0, 2.0, 3.0, 0.0]))
    values, indices = sg.cummax(w, 0)
    np.testing.assert_array_equal(indices.numpy(), [0, 1, 1, 3, 3])
    values.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0, 0.0, 2.0, 0.0])


def test_logcumsumexp_is_finite_where_the_naive_form_is_not():
    x = sg.tensor([[-1000.0, 0.0, 1000.0]], dtype=sg.float64, requires_grad=True)
    out = sg.logcumsumexp(x, 1)
    np.testing.assert_allclose(out.detach().numpy(), [[-1000.0, 0.0, 1000.0]])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 1.0, 1.0]])


def _older_namespace():
    """NumPy as an older library spells it (CuPy 13, NumPy 1.x): no concat, astype,
    cumulative_sum or cumulative_prod, no device keyword in arange, no copy keyword in asarray,
    no stable keyword in argsort, ufuncs without accumulate."""
    import types

    hidden = {"concat", "astype", "cumulative_sum", "cumulative_prod", "isdtype"}
    space = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("_") and k not in hidden})
    space.arange = lambda *args, dtype=None: np.arange(*args, dtype=dtype)
    space.asarray = lambda x, dtype=None: np.asarray(x, dtype=dtype)
    space.argsort = lambda a, axis=-1: np.argsort(a, axis=axis, kind="stable")
    space.maximum = lambda a, b: np.maximum(a, b)
    space.minimum = lambda a, b: np.minimum(a, b)
    return space


def test_the_kernels_run_on_a_namespace_without_the_standards_newer_names():
    old, new = _kernels(_older_namespace()), _kernels(np)
    rng = np.random.default_rng(5)
    x, src = rng.normal(size=(4, 6)), rng.normal(size=(4, 9))
    index = rng.integers(0, 6, size=(4, 9))
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        args = (x, index, src)
        np.testing.assert_allclose(
            old["scatter_reduce"](*args, dim=1, reduce=reduce, include_self=False),
            new["scatter_reduce"](*args, dim=1, reduce=reduce, include_self=False),
        )
    np.testing.assert_array_equal(old["cummax_indices"](x, dim=1), new["cummax_indices"](x, dim=1))
    np.testing.assert_allclose(old["cumprod"](x, dim=0), new["cumprod"](x, dim=0))
    unique = rng.permutation(6)[:4].reshape(1, 4).repeat(4, axis=0)
    np.testing.assert_array_equal(old["scatter"](x, unique, src, dim=1), new["scatter"](x, unique, src, dim=1))
