"""Under autocast, linear algebra on half-precision tensors runs in float32, as PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg

CALLS = {
    "inv": lambda lib, x: lib.linalg.inv(x),
    "svdvals": lambda lib, x: lib.linalg.svdvals(x),
    "cholesky": lambda lib, x: lib.linalg.cholesky(x @ x.mT),
    "vector_norm": lambda lib, x: lib.linalg.vector_norm(x),
}
A = np.eye(3) * 2 + 0.25


@pytest.mark.parametrize("name", sorted(CALLS))
def test_half_precision_linalg_runs_under_autocast_only(name):
    x = sg.tensor(A).to(sg.bfloat16)
    with sg.autocast("cpu", dtype=sg.bfloat16):
        out = CALLS[name](sg, x)
    expected = CALLS[name](sg, sg.tensor(A))
    np.testing.assert_allclose(out.float().numpy(), expected.numpy(), rtol=2e-2)
    if name != "vector_norm":  # half-precision norms accumulate in float32 outside autocast too
        with pytest.raises(NotImplementedError):
            CALLS[name](sg, x)


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(CALLS))
def test_autocast_result_dtypes_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (sg, torch):
        with lib.autocast("cpu", dtype=lib.bfloat16):
            results[lib] = CALLS[name](lib, lib.tensor(A).to(lib.bfloat16))
    assert results[sg].dtype.name == str(results[torch].dtype).removeprefix("torch.")


@pytest.mark.parity
def test_det_of_half_precision_is_refused_under_autocast_too():
    torch = pytest.importorskip("torch")
    for lib in (sg, torch):
        with lib.autocast("cpu", dtype=lib.bfloat16), pytest.raises(NotImplementedError):
            lib.linalg.det(lib.tensor(A).to(lib.bfloat16))
