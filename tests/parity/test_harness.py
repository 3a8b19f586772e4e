"""The parity harness itself, on ops and modules that exist: it must pass on agreement and
fail on a difference."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, ModuleCase, check, check_error, check_module

pytestmark = pytest.mark.parity

CASES = [
    Case("cumsum", lambda lib, x: lib.cumsum(x, dim=1), [(3, 4)]),
    Case("gather", lambda lib, x, i: lib.gather(x, 1, i), [(3, 4), np.array([[0, 1], [2, 3], [1, 1]])]),
    Case("max-dim", lambda lib, x: lib.max(x, dim=0), [(4, 3)]),
    Case("sum-int", lambda lib, x: lib.sum(x), [np.arange(6).reshape(2, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_case(case, dtype):
    check(case, dtype)


def test_a_wrong_value_fails():
    case = Case("wrong", lambda lib, x: x.exp() if lib is np or lib.__name__ == "torch" else x.exp() * 1.001, [(3,)])
    with pytest.raises(AssertionError):
        check(case)


def test_a_wrong_gradient_fails():
    def call(lib, x):
        return x * 2 if lib.__name__ == "torch" else (x.detach() * 2 + x * 0.0 + (x * 2).detach() * 0)

    with pytest.raises(AssertionError):
        check(Case("wrong-grad", call, [(3,)]))


def test_error_class():
    check_error(lambda lib, x: lib.cat([x, x.reshape(3, 1)], dim=0), [(3,)])


def test_module():
    check_module(ModuleCase("linear", lambda lib: lib.nn.Linear(4, 3), [(2, 4)]))


def test_absent_outputs_compare_equal():
    check(Case("none-output", lambda lib, x: (x.exp(), None), [(3,)]))
    with pytest.raises(AssertionError):
        check(Case("none-against-tensor", lambda lib, x: (x, None if lib.__name__ == "torch" else x), [(3,)]))
