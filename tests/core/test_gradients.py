"""Gradients of every differentiable op against central finite differences (float64), on
several shapes including broadcasting, 0-d and size-0 dimensions; second derivatives."""

import numpy as np
import pytest
from gradient_checks import check_gradients, check_second_gradients

import somegrad as sg

rng = np.random.default_rng(1234)


def away_from_zero(*shape):
    """Values in ±[0.5, 1.5]: far from the kinks of abs, relu, sign, clamp at 0."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


SHAPES = [(), (3,), (2, 3), (2, 0, 3)]

UNARY = {
    "neg": (lambda x: -x, away_from_zero),
    "exp": (sg.exp, away_from_zero),
    "log": (sg.log, positive),
    "log1p": (sg.log1p, positive),
    "expm1": (sg.expm1, away_from_zero),
    "sqrt": (sg.sqrt, positive),
    "rsqrt": (sg.rsqrt, positive),
    "abs": (sg.abs, away_from_zero),
    "sin": (sg.sin, away_from_zero),
    "cos": (sg.cos, away_from_zero),
    "tanh": (sg.tanh, away_from_zero),
    "sigmoid": (sg.sigmoid, away_from_zero),
    "relu": (sg.relu, away_from_zero),
    "gelu": (sg.gelu, away_from_zero),
    "gelu_tanh": (lambda x: sg.gelu(x, approximate="tanh"), away_from_zero),
    "silu": (sg.silu, away_from_zero),
    "softplus": (sg.softplus, away_from_zero),
    "softplus_beta": (lambda x: sg.softplus(x, beta=2.0, threshold=1.5), away_from_zero),
    "leaky_relu": (lambda x: sg.leaky_relu(x, 0.1), away_from_zero),
    "erf": (sg.erf, away_from_zero),
    "reciprocal": (sg.reciprocal, away_from_zero),
    "square": (sg.square, away_from_zero),
    "pow_scalar": (lambda x: x**3, away_from_zero),
    "pow_fractional": (lambda x: x**1.5, positive),
    "rpow": (lambda x: 2.0**x, away_from_zero),
    "clamp": (lambda x: sg.clamp(x, -0.9, 0.8), away_from_zero),
    "clamp_min": (lambda x: x.clamp(min=0.0), away_from_zero),
    "sign": (sg.sign, away_from_zero),
    "floor": (sg.floor, lambda *s: away_from_zero(*s) + 0.25),
    "round": (sg.round, lambda *s: away_from_zero(*s) + 0.25),
    "mul_scalar": (lambda x: 3.0 * x - 1, away_from_zero),
    "div_scalar": (lambda x: 1.0 / x + x / 4, away_from_zero),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_gradient(name, shape):
    fn, sample = UNARY[name]
    check_gradients(fn, sample(*shape))


BINARY = {
    "add": (lambda a, b: a + b, away_from_zero, away_from_zero),
    "sub": (lambda a, b: a - b, away_from_zero, away_from_zero),
    "mul": (lambda a, b: a * b, away_from_zero, away_from_zero),
    "div": (lambda a, b: a / b, away_from_zero, away_from_zero),
    "pow": (lambda a, b: a**b, positive, away_from_zero),
    "maximum": (sg.maximum, away_from_zero, away_from_zero),
    "minimum": (sg.minimum, away_from_zero, away_from_zero),
    "remainder": (lambda a, b: sg.remainder(a, b), lambda *s: positive(*s) * 3 + 0.1, positive),
    "lerp": (lambda a, b: sg.lerp(a, b, 0.3), away_from_zero, away_from_zero),
    "add_alpha": (lambda a, b: sg.add(a, b, alpha=2.5), away_from_zero, away_from_zero),
    "where": (lambda a, b: sg.where(a > b, a, b * 2), away_from_zero, away_from_zero),
    "clamp_tensor": (lambda a, b: sg.clamp(a, min=b), away_from_zero, away_from_zero),
}
BROADCAST_PAIRS = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((4, 1, 3), (2, 1)),
    ((), (2, 3)),
    ((2, 0), (1,)),
    ((0, 3), (2, 0, 1)),
]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradient_with_broadcasting(name, shapes):
    fn, sample_a, sample_b = BINARY[name]
    a, b = sample_a(*shapes[0]), sample_b(*shapes[1])
    if name in ("maximum", "minimum", "where", "clamp_tensor"):
        b = b + 0.05  # no ties
    check_gradients(fn, a, b)


def test_maximum_ties_split_the_gradient():
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    b = sg.tensor([1.0, 3.0], requires_grad=True)
    sg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


@pytest.mark.filterwarnings("error")  # 0 * log(0) inside the backward must not warn, as in PyTorch
def test_pow_gradient_at_zero_base():
    a = sg.tensor([0.0, 2.0], dtype=sg.float64, requires_grad=True)
    b = sg.tensor([2.0, 3.0], dtype=sg.float64, requires_grad=True)
    (a**b).sum().backward()
    assert a.grad.tolist() == [0.0, 12.0]
    assert b.grad[0].item() == 0.0 and np.isclose(b.grad[1].item(), 8 * np.log(2))


REDUCTIONS = {
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(-1),
    "sum_dims_keepdim": lambda x: x.sum((0, -1) if x.ndim > 1 else 0, keepdim=True),
    "mean": lambda x: x.mean(-1),
    "mean_all": lambda x: x.mean(),
    "prod": lambda x: x.prod(-1),
    "var": lambda x: x.var(-1),
    "var_population": lambda x: x.var(-1, correction=0, keepdim=True),
    "std": lambda x: x.std(-1),
    "amax": lambda x: x.amax(-1),
    "amin": lambda x: x.amin(0, keepdim=True),
    "max_dim": lambda x: x.max(-1).values,
    "min_dim": lambda x: x.min(0, keepdim=True).values,
    "max_all": lambda x: x.max(),
    "logsumexp": lambda x: x.logsumexp(-1),
    "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(0),
    "cumsum": lambda x: x.cumsum(-1),
    "norm_like": lambda x: (x * x).sum(-1).sqrt(),
}
NONEMPTY_ONLY = {"amax", "amin", "max_dim", "min_dim", "max_all", "std", "var", "mean", "mean_all"}


@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce")  # -inf * weight sums to NaN
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 0)], ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradient(name, shape):
    if 0 in shape and name in NONEMPTY_ONLY:
        pytest.skip("no gradient of an empty max/mean")
    check_gradients(REDUCTIONS[name], away_from_zero(*shape))


def test_prod_gradient_with_zeros():
    check_gradients(lambda x: x.prod(-1), np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 3.0]]))


def test_reduction_of_zero_dim_tensor():
    for fn in (lambda x: x.sum(), lambda x: x.mean(), lambda x: x.amax(), lambda x: x.softmax(0) * x):
        check_gradients(fn, np.array(0.7))


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradient(shapes):
    check_gradients(lambda a, b: a @ b, rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1]))


MOVEMENT = {
    "reshape": lambda x: x.reshape(-1),
    "view": lambda x: x.view(3, 4, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, -1),
    "T": lambda x: x.T * 1,
    "mT": lambda x: x.mT * 1,
    "expand": lambda x: x[:, :1].expand(3, 2, 5, 4),
    "broadcast_to": lambda x: sg.broadcast_to(x, (2, 2, 3, 4)),
    "squeeze": lambda x: x[:, :1].squeeze(1),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "flatten": lambda x: x.flatten(1),
    "flip": lambda x: x.flip((0, 2)),
    "pad": lambda x: sg.pad(x, (1, 2, 0, 1), value=3.0),
    "cat": lambda x: sg.cat([x, x * 2, x[:, :1]], dim=1),
    "stack": lambda x: sg.stack([x, x.exp()], dim=-1),
    "split": lambda x: x.split([1, 2], dim=1)[1] * x.split(1, dim=1)[0],
    "chunk": lambda x: x.chunk(2, dim=-1)[0],
    "narrow": lambda x: x.narrow(2, 1, 2),
    "repeat": lambda x: x.repeat(2, 1, 1, 2),
    "tril": lambda x: x.tril(),
    "triu": lambda x: x.triu(1),
    "contiguous": lambda x: x.transpose(0, 1).contiguous(),
    "clone": lambda x: x.clone(),
    "movedim": lambda x: x.movedim(0, 2),
    "getitem_basic": lambda x: x[1, ::2, None, 1:],
    "getitem_ellipsis": lambda x: x[..., 1],
    # ints and step-1 slices only: the gradient is g padded back into place
    "getitem_int": lambda x: x[1] * x[0],
    "getitem_int_and_slice": lambda x: x[1, 1:3],
    "getitem_inner_ints": lambda x: x[:, 2, 1:] + x[:, 0, :3],
    "getitem_repeated": lambda x: x[:, [0, 2, 0, 0]],
    "getitem_tensor_2d": lambda x: x[sg.tensor([[1, 0], [1, 1]])],
    "getitem_mask": lambda x: x[x > 0],
    "getitem_int_and_list": lambda x: x[1, :, [3, 0, 3]],
    "getitem_separated_lists": lambda x: x[[1, 0], :, [3, 3]],
    "getitem_slice_between_lists": lambda x: x[:, [2, 0]][[1, 1], :, [0, 3]],
    "index_select": lambda x: x.index_select(1, sg.tensor([2, 0, 2])),
    "gather": lambda x: x.gather(2, sg.tensor([[[0, 3], [1, 1], [2, 2]], [[3, 3], [0, 1], [0, 0]]])),
    "masked_fill": lambda x: x.masked_fill(x > 0.5, 0.0),
    "sort_values": lambda x: x.sort(-1).values,
    "sort_descending": lambda x: x.sort(0, descending=True).values,
    "topk_values": lambda x: x.topk(2, dim=-1).values,
}


@pytest.mark.parametrize("name", MOVEMENT)
def test_movement_and_indexing_gradient(name):
    check_gradients(MOVEMENT[name], rng.standard_normal((2, 3, 4)))


def test_scatter_add_gradient():
    index = sg.tensor([[0, 1, 0], [2, 2, 1]])
    check_gradients(
        lambda x, src: x.scatter_add(0, index, src), rng.standard_normal((3, 3)), rng.standard_normal((2, 4))
    )


def test_setitem_gradient_on_non_leaf():
    def fn(x, v):
        y = x * 1
        y[0, 1:] = v
        y[1, [0, 2]] = v[:2] * 3
        y[y < -1.5] = 0.0
        return y

    check_gradients(fn, rng.standard_normal((2, 3)), rng.standard_normal((2,)))


def test_getitem_repeated_indices_accumulate():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_gradient_through_float32_to_float64_cast_has_input_dtype():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 2).sum().backward()
    assert x.grad.dtype is sg.float32 and x.grad.tolist() == [2.0, 2.0]


# --- second derivatives -----------------------------------------------------------------------
SECOND_ORDER = [
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "gelu",
    "gelu_tanh",
    "silu",
    "softplus",
    "erf",
    "reciprocal",
    "square",
    "pow_scalar",
    "pow_fractional",
    "rpow",
    "abs",
    "div_scalar",
]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_unary_second_derivative(name):
    fn, sample = UNARY[name]
    check_second_gradients(fn, sample(2, 3))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "lerp"])
def test_binary_second_derivative(name):
    fn, sample_a, sample_b = BINARY[name]
    check_second_gradients(fn, sample_a(2, 3), sample_b(3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "var", "prod", "mean"])
def test_reduction_second_derivative(name):
    check_second_gradients(REDUCTIONS[name], away_from_zero(2, 3))


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((2, 2, 3), (3,))], ids=str)
def test_matmul_second_derivative(shapes):
    check_second_gradients(lambda a, b: (a @ b) ** 2, rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1]))


CLOSED_FORMS = [
    # f, f'', sample
    (sg.sin, lambda x: -np.sin(x), away_from_zero),
    (sg.cos, lambda x: -np.cos(x), away_from_zero),
    (sg.exp, np.exp, away_from_zero),
    (sg.log, lambda x: -1 / x**2, positive),
    (sg.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), away_from_zero),
    (sg.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s), away_from_zero),
    (sg.sqrt, lambda x: -0.25 * x**-1.5, positive),
    (lambda x: x**3, lambda x: 6 * x, away_from_zero),
    (sg.reciprocal, lambda x: 2 / x**3, away_from_zero),
]


@pytest.mark.parametrize("fn, second, sample", CLOSED_FORMS)
def test_grad_of_grad_matches_closed_form(fn, second, sample):
    values = sample(5)
    x = sg.tensor(values, requires_grad=True, dtype=sg.float64)
    (dx,) = sg.autograd.grad(fn(x).sum(), x, create_graph=True)
    (ddx,) = sg.autograd.grad(dx.sum(), x)
    np.testing.assert_allclose(ddx.numpy(), second(values), rtol=1e-10, atol=1e-12)


def test_mixed_second_derivative_of_product():
    x = sg.tensor([2.0], dtype=sg.float64, requires_grad=True)
    y = sg.tensor([3.0], dtype=sg.float64, requires_grad=True)
    (dx,) = sg.autograd.grad((x * x * y).sum(), x, create_graph=True)  # 2xy
    dxx, dxy = sg.autograd.grad(dx.sum(), [x, y])
    assert dxx.tolist() == [6.0] and dxy.tolist() == [4.0]


def test_matmul_second_derivative_closed_form():
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    w, v = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    A, B = sg.tensor(a, requires_grad=True), sg.tensor(b, requires_grad=True)
    (dA,) = sg.autograd.grad(((A @ B) * sg.tensor(w)).sum(), A, create_graph=True)
    np.testing.assert_allclose(dA.detach().numpy(), w @ b.T)
    (dB,) = sg.autograd.grad((dA * sg.tensor(v)).sum(), B)
    np.testing.assert_allclose(dB.numpy(), v.T @ w)


def test_third_derivative_of_cube():
    x = sg.tensor(1.5, dtype=sg.float64, requires_grad=True)
    (d1,) = sg.autograd.grad(x**3, x, create_graph=True)
    (d2,) = sg.autograd.grad(d1, x, create_graph=True)
    (d3,) = sg.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (3 * 1.5**2, 6 * 1.5, 6.0)


# --- an independent reference: PyTorch's autograd -----------------------------------------------
COMPOSITIONS = [
    lambda m, x, w: m.tanh(x @ w).sum() + (x.exp() / (1 + x * x)).mean(),
    lambda m, x, w: (m.softmax(x @ w, -1) * m.log_softmax(x @ w, 0)).sum(),
    lambda m, x, w: m.logsumexp(x.unsqueeze(-1) * w[0], -1).var() + m.sigmoid(x).prod(),
    lambda m, x, w: (m.cat([x, x.flip(0)], 1)[:, [1, 3, 3]] ** 2).cumsum(0).amax() * w.mean(),
    lambda m, x, w: m.where(x > 0, x.abs().sqrt(), -x).std(0).sum() * w.sum(),
]


@pytest.mark.parity
@pytest.mark.parametrize("index", range(len(COMPOSITIONS)))
def test_composition_gradients_match_torch(index):
    torch = pytest.importorskip("torch")
    fn = COMPOSITIONS[index]
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    xs, ws = sg.tensor(x, requires_grad=True), sg.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out_s, out_t = fn(sg, xs, ws), fn(torch, xt, wt)
    np.testing.assert_allclose(out_s.item(), out_t.item(), rtol=1e-10)
    (gx_s, gw_s) = sg.autograd.grad(out_s, [xs, ws], create_graph=True)
    (gx_t, gw_t) = torch.autograd.grad(out_t, [xt, wt], create_graph=True)
    np.testing.assert_allclose(gx_s.detach().numpy(), gx_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw_s.detach().numpy(), gw_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    # and the second order, along the gradient itself
    (hx_s,) = sg.autograd.grad((gx_s * gx_s).sum(), xs, allow_unused=True)
    (hx_t,) = torch.autograd.grad((gx_t * gx_t).sum(), xt, allow_unused=True)
    if hx_t is None:
        assert hx_s is None or np.allclose(hx_s.numpy(), 0)
    else:
        np.testing.assert_allclose(hx_s.numpy(), hx_t.numpy(), rtol=1e-8, atol=1e-10)
