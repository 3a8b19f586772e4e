"""`BackwardHook`: the gradients at a module's outputs and inputs, for its full backward hooks.

A module's forward is bracketed by two identity Functions: one over its tensor inputs, one
over its tensor outputs. In the backward, the output identity sees `grad_output` first (the
backward pre-hooks run there and may replace it); the input identity then sees `grad_input`,
the gradients with respect to the module's inputs, and calls the full backward hooks with
both (a hook may replace `grad_input`). `nn.Module.register_full_backward_hook` uses it, as
PyTorch's `torch.utils.hooks.BackwardHook`.
"""

from __future__ import annotations

import warnings

from somegrad.autograd.function import Function
from somegrad.autograd.grad_mode import is_grad_enabled

__all__ = ["BackwardHook"]


class _BackwardHookFunction(Function):
    """Identity over `tensors` whose backward hands the incoming gradients to `on_backward`."""

    @staticmethod
    def forward(ctx, on_backward, *tensors):
        ctx.on_backward = on_backward
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_backward(grads))


class BackwardHook:
    """One forward call's backward hooks: `hooks(module, grad_input, grad_output)` and
    `pre_hooks(module, grad_output)`, each returning None or replacement gradients.

    `grad_input` and `grad_output` are tuples with one entry per positional argument (per
    output), None where that is not a tensor or got no gradient."""

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_positions = self.output_positions = None

    @staticmethod
    def _wrap(values, on_backward):
        """`values` with their tensors passed through the identity, and those tensors' positions
        (None when no tensor requires grad or recording is off: nothing to hook)."""
        from somegrad.tensor import Tensor

        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not is_grad_enabled() or not any(values[i].requires_grad for i in positions):
            return values, None
        wrapped = _BackwardHookFunction.apply(on_backward, *[values[i] for i in positions])
        out = list(values)
        for i, t in zip(positions, wrapped):
            out[i] = t
        return tuple(out), positions

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        args, self.input_positions = self._wrap(args, self._on_input_grads)
        return args

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        self.n_outputs = len(outputs)
        outputs, self.output_positions = self._wrap(outputs, self._on_output_grads)
        return outputs[0] if single else outputs

    @staticmethod
    def _spread(positions, values, size):
        spread = [None] * size
        for i, v in zip(positions, values):
            spread[i] = v
        return tuple(spread)

    def _on_output_grads(self, grads):
        self.grad_outputs = self._spread(self.output_positions, grads, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, "
                    f"got {len(result)}, but expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = result
        grad_outputs = self.grad_outputs
        if self.input_positions is None:
            # no input requires grad: the hooks fire here, with no grad_input at all
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs "
                "since no inputs require gradients.",
                UserWarning,
                stacklevel=2,
            )
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, grad_outputs)
                if result is not None and not (isinstance(result, tuple) and all(r is None for r in result)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return None "
                        "or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_positions)

    def _on_input_grads(self, grads):
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through the outputs (double backward)
            return grads
        grad_inputs = self._spread(self.input_positions, grads, self.n_inputs)
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(grad_inputs):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, "
                    f"got {len(result)}, but expected {len(grad_inputs)}"
                )
            grad_inputs = result
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_positions)
