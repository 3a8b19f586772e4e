"""`somegrad.special` is `torch.special`: each name computes what PyTorch's does."""

from __future__ import annotations

import numpy as np
import pytest
from harness import Case, check

import somegrad as sg

pytestmark = pytest.mark.parity

NAMES = ["digamma", "psi", "gammaln", "erf", "erfc", "erfcx", "erfinv", "expit", "expm1", "exp2", "i0", "log1p",
         "logit", "ndtr", "ndtri", "log_ndtr", "sinc", "entr", "round"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_unary(name):
    low, high = (0.05, 0.95) if name in ("erfinv", "logit", "ndtri") else (0.2, 3.0)
    grad = name not in ("round",)
    check(Case(name, lambda lib, x: getattr(lib.special, name)(x), [(3, 4)], low=low, high=high, grad=grad, rtol=1e-7))


def test_binary_and_reductions():
    for case in [
        Case("xlogy", lambda lib, x, y: lib.special.xlogy(x, y), [(5,), (5,)], low=0.1, high=2.0),
        Case("xlog1py", lambda lib, x, y: lib.special.xlog1py(x, y), [(5,), (5,)], low=0.1, high=2.0),
        Case("polygamma", lambda lib, x: lib.special.polygamma(1, x), [(5,)], low=0.5, high=3.0, rtol=1e-7),
        Case("multigammaln", lambda lib, x: lib.special.multigammaln(x, 2), [(5,)], low=1.0, high=3.0),
        Case("logsumexp", lambda lib, x: lib.special.logsumexp(x, 1), [(3, 4)]),
        Case("softmax", lambda lib, x: lib.special.softmax(x, 1), [(3, 4)]),
        Case("log_softmax", lambda lib, x: lib.special.log_softmax(x, 1), [(3, 4)]),
    ]:
        check(case)


def test_every_name_is_there():
    missing = [name for name in sg.special.__all__ if not hasattr(sg.special, name)]
    assert not missing
    assert np.isclose(sg.special.gammaln(sg.tensor([4.0])).item(), np.log(6.0))
