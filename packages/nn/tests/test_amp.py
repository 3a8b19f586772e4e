"""somegrad.autocast and somegrad.amp.GradScaler: op dtypes under autocast (against
torch.autocast("cpu") in the parity tests, and the CUDA policy of PyTorch's docs), gradients in
the parameters' dtype, nested and disabled regions, per-thread state, and GradScaler's scale
trajectories (against torch.amp.GradScaler in the parity tests)."""

import math
import threading

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.amp import GradScaler, policy
from somegrad.nn import functional as F
from somegrad.ops import dispatch


def test_linear_takes_mixed_dtypes_under_autocast_only():
    # A bfloat16 activation meets a float32 weight in every second Linear under autocast.
    with sg.autocast("cpu"):
        assert F.linear(sg.ones(1, 2, dtype=sg.bfloat16), sg.ones(2, 2)).dtype is sg.bfloat16
        assert F.linear(sg.ones(1, 2, dtype=sg.bfloat16), sg.ones(2, 2), sg.ones(2)).dtype is sg.bfloat16
    with pytest.raises(TypeError, match="linear: input of dtype bfloat16 and weight of dtype float32 differ"):
        F.linear(sg.ones(1, 2, dtype=sg.bfloat16), sg.ones(2, 2))


def op_cases(lib, functional, dtype):
    """(name, call) for the ops the policy lists and a few it does not, on `lib` (somegrad or
    torch) with float inputs of `dtype`; the same arguments on both."""
    rng = np.random.default_rng(0)

    def t(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32)).to(dtype)

    x, w, b, q = t(4, 8), t(8, 8), t(8), t(2, 2, 4, 8)
    img, kernel = t(1, 3, 8, 8), t(4, 3, 3, 3)
    labels = lib.tensor([1, 0, 3, 2])
    return {
        "matmul": lambda: lib.matmul(x, w),
        "linear": lambda: functional.linear(x, w, b),
        "conv2d": lambda: functional.conv2d(img, kernel),
        "scaled_dot_product_attention": lambda: functional.scaled_dot_product_attention(q, q, q, is_causal=True),
        "softmax": lambda: functional.softmax(x, -1),
        "log_softmax": lambda: functional.log_softmax(x, -1),
        "layer_norm": lambda: functional.layer_norm(x, (8,)),
        "cross_entropy": lambda: functional.cross_entropy(x, labels),
        "exp": lambda: x.exp(),
        "log": lambda: x.abs().log(),
        "sum": lambda: x.sum(),
        "prod": lambda: x.prod(),
        "cumsum": lambda: x.cumsum(0),
        "pow": lambda: x.pow(2),
        "expm1": lambda: x.expm1(),
        "log1p": lambda: x.abs().log1p(),
        "softplus": lambda: functional.softplus(x),
        "logsumexp": lambda: x.logsumexp(-1),
        "gelu": lambda: functional.gelu(x),
        "tanh": lambda: x.tanh(),
        "sigmoid": lambda: x.sigmoid(),
        "relu": lambda: functional.relu(x),
        "mul": lambda: x * x,
        "max_pool2d": lambda: functional.max_pool2d(img, 2),
        "avg_pool2d": lambda: functional.avg_pool2d(img, 2),
        "embedding": lambda: functional.embedding(labels, w),
        "cat": lambda: lib.cat([x, x.float()]),
    }


def somegrad_dtypes(device_type, low, input_dtype):
    cases = op_cases(sg, F, input_dtype)
    with sg.autocast(device_type, dtype=low):
        return {name: fn().dtype.name for name, fn in cases.items()}


# --- the CPU policy against torch.autocast("cpu") ---------------------------------------------------


@pytest.mark.parity
@pytest.mark.parametrize("low", ["bfloat16", "float16"])
@pytest.mark.parametrize("inputs", ["float32", "low"])
def test_cpu_op_dtypes_match_torch_autocast(low, inputs):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as torch_functional

    input_dtype = low if inputs == "low" else "float32"
    ours = somegrad_dtypes("cpu", getattr(sg, low), getattr(sg, input_dtype))
    cases = op_cases(torch, torch_functional, getattr(torch, input_dtype))
    theirs = {}
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        for name, fn in cases.items():
            try:
                theirs[name] = str(fn().dtype).removeprefix("torch.")
            except RuntimeError:  # torch refuses the mix (cat of float16 and float32 on CPU)
                theirs[name] = None
    compared = {name: (ours[name], theirs[name]) for name in ours if theirs[name] is not None}
    assert len(compared) >= len(ours) - 1
    assert {name: a for name, (a, _) in compared.items()} == {name: b for name, (_, b) in compared.items()}


# --- the CUDA policy: PyTorch's documented lists ------------------------------------------------------

# From PyTorch's "Automatic Mixed Precision" docs, CUDA Op-Specific Behavior; the names somegrad
# has (mm, bmm, addmm... are somegrad's matmul).
CUDA_LOWER = {"matmul", "linear", "conv2d", "scaled_dot_product_attention"}
CUDA_FLOAT32 = {
    "pow", "exp", "expm1", "log", "log1p", "cumsum", "prod", "sum", "softmax", "log_softmax",
    "layer_norm", "cross_entropy", "softplus",
}  # fmt: skip
CUDA_PROMOTE = {"index_put", "scatter_add"}


def test_cuda_policy_is_pytorchs_documented_one():
    cuda = policy.POLICIES["cuda"]
    assert {op for op, r in cuda.items() if r == policy.LOWER} == CUDA_LOWER | {"attention_probabilities"}
    assert {op for op, r in cuda.items() if r == policy.FLOAT32} == CUDA_FLOAT32
    assert {op for op, r in cuda.items() if r == policy.PROMOTE} == CUDA_PROMOTE
    assert set(cuda) <= set(sg.ops.OPS) and set(policy.POLICIES["cpu"]) <= set(sg.ops.OPS)


def test_a_cuda_region_leaves_cpu_tensors_alone_and_the_reverse():
    cases = op_cases(sg, F, sg.float32)
    with sg.autocast("cuda"):
        assert cases["matmul"]().dtype is sg.float32
    assert somegrad_dtypes("cpu", sg.bfloat16, sg.float32)["matmul"] == "bfloat16"


@pytest.mark.skipif(not sg.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_op_dtypes_follow_the_cuda_policy():
    rng = np.random.default_rng(0)
    x = sg.tensor(rng.standard_normal((4, 8)).astype(np.float32), device="cuda")
    with sg.autocast("cuda"):
        assert (x @ x.T).dtype is sg.float16
        assert F.softmax(x.half(), -1).dtype is sg.float32
        assert x.half().sum().dtype is sg.float32
        assert x.half().tanh().dtype is sg.float16


# --- behaviour ---------------------------------------------------------------------------------------------


def test_gradients_flow_back_in_the_parameters_dtype():
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 4))
    x, y = sg.randn(5, 8), sg.tensor([0, 1, 2, 3, 0])
    with sg.autocast("cpu"):
        logits = model(x)
        loss = F.cross_entropy(logits, y)
    assert logits.dtype is sg.bfloat16 and loss.dtype is sg.float32
    loss.backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    assert all(p.grad.dtype is sg.float32 for p in model.parameters())
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    for a, p in zip(plain, model.parameters(), strict=True):  # bfloat16 keeps ~3 digits
        np.testing.assert_allclose(a, p.grad.numpy(), rtol=0.1, atol=0.02 * np.abs(p.grad.numpy()).max())


def test_nested_and_disabled_regions_and_the_decorator():
    a = sg.randn(3, 3)
    with sg.autocast("cpu"):
        assert (a @ a).dtype is sg.bfloat16 and sg.amp.is_autocast_enabled("cpu")
        with sg.autocast("cpu", enabled=False):
            assert (a @ a).dtype is sg.float32 and not sg.amp.is_autocast_enabled("cpu")
            with sg.autocast("cpu", dtype=sg.float16):
                assert (a @ a).dtype is sg.float16 and sg.amp.get_autocast_dtype("cpu") is sg.float16
        assert (a @ a).dtype is sg.bfloat16 and sg.amp.get_autocast_dtype("cpu") is sg.bfloat16
    assert (a @ a).dtype is sg.float32 and dispatch._modes == []  # no mode left behind

    @sg.autocast("cpu")
    def product(x):
        return x @ x

    assert product(a).dtype is sg.bfloat16 and (a @ a).dtype is sg.float32


def test_float64_is_never_lowered_and_the_backward_is_not_autocast():
    d = sg.randn(3, 3, dtype=sg.float64, requires_grad=True)
    with sg.autocast("cpu"):
        out = d @ d
        assert out.dtype is sg.float64
        w = sg.randn(3, 3, requires_grad=True)
        (w @ w).float().sum().backward()  # the backward's matmuls, inside the region
    assert w.grad.dtype is sg.float32
    # gradients equal a float32 backward through bfloat16-rounded values: not bfloat16 matmuls
    wb = w.detach().bfloat16().float()
    g = sg.ones(3, 3)
    expected = (g @ wb.T + wb.T @ g).numpy()
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-2)


def test_autocast_state_is_per_thread():
    a = sg.randn(2, 2)
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def other():
        inside.wait(10)
        seen["other"] = (a @ a).dtype  # the main thread's region is not this thread's
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with sg.autocast("cpu"):
        inside.set()
        done.wait(10)
        seen["main"] = (a @ a).dtype
    thread.join()
    assert seen == {"other": sg.float32, "main": sg.bfloat16}


def test_unsupported_dtypes_and_device_types():
    with pytest.warns(UserWarning, match="In cpu autocast, but the target dtype float64 is not supported"):
        region = sg.autocast("cpu", dtype=sg.float64)
    with region:
        assert (sg.ones(2, 2) @ sg.ones(2, 2)).dtype is sg.float32
    with pytest.raises(RuntimeError, match="unsupported device_type 'tpu'"):
        sg.autocast("tpu")


def test_casts_of_parameters_are_cached_within_a_region():
    linear = nn.Linear(4, 4)
    x = sg.randn(2, 4)
    casts = []

    class Count(dispatch.DispatchMode):
        def apply(self, spec, inputs, params, proceed):
            if spec.name == "cast" and sg.autograd.engine.current_node() is None:  # forward casts
                casts.append(tuple(inputs[0].shape))
            return proceed(spec, inputs, params)

    with Count(), sg.no_grad(), sg.autocast("cpu"):
        for _ in range(3):
            linear(x)
    assert casts.count((4, 4)) == 1 and casts.count((2, 4)) == 3  # the weight once, each input each time
    casts.clear()
    with Count(), sg.autocast("cpu"):
        for _ in range(2):  # with a graph too: two forwards and backwards share the weight's cast
            linear(x).float().sum().backward()
    assert casts.count((4, 4)) == 1
    np.testing.assert_allclose(linear.weight.grad.numpy(), 2 * np.tile(x.numpy().sum(0), (4, 1)), rtol=1e-2)
    with Count(), sg.autocast("cpu"):
        linear(x)
    assert casts.count((4, 4)) == 2  # a new region casts anew


def test_gpt_trains_under_autocast():
    from somegrad.nn.models import GPT, GPTConfig

    sg.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16))
    opt = sg.optim.AdamW(model.parameters(), lr=1e-2)
    idx = sg.randint(0, 11, (4, 8))
    losses = []
    for _ in range(20):
        with sg.autocast("cpu"):
            _, loss = model(idx, idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert loss.dtype is sg.float32 and losses[-1] < 0.5 * losses[0]
    assert all(p.dtype is sg.float32 for p in model.parameters())


# --- GradScaler --------------------------------------------------------------------------------------


def scaler_trajectory(lib, scaler, overflow_steps, steps=12):
    """Scales after each update, for a linear model whose gradients hold inf at `overflow_steps`;
    also the weights, to check that skipped steps were skipped."""
    w = lib.tensor([[0.5, -0.25], [1.0, 2.0]], requires_grad=True)
    opt = (lib.optim if hasattr(lib, "optim") else lib.optim).SGD([w], lr=0.1)
    x = lib.tensor([[1.0, 2.0]])
    scales, weights = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = (x @ w).sum()
        scaler.scale(loss).backward()
        if step in overflow_steps:
            w.grad[0, 0] = math.inf if step % 2 else math.nan
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        weights.append(w.detach().numpy().copy().tolist())
    return scales, weights, scaler.state_dict()


def test_grad_scaler_backs_off_skips_and_grows():
    scaler = GradScaler("cpu", init_scale=8.0, growth_interval=3)
    scales, weights, state = scaler_trajectory(sg, scaler, overflow_steps={1, 2, 7})
    assert scales == [8.0, 4.0, 2.0, 2.0, 2.0, 4.0, 4.0, 2.0, 2.0, 2.0, 4.0, 4.0]
    assert weights[1] == weights[0] and weights[2] == weights[0] and weights[3] != weights[2]
    np.testing.assert_allclose(weights[3], np.array(weights[0]) - 0.1 * np.array([[1.0, 1.0], [2.0, 2.0]]))
    assert state == {"scale": 4.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                     "_growth_tracker": 1}  # fmt: skip
    again = GradScaler("cpu")
    again.load_state_dict(state)
    assert again.state_dict() == state


def test_grad_scaler_errors_and_disabled():
    w = sg.zeros(2, requires_grad=True)
    opt = sg.optim.SGD([w], lr=1.0)
    scaler = GradScaler("cpu")
    (scaler.scale(w.sum()) * 1).backward()
    scaler.unscale_(opt)
    assert w.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update"):
        scaler.step(opt)
    scaler.update()
    off = GradScaler("cpu", enabled=False)
    loss = w.sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    if not sg.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
            assert not GradScaler().is_enabled()
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        GradScaler("cpu", growth_factor=1.0)


@pytest.mark.parity
def test_grad_scaler_trajectory_matches_torch():
    torch = pytest.importorskip("torch")
    kwargs = dict(init_scale=2.0**10, growth_factor=3.0, backoff_factor=0.25, growth_interval=2)
    overflow = {0, 3, 4, 9}
    ours = scaler_trajectory(sg, GradScaler("cpu", **kwargs), overflow)
    theirs = scaler_trajectory(torch, torch.amp.GradScaler("cpu", **kwargs), overflow)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    assert ours[2] == theirs[2]
