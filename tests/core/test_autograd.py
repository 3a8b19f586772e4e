"""The autograd engine: long chains, accumulation, retain/create_graph, autograd.grad, hooks,
retain_grad, detach, grad modes (thread-local), version counters and its error messages."""

import threading
import time
from collections import Counter

import numpy as np
import pytest

import somegrad as sg


@pytest.mark.slow
def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = sg.tensor(1.0, dtype=sg.float64, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert time.perf_counter() - start < 60


def test_gradients_accumulate_into_grad_across_backward_calls():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_a_tensor_used_twice_gets_both_gradients():
    x = sg.tensor([3.0], requires_grad=True)
    y = x * 2
    (y * y + y).sum().backward()  # d/dx (4x^2 + 2x) = 8x + 2
    assert x.grad.tolist() == [26.0]


def test_backward_twice_without_retain_graph_raises_clearly():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first.numpy())


def test_create_graph_makes_grad_differentiable():
    x = sg.tensor([2.0], dtype=sg.float64, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.tolist() == [12.0]
    (dx2,) = sg.autograd.grad(x.grad.sum(), x)
    assert dx2.tolist() == [12.0]


def test_backward_inputs_restricts_accumulation():
    a = sg.tensor([1.0], requires_grad=True)
    b = sg.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_autograd_grad_returns_without_accumulating():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = sg.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0] and x.grad is None and not g.requires_grad


def test_autograd_grad_of_non_leaf_input():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = sg.autograd.grad((h * h).sum(), h)
    assert gh.tolist() == [6.0, 12.0]


def test_autograd_grad_allow_unused():
    x = sg.tensor([1.0], requires_grad=True)
    unused = sg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 was not used.*allow_unused=True"):
        sg.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = sg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_autograd_grad_with_grad_outputs_for_non_scalar():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = sg.autograd.grad(x * x, x, grad_outputs=sg.tensor([1.0, 10.0]))
    assert g.tolist() == [2.0, 40.0]


def test_backward_on_non_scalar_without_gradient_raises_clearly():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(sg.tensor([1.0, 1.0]))
    assert x.grad.tolist() == [2.0, 2.0]


def test_backward_with_wrong_gradient_shape_raises():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(sg.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sg.tensor([1.0]).sum().backward()


def test_leaf_hook_can_replace_the_gradient():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_non_leaf_hook_changes_what_flows_upstream():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    h.register_hook(lambda g: g + 1)
    (h * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [8.0, 8.0]  # (3 + 1) * 2


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        sg.tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_keeps_non_leaf_gradients():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = h * h
    h.retain_grad()
    k.sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    assert k.grad is None
    assert not h.is_leaf and x.is_leaf


def test_detach_shares_memory_and_cuts_the_graph():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    (y * d).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]  # d is a constant
    with sg.no_grad():
        d.add_(1)
    assert y.tolist() == [3.0, 5.0]


def test_requires_grad_on_integer_tensors_errors():
    with pytest.raises(RuntimeError, match="only tensors of floating point dtype can require gradients, got int64"):
        sg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        sg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        sg.zeros(2, dtype=sg.int32, requires_grad=True)


def test_integer_results_do_not_require_grad():
    x = sg.tensor([1.5, -2.5], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not x.argmax().requires_grad
    assert not x.long().requires_grad


def test_requires_grad_flag_propagates():
    x = sg.tensor([1.0], requires_grad=True)
    c = sg.tensor([2.0])
    assert (x + c).requires_grad and not (c * 2).requires_grad
    assert (x + c).grad_fn is not None and (c * 2).grad_fn is None


def test_no_grad_context_and_decorator():
    x = sg.tensor([1.0], requires_grad=True)
    with sg.no_grad():
        assert not sg.is_grad_enabled()
        assert not (x * 2).requires_grad
        with sg.enable_grad():
            assert (x * 2).requires_grad
        assert not sg.is_grad_enabled()
    assert sg.is_grad_enabled()

    @sg.no_grad()
    def double(t):
        return t * 2

    @sg.enable_grad()
    def triple(t):
        return t * 3

    assert not double(x).requires_grad
    with sg.no_grad():
        assert triple(x).requires_grad
    assert sg.is_grad_enabled()


def test_set_grad_enabled_as_function_context_and_decorator():
    x = sg.tensor([1.0], requires_grad=True)
    sg.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    sg.set_grad_enabled(True)
    with sg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @sg.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert sg.is_grad_enabled()  # creating the decorator did not switch it off
    assert not f(x).requires_grad
    assert sg.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with sg.no_grad():
            raise ValueError
    assert sg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    x = sg.tensor([1.0], requires_grad=True)
    inside = threading.Event()
    release = threading.Event()
    results = {}

    def worker_without_grad():
        with sg.no_grad():
            inside.set()
            release.wait(10)
            results["worker"] = (x * 2).requires_grad

    thread = threading.Thread(target=worker_without_grad)
    thread.start()
    assert inside.wait(10)
    results["main"] = (x * 2).requires_grad  # the other thread's no_grad is active now
    release.set()
    thread.join()
    assert results == {"main": True, "worker": False}

    other = {}
    with sg.no_grad():
        t = threading.Thread(target=lambda: other.setdefault("enabled", sg.is_grad_enabled()))
        t.start()
        t.join()
    assert other["enabled"] is True


def test_modifying_a_saved_tensor_in_place_raises_naming_the_op():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()  # exp saves its output
    w = y * y  # mul saves its inputs
    with sg.no_grad():
        y.add_(1)
    with pytest.raises(
        RuntimeError, match="mul: one of the tensors needed for the gradient has been modified by an in-place"
    ):
        w.sum().backward()
    z.sum().backward()  # exp saved its output, which did not change


def test_modifying_a_saved_output_in_place_raises():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="exp: one of the tensors needed for the gradient has been modified"):
        y.sum().backward()


def test_modifying_a_view_of_a_saved_tensor_bumps_the_shared_version():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    w = y.sin()
    with sg.no_grad():
        y[1:].zero_()
    with pytest.raises(RuntimeError, match="sin: one of the tensors needed for the gradient"):
        w.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match="add_: a leaf tensor that requires grad is being used in an in-place operation"
    ):
        x.add_(1)
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor that requires grad"):
        x[0] = 3.0
    with sg.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0] and x.requires_grad


def test_in_place_on_non_leaf_is_differentiable():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(x)  # y = 2x^2
    y.add_(x)
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 9.0]  # 4x + 1


def test_in_place_with_itself_as_operand_raises_like_pytorch():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(y)  # mul saved y, which the in-place write then changed
    with pytest.raises(RuntimeError, match="mul: one of the tensors needed for the gradient has been modified"):
        y.sum().backward()


def test_setitem_on_non_leaf_is_differentiable():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = sg.tensor(5.0, requires_grad=True)
    y = x * 2
    y[1] = v * v
    (y * sg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 6.0]
    assert v.grad.item() == 20.0  # 2 * 2v


def test_in_place_on_a_plain_tensor_with_a_grad_operand_records_the_graph():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    buffer = sg.zeros(2)
    buffer.add_(x * 3)
    assert buffer.requires_grad
    buffer.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_grad_fn_and_next_functions():
    x = sg.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn.name() == "ExpBackward0" and "Exp" in repr(y.grad_fn)
    (mul_node,) = y.grad_fn.next_functions
    assert mul_node.next_functions[0] is x


def test_graph_is_freed_after_backward():
    x = sg.tensor([1.0], requires_grad=True)
    y = x.exp()
    y.sum().backward()
    assert y.grad_fn.saved is None


def test_anomaly_detection_names_the_op():
    x = sg.tensor([-1.0, 1.0], requires_grad=True)
    with sg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="sqrt: the forward produced NaN"):
            x.sqrt()
    assert not sg.autograd.is_anomaly_enabled()


def test_accumulating_a_gradient_that_came_from_a_broadcast():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward()  # sum's backward hands back a broadcast (read-only) view
    x.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_leaves_own_their_gradients():
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    b = sg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # add's backward gives both inputs the same tensor
    a.grad.mul_(10)
    assert b.grad.tolist() == [1.0, 1.0]
    seed = sg.ones(2)
    c = sg.tensor([1.0, 2.0], requires_grad=True)
    c.backward(seed)
    c.backward(seed)
    assert c.grad.tolist() == [2.0, 2.0] and seed.tolist() == [1.0, 1.0]


def _count_clones(monkeypatch):
    calls = []
    clone = sg.Tensor.clone
    monkeypatch.setattr(sg.Tensor, "clone", lambda self, *a, **k: calls.append(1) or clone(self, *a, **k))
    return calls


def test_a_fresh_gradient_becomes_the_leafs_grad_without_a_copy(monkeypatch):
    w = sg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    x = sg.tensor(np.ones((5, 3)))
    clones = _count_clones(monkeypatch)
    (x @ w).sum().backward()  # w's gradient is the result of a matmul, referenced by nothing else
    assert clones == []
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 5.0))
    (x @ w).sum().backward()  # accumulates in place into the array it took
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4), 10.0))


def test_a_gradient_something_else_holds_is_copied(monkeypatch):
    # a non-leaf that retains its gradient shares it with the leaf (clone's backward is the identity)
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    y = a.clone()
    y.retain_grad()
    clones = _count_clones(monkeypatch)
    (y * sg.tensor([3.0, 4.0])).sum().backward()
    a.grad.mul_(10)
    assert y.grad.tolist() == [3.0, 4.0] and a.grad.tolist() == [30.0, 40.0]
    # a hook that keeps the gradient it saw
    kept = []
    b = sg.tensor([[1.0, 2.0]], requires_grad=True)
    b.register_hook(lambda g: kept.append(g))
    (b @ sg.tensor([[1.0], [1.0]])).sum().backward()
    b.grad.add_(1.0)
    assert kept[0].tolist() == [[1.0, 1.0]] and b.grad.tolist() == [[2.0, 2.0]]
    assert len(clones) == 2  # the engine copied both


def test_setitem_of_a_value_requiring_grad_into_a_plain_tensor_records_the_graph():
    v = sg.tensor(2.0, requires_grad=True)
    x = sg.zeros(3)
    x[1] = v * 3
    assert x.requires_grad and x.tolist() == [0.0, 6.0, 0.0]
    (x * sg.tensor([1.0, 5.0, 1.0])).sum().backward()
    assert v.grad.item() == 15.0


@pytest.mark.parametrize(
    "op, only_for_the_constant",
    [
        (lambda x, c: x * c, None),  # g * x, for c, is not formed
        (lambda x, c: c * x, None),
        (lambda x, c: x - c, "neg"),
        (lambda x, c: x / c, "neg"),
        (lambda x, c: x**c, "log"),
        (lambda x, c: sg.maximum(x, c), None),
    ],
)
def test_binary_backward_skips_the_gradient_of_an_input_without_grad(monkeypatch, op, only_for_the_constant):
    backend = sg.backends.get_backend("numpy")
    calls = []
    for name, kernel in list(backend.kernels.items()):
        monkeypatch.setitem(backend.kernels, name, lambda *a, _k=kernel, _n=name, **p: calls.append(_n) or _k(*a, **p))
    sg.ops.dispatch.clear_kernel_cache()

    def backward_kernels(c):
        x = sg.tensor([0.5, 2.0, 3.0], requires_grad=True)
        out, g = op(x, c), sg.ones(3)
        calls.clear()
        (dx,) = sg.autograd.grad(out, [x], grad_outputs=g)
        return Counter(calls), dx.numpy()

    try:
        c = sg.tensor([1.5, 2.0, 0.5])
        both, dx_both = backward_kernels(c.detach().requires_grad_())  # first: it caches the constants (0.5)
        constant, dx = backward_kernels(c)
        assert constant < both  # a strict part of the work: none of it is for c
        assert only_for_the_constant is None or only_for_the_constant not in constant
        assert np.array_equal(dx, dx_both)  # and x's gradient is the same
    finally:
        sg.ops.dispatch.clear_kernel_cache()
