"""`somegrad.autograd.Function`: custom ops with their own backward, checked against finite
differences in float64 and against the same Function written for PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn
from somegrad.autograd import Function
from somegrad.autograd.function import once_differentiable


def finite_difference(fn, array, eps=1e-6):
    """Central differences of the float `fn(array)` (a function of a float64 array)."""
    grad = np.zeros_like(array)
    for position in np.ndindex(array.shape):
        plus, minus = array.copy(), array.copy()
        plus[position] += eps
        minus[position] -= eps
        grad[position] = (fn(plus) - fn(minus)) / (2 * eps)
    return grad


# --- the Functions under test (each has a twin for torch in `torch_functions`) -------------------
class Cube(Function):
    """x ** 3 * k, k a Python number; the backward is differentiable (double backward)."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * x * k

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.k, None


class ScaledExp(Function):
    """exp(x) * w, saving its own output: gradients for both tensor inputs."""

    @staticmethod
    def forward(ctx, x, w):
        e = x.exp()
        out = e * w
        ctx.save_for_backward(e, w, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        e, w, out = ctx.saved_tensors
        gx = grad * out if ctx.needs_input_grad[0] else None
        gw = grad * e if ctx.needs_input_grad[1] else None
        return gx, gw


class SplitStats(Function):
    """Two outputs of different shapes: x * 2 (same shape) and x.sum(0) (reduced)."""

    @staticmethod
    def forward(ctx, x):
        ctx.rows = x.shape[0]
        return x * 2, x.sum(0)

    @staticmethod
    def backward(ctx, g_double, g_sum):
        return g_double * 2 + g_sum.unsqueeze(0).expand(ctx.rows, g_sum.shape[0])


class OnceSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


class SinCos(Function):
    """Two outputs and a differentiable backward: double backward through several outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * x.cos() - g_cos * x.sin()


def torch_functions(torch):
    class TCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * x * k

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x * ctx.k, None

    class TScaledExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            e = x.exp()
            out = e * w
            ctx.save_for_backward(e, w, out)
            return out

        @staticmethod
        def backward(ctx, grad):
            e, w, out = ctx.saved_tensors
            gx = grad * out if ctx.needs_input_grad[0] else None
            gw = grad * e if ctx.needs_input_grad[1] else None
            return gx, gw

    class TSplitStats(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.rows = x.shape[0]
            return x * 2, x.sum(0)

        @staticmethod
        def backward(ctx, g_double, g_sum):
            return g_double * 2 + g_sum.unsqueeze(0).expand(ctx.rows, g_sum.shape[0])

    class TSinCos(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            return g_sin * x.cos() - g_cos * x.sin()

    return {"cube": TCube, "scaled_exp": TScaledExp, "split": TSplitStats, "sincos": TSinCos}


# --- first and second order against finite differences ------------------------------------------
def test_cube_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    array = rng.standard_normal((3, 4))
    weight = rng.standard_normal((3, 4))
    x = sg.tensor(array, requires_grad=True)
    (Cube.apply(x, 1.5) * sg.tensor(weight)).sum().backward()
    expected = finite_difference(lambda a: float((a**3 * 1.5 * weight).sum()), array)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert x.grad.dtype is sg.float64


def test_double_backward_through_a_differentiable_backward():
    rng = np.random.default_rng(1)
    array = rng.standard_normal(5)
    x = sg.tensor(array, requires_grad=True)
    (g,) = sg.autograd.grad(Cube.apply(x, 2.0).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), 6 * array**2, rtol=1e-12)
    (gg,) = sg.autograd.grad((g * g).sum(), x)
    # d/dx sum((6 x^2)^2) = 144 x^3, and by finite differences of the first derivative
    expected = finite_difference(lambda a: float(((6 * a**2) ** 2).sum()), array)
    np.testing.assert_allclose(gg.numpy(), expected, rtol=1e-6)


def test_saved_output_and_needs_input_grad():
    rng = np.random.default_rng(2)
    xa, wa = rng.standard_normal(4), rng.standard_normal(4)
    x, w = sg.tensor(xa, requires_grad=True), sg.tensor(wa, requires_grad=True)
    ScaledExp.apply(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(xa) * wa, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), np.exp(xa), rtol=1e-12)
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            seen.append(ctx.needs_input_grad)
            return a * b * scale

        @staticmethod
        def backward(ctx, grad):
            return None, grad, None

    b = sg.tensor([1.0, 2.0], requires_grad=True)
    Spy.apply(sg.tensor([3.0, 4.0]), b, 2).sum().backward()
    assert seen == [(False, True, False)]
    assert b.grad.tolist() == [1.0, 1.0]


def test_double_backward_through_a_saved_output():
    x = sg.tensor([0.5, -1.0], dtype=sg.float64, requires_grad=True)
    w = sg.tensor([2.0, 3.0], dtype=sg.float64)
    (g,) = sg.autograd.grad(ScaledExp.apply(x, w).sum(), x, create_graph=True)
    (gg,) = sg.autograd.grad(g.sum(), x)  # d/dx (w e^x) = w e^x
    np.testing.assert_allclose(gg.numpy(), w.numpy() * np.exp(x.detach().numpy()), rtol=1e-12)


def test_several_outputs_and_partial_use():
    array = np.arange(6.0).reshape(2, 3)
    x = sg.tensor(array, requires_grad=True)
    doubled, summed = SplitStats.apply(x)
    assert doubled.grad_fn is not None and summed.grad_fn is not None
    (doubled.sum() * 3 + (summed * sg.tensor([1.0, 2.0, 3.0], dtype=sg.float64)).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 + np.array([[1.0, 2.0, 3.0]] * 2))
    x.grad = None
    _, summed = SplitStats.apply(x)
    summed.sum().backward()  # the unused output's gradient is materialised as zeros
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 3)))


def test_double_backward_through_several_outputs():
    array = np.array([0.3, 1.2, -2.0])
    x = sg.tensor(array, requires_grad=True)
    s, c = SinCos.apply(x)
    (g,) = sg.autograd.grad((s * s + 2 * c).sum(), x, create_graph=True)

    def first(a):
        return 2 * np.sin(a) * np.cos(a) - 2 * np.sin(a)

    np.testing.assert_allclose(g.detach().numpy(), first(array), rtol=1e-12)
    (gg,) = sg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), finite_difference(lambda a: float(first(a).sum()), array), rtol=1e-6)


def test_set_materialize_grads_false_passes_none():
    received = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x + 1, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            received.append((g1 is None, g2 is None))
            total = None
            for g, scale in ((g1, 1), (g2, 3)):
                if g is not None:
                    total = g * scale if total is None else total + g * scale
            return total

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    a, b = Pair.apply(x)
    b.sum().backward()
    assert received == [(True, False)] and x.grad.tolist() == [3.0, 3.0]
    a, b = Pair.apply(x)
    (a.sum() + b.sum()).backward()
    assert received[-1] == (False, False) and x.grad.tolist() == [7.0, 7.0]


def test_mark_non_differentiable_and_integer_outputs():
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.amax(0), x.argmax(0)
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(indices)
            ctx.size = x.shape[0]
            return values, indices, mask

        @staticmethod
        def backward(ctx, g_values, g_indices, g_mask):
            (indices,) = ctx.saved_tensors
            assert g_mask.tolist() == [0.0, 0.0, 0.0]  # materialised zeros for the marked output
            return sg.zeros(ctx.size, dtype=g_values.dtype).scatter_add(0, indices.reshape(1), g_values.reshape(1))

    x = sg.tensor([1.0, 5.0, -2.0], requires_grad=True)
    values, indices, mask = MaxWithIndex.apply(x)
    assert values.requires_grad and not indices.requires_grad and not mask.requires_grad
    assert indices.dtype is sg.int64 and indices.item() == 1
    (values * 4).backward()
    assert x.grad.tolist() == [0.0, 4.0, 0.0]


def test_once_differentiable():
    x = sg.tensor([1.0, -2.0], dtype=sg.float64, requires_grad=True)
    OnceSquare.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0]
    (g,) = sg.autograd.grad(OnceSquare.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, -4.0] and not g.requires_grad  # as in PyTorch: the seed needs no grad
    v = sg.tensor([1.0, 1.0], dtype=sg.float64, requires_grad=True)
    (g,) = sg.autograd.grad(OnceSquare.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="differentiate twice a function that was marked with @once_differentiable"):
        g.sum().backward()


def test_setup_context_form_and_keyword_arguments():
    class Scale(Function):
        @staticmethod
        def forward(x, factor=2.0):
            return x * factor

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.factor = inputs[1]

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, factor=5.0).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_returning_an_input_leaves_it_a_leaf():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and not y.is_leaf
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_forward_records_nothing_and_no_grad_records_no_node():
    class Inspect(Function):
        @staticmethod
        def forward(ctx, x):
            assert not sg.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = sg.tensor([1.0], requires_grad=True)
    y = Inspect.apply(x)
    assert y.grad_fn is not None and y.grad_fn.next_functions == (x,)
    with sg.no_grad():
        assert Inspect.apply(x).grad_fn is None
    assert Inspect.apply(sg.tensor([1.0])).grad_fn is None


def test_errors_like_pytorch():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return sg.ones(3)

    class GradForNumber(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients \(expected 2, got 1\)"):
        TooFew.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[3\] but expected"):
        WrongShape.apply(x).backward()
    with pytest.raises(RuntimeError, match="forward input was not a Tensor"):
        GradForNumber.apply(x, 3).sum().backward()
    with pytest.raises(RuntimeError, match="are not instantiated"):
        TooFew()
    with pytest.raises(TypeError, match="save_for_backward can only save tensors"):

        class SavesNumber(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x

        SavesNumber.apply(x)


def test_saved_tensors_are_freed_and_version_checked():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 1.0)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    x.grad = None
    y = Cube.apply(x, 1.0)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]  # 3x^2 accumulated twice
    a = sg.tensor([1.0, 2.0], requires_grad=True) * 1
    y = Cube.apply(a, 1.0)
    with sg.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_in_a_module_with_parameters_trains():
    class CubeLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2)

        def forward(self, x):
            return Cube.apply(self.linear(x), 0.5)

    sg.manual_seed(0)
    model = CubeLayer().double()
    x = sg.randn(4, 3, dtype=sg.float64)
    model(x).sum().backward()
    weight = model.linear.weight
    assert isinstance(weight, nn.Parameter) and weight.grad.shape == (2, 3)
    w0, b0 = weight.detach().numpy().copy(), model.linear.bias.detach().numpy().copy()

    def loss_of_weight(w):
        h = x.numpy() @ w.T + b0
        return float((0.5 * h**3).sum())

    np.testing.assert_allclose(weight.grad.numpy(), finite_difference(loss_of_weight, w0), rtol=1e-6, atol=1e-8)


# --- parity: the same Functions written for PyTorch ---------------------------------------------
def _pair(torch, array, dtype):
    sg_dtype = sg.float64 if dtype == "float64" else sg.float32
    torch_dtype = torch.float64 if dtype == "float64" else torch.float32
    return (
        sg.tensor(array, dtype=sg_dtype, requires_grad=True),
        torch.tensor(array, dtype=torch_dtype, requires_grad=True),
    )


@pytest.mark.parity
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_parity_first_and_second_order(dtype):
    torch = pytest.importorskip("torch")
    functions = torch_functions(torch)
    tolerance = {"float64": 1e-12, "float32": 1e-5}[dtype]
    rng = np.random.default_rng(3)
    array, warray = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    x, tx = _pair(torch, array, dtype)
    (g,) = sg.autograd.grad(Cube.apply(x, 1.5).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(functions["cube"].apply(tx, 1.5).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=tolerance)
    (gg,) = sg.autograd.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=tolerance)

    x, tx = _pair(torch, array, dtype)
    w, tw = _pair(torch, warray, dtype)
    (ScaledExp.apply(x, w) * 2).sum().backward()
    (functions["scaled_exp"].apply(tx, tw) * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tolerance)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=tolerance)
    (gx,) = sg.autograd.grad(ScaledExp.apply(x, w).sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad(functions["scaled_exp"].apply(tx, tw).sum(), tx, create_graph=True)
    (gw,) = sg.autograd.grad((gx * gx).sum(), w)
    (tgw,) = torch.autograd.grad((tgx * tgx).sum(), tw)
    np.testing.assert_allclose(gw.numpy(), tgw.numpy(), rtol=tolerance)

    x, tx = _pair(torch, array, dtype)
    a, b = SplitStats.apply(x)
    ta, tb = functions["split"].apply(tx)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=tolerance)
    weight = rng.standard_normal(4)
    ((a * a).sum() + (b * sg.tensor(weight, dtype=b.dtype)).sum()).backward()
    ((ta * ta).sum() + (tb * torch.tensor(weight, dtype=tb.dtype)).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tolerance)
    assert x.grad.dtype.name == dtype

    x, tx = _pair(torch, array, dtype)
    s, c = SinCos.apply(x)
    ts, tc = functions["sincos"].apply(tx)
    (g,) = sg.autograd.grad((s * s + 2 * c).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((ts * ts + 2 * tc).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=tolerance, atol=tolerance)
    (gg,) = sg.autograd.grad((g * g).sum(), x)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parity
def test_parity_node_name_and_errors():
    torch = pytest.importorskip("torch")
    functions = torch_functions(torch)
    tx = torch.tensor([1.0], requires_grad=True)
    assert functions["cube"].apply(tx, 1.0).grad_fn.name() == "TCubeBackward"
    with pytest.raises(RuntimeError, match="differentiate twice"):

        class TOnce(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @torch.autograd.function.once_differentiable
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 2 * x

        tv = torch.ones(1, requires_grad=True)
        (g,) = torch.autograd.grad(TOnce.apply(tx), tx, grad_outputs=tv, create_graph=True)
        g.sum().backward()
