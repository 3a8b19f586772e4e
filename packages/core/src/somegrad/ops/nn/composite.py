"""The two helpers every nn composite is declared with."""

from __future__ import annotations

from somegrad.autograd.grad_mode import is_grad_enabled
from somegrad.ops.dispatch import apply
from somegrad.ops.spec import OpSpec, register


def composite(name, inputs, infer, backward, decompose, doc=""):
    """Declare an explicit composite op (one node, its own backward)."""
    return register(OpSpec(name, "composite", inputs, infer, backward, decompose, explicit=True, doc=doc))


def backward_op(spec, inputs, params, formula):
    """Run a backward as the fused op `spec` when no graph is recorded, else as the
    differentiable `formula` (for `create_graph=True`)."""
    if is_grad_enabled():
        return formula(*inputs, **params)
    return apply(spec, inputs, params)
