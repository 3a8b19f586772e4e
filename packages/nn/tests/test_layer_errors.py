"""Layers and losses at their edges: empty sizes compute PyTorch's result, and bad arguments
raise one error that names the layer or function (the fuzzed versions: tests/reliability)."""

import numpy as np
import pytest
from nn_testing import value

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn


def test_linear_refuses_a_float64_input_to_float32_weights():
    with pytest.raises(TypeError, match=r"linear: input of dtype float64 and weight of dtype float32"):
        nn.Linear(2, 3)(sg.zeros(4, 2, dtype=sg.float64))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_with_no_input_or_output_features_has_gradients(bias):
    layer = nn.Linear(0, 3, bias=bias)
    x = sg.zeros(2, 0, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.shape == (2, 0) and layer.weight.grad.shape == (3, 0)
    out = nn.Linear(3, 0, bias=bias)(sg.ones(2, 4, 3))
    assert out.shape == (2, 4, 0)
