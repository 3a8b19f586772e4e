"""Parity with PyTorch: the cumulative scans cumsum, cumprod, cummax, cummin, logcumsumexp,
their methods, in-place variants, gradients (cumprod's where the input has zeros, cummax's
at ties) and errors."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check, check_error

pytestmark = pytest.mark.parity

ZEROS = np.array([[2.0, 0.0, 3.0, 4.0, 5.0], [1.5, -0.5, 0.0, 2.0, 1.0], [0.0, 0.0, 1.5, 2.0, -1.0]])
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 0.0, 0.0, 2.0, 0.0], [-1.0, -1.0, -1.0, -1.0, -1.0]])
NAN = np.array([[1.0, np.nan, 2.0, np.nan, 5.0]])
WIDE = np.array([[-1000.0, 0.0, 1.0, 800.0], [700.0, 710.0, -5.0, 720.0]])


def _pair(name, op):
    return [
        Case(f"{name}-dim1", lambda lib, x: getattr(lib, op)(x, 1), [(3, 5)]),
        Case(f"{name}-dim0-method", lambda lib, x: getattr(x, op)(0), [(4, 3)]),
        Case(f"{name}-negative-dim", lambda lib, x: getattr(lib, op)(x, dim=-1), [(2, 3, 4)]),
        Case(f"{name}-ties", lambda lib, x: getattr(lib, op)(x, 1), [TIES]),
        Case(f"{name}-nan", lambda lib, x: getattr(lib, op)(x, 1), [NAN], grad=False),
        Case(f"{name}-0d", lambda lib, x: getattr(lib, op)(x, 0), [()]),
        Case(f"{name}-named", lambda lib, x: getattr(lib, op)(x, 1).indices, [(3, 5)]),
        Case(f"{name}-int", lambda lib, x: getattr(lib, op)(x, 0), [np.array([3, 1, 4, 1, 5, 1])]),
        Case(f"{name}-bool", lambda lib, x: getattr(lib, op)(x, 0), [np.array([False, True, False, True])]),
        Case(f"{name}-long", lambda lib, x: getattr(lib, op)(x, 1), [(2, 70)]),
    ]


CASES = [
    Case("cumsum", lambda lib, x: lib.cumsum(x, dim=1), [(3, 4)]),
    Case("cumsum-method", lambda lib, x: x.cumsum(0), [(3, 4)]),
    Case("cumsum-int", lambda lib, x: lib.cumsum(x, 0), [np.array([1, 2, 3], dtype=np.int32)]),
    Case("cumsum-dtype", lambda lib, x: lib.cumsum(x, 0, dtype=lib.float64), [np.array([1, 2, 3])]),
    Case("cumprod", lambda lib, x: lib.cumprod(x, dim=1), [(3, 5)], low=0.5, high=1.5),
    Case("cumprod-negative", lambda lib, x: lib.cumprod(x, 0), [(4, 3)]),
    Case("cumprod-method", lambda lib, x: x.cumprod(-1), [(2, 3, 4)]),
    Case("cumprod-zeros", lambda lib, x: lib.cumprod(x, 1), [ZEROS]),
    Case("cumprod-zeros-dim0", lambda lib, x: lib.cumprod(x, 0), [ZEROS.T.copy()]),
    Case("cumprod-0d", lambda lib, x: lib.cumprod(x, 0), [()]),
    Case("cumprod_-inplace", lambda lib, x: x.clone().cumprod_(1), [(3, 4)]),
    Case("cumprod-int", lambda lib, x: lib.cumprod(x, 0), [np.array([1, 2, 3, -2], dtype=np.int32)]),
    Case("cumprod-bool", lambda lib, x: lib.cumprod(x, 0), [np.array([True, True, False])]),
    Case("cumprod-dtype", lambda lib, x: lib.cumprod(x, 0, dtype=lib.float32), [np.array([1, 2, 3])]),
    *_pair("cummax", "cummax"),
    *_pair("cummin", "cummin"),
    Case("logcumsumexp", lambda lib, x: lib.logcumsumexp(x, 1), [(3, 6)], low=-3, high=3),
    Case("logcumsumexp-method", lambda lib, x: x.logcumsumexp(0), [(4, 3)]),
    Case("logcumsumexp-negative-dim", lambda lib, x: lib.logcumsumexp(x, dim=-1), [(2, 3, 5)]),
    Case("logcumsumexp-wide", lambda lib, x: lib.logcumsumexp(x, 1), [WIDE]),
    Case("logcumsumexp-0d", lambda lib, x: lib.logcumsumexp(x, 0), [()]),
    Case(
        "logcumsumexp-neg-inf", lambda lib, x: lib.logcumsumexp(x, 1), [np.array([[-np.inf, -np.inf, 0, -np.inf, 1]])]
    ),
    Case("logcumsumexp-long", lambda lib, x: lib.logcumsumexp(x, 1), [(2, 100)], low=-5, high=5),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity(case, dtype):
    check(case, dtype)


def test_cumprod_double_backward_where_the_input_has_zeros():
    """The second derivative too: PyTorch's is exact, and so is somegrad's."""
    import torch

    import somegrad as sg

    for values in ([2.0, 0.0, 3.0, 4.0, 5.0], [2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0]):
        results = []
        for lib in (torch, sg):
            x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
            weights = lib.tensor(np.linspace(0.5, 1.5, len(values)), dtype=lib.float64)
            (g,) = lib.autograd.grad((lib.cumprod(x, 0) * weights).sum(), x, create_graph=True)
            (h,) = lib.autograd.grad((g * weights).sum(), x)
            results.append((g.detach().numpy(), h.detach().numpy()))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


ERRORS = [
    ("cumprod-bad-dim", lambda lib, x: lib.cumprod(x, 2)),
    ("cummax-bad-dim", lambda lib, x: lib.cummax(x, 2)),
    ("cummin-bad-dim", lambda lib, x: x.cummin(-3)),
    ("logcumsumexp-bad-dim", lambda lib, x: lib.logcumsumexp(x, 2)),
    ("logcumsumexp-int", lambda lib, x: lib.logcumsumexp(x.long(), 0)),
    ("cumsum-bad-dim", lambda lib, x: lib.cumsum(x, 5)),
]


@pytest.mark.parametrize("call", [c for _, c in ERRORS], ids=[n for n, _ in ERRORS])
def test_error(call):
    check_error(call, [(3, 4)])
