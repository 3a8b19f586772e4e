"""Activation checkpointing: keep a function's inputs, not its activations, and recompute the
forward inside the backward.

    from somegrad.utils.checkpoint import checkpoint, checkpoint_sequential
    y = checkpoint(block, x, use_reentrant=False)        # block's activations are not kept
    y = checkpoint_sequential(model.layers, 4, x, use_reentrant=False)

The forward runs without recording a graph (so nothing it computes is saved), while a dispatch
mode notes the parameters and other leaves that require grad which the function reads. One
graph node stands for the whole call: its edges lead to the tensor arguments and to those
leaves, so the engine accumulates their gradients, runs their hooks (DistributedDataParallel's)
and `autograd.grad` reaches them, as for any op. Its backward restores the random state the
forward started with (so dropout draws the same masks) and its autocast settings, runs the
function again with a graph, and differentiates it: the gradients equal those of the plain call.

Differences from PyTorch: `use_reentrant` selects nothing (both values give the behaviour
above, which is PyTorch's non-reentrant one); a tensor that requires grad and was computed
outside `fn` must be passed as an argument, not captured by a closure (an error says so).
"""

from __future__ import annotations

import contextlib
import sys
import threading

from somegrad.autograd import engine
from somegrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from somegrad.autograd.graph import Node, SavedTensor
from somegrad.ops.dispatch import DispatchMode
from somegrad.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _LeafFinder(DispatchMode):
    """While `fn` runs under no_grad: every input of an op that requires grad is a leaf that
    `fn` reads (a parameter), an argument, or a tensor `fn` captured from outside."""

    def __init__(self, arguments):
        self.arguments = {id(t) for t in arguments}
        self.leaves: dict[int, Tensor] = {}
        self.captured: Tensor | None = None
        self.thread = threading.get_ident()

    def apply(self, spec, inputs, params, proceed):
        if threading.get_ident() == self.thread:
            for t in inputs:
                if t.requires_grad and id(t) not in self.arguments:
                    if t.grad_fn is None:
                        self.leaves.setdefault(id(t), t)
                    elif self.captured is None:
                        self.captured = t
        return proceed(spec, inputs, params)


class _CheckpointSpec:
    """What the graph node needs of an op spec: a name and a backward."""

    name = "checkpoint"
    backward_params = ()
    wants_input_shape = False
    wants_needs_input_grad = False

    def __init__(self, backward):
        self.backward = backward


def _get_rng_state():
    from somegrad.random import get_rng_state

    return get_rng_state()


def _set_rng_state(state):
    from somegrad.random import set_rng_state

    set_rng_state(state)


def checkpoint(fn, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True, **kwargs):
    """`fn(*args, **kwargs)`, keeping only the arguments for the backward and recomputing the
    rest there. Returns what `fn` returns (a tensor, or a tuple or list with tensors in it).

    With grad disabled, or when neither an argument nor a leaf `fn` reads requires grad, this
    is the plain call. `preserve_rng_state=False` skips saving and restoring the random state
    (faster, when `fn` draws nothing: no dropout).
    """
    if use_reentrant not in (None, True, False):
        raise TypeError(f"checkpoint: use_reentrant must be a bool, got {use_reentrant!r}")
    if not is_grad_enabled():
        return fn(*args, **kwargs)
    tensor_args = [a for a in args if isinstance(a, Tensor)]
    rng_state = _get_rng_state() if preserve_rng_state else None
    autocast_mode = sys.modules.get("somegrad.amp.autocast_mode")  # imported by any autocast region
    autocast_state = autocast_mode.snapshot() if autocast_mode is not None else {}
    finder = _LeafFinder(tensor_args)
    with no_grad(), finder:
        outputs = fn(*args, **kwargs)
    if finder.captured is not None:
        raise RuntimeError(
            f"checkpoint: {getattr(fn, '__name__', type(fn).__name__)} uses a tensor of shape "
            f"{tuple(finder.captured.shape)} that requires grad and was computed outside it (captured by a "
            "closure); pass it as an argument so that its gradient flows"
        )
    wanted = [a for a in tensor_args if a.requires_grad] + list(finder.leaves.values())
    single = isinstance(outputs, Tensor)
    differentiable = [o for o in _tensors(outputs) if o.dtype.is_floating_point]
    if not wanted or not differentiable:
        return outputs

    def backward(grad, inputs=()):
        # `inputs`: the tensor arguments, read through their SavedTensors, so that one changed in
        # place since the forward is an error (as for any op's saved tensors)
        current = _get_rng_state() if preserve_rng_state else None
        if preserve_rng_state:
            _set_rng_state(rng_state)
        try:
            detached = {id(a): a.detach().requires_grad_(a.requires_grad) for a in inputs}
            again = [detached.get(id(a), a) if isinstance(a, Tensor) else a for a in args]
            with enable_grad(), engine.outside_backward(), _autocast_as(autocast_state):
                recomputed = fn(*again, **kwargs)
        finally:
            if preserve_rng_state:
                _set_rng_state(current)
        recomputed = [o for o in _tensors(recomputed) if o.dtype.is_floating_point]
        pieces = [grad] if len(recomputed) == 1 else _split(grad, recomputed)
        pairs = [(o, g) for o, g in zip(recomputed, pieces) if o.requires_grad]
        targets = [detached[id(a)] if id(a) in detached else a for a in wanted]
        if not pairs:
            return tuple(None for _ in wanted)
        inner_grad = engine.inner_grad

        # the engine enables grad in a backward only for create_graph=True
        return inner_grad([o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=is_grad_enabled())

    spec = _CheckpointSpec(backward)
    meta = [(t._data.shape, t.dtype) for t in wanted]
    edges = [t.grad_fn if t.grad_fn is not None else t for t in wanted]
    saved = {"inputs": [SavedTensor(t) for t in tensor_args]}
    if len(differentiable) == 1:
        out = differentiable[0]
        out.grad_fn = Node(spec, {}, saved, edges, meta)
        out.requires_grad = True
        return outputs
    # Several outputs share one node: it produces their concatenation, and each output is a
    # recorded slice of it, so the backward gets every output's gradient at once.
    from somegrad.ops import movement

    packed = movement.cat([o.detach().reshape(-1).to(differentiable[0].dtype) for o in differentiable])
    packed.grad_fn = Node(spec, {}, saved, edges, meta)
    packed.requires_grad = True
    replaced, offset = {}, 0
    for o in differentiable:
        n = o.numel()
        replaced[id(o)] = packed[offset : offset + n].reshape(o.shape).to(o.dtype)
        offset += n
    if single:
        return replaced[id(outputs)]
    result = [replaced.get(id(o), o) if isinstance(o, Tensor) else o for o in outputs]
    return type(outputs)(result) if isinstance(outputs, tuple) else result


def _autocast_as(settings):
    if not settings:
        return contextlib.nullcontext()
    from somegrad.amp.autocast_mode import restored

    return restored(settings)


def _tensors(outputs) -> list:
    if isinstance(outputs, Tensor):
        return [outputs]
    if isinstance(outputs, (tuple, list)):
        return [o for o in outputs if isinstance(o, Tensor)]
    return []


def _split(grad, outputs):
    pieces, offset = [], 0
    for o in outputs:
        n = o.numel()
        pieces.append(grad[offset : offset + n].reshape(o.shape).to(o.dtype))
        offset += n
    return pieces


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):
    """Run `functions` (an `nn.Sequential`, or a list of modules or functions) on `input` in
    `segments` chunks, checkpointing each but the last (whose activations the backward needs
    at once), as PyTorch's `checkpoint_sequential`."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive integer, got {segments!r}")
    size = max(len(functions) // segments, 1)

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x

        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end + 1), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions))(input)
