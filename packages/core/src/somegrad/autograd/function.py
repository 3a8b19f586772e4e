"""`autograd.Function`: a custom op written as a forward and a backward, like PyTorch's.

    class Cube(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):                   # x: any shape
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):               # grad: the shape of the output
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x            # one gradient per forward input

    y = Cube.apply(x)

The forward runs with grad recording off; `apply` then records one graph `Node` whose op
spec's backward calls the class's `backward`. Written with differentiable ops, the backward
records its own graph under `create_graph=True`, so double backward works; mark it
`@once_differentiable` when it is not.

A node has one output. A forward that returns several tensors gets one small node per
differentiable output: each places its output's gradient into its segment of one flat
vector, and the engine sums these vectors into the function's node (a gradient for the
function is then exactly that flat vector); the node cuts it back into one gradient per
output before calling `backward`.
"""

from __future__ import annotations

import functools
import inspect
import weakref

from somegrad.autograd.grad_mode import is_grad_enabled, no_grad
from somegrad.autograd.graph import Node, SavedTensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """What `forward` and `backward` share: saved tensors, flags, and any attribute set on it."""

    def __init__(self):
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True
        self._to_save = ()
        self._non_differentiable: set[int] = set()
        self._saved = None  # the unpacked tensors while backward runs
        self._layout = None  # where each output's gradient sits, for several outputs
        self._input_meta = ()
        self._output_slots = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep `tensors` (or None) for the backward, where `ctx.saved_tensors` returns them.

        Saved tensors are checked for in-place changes when read, and freed after the backward
        unless `retain_graph=True`; plain attributes on `ctx` are neither."""
        from somegrad.tensor import Tensor

        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save tensors or None, but argument {i} is {type(t).__name__}"
                )
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to `save_for_backward`, checked for in-place changes (in `backward`)."""
        return self._saved if self._saved is not None else tuple(self._to_save)

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient: they do not require grad, and the backward
        is given zeros for them (None with `set_materialize_grads(False)`)."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, an output that received no gradient gets None in `backward`, not zeros."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError(
            "mark_dirty: custom Functions that modify their inputs in place are not supported; return a new tensor"
        )


class _SavedFunctionOutput(SavedTensor):
    """An output of a multi-output function kept for the backward: rebuilt on read with the
    node of that output (held weakly, so the function's node does not keep it alive)."""

    __slots__ = ("output_node",)

    def __init__(self, tensor):
        super().__init__(tensor, is_output=True)
        self.output_node = weakref.ref(tensor.grad_fn)

    def unpack(self, node):
        out = super().unpack(node)
        owner = self.output_node()
        out.grad_fn = owner
        out.requires_grad = owner is not None
        return out


class _Layout:
    """Where each output of a multi-output function sits in the flat gradient vector."""

    __slots__ = ("slots", "size", "dtype", "arrived")

    def __init__(self, slots, size, dtype):
        self.slots = slots  # per output: (offset, shape, dtype), or None for a non-tensor output
        self.size = size
        self.dtype = dtype
        self.arrived = [False] * len(slots)


def _place_backward(grad, layout, index):
    """The gradient of output `index`, placed into its segment of the flat vector (zeros elsewhere)."""
    import somegrad as sg

    offset, shape, _ = layout.slots[index]
    layout.arrived[index] = True
    count = grad.numel()
    pieces = []
    if offset:
        pieces.append(sg.zeros(offset, dtype=layout.dtype, device=grad.device))
    pieces.append(grad.reshape(-1).to(layout.dtype))
    if layout.size - offset - count:
        pieces.append(sg.zeros(layout.size - offset - count, dtype=layout.dtype, device=grad.device))
    return pieces[0] if len(pieces) == 1 else sg.cat(pieces)


def _unavailable(*args, **kwargs):
    raise RuntimeError("a custom Function's node is not called as an op")


def _output_spec():
    from somegrad.ops.spec import OpSpec

    return OpSpec("function_output", "custom", ("flat",), _unavailable, backward=_place_backward)


_OUTPUT_SPEC = None


def _spec_for(cls):
    """The op spec of the Function class `cls`, made once: its backward calls `cls.backward`."""
    spec = cls.__dict__.get("_op_spec")
    if spec is not None:
        return spec
    from somegrad.ops.spec import OpSpec

    def backward(grad, ctx, saved_tensors):
        return _call_backward(cls, ctx, grad, saved_tensors)

    spec = OpSpec(cls.__name__, "custom", ("*saved_tensors",), _unavailable, backward=backward)
    spec.node_name = f"{cls.__name__}Backward"  # PyTorch's name for a custom Function's node
    cls._op_spec = spec
    return spec


def _call_backward(cls, ctx, grad, saved_tensors):
    import somegrad as sg

    layout = ctx._layout
    if layout is None:
        grads = (grad,)
    else:
        grads = []
        for i, slot in enumerate(layout.slots):
            if slot is None:
                grads.append(None)
                continue
            offset, shape, dtype = slot
            count = 1
            for s in shape:
                count *= s
            if not layout.arrived[i] and not ctx.materialize_grads:
                grads.append(None)
            else:
                grads.append(grad[offset : offset + count].reshape(shape).to(dtype))
        layout.arrived = [False] * len(layout.slots)
        grads = tuple(grads)
    if ctx.materialize_grads:
        grads = tuple(
            sg.zeros(slot[1], dtype=slot[2], device=grad.device) if g is None and slot is not None else g
            for g, slot in zip(grads, ctx._output_slots)
        )
    ctx._saved = tuple(saved_tensors)
    try:
        result = cls.backward(ctx, *grads)
    finally:
        ctx._saved = None
    return _check_gradients(cls, ctx, result)


def _check_gradients(cls, ctx, result):
    from somegrad.tensor import Tensor

    result = result if isinstance(result, tuple) else (result,)
    expected = len(ctx._input_meta)
    if len(result) > expected and all(g is None for g in result[expected:]):
        result = result[:expected]
    if len(result) != expected:
        raise RuntimeError(
            f"function {cls.__name__}Backward returned an incorrect number of gradients (expected {expected}, "
            f"got {len(result)})"
        )
    for i, (g, meta) in enumerate(zip(result, ctx._input_meta)):
        if g is None:
            continue
        if meta is None:
            raise RuntimeError(
                f"function {cls.__name__}Backward returned a gradient different than None at position {i + 1}, "
                "but the corresponding forward input was not a Tensor"
            )
        if not isinstance(g, Tensor):
            raise TypeError(
                f"function {cls.__name__}Backward returned a {type(g).__name__} at position {i + 1}; "
                "gradients must be tensors or None"
            )
        shape = meta[0]
        if len(shape) > len(g.shape) or any(s != h and s != 1 for s, h in zip(reversed(shape), reversed(g.shape))):
            raise RuntimeError(
                f"Function {cls.__name__}Backward returned an invalid gradient at index {i} - got "
                f"{list(g.shape)} but expected shape compatible with {list(shape)}"
            )
    return result


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._op_spec = None


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable ops: subclass it with static `forward(ctx, *args)`
    and `backward(ctx, *grads)`, and call `YourFunction.apply(*args)` (never `forward`).

    `backward` gets one gradient per output of `forward` and returns one per input of
    `forward` (None for inputs that are not tensors or need no gradient; check
    `ctx.needs_input_grad` to skip that work). Arguments that are not tensors pass through
    to `forward` unchanged. The PyTorch 2 form, a `forward(*args)` without ctx plus
    `setup_context(ctx, inputs, output)`, works too.
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__}: custom Functions are not instantiated; call {type(self).__name__}.apply(...)"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it "
            "with backward mode AD."
        )

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        from somegrad.tensor import Tensor

        separate_context = cls.setup_context is not Function.setup_context
        if kwargs:
            signature = inspect.signature(cls.forward)
            bound = signature.bind(*args, **kwargs) if separate_context else signature.bind(None, *args, **kwargs)
            args = bound.args if separate_context else bound.args[1:]
        ctx = FunctionCtx()
        record = is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            if separate_context:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        fresh = tuple(_fresh_output(o, args) for o in outputs)
        for before, after in zip(outputs, fresh):
            if before is not after and id(before) in ctx._non_differentiable:
                ctx._non_differentiable.add(id(after))
        outputs = fresh
        if record:
            _record(cls, ctx, args, outputs)
        return outputs[0] if single else outputs


def _fresh_output(output, args):
    """An output that is one of the inputs, returned as it is, becomes a new tensor over the
    same memory, so that recording the node leaves the input untouched (PyTorch returns a view)."""
    if any(output is a for a in args):
        return output.detach()
    return output


def _record(cls, ctx, args, outputs):
    from somegrad.tensor import Tensor

    differentiable = [
        isinstance(o, Tensor) and o.dtype.is_floating_point and id(o) not in ctx._non_differentiable for o in outputs
    ]
    ctx._output_slots = tuple((None, o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outputs)
    if not any(differentiable):
        return
    ctx._input_meta = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args)
    edges = tuple(
        (a.grad_fn if a.grad_fn is not None else (a if a.requires_grad else None)) if isinstance(a, Tensor) else None
        for a in args
    )
    input_meta = tuple(meta if meta is not None else (None, None) for meta in ctx._input_meta)
    spec = _spec_for(cls)
    single = len(outputs) == 1
    ctx._layout = None
    node = Node(spec, {"ctx": ctx}, None, edges, input_meta)
    if single:
        out = outputs[0]
        out.grad_fn, out.requires_grad = node, True
    else:
        _record_outputs(ctx, node, outputs, differentiable)
    node.saved = {"saved_tensors": [_saved(t, outputs, node) for t in ctx._to_save]}
    ctx._to_save = ()


def _record_outputs(ctx, node, outputs, differentiable):
    """One placing node per differentiable output, all pointing at the function's `node`."""
    import somegrad as sg

    global _OUTPUT_SPEC
    if _OUTPUT_SPEC is None:
        _OUTPUT_SPEC = _output_spec()
    slots, offset, float_dtypes = [], 0, []
    for o, wanted in zip(outputs, differentiable):
        if wanted:
            slots.append((offset, o.shape, o.dtype))
            offset += o.numel()
            float_dtypes.append(o.dtype)
        else:
            slots.append(None)
    dtype = float_dtypes[0]
    for d in float_dtypes[1:]:
        dtype = sg.promote_types(dtype, d)
    layout = ctx._layout = _Layout(tuple(slots), offset, dtype)
    flat_meta = ((offset,), dtype)
    for index, (o, wanted) in enumerate(zip(outputs, differentiable)):
        if wanted:
            o.grad_fn = Node(_OUTPUT_SPEC, {"layout": layout, "index": index}, {}, (node,), (flat_meta,))
            o.requires_grad = True


def _saved(tensor, outputs, node):
    if tensor is None:
        return _SavedNone()
    if any(tensor is o for o in outputs) and tensor.grad_fn is not None:
        return SavedTensor(tensor, is_output=True) if tensor.grad_fn is node else _SavedFunctionOutput(tensor)
    return SavedTensor(tensor)


class _SavedNone:
    __slots__ = ()

    def unpack(self, node):
        return None


class _DelayedErrorBackward:
    """The backward of a gradient computed by a `once_differentiable` backward: differentiating
    it again is an error, raised when that second backward reaches it."""

    spec = None

    @classmethod
    def get(cls, name):
        from somegrad.ops.spec import OpSpec

        def backward(grad, function):
            raise RuntimeError(
                f"trying to differentiate twice a function that was marked with @once_differentiable ({function})"
            )

        return OpSpec("once_differentiable", "custom", ("x",), _unavailable, backward=backward), {"function": name}


def once_differentiable(backward):
    """Decorate a `backward` that is not itself differentiable: it runs with recording off,
    and a second differentiation through its results raises a RuntimeError instead of
    silently giving a wrong (zero) second derivative."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        from somegrad.tensor import Tensor

        with no_grad():
            result = backward(ctx, *grad_outputs)
        if not is_grad_enabled():
            return result
        # as in PyTorch, only the incoming gradients count: a result that needs none of them
        # simply does not require grad
        sources = [g for g in grad_outputs if isinstance(g, Tensor) and g.requires_grad]
        if not sources:
            return result
        spec, params = _DelayedErrorBackward.get(getattr(backward, "__qualname__", "backward"))
        single = not isinstance(result, tuple)
        wrapped = []
        for g in (result,) if single else result:
            if isinstance(g, Tensor) and g.dtype.is_floating_point:
                # as PyTorch does: the result hangs from an error node over a detached copy of
                # itself, so reaching it in a second backward raises
                source = g.detach().requires_grad_(True)
                g = g.detach()
                g.grad_fn = Node(spec, params, {}, (source,), ((source.shape, source.dtype),))
                g.requires_grad = True
            wrapped.append(g)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper
