"""Grad modes as context managers and decorators (with and without parentheses, on
generators), inference_mode, compared with PyTorch's behaviour."""

from __future__ import annotations

import pytest

import somegrad as sg
from somegrad.autograd import enable_grad, inference_mode, is_inference_mode_enabled, no_grad, set_grad_enabled


@pytest.fixture(autouse=True)
def _restore_mode():
    yield
    sg.set_grad_enabled(True)


def _records():
    return (sg.tensor([1.0], requires_grad=True) * 2).requires_grad


def test_no_grad_with_and_without_parentheses():
    @no_grad()
    def called():
        return _records()

    @no_grad
    def bare():
        return _records()

    assert called() is False and bare() is False and _records() is True
    assert bare.__name__ == "bare"
    with pytest.raises(TypeError, match="no_grad"):
        no_grad(3)


def test_enable_grad_inside_no_grad():
    @enable_grad
    def inner():
        return _records()

    with no_grad():
        assert inner() is True
        assert _records() is False


def test_set_grad_enabled_as_function_context_and_decorator():
    @set_grad_enabled(False)
    def off():
        return _records()

    assert sg.is_grad_enabled()  # making the decorator changes nothing
    assert off() is False and sg.is_grad_enabled()
    set_grad_enabled(False)
    assert not sg.is_grad_enabled()
    set_grad_enabled(True)
    with set_grad_enabled(False):
        assert _records() is False
    assert _records() is True


def test_inference_mode_forms():
    @inference_mode
    def bare():
        return _records(), is_inference_mode_enabled()

    @inference_mode()
    def called():
        return _records()

    @inference_mode(False)
    def disabled():
        return _records()

    assert bare() == (False, True) and called() is False and disabled() is True
    assert not is_inference_mode_enabled()
    with inference_mode():
        assert not sg.is_grad_enabled()
    assert sg.is_grad_enabled()


def test_a_decorated_generator_has_the_mode_in_each_step_only():
    @no_grad()
    def steps():
        for _ in range(2):
            yield _records(), sg.is_grad_enabled()

    outside = []
    for record, enabled in steps():
        outside.append(sg.is_grad_enabled())
        assert record is False and enabled is False
    assert outside == [True, True]

    @no_grad
    def echo():
        received = yield 1
        yield received * 2

    gen = echo()
    assert next(gen) == 1 and gen.send(5) == 10


def test_a_decorated_method_keeps_its_name_and_docstring():
    class Evaluator:
        @no_grad()
        def evaluate(self, x):
            """Evaluate."""
            return (x * 2).requires_grad

    assert Evaluator().evaluate(sg.tensor([1.0], requires_grad=True)) is False
    assert Evaluator.evaluate.__doc__ == "Evaluate."


@pytest.mark.parity
def test_parity_decorator_forms():
    torch = pytest.importorskip("torch")
    for lib, a, b in ((torch, torch.no_grad, torch.inference_mode), (sg, no_grad, inference_mode)):

        @a
        def f(lib=lib):
            return (lib.ones(1, requires_grad=True) * 2).requires_grad

        @b
        def g(lib=lib):
            return (lib.ones(1, requires_grad=True) * 2).requires_grad

        @a
        def gen(lib=lib):
            yield lib.is_grad_enabled()

        assert (f(), g(), next(gen()), lib.is_grad_enabled()) == (False, False, False, True)
