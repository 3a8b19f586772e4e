"""PyTorch parity of the statistics: var_mean, std_mean, aminmax, nansum, nanmean, median,
nanmedian, quantile, nanquantile and mode, their values, indices and gradients (which reach the
selected elements, or share evenly among ties where PyTorch's do), methods and error classes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity

NAN = math.nan
INTS = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3], [5, 8, 9, 7, 9]])


def _with_nans(shape, seed=0, every=3):
    x = np.random.default_rng(seed).uniform(-1, 1, size=shape)
    x.reshape(-1)[::every] = NAN
    return x


NANS = _with_nans((4, 5))
ALL_NAN_ROW = NANS.copy()
ALL_NAN_ROW[2] = NAN
TIES = np.array([[1.0, 3.0, 3.0, 0.0, 2.0], [2.0, -1.0, 2.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5, 0.5]])
REPEATS = np.array([[3.0, 1.0, 1.0, 3.0, 2.0, 1.0, 3.0], [5.0, 5.0, 2.0, 2.0, 7.0, 7.0, 0.0], [4, 3, 2, 1, 0, 6, 5]])

MOMENTS = [
    Case(f"{op}{label}", lambda lib, x, op=op, call=call: call(getattr(lib, op), x), [shape])
    for op in ("var_mean", "std_mean")
    for label, shape, call in (
        ("", (3, 4), lambda f, x: f(x)),
        ("-dim1", (3, 4), lambda f, x: f(x, 1)),
        ("-negdim-keepdim", (3, 4), lambda f, x: f(x, -1, keepdim=True)),
        ("-dims", (2, 3, 4), lambda f, x: f(x, (0, 2))),
        ("-correction0", (3, 4), lambda f, x: f(x, 0, correction=0)),
        ("-correction2", (3, 4), lambda f, x: f(x, dim=1, correction=2, keepdim=True)),
        ("-unbiased-false", (3, 4), lambda f, x: f(x, 1, False)),
        ("-unbiased-only", (3, 4), lambda f, x: f(x, False)),
        ("-unbiased-keyword", (3, 4), lambda f, x: f(x, unbiased=True)),
        ("-0d", (), lambda f, x: f(x, correction=0)),
        ("-one-element", (1, 3), lambda f, x: f(x, 0)),
    )
]

AMINMAX = [
    Case("aminmax", lambda lib, x: lib.aminmax(x), [(3, 4)]),
    Case("aminmax-dim", lambda lib, x: lib.aminmax(x, dim=1), [(3, 4)]),
    Case("aminmax-negdim-keepdim", lambda lib, x: lib.aminmax(x, dim=-2, keepdim=True), [(3, 4)]),
    Case("aminmax-method", lambda lib, x: x.aminmax(dim=0), [(3, 4)]),
    Case("aminmax-fields", lambda lib, x: (lambda r: (r.max, r.min))(lib.aminmax(x, dim=0)), [(3, 4)]),
    Case("aminmax-ties", lambda lib, x: lib.aminmax(x, dim=1), [TIES]),
    Case("aminmax-ties-all", lambda lib, x: lib.aminmax(x), [TIES]),
    Case("aminmax-int", lambda lib, x: lib.aminmax(x, dim=1), [INTS]),
    Case("aminmax-bool", lambda lib, x: lib.aminmax(x), [np.array([True, False])]),
    Case("aminmax-0d", lambda lib, x: lib.aminmax(x), [()]),
    Case("aminmax-nan", lambda lib, x: lib.aminmax(x, dim=1), [NANS], grad=False),
]

NAN_REDUCTIONS = [
    # an all-NaN row's gradient is NaN in PyTorch's nanmean (0 / 0 times a 0 mask), 0 here
    Case(
        f"{op}{label}", lambda lib, x, op=op, call=call: call(getattr(lib, op), x), [data], grad=data is not ALL_NAN_ROW
    )
    for op in ("nansum", "nanmean")
    for label, data, call in (
        ("", NANS, lambda f, x: f(x)),
        ("-dim", NANS, lambda f, x: f(x, 1)),
        ("-dims-keepdim", NANS, lambda f, x: f(x, (0, 1), keepdim=True)),
        ("-negdim", NANS, lambda f, x: f(x, dim=-2)),
        ("-all-nan-row", ALL_NAN_ROW, lambda f, x: f(x, 1)),
        ("-all-nan-row-others", ALL_NAN_ROW, lambda f, x: f(x[:2], 1)),
        ("-no-nan", (3, 4), lambda f, x: f(x, 0)),
        ("-method", NANS, lambda f, x: getattr(x, f.__name__)(1)),
    )
] + [
    Case("nansum-int", lambda lib, x: lib.nansum(x, 1), [INTS]),
    Case("nansum-bool", lambda lib, x: lib.nansum(x), [np.array([True, True, False])]),
    Case("nansum-dtype", lambda lib, x: lib.nansum(x, dtype=lib.float64), [INTS]),
    Case("nanmean-dtype", lambda lib, x: lib.nanmean(x, 1, dtype=lib.float64), [NANS]),
]


def _medians():
    for op in ("median", "nanmedian"):
        yield Case(f"{op}", lambda lib, x, op=op: getattr(lib, op)(x), [(3, 5)])
        yield Case(f"{op}-even", lambda lib, x, op=op: getattr(lib, op)(x), [(4, 4)])
        yield Case(f"{op}-method", lambda lib, x, op=op: getattr(x, op)(), [(3, 4)])
        yield Case(f"{op}-dim", lambda lib, x, op=op: getattr(lib, op)(x, 1), [(3, 5)])
        yield Case(f"{op}-dim-even", lambda lib, x, op=op: getattr(lib, op)(x, 1), [(3, 6)])
        yield Case(f"{op}-dim0-keepdim", lambda lib, x, op=op: getattr(lib, op)(x, 0, keepdim=True), [(4, 3)])
        yield Case(f"{op}-negdim-method", lambda lib, x, op=op: getattr(x, op)(dim=-1), [(2, 3, 5)])
        yield Case(f"{op}-fields", lambda lib, x, op=op: getattr(lib, op)(x, 1).indices, [(3, 5)])
        yield Case(f"{op}-0d", lambda lib, x, op=op: getattr(lib, op)(x), [()])
        yield Case(f"{op}-0d-dim", lambda lib, x, op=op: getattr(lib, op)(x, 0), [()])
        # the median of a whole tensor shares its gradient among the elements equal to it
        yield Case(f"{op}-ties", lambda lib, x, op=op: getattr(lib, op)(x), [TIES])
        yield Case(f"{op}-nan", lambda lib, x, op=op: getattr(lib, op)(x), [NANS])
        yield Case(f"{op}-nan-dim", lambda lib, x, op=op: getattr(lib, op)(x, 1), [NANS])
        # an all-NaN row: PyTorch's index among the NaNs is its partial sort's, so values only
        yield Case(f"{op}-all-nan-row", lambda lib, x, op=op: getattr(lib, op)(x, 1).values, [ALL_NAN_ROW], grad=False)
        yield Case(f"{op}-int", lambda lib, x, op=op: getattr(lib, op)(x), [INTS])
        yield Case(f"{op}-int-dim-values", lambda lib, x, op=op: getattr(lib, op)(x, 1).values, [INTS])
        yield Case(f"{op}-empty", lambda lib, x, op=op: getattr(lib, op)(x), [np.zeros((0, 3))], grad=False)


INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")
QS = np.array([0.0, 0.1, 0.25, 0.5, 0.62, 0.9, 1.0])


def _quantiles():
    for op in ("quantile", "nanquantile"):
        for mode in INTERPOLATIONS:
            yield Case(
                f"{op}-{mode}",
                lambda lib, x, op=op, mode=mode: getattr(lib, op)(x, 0.3, dim=1, interpolation=mode),
                [(3, 6)],
            )
            # q a tensor that requires grad: PyTorch's gradient reaches it through the weights
            yield Case(
                f"{op}-{mode}-q-tensor",
                lambda lib, x, q, op=op, mode=mode: getattr(lib, op)(x, q, dim=0, interpolation=mode),
                [(5, 3), QS],
            )
            yield Case(
                f"{op}-{mode}-nan",
                lambda lib, x, q, op=op, mode=mode: getattr(lib, op)(x, q, 1, interpolation=mode),
                [ALL_NAN_ROW, QS],
                grad=False,
            )
        yield Case(f"{op}-all", lambda lib, x, op=op: getattr(lib, op)(x, 0.4), [(3, 4)])
        yield Case(f"{op}-all-keepdim", lambda lib, x, op=op: getattr(lib, op)(x, 0.4, keepdim=True), [(3, 4)])
        yield Case(
            f"{op}-all-q-tensor-keepdim",
            lambda lib, x, q, op=op: getattr(lib, op)(x, q, keepdim=True),
            [(3, 4), QS[:3]],
        )
        yield Case(f"{op}-dim-keepdim", lambda lib, x, op=op: getattr(lib, op)(x, 0.7, 1, True), [(2, 3, 4)])
        yield Case(
            f"{op}-negdim-q-tensor-keepdim",
            lambda lib, x, q, op=op: getattr(lib, op)(x, q, dim=-2, keepdim=True),
            [(2, 3, 4), QS[2:5]],
        )
        yield Case(f"{op}-0d-q-tensor", lambda lib, x, q, op=op: getattr(lib, op)(x, q, 1), [(3, 4), np.array(0.8)])
        yield Case(f"{op}-method", lambda lib, x, op=op: getattr(x, op)(0.5, dim=0), [(3, 4)])
        yield Case(f"{op}-median", lambda lib, x, op=op: getattr(lib, op)(x, 0.5), [(4, 4)])
        yield Case(f"{op}-one-element", lambda lib, x, op=op: getattr(lib, op)(x, 0.3, 0), [(1, 3)])
        yield Case(
            f"{op}-nearest-halves",
            lambda lib, x, op=op: getattr(lib, op)(x, 0.375, 1, interpolation="nearest"),
            [(2, 5)],
        )
        yield Case(f"{op}-nan-all", lambda lib, x, op=op: getattr(lib, op)(x, 0.3), [NANS], grad=False)


MODE = [
    Case("mode", lambda lib, x: lib.mode(x), [REPEATS]),
    Case("mode-dim0", lambda lib, x: lib.mode(x, 0), [REPEATS]),
    Case("mode-keepdim", lambda lib, x: lib.mode(x, 1, keepdim=True), [REPEATS]),
    Case("mode-method", lambda lib, x: x.mode(-1), [REPEATS]),
    Case("mode-fields", lambda lib, x: (lambda r: (r.indices, r.values))(lib.mode(x)), [REPEATS]),
    Case("mode-distinct", lambda lib, x: lib.mode(x), [(3, 4)]),
    Case("mode-int", lambda lib, x: lib.mode(x, 1), [INTS]),
    Case("mode-bool", lambda lib, x: lib.mode(x), [np.array([True, False, True, False])]),
    Case("mode-0d", lambda lib, x: lib.mode(x), [()]),
    Case("mode-3d", lambda lib, x: lib.mode(x, 1), [np.round(np.random.default_rng(3).uniform(0, 3, (2, 6, 3)))]),
]

CASES = [*MOMENTS, *AMINMAX, *NAN_REDUCTIONS, *_medians(), *_quantiles(), *MODE]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


ERRORS = [
    ("var_mean-int", lambda lib, x: lib.var_mean(x), [INTS]),
    ("std_mean-bad-dim", lambda lib, x: lib.std_mean(x, 2), [(3, 4)]),
    ("aminmax-empty", lambda lib, x: lib.aminmax(x), [np.zeros((0,))]),
    ("aminmax-empty-dim", lambda lib, x: lib.aminmax(x, dim=0), [np.zeros((0, 3))]),
    ("nanmean-int", lambda lib, x: lib.nanmean(x), [INTS]),
    ("median-empty-dim", lambda lib, x: lib.median(x, 1), [np.zeros((2, 0))]),
    ("median-bool", lambda lib, x: lib.median(x), [np.array([True, False])]),
    ("nanmedian-bool-dim", lambda lib, x: lib.nanmedian(x, 0), [np.array([True, False])]),
    ("median-bad-dim", lambda lib, x: lib.median(x, 2), [(3, 4)]),
    ("nanmedian-empty-dim", lambda lib, x: lib.nanmedian(x, 1), [np.zeros((2, 0))]),
    ("mode-empty-dim", lambda lib, x: lib.mode(x, 1), [np.zeros((2, 0))]),
    ("quantile-q-above", lambda lib, x: lib.quantile(x, 1.5), [(3, 4)]),
    ("quantile-q-below", lambda lib, x: lib.quantile(x, -0.1), [(3, 4)]),
    ("quantile-q-tensor-range", lambda lib, x, q: lib.quantile(x, q.detach()), [(3, 4), np.array([0.2, 1.2])]),
    ("quantile-q-dtype", lambda lib, x: lib.quantile(x, lib.tensor([0.5], dtype=lib.float64)), [(3, 4)]),
    ("quantile-q-2d", lambda lib, x: lib.quantile(x, lib.full((2, 2), 0.5)), [(3, 4)]),
    ("quantile-int", lambda lib, x: lib.quantile(x, 0.5), [INTS]),
    ("quantile-empty", lambda lib, x: lib.quantile(x, 0.5), [np.zeros((0,))]),
    ("quantile-interpolation", lambda lib, x: lib.quantile(x, 0.5, interpolation="cubic"), [(3, 4)]),
    ("quantile-bad-dim", lambda lib, x: lib.quantile(x, 0.5, dim=3), [(3, 4)]),
    ("nanquantile-q-above", lambda lib, x: lib.nanquantile(x, 1.5), [(3, 4)]),
    ("nanquantile-int", lambda lib, x: lib.nanquantile(x, 0.5), [INTS]),
]


@pytest.mark.parametrize("call,inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(call, inputs):
    check_error(call, inputs)


def test_aminmax_and_mode_are_named_tuples():
    import somegrad as sg

    x = sg.tensor([[1.0, 2.0, 2.0]])
    low, high = sg.aminmax(x)
    assert (low.item(), high.item()) == (1.0, 2.0)
    assert sg.mode(x, 1).values.item() == 2.0 and sg.mode(x, 1).indices.item() == 2
