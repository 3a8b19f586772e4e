"""Fuzzed layers: Linear, Conv2d, LayerNorm and Embedding built with random arguments and called
on random inputs, and cross_entropy with random shapes, targets and options. Each either gives
NumPy's result or raises a clear error that names the layer or function."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from reliability_fuzzing import clear_error_or_result, fuzz, make, seeds, time_limit

import somegrad as sg

nn = pytest.importorskip("somegrad.nn")
F = nn.functional

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(autouse=True)
def _no_hangs():
    with time_limit(120):
        yield


small_shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)
input_dtypes = st.sampled_from([sg.float32, sg.float64, sg.int64])


def _params(layer):
    return {name: p.detach().to(sg.float64).numpy() for name, p in layer.named_parameters()}


def _close(result, expected):
    """A layer's float output against a float64 reference: float32 parameters (and inputs)
    bound the error by float32's precision times the magnitudes summed."""
    assert isinstance(result, sg.Tensor) and result.dtype.is_floating_point, result
    actual, expected = result.detach().to(sg.float64).numpy(), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = max(float(np.abs(expected[np.isfinite(expected)]).max(initial=0)), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale, equal_nan=True)


@fuzz(500)
@given(
    in_features=st.integers(0, 4),
    out_features=st.integers(0, 4),
    bias=st.booleans(),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
    dtype=input_dtypes,
    seed=seeds,
)
def test_linear(in_features, out_features, bias, shape, dtype, seed):
    names = ("linear", "Linear")
    with clear_error_or_result(*names) as outcome:
        layer = nn.Linear(in_features, out_features, bias=bias)
        values, x = make(shape, dtype, seed)
        outcome.value = layer(x)
    if not shape or shape[-1] != in_features:  # a 0-d input or a mismatch
        assert outcome.raised is not None, f"Linear({in_features}, {out_features}) of {shape} {dtype}"
        return
    if dtype is sg.int64:
        assert outcome.raised is not None, f"Linear({in_features}, {out_features}) of an integer input"
        return
    if outcome.raised is not None and dtype is not sg.float32:
        return  # PyTorch refuses a float64 input to float32 weights; promoting is fine too
    assert outcome.raised is None, outcome.raised
    p = _params(layer)
    expected = values.astype(np.float64) @ p["weight"].T + (p["bias"] if bias else 0)
    _close(outcome.value, expected)


def _conv2d_reference(x, weight, bias, stride, padding, dilation, groups):
    """x: (N, C, H, W) float64; the direct sum, one output position at a time."""
    n, c, h, w = x.shape
    out_c, c_per_group, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, out_c, max(oh, 0), max(ow, 0)))
    per_group = out_c // groups
    for o in range(out_c):
        g = o // per_group
        channels = x[:, g * c_per_group : (g + 1) * c_per_group]
        for i in range(max(oh, 0)):
            for j in range(max(ow, 0)):
                window = channels[
                    :, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw
                ]
                out[:, o, i, j] = (window * weight[o]).sum(axis=(1, 2, 3))
    return out + (bias.reshape(1, -1, 1, 1) if bias is not None else 0)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@fuzz(500)
@given(
    group_channels=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    kernel=st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(1, 3))),
    stride=st.one_of(st.integers(0, 2), st.tuples(st.integers(1, 2), st.integers(0, 2))),
    padding=st.one_of(st.integers(-1, 2), st.sampled_from(["same", "valid"])),
    dilation=st.integers(1, 2),
    groups=st.integers(1, 2),
    bias=st.booleans(),
    shape=st.lists(st.integers(0, 6), min_size=2, max_size=5).map(tuple),
    channels_match=st.booleans(),
    seed=seeds,
)
@example((1, 1), 3, 1, 0, 1, 1, True, (1, 1, 2, 2), True, 0).via("a kernel larger than the input")
def test_conv2d(group_channels, kernel, stride, padding, dilation, groups, bias, shape, channels_match, seed):
    names = ("conv2d", "Conv2d")
    in_channels, out_channels = group_channels[0] * groups, group_channels[1] * groups
    if padding == "same":
        stride = 1
    if channels_match and len(shape) >= 3:
        shape = shape[:-3] + (in_channels,) + shape[-2:]
    with clear_error_or_result(*names) as outcome:
        layer = nn.Conv2d(
            in_channels,
            out_channels,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        values, x = make(shape, sg.float32, seed)
        outcome.value = layer(x)
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride)
    refused = (
        min(kh, kw) <= 0
        or min(sh, sw) <= 0
        or (isinstance(padding, int) and padding < 0)
        or in_channels % groups
        or out_channels % groups
        or (padding == "same" and (sh, sw) != (1, 1))
        or len(shape) not in (3, 4)
        or shape[-3] != in_channels
    )
    if not refused:
        if padding == "same":
            total = (dilation * (kh - 1), dilation * (kw - 1))
            if any(t % 2 for t in total):
                refused = None  # asymmetric "same" padding: PyTorch pads unevenly; not checked here
            pads = (total[0] // 2, total[1] // 2)
        else:
            pads = (0, 0) if padding == "valid" else (padding, padding)
        if refused is not None:
            h, w = shape[-2] + 2 * pads[0], shape[-1] + 2 * pads[1]
            refused = (
                h < dilation * (kh - 1) + 1
                or w < dilation * (kw - 1) + 1
                or (len(shape) == 4 and shape[0] == 0 and False)
            )
    if refused is None:
        return
    if refused:
        assert outcome.raised is not None, (
            f"Conv2d({in_channels}, {out_channels}, {kernel}, stride={stride}, padding={padding!r}, "
            f"dilation={dilation}, groups={groups}) of {shape} should be refused"
        )
        return
    assert outcome.raised is None, outcome.raised
    p = _params(layer)
    batched = values.astype(np.float64).reshape((int(np.prod(shape[:-3])),) + shape[-3:])
    expected = _conv2d_reference(batched, p["weight"], p.get("bias"), (sh, sw), pads, (dilation, dilation), groups)
    if len(shape) == 3:
        expected = expected[0]
    _close(outcome.value, expected)


@fuzz(500)
@given(
    normalized=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    affine=st.booleans(),
    bias=st.booleans(),
    shape=small_shapes,
    suffix=st.booleans(),
    seed=seeds,
)
def test_layer_norm(normalized, affine, bias, shape, suffix, seed):
    names = ("layer_norm", "LayerNorm")
    if suffix:
        shape = shape[: max(len(shape) - len(normalized), 0)] + normalized
    with clear_error_or_result(*names) as outcome:
        layer = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
        values, x = make(shape, sg.float32, seed)
        outcome.value = layer(x)
    k = len(normalized)
    if k == 0 and outcome.raised is None:
        return  # PyTorch refuses an empty normalized_shape; normalizing each element alone is fine too
    if k == 0 or shape[len(shape) - k :] != normalized or len(shape) < k:
        assert outcome.raised is not None, f"LayerNorm({normalized}) of {shape} should be refused"
        return
    assert outcome.raised is None, outcome.raised
    axes = tuple(range(len(shape) - k, len(shape)))
    v = values.astype(np.float64)
    with np.errstate(all="ignore"):
        expected = (v - v.mean(axes, keepdims=True)) / np.sqrt(v.var(axes, keepdims=True) + 1e-5)
    p = _params(layer)
    expected = expected * p.get("weight", 1) + p.get("bias", 0)
    _close(outcome.value, expected)


@fuzz(500)
@given(
    num=st.integers(0, 5),
    dim=st.integers(0, 4),
    padding_idx=st.one_of(st.none(), st.integers(-6, 5)),
    index_shape=small_shapes,
    index_dtype=st.sampled_from([sg.int64, sg.int32, sg.float32, sg.bool]),
    seed=seeds,
)
def test_embedding(num, dim, padding_idx, index_shape, index_dtype, seed):
    names = ("embedding", "Embedding")
    rng = np.random.default_rng(seed)
    index_values = rng.integers(-1, num + 1, size=index_shape)
    with clear_error_or_result(*names) as outcome:
        layer = nn.Embedding(num, dim, padding_idx=padding_idx)
        outcome.value = layer(sg.tensor(index_values).to(index_dtype))
    refused = (
        (padding_idx is not None and not -num <= padding_idx < num)
        or index_dtype.is_floating_point
        or index_dtype is sg.bool
        or (index_values.size and (index_values.min() < 0 or index_values.max() >= num))
    )
    if refused:
        assert outcome.raised is not None, f"Embedding({num}, {dim}, padding_idx={padding_idx}) of {index_values}"
        return
    assert outcome.raised is None, outcome.raised
    _close(outcome.value, _params(layer)["weight"][index_values])


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True) if x.size else x
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def cross_entropy_reference(x, target, weight, ignore_index, smoothing, reduction):
    """PyTorch's cross_entropy in NumPy (float64). x: (N, C, *) or (C,)."""
    axis = 1 if x.ndim > 1 else 0
    classes = x.shape[axis]
    logp = _log_softmax(x, axis)
    w = np.ones(classes) if weight is None else weight
    w_shape = [1] * x.ndim
    w_shape[axis] = classes
    w_b = w.reshape(w_shape)
    if target.dtype.kind == "f":  # probabilities
        loss = -(logp * w_b * ((1 - smoothing) * target + smoothing / classes)).sum(axis)
        if reduction == "none":
            return loss
        return loss.sum() if reduction == "sum" else loss.sum() / max(loss.size, 1) if loss.size else np.nan
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    picked = np.take_along_axis(logp, np.expand_dims(safe, axis), axis).squeeze(axis)
    nll = -picked * w[safe] * valid
    smooth = -(logp * w_b).sum(axis) * valid
    loss = (1 - smoothing) * nll + smoothing / classes * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(all="ignore"):
        return loss.sum() / (w[safe] * valid).sum()


@st.composite
def cross_entropy_arguments(draw):
    classes = draw(st.integers(0, 4))
    batch = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    shape = (classes,) if not batch else batch[:1] + (classes,) + batch[1:]
    kind = draw(st.sampled_from(["indices", "indices", "probabilities", "misfit"]))
    rng = np.random.default_rng(draw(seeds))
    target_shape = shape[:1] + shape[2:] if batch else ()
    if kind == "probabilities":
        target = rng.random(shape)
        target = target / np.maximum(target.sum(axis=1 if batch else 0, keepdims=True), 1e-9)
    elif (
        kind == "misfit" and batch
    ):  # unbatched: a (1,) target is fine, as in PyTorch; see test_cross_entropy_unbatched_with_a_misfit_target
        target = rng.integers(0, max(classes, 1), size=draw(st.lists(st.integers(0, 3), max_size=3)))
    else:  # mostly in range; now and then one below 0 or past the classes
        low, high = (-1, classes + 1) if draw(st.integers(0, 3)) == 0 else (0, classes)
        target = rng.integers(low, max(high, low + 1), size=target_shape)
    misfit_weight = draw(st.integers(0, 2)) == 0
    weight = rng.random(classes + misfit_weight) + 0.5 if draw(st.booleans()) else None
    ignore_index = draw(st.sampled_from([-100, 0, 1]))
    if kind != "probabilities" and ignore_index == 1 and target.size and draw(st.booleans()):
        target.flat[0] = 1
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.5]))
    reduction = draw(st.sampled_from(["mean", "sum", "none", "average"]))
    return rng.standard_normal(shape) * 3, target, weight, ignore_index, smoothing, reduction


@fuzz(800)
@given(arguments=cross_entropy_arguments(), dtype=st.sampled_from([sg.float32, sg.float64]))
def test_cross_entropy(arguments, dtype):
    x_values, target, weight, ignore_index, smoothing, reduction = arguments
    x = sg.tensor(x_values, dtype=dtype)
    target_tensor = sg.tensor(target, dtype=dtype) if target.dtype.kind == "f" else sg.tensor(target)
    weight_tensor = None if weight is None else sg.tensor(weight, dtype=dtype)
    with clear_error_or_result("cross_entropy", "nll_loss") as outcome:
        outcome.value = F.cross_entropy(
            x,
            target_tensor,
            weight=weight_tensor,
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=smoothing,
        )
    classes = x_values.shape[1] if x_values.ndim > 1 else x_values.shape[0]
    probabilities = target.dtype.kind == "f"
    expected_target_shape = (
        x_values.shape if probabilities else (x_values.shape[:1] + x_values.shape[2:] if x_values.ndim > 1 else ())
    )
    out_of_range = not probabilities and np.any((target != ignore_index) & ((target < 0) | (target >= classes)))
    refused = (
        reduction not in ("mean", "sum", "none")
        or not 0 <= smoothing <= 1
        or target.shape != expected_target_shape
        or (weight is not None and weight.shape != (classes,))
        or out_of_range
        or classes == 0
    )
    if not refused and probabilities and ignore_index != -100 and outcome.raised is not None:
        return  # PyTorch refuses an ignore_index with probabilities; ignoring it is fine too
    if refused:
        assert outcome.raised is not None, (
            f"cross_entropy({x_values.shape}, target {target.shape} {target.dtype}, weight "
            f"{None if weight is None else weight.shape}, ignore_index={ignore_index}, "
            f"smoothing={smoothing}, {reduction!r}) should be refused"
        )
        return
    assert outcome.raised is None, outcome.raised
    expected = cross_entropy_reference(
        x_values.astype(dtype is sg.float32 and np.float32 or np.float64).astype(np.float64),
        target,
        weight,
        ignore_index,
        smoothing,
        reduction,
    )
    _close(outcome.value, expected)


# --- known bugs in somegrad.nn and its ops (not the core's), each with its smallest repro ---------
# Strict: when one is fixed its test passes, fails the run, and the mark comes off.


def test_linear_with_no_input_features():
    layer = nn.Linear(0, 3)
    out = layer(sg.zeros(2, 0))  # PyTorch: the bias, broadcast to (2, 3)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out.detach().numpy(), np.broadcast_to(layer.bias.detach().numpy(), (2, 3)))


def test_linear_refuses_an_integer_input():
    with pytest.raises((TypeError, RuntimeError), match="linear|Linear"):
        nn.Linear(2, 3)(sg.tensor([[1, 2]]))  # today: tensor([[0, 0, 0]]), PyTorch refuses


@pytest.mark.parametrize("shape", [(), (0,)], ids=["0d", "empty"])
def test_linear_without_bias_checks_its_input(shape):
    with pytest.raises((ValueError, RuntimeError), match="linear|Linear"):
        nn.Linear(1, 2, bias=False)(sg.zeros(shape))


def test_layer_norm_over_a_zero_size_shape():
    assert nn.LayerNorm((3, 0))(sg.zeros(3, 0)).shape == (3, 0)  # as in PyTorch


def test_embedding_padding_idx_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"\b(Embedding|embedding)\b"):
        nn.Embedding(2, 1, padding_idx=5)


@pytest.mark.parametrize("kwargs", [dict(groups=2), dict(padding="same", stride=2)], ids=["groups", "same-strided"])
def test_conv2d_argument_errors_are_named(kwargs):
    with pytest.raises(ValueError, match="Conv2d|conv2d"):
        nn.Conv2d(4, 3, 3, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [dict(kernel_size=1, stride=0), dict(kernel_size=2, padding=-1), dict(kernel_size=0)],
    ids=["stride0", "padding-1", "kernel0"],
)
def test_conv2d_refuses_non_positive_sizes(kwargs):
    with pytest.raises((ValueError, RuntimeError), match="Conv2d|conv2d"):
        nn.Conv2d(1, 1, **kwargs)(sg.zeros(1, 1, 4, 4))


def test_conv2d_of_an_empty_batch():
    assert nn.Conv2d(4, 2, 3, groups=2)(sg.zeros(0, 4, 6, 3)).shape == (0, 2, 4, 1)


@pytest.mark.parametrize("decomposed", [False, True], ids=["fused", "decomposed"])
def test_cross_entropy_target_out_of_range_is_named(decomposed):
    from somegrad.ops.dispatch import use_decompositions

    with use_decompositions(decomposed), pytest.raises((IndexError, RuntimeError), match="cross_entropy"):
        F.cross_entropy(sg.zeros(2, 3), sg.tensor([0, 3]))


def test_cross_entropy_negative_target_is_refused():
    with pytest.raises((IndexError, RuntimeError, ValueError), match="cross_entropy"):
        F.cross_entropy(sg.randn(2, 3), sg.tensor([0, -1]))  # PyTorch: Target -1 is out of bounds


def test_cross_entropy_unbatched_with_a_misfit_target():
    with pytest.raises(ValueError, match="cross_entropy"):
        F.cross_entropy(sg.randn(3), sg.tensor([0, 1]))


def test_cross_entropy_with_no_classes():
    with pytest.raises((ValueError, IndexError, RuntimeError), match="cross_entropy"):
        F.cross_entropy(sg.zeros(0), sg.tensor(0))


def test_cross_entropy_probabilities_with_a_misfit_weight():
    with pytest.raises(ValueError, match="cross_entropy"):
        F.cross_entropy(sg.zeros(3, 3), sg.full((3, 3), 1 / 3), weight=sg.ones(4))


def test_cross_entropy_of_empty_probabilities():
    out = F.cross_entropy(sg.zeros(0, 3), sg.zeros(0, 3), label_smoothing=0.1)
    assert np.isnan(out.item())
