"""Numerical robustness: the stable functions stay finite, and anomaly mode names the culprit.

softmax, log_softmax, logsumexp, cross_entropy, binary_cross_entropy_with_logits, layer_norm,
var and std are checked on inputs of magnitude 1e4 and on constant inputs, values against NumPy
in float64 and gradients against somegrad's own float64 gradient. In float16 they must not
overflow where PyTorch's don't (parity tests, run where torch is installed).
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import small_gpt, token_dataset, train_step

import somegrad as sg
import somegrad.nn.functional as F

SHAPE = (4, 6)
TARGETS = np.array([0, 5, 2, 3])


def _inputs():
    rng = np.random.default_rng(0)
    normal = rng.standard_normal(SHAPE)
    return {
        "large": normal * 1e4,
        "large_negative": -np.abs(normal) * 1e4 - 1e4,
        "large_offset": 1e4 + normal,  # ill-conditioned for var: a large mean, a small spread
        "constant": np.full(SHAPE, 3.0),
        "large_constant": np.full(SHAPE, 1e4),
        "zeros": np.zeros(SHAPE),
    }


INPUTS = _inputs()
WEIGHTS = np.random.default_rng(1).standard_normal(SHAPE)  # so that softmax's gradient is not 0


def _log_softmax(x):
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _bce_targets(x):
    return (x > np.median(x)).astype(x.dtype)


# name -> (somegrad function of x (a Tensor) and a NumPy module, NumPy float64 reference)
FUNCTIONS = {
    "softmax": (lambda x, lib: F.softmax(x, dim=-1), lambda x: np.exp(_log_softmax(x))),
    "log_softmax": (lambda x, lib: F.log_softmax(x, dim=-1), _log_softmax),
    "logsumexp": (
        lambda x, lib: x.logsumexp(-1),
        lambda x: x.max(-1) + np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)),
    ),
    "cross_entropy": (
        lambda x, lib: F.cross_entropy(x, sg.tensor(TARGETS)),
        lambda x: -_log_softmax(x)[np.arange(4), TARGETS].mean(),
    ),
    "cross_entropy_label_smoothing": (
        lambda x, lib: F.cross_entropy(x, sg.tensor(TARGETS), label_smoothing=0.1),
        lambda x: (0.9 * -_log_softmax(x)[np.arange(4), TARGETS] - 0.1 * _log_softmax(x).mean(-1)).mean(),
    ),
    "binary_cross_entropy_with_logits": (
        lambda x, lib: F.binary_cross_entropy_with_logits(x, sg.tensor(_bce_targets(x.detach().numpy()))),
        lambda x: (np.maximum(x, 0) - x * _bce_targets(x) + np.log1p(np.exp(-np.abs(x)))).mean(),
    ),
    "layer_norm": (
        lambda x, lib: F.layer_norm(x, (6,), sg.full((6,), 2.0, dtype=x.dtype), sg.full((6,), 0.5, dtype=x.dtype)),
        lambda x: 2 * (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) + 0.5,
    ),
    "var": (lambda x, lib: x.var(-1), lambda x: x.var(-1, ddof=1)),
    "var_all": (lambda x, lib: x.var(), lambda x: x.var(ddof=1)),
    "std": (lambda x, lib: x.std(-1), lambda x: x.std(-1, ddof=1)),
    "std_all_population": (lambda x, lib: x.std(correction=0), lambda x: x.std()),
}


def _value_and_grad(name, values, dtype):
    x = sg.tensor(values, dtype=dtype, requires_grad=True)
    out = FUNCTIONS[name][0](x, np)
    weights = sg.tensor(WEIGHTS.reshape(-1)[: out.numel()].reshape(out.shape), dtype=dtype)
    (out * weights).sum().backward()
    return out.detach().to(sg.float64).numpy(), x.grad.to(sg.float64).numpy()


@pytest.mark.parametrize("dtype", [sg.float32, sg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(INPUTS))
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_stable_functions_are_finite_and_right(name, case, dtype):
    rounded = sg.tensor(INPUTS[case], dtype=dtype).to(sg.float64).numpy()  # what the function sees
    value, grad = _value_and_grad(name, rounded, dtype)
    assert np.isfinite(value).all(), f"{name}({case}) = {value}"
    assert np.isfinite(grad).all(), f"the gradient of {name} at {case} is {grad}"

    expected = FUNCTIONS[name][1](rounded)
    eps = float(np.finfo(np.float32 if dtype is sg.float32 else np.float64).eps)
    # Float rounding of intermediates of the inputs' magnitude (squares, for var) bounds the error.
    magnitude = float(np.abs(rounded).max()) or 1.0
    scale = magnitude**2 if name.startswith("var") else magnitude
    np.testing.assert_allclose(value, expected, rtol=64 * eps, atol=64 * eps * scale)

    _, grad64 = _value_and_grad(name, rounded, sg.float64)
    grad_scale = max(float(np.abs(grad64).max()), 1.0)
    # Backward rules of the form exp(x - out) and (x - mean) / std lose the digits that the
    # inputs' magnitude takes (PyTorch's too).
    np.testing.assert_allclose(grad, grad64, rtol=0, atol=(256 + 8 * magnitude) * eps * grad_scale)


@pytest.mark.parametrize("dtype", [sg.float16, sg.float32], ids=["float16", "float32"])
@pytest.mark.parametrize("name", ["var", "std", "std_all_population", "layer_norm"])
@pytest.mark.parametrize("case", ["constant", "large_constant", "zeros"])
def test_constant_inputs_give_exact_results(name, case, dtype):
    """The variance and std of a constant are exactly 0, and std's gradient there is 0 (as in
    PyTorch); layer_norm maps a constant row exactly to its bias."""
    value, grad = _value_and_grad(name, INPUTS[case], dtype)
    expected = 0.5 if name == "layer_norm" else 0.0
    assert (value == expected).all(), value
    assert np.isfinite(grad).all(), grad
    if name != "layer_norm":  # its gradient there is weight * rstd * (g - mean(g)), not 0
        assert (grad == 0).all(), grad


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if not n.startswith("var")])
@pytest.mark.parametrize("case", list(INPUTS))
def test_float16_results_that_fit_float16_are_finite(name, case):
    """Reducing in float32 where PyTorch does: no float16 overflow in a sum of exponentials, a
    mean, or a variance whose root fits."""
    value, grad = _value_and_grad(name, INPUTS[case], sg.float16)
    assert np.isfinite(value).all(), f"{name}({case}) in float16 = {value}"
    assert np.isfinite(grad).all(), f"the float16 gradient of {name} at {case} is {grad}"


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_float16_mean_of_a_sum_that_overflows():
    x = sg.full((100,), 1e4, dtype=sg.float16)  # the sum, 1e6, is above float16's 65504
    assert x.mean().item() == 1e4
    assert x.reshape(10, 10).mean(1).tolist() == [1e4] * 10
    assert x.var().item() == 0 and x.std().item() == 0
    assert np.isinf(x.sum().item())  # the sum itself does not fit, as in PyTorch


# --- parity with PyTorch in float16 and float32 ---------------------------------------------------
def _torch_functions(torch):
    tf = torch.nn.functional
    targets = torch.tensor(TARGETS)
    return {
        "softmax": lambda x: tf.softmax(x, dim=-1),
        "log_softmax": lambda x: tf.log_softmax(x, dim=-1),
        "logsumexp": lambda x: x.logsumexp(-1),
        "cross_entropy": lambda x: tf.cross_entropy(x, targets),
        "cross_entropy_label_smoothing": lambda x: tf.cross_entropy(x, targets, label_smoothing=0.1),
        "binary_cross_entropy_with_logits": lambda x: tf.binary_cross_entropy_with_logits(
            x, torch.tensor(_bce_targets(x.detach().numpy()))
        ),
        "layer_norm": lambda x: tf.layer_norm(
            x, (6,), torch.full((6,), 2.0, dtype=x.dtype), torch.full((6,), 0.5, dtype=x.dtype)
        ),
        "var": lambda x: x.var(-1),
        "var_all": lambda x: x.var(),
        "std": lambda x: x.std(-1),
        "std_all_population": lambda x: x.std(correction=0),
    }


@pytest.mark.parity
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # float16 variances of 1e8 overflow, as PyTorch's
@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("case", list(INPUTS))
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_no_overflow_where_pytorch_has_none(name, case, dtype):
    """Where PyTorch's result is finite, ours is too, and no further from the exact result
    (somegrad in float64 on the same rounded inputs) than PyTorch's, give or take a few ulps."""
    torch = pytest.importorskip("torch")
    values = INPUTS[case].astype(dtype)
    ours, our_grad = _value_and_grad(name, values, getattr(sg, dtype))
    exact, exact_grad = _value_and_grad(name, values.astype(np.float64), sg.float64)
    x = torch.tensor(values, requires_grad=True)
    out = _torch_functions(torch)[name](x)
    weights = torch.tensor(WEIGHTS.reshape(-1)[: out.numel()].reshape(out.shape), dtype=out.dtype)
    (out * weights).sum().backward()
    theirs, their_grad = out.detach().double().numpy(), x.grad.double().numpy()
    eps = float(np.finfo(dtype).eps)
    for what, a, b, reference in (("value", ours, theirs, exact), ("gradient", our_grad, their_grad, exact_grad)):
        assert np.isfinite(a[np.isfinite(b)]).all(), f"{name}({case}) {what}: ours {a}, PyTorch's {b}"
        both = np.isfinite(a) & np.isfinite(b)
        scale = max(float(np.abs(reference[both]).max(initial=0)), 1.0)
        our_error = np.abs(a[both] - reference[both]).max(initial=0)
        their_error = np.abs(b[both] - reference[both]).max(initial=0)
        assert our_error <= 2 * their_error + 16 * eps * scale, (
            f"{name}({case}) {what}: our error {our_error:.3g}, PyTorch's {their_error:.3g}"
        )


# --- anomaly detection ----------------------------------------------------------------------------
def test_anomaly_names_the_first_forward_op_that_made_a_nan():
    x = sg.tensor([-1.0, 2.0], requires_grad=True)
    with sg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"^log: the forward produced NaN") as info:
            ((x * 2).log() * 3).exp()  # the NaN would flow on through mul and exp
    assert "NaN" in str(info.value) and "set_detect_anomaly" in str(info.value)


def test_anomaly_names_the_forward_op_that_overflowed():
    x = sg.tensor([10.0, 100.0], requires_grad=True)
    with sg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"^exp: the forward produced NaN or inf \(inf"):
            (x * 1.0).exp().sum()


@pytest.mark.parametrize(
    "make, op",
    [
        (lambda x: ((x.sqrt() * 3) + 1).sum(), "sqrt"),  # inf at 0
        (lambda x: ((x * 0).sqrt() * 0).sum(), "sqrt"),  # 0 * inf = NaN
        (lambda x: (x.log() * x.detach()).sum(), "log"),  # 1/0 at 0, times 0 in forward
        (lambda x: (x.abs() ** 0.5).sum(), "pow"),
    ],
    ids=["sqrt_inf", "sqrt_nan", "log", "pow"],
)
def test_anomaly_names_the_first_backward_op_that_made_a_nan_or_inf(make, op):
    x = sg.tensor([0.0, 1.0], requires_grad=True)
    with sg.autograd.detect_anomaly():
        if op == "log":
            with pytest.raises(RuntimeError, match=r"^log: the forward produced NaN or inf \(inf"):
                make(x)
            return
        loss = make(x)
        assert np.isfinite(loss.item())
        with pytest.raises(RuntimeError, match=rf"^{op}: the backward produced NaN or inf in the gradient of input 0"):
            loss.backward()


def test_without_anomaly_mode_the_nan_flows_silently():
    x = sg.tensor([0.0, 1.0], requires_grad=True)
    ((x * 0).sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_anomaly_mode_raises_nothing_for_intended_infinities():
    """Masks of -inf, ignored targets, constant rows and a whole GPT training step (causal
    attention with dropout) are not anomalies."""
    from somegrad.data import DataLoader

    with sg.autograd.detect_anomaly():
        x = sg.randn(3, 5, requires_grad=True)
        mask = sg.tensor([[False, True, True, True, True]] * 3)
        x.masked_fill(mask, float("-inf")).softmax(-1).sum().backward()
        F.cross_entropy(x, sg.tensor([0, 1, -100])).backward()
        F.layer_norm(sg.full((2, 5), 7.0, requires_grad=True), (5,)).sum().backward()
        sg.full((2, 5), 7.0, requires_grad=True).std().backward()
        model, optimizer = small_gpt(0, dropout=0.1)
        xb, yb = next(iter(DataLoader(token_dataset(8), batch_size=4)))
        assert np.isfinite(train_step(model, optimizer, xb, yb))
