"""Layers and losses at their edges: empty sizes compute PyTorch's result, and bad arguments
raise one error that names the layer or function (the fuzzed versions: tests/reliability)."""

import numpy as np
import pytest

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


@pytest.mark.parametrize("decomposed", [False, True], ids=["fused", "decomposed"])
@pytest.mark.parametrize(
    "shape, normalized", [((3, 0), (3, 0)), ((2, 3, 0), (0,)), ((0, 4), (4,)), ((2, 0, 3), (0, 3))]
)
def test_layer_norm_of_zero_size_shapes_has_gradients(shape, normalized, decomposed):
    from somegrad.ops.dispatch import use_decompositions

    layer = nn.LayerNorm(normalized)
    x = sg.zeros(shape, requires_grad=True)
    with use_decompositions(decomposed):
        out = layer(x)
        out.sum().backward()
    assert out.shape == shape and x.grad.shape == shape and layer.weight.grad.shape == normalized


def test_layer_norm_without_leading_dims_keeps_the_weight_gradient_shape_under_create_graph():
    layer = nn.LayerNorm(4)
    x = sg.randn(4, requires_grad=True)
    (dweight,) = sg.autograd.grad((layer(x) * sg.arange(4.0)).sum(), [layer.weight], create_graph=True)
    assert dweight.shape == (4,)


def test_embedding_padding_idx_out_of_range_names_the_range():
    with pytest.raises(ValueError, match=r"Embedding: padding_idx -3 must be within num_embeddings \(in \[-2, 2\)\)"):
        nn.Embedding(2, 1, padding_idx=-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(stride=0), r"conv2d: stride \(0, 0\) and dilation \(1, 1\) must be positive"),
        (dict(dilation=(1, 0)), r"conv2d: stride \(1, 1\) and dilation \(1, 0\) must be positive"),
        (dict(padding=(0, -1)), r"conv2d: padding .* must be non-negative"),
        (dict(groups=0), r"conv2d: groups must be a positive integer, got 0"),
    ],
)
def test_conv2d_function_refuses_non_positive_sizes(kwargs, match):
    with pytest.raises(RuntimeError, match=match):
        F.conv2d(sg.zeros(1, 2, 4, 4), sg.zeros(2, 2, 3, 3), **kwargs)


def test_conv2d_function_refuses_an_empty_kernel():
    with pytest.raises(RuntimeError, match=r"conv2d: the kernel of weight \(1, 1, 0, 2\) must have a positive size"):
        F.conv2d(sg.zeros(1, 1, 4, 4), sg.zeros(1, 1, 0, 2))


@pytest.mark.parametrize("layer", [nn.Conv1d, nn.ConvTranspose2d])
def test_other_convolutions_name_themselves(layer):
    with pytest.raises(ValueError, match=rf"{layer.__name__}: stride must be positive"):
        layer(1, 1, 2, stride=0)


@pytest.mark.parametrize("decomposed", [False, True], ids=["fused", "decomposed"])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_of_an_empty_batch_or_no_output_channels_has_gradients(groups, decomposed):
    from somegrad.ops.dispatch import use_decompositions

    for out_channels, batch in ((2, 0), (0, 2)):
        layer = nn.Conv2d(4, out_channels, 3, groups=groups)
        x = sg.zeros(batch, 4, 6, 3, requires_grad=True)
        with use_decompositions(decomposed):
            out = layer(x)
            out.sum().backward()
        assert out.shape == (batch, out_channels, 4, 1)
        assert x.grad.shape == x.shape and layer.weight.grad.shape == layer.weight.shape
        np.testing.assert_array_equal(x.grad.numpy(), 0)


def test_nll_loss_refuses_an_out_of_range_target():
    with pytest.raises(IndexError, match=r"nll_loss: Target -1 is out of bounds"):
        F.nll_loss(sg.zeros(2, 3), sg.tensor([0, -1]))
    assert F.nll_loss(sg.zeros(2, 3), sg.tensor([0, -1]), ignore_index=-1).item() == 0


def test_cross_entropy_ignore_index_may_lie_outside_the_classes():
    for ignore_index in (-1, 3):
        loss = F.cross_entropy(sg.zeros(2, 3), sg.tensor([0, ignore_index]), ignore_index=ignore_index)
        np.testing.assert_allclose(loss.item(), np.log(3), rtol=1e-6)


def test_cross_entropy_unbatched_takes_a_single_class_index():
    x = sg.tensor([0.0, 1.0, 2.0])
    expected = F.cross_entropy(x.reshape(1, 3), sg.tensor([2])).item()
    assert F.cross_entropy(x, sg.tensor(2)).item() == pytest.approx(expected)
    assert F.cross_entropy(x, sg.tensor([2])).item() == pytest.approx(expected)  # (1,), as PyTorch allows


def test_cross_entropy_with_a_misfit_weight_names_the_classes():
    with pytest.raises(RuntimeError, match=r"cross_entropy: weight of shape \(2,\) doesn't fit 3 classes"):
        F.cross_entropy(sg.zeros(4, 3), sg.tensor([0, 1, 2, 0]), weight=sg.ones(2))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_mean_of_an_empty_batch_is_nan(smoothing):
    assert np.isnan(F.cross_entropy(sg.zeros(0, 3), sg.zeros(0, dtype=sg.int64), label_smoothing=smoothing).item())
    assert np.isnan(F.cross_entropy(sg.zeros(0, 3, 2), sg.zeros(0, 3, 2), label_smoothing=smoothing).item())
    assert F.cross_entropy(sg.zeros(0, 3), sg.zeros(0, 3), reduction="sum").item() == 0
