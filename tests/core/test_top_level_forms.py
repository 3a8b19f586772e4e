"""PyTorch's top-level forms: the in-place variants as functions (`torch.exp_(x)`) and the nn
functions PyTorch also has at the top (`torch.conv2d`)."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad.ops.surface import exports

INPLACE = sorted(name for name in exports() if name.endswith("_") and not name.startswith("_"))


def test_every_inplace_function_is_its_tensor_method():
    assert {"abs_", "exp_", "sqrt_", "clamp_", "zero_", "fill_", "index_put_"} <= set(INPLACE)
    for name in INPLACE:
        assert hasattr(sg.Tensor, name), name
    x = sg.tensor([-4.0, 9.0])
    assert sg.abs_(x) is x and x.tolist() == [4.0, 9.0]
    sg.sqrt_(x)
    assert x.tolist() == [2.0, 3.0]


@pytest.mark.parity
@pytest.mark.parametrize("name", ["abs_", "exp_", "sigmoid_", "clamp_", "round_", "trunc_", "nan_to_num_", "zero_"])
def test_inplace_functions_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    values = np.array([-1.5, 0.25, 2.5, np.nan])
    args = {"clamp_": (-1.0, 1.0)}.get(name, ())
    results = []
    for lib in (sg, torch):
        x = lib.tensor(values)
        out = getattr(lib, name)(x, *args)
        assert out is x
        results.append(x.numpy())
    np.testing.assert_allclose(results[0], results[1], equal_nan=True)


NN_CALLS = {
    "conv2d": lambda lib, x, w: lib.conv2d(x, w, None, 1, 1),
    "max_pool2d": lambda lib, x, w: lib.max_pool2d(x, 2),
    "layer_norm": lambda lib, x, w: lib.layer_norm(x, (5,)),
    "group_norm": lambda lib, x, w: lib.group_norm(x, 1),
    "dropout-eval": lambda lib, x, w: lib.dropout(x, 0.5, False),
    "cosine_similarity": lambda lib, x, w: lib.cosine_similarity(x, x.flip(-1), 1),
}


@pytest.mark.parity
@pytest.mark.parametrize("name", sorted(NN_CALLS))
def test_top_level_nn_functions_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 3, 3))
    ours = NN_CALLS[name](sg, sg.tensor(x), sg.tensor(w)).numpy()
    theirs = NN_CALLS[name](torch, torch.tensor(x), torch.tensor(w)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
