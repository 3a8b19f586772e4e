"""The helper every nn composite is declared with (their fused backward ops run through
`somegrad.ops.dispatch.backward_op`)."""

from __future__ import annotations

from somegrad.ops.spec import FLOATING, OpSpec, register


def composite(name, inputs, infer, backward, decompose, doc="", outputs=1, accepts=FLOATING):
    """Declare an explicit composite op (one node, its own backward; or, with several
    `outputs`, a fused backward op that records nothing). Its inputs are floating point
    unless `accepts` says otherwise (a dict naming the integer inputs: class indices, say)."""
    return register(
        OpSpec(
            name,
            "composite",
            inputs,
            infer,
            backward,
            decompose,
            explicit=True,
            outputs=outputs,
            doc=doc,
            accepts=accepts,
        )
    )
