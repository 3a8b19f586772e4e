"""The recorded graph: one `Node` per op that produced a tensor requiring grad.

A node knows its op spec, the op's keyword parameters, what the forward saved for the
backward, and one edge per input: the producing `Node`, the leaf `Tensor` whose `.grad`
accumulates, or None when that input needs no gradient. Every node has exactly one output
(multi-output ops are written as several single-output ones), so "the gradient of a node"
is the gradient with respect to the tensor it produced.
"""

from __future__ import annotations

__all__ = ["Node", "SavedTensor", "BoxGradient"]


class SavedTensor:
    """A tensor kept for the backward, with the version it had when it was saved.

    Reading it after it was modified in place raises an error naming the op, instead of
    silently producing a wrong gradient. A saved *output* keeps only its data (not the
    Tensor, which would point back at its own node in a cycle) and is rebuilt on read.
    """

    __slots__ = ("tensor", "data", "version_counter", "version", "dtype", "device")

    def __init__(self, tensor, is_output: bool = False):
        self.version_counter = tensor._version_counter
        self.version = self.version_counter[0]
        if is_output:
            self.tensor = None
            self.data, self.dtype, self.device = tensor._data, tensor.dtype, tensor.device
        else:
            self.tensor = tensor

    def unpack(self, node):
        if self.version_counter[0] != self.version:
            raise RuntimeError(
                f"{node.spec.name}: one of the tensors needed for the gradient has been modified "
                f"by an in-place operation (it is at version {self.version_counter[0]}, "
                f"expected version {self.version}); clone it before changing it in place"
            )
        if self.tensor is not None:
            return self.tensor
        from somegrad.tensor import Tensor

        out = Tensor._make(self.data, self.dtype, self.device)
        out._version_counter = self.version_counter
        out.requires_grad = True
        out.grad_fn = node
        return out


class Node:
    """One recorded op application: `spec`, `params`, saved tensors and input `edges`."""

    __slots__ = ("spec", "params", "saved", "edges", "input_meta", "pre_hooks", "retained", "view_of", "__weakref__")

    def __init__(self, spec, params, saved, edges, input_meta):
        self.spec = spec
        self.params = params
        self.saved = saved  # dict: name -> SavedTensor (or list of them for variadic inputs)
        self.edges = edges  # tuple: Node | leaf Tensor | None, one per input
        self.input_meta = input_meta  # tuple of (shape, dtype) per input
        self.pre_hooks = None  # hooks registered on the output tensor
        self.retained = None  # weakref to the output tensor when it called retain_grad()
        # for view ops: (the input's version counter, its graph version when the view was taken)
        self.view_of = None

    def name(self) -> str:
        custom = getattr(self.spec, "node_name", None)  # a custom Function's: CubeBackward
        if custom is not None:
            return custom
        # PyTorch's names: MulBackward0, SoftmaxBackward0, ... (one backward per op here).
        return "".join(part.capitalize() for part in self.spec.name.split("_")) + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self):
        """The nodes (or leaf tensors) this node's gradient flows to, like PyTorch's."""
        return self.edges

    def apply(self, grad):
        """The gradients with respect to each input, as a tuple (None where none flows)."""
        if self.view_of is not None and self.view_of[0][1] != self.view_of[1]:
            raise RuntimeError(
                f"{self.spec.name}: this view was taken before its base was modified by an in-place "
                "operation that recorded a gradient, so the view's graph no longer describes its values; "
                "take the view after the in-place operation, or clone() the base before modifying it"
            )
        if self.saved is None:
            raise RuntimeError(
                f"{self.spec.name}: trying to backward through the graph a second time (or to read "
                "saved tensors after they were freed); pass retain_graph=True to the first "
                "backward() or autograd.grad() call if you need to backward twice"
            )
        kwargs = {}
        for name, saved in self.saved.items():
            kwargs[name] = [s.unpack(self) for s in saved] if isinstance(saved, list) else saved.unpack(self)
        for name in self.spec.backward_params:
            kwargs[name] = self.params[name]
        if self.spec.wants_input_shape:
            kwargs["input_shape"] = self.input_meta[0][0]
        if self.spec.wants_needs_input_grad:
            kwargs["needs_input_grad"] = tuple(edge is not None for edge in self.edges)
        grads = self.spec.backward(grad, **kwargs)
        return grads if isinstance(grads, tuple) else (grads,)

    def release(self):
        """Free what the forward saved (after a backward without retain_graph)."""
        self.saved = None


class BoxGradient:
    """The gradient of a box of an input: what `x[i]`, `x[:, a:b]`, split, chunk and narrow
    take. It is `value` in the region `box` (a slice per dimension of the input) and zero
    elsewhere, for an input of `shape`.

    A getitem's backward returns one instead of padding `value` to the input's size, so that
    the T pieces of a split cost their own sizes in the backward, not T times the input's: the
    engine sums the boxes that reach one input into a single buffer, in place, and pads a box
    (`dense()`) only where it meets nothing else or leaves the walk.
    """

    __slots__ = ("value", "box", "widths", "shape", "dtype")

    def __init__(self, value, widths):
        self.value = value  # shaped as the box: a dimension an int took away is back, of size 1
        self.widths = widths  # ((before, after), ...) zeros around the box, per dimension
        self.box = tuple(slice(before, before + n) for (before, _), n in zip(widths, value.shape))
        self.shape = tuple(before + n + after for (before, after), n in zip(widths, value.shape))
        self.dtype = value.dtype

    def dense(self):
        """The gradient as a tensor of the input's shape: `value` padded with zeros."""
        from somegrad.ops.dispatch import apply
        from somegrad.ops.movement import PAD

        return apply(PAD, (self.value,), {"pad": self.widths, "value": 0.0})

    def add_to(self, buffer):
        """Add this box into `buffer` (a tensor of the input's shape, which the caller owns), in place."""
        buffer[self.box].add_(self.value)
        return buffer
