"""The backward walk: an iterative topological traversal with dependency counts.

1. Count, for every node reachable from the roots, how many edges point at it.
2. Start from the roots with their seed gradients; a node runs once all the gradients that
   flow into it have arrived (its count reached zero), so each node runs exactly once.
3. Each incoming gradient is summed down to its input's shape here, in one place, so no
   backward rule ever undoes broadcasting itself.
4. Leaves accumulate into `.grad`; nodes drop what they saved unless `retain_graph`.

No recursion anywhere, so a chain of a million ops backpropagates like a short one.
"""

from __future__ import annotations

import sys
import threading

from somegrad.autograd.grad_mode import _unchecked_forward, is_anomaly_enabled, set_grad_enabled
from somegrad.autograd.graph import BoxGradient, Node

__all__ = ["backward", "grad", "current_node"]

_walk = threading.local()  # .node: the node whose backward runs now in this thread

# Objects told of every node's backward while they are here (the profiler):
# `observer.node(node, run)` calls `run()` (the node's backward) and returns its result.
_observers: list = []


def current_node():
    """The graph node whose backward is running in this thread, or None outside a backward.

    Ops that run while it is set are that node's backward (the profiler says so; autocast
    leaves them alone, as PyTorch's does)."""
    return getattr(_walk, "node", None)


class outside_backward:
    """Within a node's backward, run a forward as if outside it (checkpoint's recomputation:
    autocast applies to it, the profiler records its ops as forward ops)."""

    def __enter__(self):
        self.node = getattr(_walk, "node", None)
        _walk.node = None

    def __exit__(self, *exc):
        _walk.node = self.node


def _apply_node(node, g):
    # `node` stays current while its gradients are sent on (summed to shape, cast), so the ops
    # that takes count as its backward too; `_run` restores the previous one when it is done
    _walk.node = node
    if _observers:
        return _observers[-1].node(node, lambda: node.apply(g))
    return node.apply(g)


def sum_to_shape(grad, shape):
    """Sum `grad` down to `shape`, undoing the broadcasting of the forward."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, size in enumerate(shape) if size == 1 and grad.shape[i + lead] != 1
    )
    if dims:
        grad = grad.sum(dim=dims, keepdim=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


def _take_unshared(slot):
    """Take the gradient out of `slot` ([leaf, grad]) and return it when nothing else holds
    it: no other reference to the tensor (the caller's `gradient`, another leaf's slot), none
    to its array (another tensor, a view of it), and the array is not itself a view (see
    `Backend.owns_memory`). Otherwise put it back and return None."""
    g = slot.pop()
    # the references counted: `g` here and getrefcount's argument; `g._data` and the argument
    if sys.getrefcount(g) == 2 and sys.getrefcount(g._data) == 2 and g._backend().owns_memory(g._data):
        return g
    slot.append(g)
    return None


def _dependencies(roots):
    """How many edges point at each Node, and at each leaf that has hooks (keyed by its id):
    a leaf's hooks run as soon as its last gradient has arrived, while the walk goes on, so
    that DistributedDataParallel can start a bucket's all-reduce during the backward."""
    counts: dict = {}
    stack = list(dict.fromkeys(node for node in roots if isinstance(node, Node)))  # a root given twice counts once
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if isinstance(edge, Node):
                counts[edge] = counts.get(edge, 0) + 1
                if edge not in seen:
                    seen.add(edge)
                    stack.append(edge)
            elif edge is not None and edge._grad_hooks:
                counts[id(edge)] = counts.get(id(edge), 0) + 1
    return counts


class PostAccumulateGradHook:
    """A leaf's `register_post_accumulate_grad_hook(hook)`: `hook(leaf)` runs once `backward()`
    has accumulated the leaf's `.grad`. Kept in the leaf's hook list, skipped as a gradient hook."""

    __slots__ = ("hook",)

    def __init__(self, hook):
        self.hook = hook


def _run_leaf_hooks(slot):
    """Run the hooks of the leaf in `slot` ([leaf, grad]) on its gradient; a hook may replace it."""
    g = slot[1]
    for hook in slot[0]._grad_hooks or ():
        if isinstance(hook, PostAccumulateGradHook):
            continue
        result = hook(g)
        if result is not None:
            g = result
    slot[1] = g


def _check_finite(node, grads):
    for i, g in enumerate(grads):
        if type(g) is BoxGradient:
            g = g.value
        if g is not None and g.dtype.is_floating_point and not bool(g.isfinite().all()):
            raise RuntimeError(
                f"{node.spec.name}: the backward produced NaN or inf in the gradient of input {i} "
                f"(shape {tuple(g.shape)}); detected by set_detect_anomaly(True)"
            )


def _run(roots, seeds, retain_graph, create_graph, capture=None, leaf_hooks=True):
    """Walk the graph from `roots` (Nodes or leaf tensors) with `seeds`; return leaf grads.

    `capture` maps the grad_fn of non-leaf tensors we want gradients of (autograd.grad) to
    a slot in the result; leaves are always returned rather than accumulated when capturing.
    `leaf_hooks=False` leaves the leaves' hooks to the caller (a node whose backward is a
    backward of its own, as checkpoint's: the outer walk runs them once).
    """
    grads: dict = {}
    # the sums this walk made (id -> tensor), which nothing else holds: added into in place
    # until their node runs
    owned: dict = {}
    leaf_grads: dict[int, list] = {}  # id(leaf) -> [leaf, grad]
    hooked: set[int] = set()  # the leaves whose hooks have run
    ready = []

    def accumulate(previous, g):
        """previous + g, for one node's output; either may be a BoxGradient (a getitem's)."""
        if type(previous) is BoxGradient and type(g) is not BoxGradient:
            previous, g = g, previous
        if type(g) is BoxGradient:
            if type(previous) is BoxGradient:
                previous = previous.dense()
            elif id(previous) not in owned:
                previous = previous.clone()
            owned[id(previous)] = previous
            return g.add_to(previous)
        if id(previous) in owned:
            return previous.add_(g)
        total = previous + g
        if not create_graph:  # a recorded sum stays out of place: it is part of the graph
            owned[id(total)] = total
        return total

    def send(edge, g, meta, from_node=True):
        if g is None or edge is None:
            return
        if type(g) is BoxGradient and type(edge) is not Node:
            g = g.dense()  # a leaf's gradient is a tensor
        if type(g) is not BoxGradient:  # a box has its input's shape and dtype by construction
            shape, dtype = meta
            if g._data.shape != shape:
                g = sum_to_shape(g, shape)
            if g.dtype is not dtype:
                g = g.to(dtype)
        if type(edge) is Node:
            previous = grads.get(edge)
            grads[edge] = g if previous is None else accumulate(previous, g)
            counts[edge] -= 1
            if counts[edge] == 0:
                ready.append(edge)
        else:
            slot = leaf_grads.get(id(edge))
            if slot is None:
                slot = leaf_grads[id(edge)] = [edge, g]
            else:
                slot[1] = slot[1] + g
            if from_node and leaf_hooks and edge._grad_hooks and id(edge) in counts:
                counts[id(edge)] -= 1
                if counts[id(edge)] == 0:  # its last gradient: the hooks see the whole sum
                    _run_leaf_hooks(slot)
                    hooked.add(id(edge))

    counts = _dependencies(roots)
    outer = getattr(_walk, "node", None)  # set when this walk runs inside a node's backward (checkpoint)
    try:
        with set_grad_enabled(create_graph):
            for root, seed in zip(roots, seeds):
                if isinstance(root, Node):
                    previous = grads.get(root)
                    grads[root] = seed if previous is None else previous + seed
                    if counts.get(root, 0) == 0 and root not in ready:
                        ready.append(root)
                else:
                    send(root, seed, (root.shape, root.dtype), from_node=False)
            anomaly = is_anomaly_enabled()
            while ready:
                node = ready.pop()
                g = grads.pop(node)
                owned.pop(id(g), None)
                if type(g) is BoxGradient:
                    g = g.dense()
                if node.pre_hooks:
                    for hook in node.pre_hooks:
                        result = hook(g)
                        if result is not None:
                            g = result
                if node.retained is not None:
                    owner = node.retained()
                    if owner is not None:
                        owner.grad = g if create_graph else g.detach()
                if capture is not None and node in capture:
                    capture[node] = g
                if anomaly:
                    # The ops a backward rule is made of go unchecked (in this thread only), so
                    # that the error names the node ("sqrt"), not the `div` inside its rule.
                    with _unchecked_forward():
                        input_grads = _apply_node(node, g)
                    _check_finite(node, input_grads)
                else:
                    input_grads = _apply_node(node, g)
                if not retain_graph and node.saved:
                    # a node that saved nothing has nothing to free, and can run again (as in
                    # PyTorch: a second backward through `x + 1` works; autocast's cached casts rely on it)
                    node.release()
                for edge, ig, meta in zip(node.edges, input_grads, node.input_meta):
                    send(edge, ig, meta)
    finally:
        _walk.node = outer
    for key, slot in leaf_grads.items() if leaf_hooks else ():
        if key not in hooked:  # a root itself, or fed by an inner walk (checkpoint)
            _run_leaf_hooks(slot)
    return leaf_grads


def _seed(output, grad_output, caller):
    from somegrad.tensor import Tensor

    if grad_output is None:
        if output.numel() != 1:
            raise RuntimeError(
                f"{caller}: grad can be implicitly created only for scalar outputs, but the output "
                f"has shape {tuple(output.shape)}; pass a gradient of that shape"
            )
        from somegrad.ops import creation

        return creation.ones_like(output)
    if not isinstance(grad_output, Tensor):
        from somegrad.ops import creation

        grad_output = creation.tensor(grad_output, dtype=output.dtype, device=output.device)
    if grad_output.shape != output.shape:
        raise RuntimeError(
            f"{caller}: the gradient has shape {tuple(grad_output.shape)} but the output has "
            f"shape {tuple(output.shape)}; they must match"
        )
    return grad_output


def _root(tensor, caller):
    if not tensor.requires_grad:
        raise RuntimeError(
            f"{caller}: element 0 of tensors does not require grad and does not have a grad_fn; "
            "call requires_grad_() on an input or run the forward outside no_grad()"
        )
    return tensor.grad_fn if tensor.grad_fn is not None else tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into `.grad` of the leaves the gradient of `tensors` (see Tensor.backward)."""
    tensors = [tensors] if not isinstance(tensors, (list, tuple)) else list(tensors)
    if grad_tensors is None or not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors] * len(tensors)
    retain_graph = create_graph if retain_graph is None else retain_graph
    roots = [_root(t, "backward") for t in tensors]
    seeds = [_seed(t, g, "backward") for t, g in zip(tensors, grad_tensors)]
    leaf_grads = _run(roots, seeds, retain_graph, create_graph)
    only = None if inputs is None else {id(t) for t in ([inputs] if not isinstance(inputs, (list, tuple)) else inputs)}
    for slot in leaf_grads.values():
        leaf = slot[0]
        if only is not None and id(leaf) not in only:
            continue
        if leaf.grad is None and not create_graph:
            # The leaf must own its .grad: g may be a read-only broadcast view (from sum's
            # backward), the same tensor as another leaf's gradient (from add's), or the caller's
            # `gradient`; accumulating into it in place, or clipping it, must touch nothing else.
            # A fresh tensor that nothing else references (a matmul's result) is taken as it is:
            # made while no graph was recorded, it has none to detach.
            fresh = _take_unshared(slot)
            if fresh is None or fresh.requires_grad:
                fresh = slot[1].detach().clone()
            leaf.grad = fresh
            continue
        g = slot[1] if create_graph else slot[1].detach()
        if leaf.grad is None:
            leaf.grad = g
        elif create_graph:
            leaf.grad = leaf.grad + g
        else:
            leaf.grad.add_(g)
    for slot in leaf_grads.values():
        leaf = slot[0]
        if leaf._grad_hooks and (only is None or id(leaf) in only):
            for hook in [h for h in leaf._grad_hooks if isinstance(h, PostAccumulateGradHook)]:
                hook.hook(leaf)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned (not accumulated).

    Example: `dx, = sg.autograd.grad(y, [x], create_graph=True)` then differentiate `dx`
    again for second derivatives.
    """
    return _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, leaf_hooks=True)


def inner_grad(outputs, inputs, grad_outputs, create_graph=False):
    """`grad(..., allow_unused=True)` for the backward of a node that runs a backward of its
    own (activation checkpointing): the leaves' hooks are not run here, since the outer walk
    runs them when it accumulates what this returns."""
    return _grad(outputs, inputs, grad_outputs, None, create_graph, True, leaf_hooks=False)


def _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, leaf_hooks):
    single_output = not isinstance(outputs, (list, tuple))
    outputs = [outputs] if single_output else list(outputs)
    inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    if grad_outputs is None or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs] * len(outputs)
    retain_graph = create_graph if retain_graph is None else retain_graph
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    roots = [_root(t, "autograd.grad") for t in outputs]
    seeds = [_seed(t, g, "autograd.grad") for t, g in zip(outputs, grad_outputs)]
    capture = {t.grad_fn: None for t in inputs if t.grad_fn is not None}
    leaf_grads = _run(roots, seeds, retain_graph, create_graph, capture=capture, leaf_hooks=leaf_hooks)
    results = []
    for i, t in enumerate(inputs):
        if t.grad_fn is not None:
            g = capture[t.grad_fn]
        else:
            slot = leaf_grads.get(id(t))
            g = None if slot is None else slot[1]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} was not used to compute the outputs; pass allow_unused=True "
                "to get None for it"
            )
        if g is not None and not create_graph:
            g = g.detach()
        results.append(g)
    return tuple(results)
