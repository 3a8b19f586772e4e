"""`OpSpec`: an operation declared once, as data.

An op spec says what an operation is, independently of any backend:

* `name` and `kind` ("elementwise", "reduce", "movement", "index", "matmul", "creation",
  "random", "composite");
* `inputs`: the names of its tensor inputs (`("x",)`, `("a", "b")`; `("*tensors",)` for
  variadic ops such as `cat`);
* `infer(*inputs, **params) -> (shape, dtype)`: the output's shape and dtype, computed from the
  inputs' metadata. This is where bad input gets its clear error, before any kernel runs;
* `backward(grad, ...)`: the vector-Jacobian product, written with Tensor operations so that
  it is differentiable itself. Its parameter names say what the forward must save: any input
  name, `out` (the forward's result), `input_shape` (the first input's shape),
  `needs_input_grad` (a bool per input, to skip work for inputs that need no gradient) and
  any keyword parameter of the op. It returns one
  gradient per input (a single value for one input; None where no gradient flows). Gradients
  may have the broadcast shape: the autograd engine sums them down to each input's shape;
* `decompose(*inputs, **params)`: for composites, the reference implementation in other ops.
  A backend without a kernel of this name runs it. *Explicit* composites (`explicit=True`)
  record one node with their own `backward`; implicit ones let autograd see the primitives;
* `outputs`: how many tensors the op returns (1 for nearly every op). An op with several
  (a fused backward returning the gradients of all its inputs at once, `linear_backward`)
  has `infer` give one `(shape, dtype)` per output, or None for an output it is asked not to
  compute, and its kernel and decomposition a tuple to match. It records no graph (it has
  no `backward`): its differentiable form is the formula that `backward_op` runs instead.

Primitives have no `decompose`: every backend must implement them (`PRIMITIVES`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["OpSpec", "OPS", "PRIMITIVES", "register", "get_op"]


@dataclass(eq=False)
class OpSpec:
    name: str
    kind: str
    inputs: tuple[str, ...]
    infer: Callable
    backward: Callable | None = None
    decompose: Callable | None = None
    explicit: bool = False
    view: bool = False  # the output may share memory with the first input
    outputs: int = 1  # several: a tuple of tensors, no backward (see the module docstring)
    # absolute error the decomposition may have against the exact result (approximations)
    decomposition_tolerance: float = 0.0
    doc: str = ""
    # filled in by __post_init__: which of the backward's arguments the forward must keep
    saved_inputs: tuple[int, ...] = field(init=False, default=())
    saves_output: bool = field(init=False, default=False)
    backward_params: tuple[str, ...] = field(init=False, default=())
    wants_input_shape: bool = field(init=False, default=False)
    wants_needs_input_grad: bool = field(init=False, default=False)
    variadic: bool = field(init=False, default=False)  # one list of tensors: cat(tensors)

    def __post_init__(self):
        self.variadic = bool(self.inputs) and self.inputs[0].startswith("*")
        if self.outputs != 1 and (self.backward is not None or self.view or self.variadic):
            raise ValueError(f"op {self.name!r}: an op with several outputs has no backward and is no view")
        if self.backward is None:
            return
        names = list(inspect.signature(self.backward).parameters)[1:]  # after `grad`
        input_names = [n.lstrip("*") for n in self.inputs]
        self.saved_inputs = tuple(i for i, n in enumerate(input_names) if n in names)
        if self.variadic and input_names[0] in names:
            self.saved_inputs = (-1,)  # save all of them
        self.saves_output = "out" in names
        self.wants_input_shape = "input_shape" in names
        self.wants_needs_input_grad = "needs_input_grad" in names
        special = ("out", "input_shape", "needs_input_grad")
        self.backward_params = tuple(n for n in names if n not in input_names and n not in special)

    @property
    def is_primitive(self) -> bool:
        return self.decompose is None

    @property
    def differentiable(self) -> bool:
        return self.backward is not None or (self.decompose is not None and not self.explicit)

    def __repr__(self) -> str:
        return f"OpSpec({self.name!r}, kind={self.kind!r})"


OPS: dict[str, OpSpec] = {}


def register(spec: OpSpec) -> OpSpec:
    """Add `spec` to the registry of ops (names are unique)."""
    if spec.name in OPS:
        raise ValueError(f"op {spec.name!r} is declared twice")
    OPS[spec.name] = spec
    return spec


def get_op(name: str) -> OpSpec:
    """The registered `OpSpec` named `name`; KeyError if there is none."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}") from None


def primitives() -> list[str]:
    """The names of the ops every backend must implement."""
    return sorted(name for name, spec in OPS.items() if spec.is_primitive)


class _PrimitiveNames:
    """`PRIMITIVES`: a live, sorted view of the primitive op names."""

    def __iter__(self):
        return iter(primitives())

    def __contains__(self, name):
        spec = OPS.get(name)
        return spec is not None and spec.is_primitive

    def __len__(self):
        return len(primitives())

    def __repr__(self):
        return f"PRIMITIVES({primitives()})"


PRIMITIVES = _PrimitiveNames()
