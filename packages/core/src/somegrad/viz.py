"""Seeing the autograd graph: `graph(tensor)` as Graphviz DOT text, or rendered.

y = (x @ w + b).relu().sum()
print(sg.viz.graph(y))                       # DOT text
sg.viz.graph(y, path="graph.svg")            # rendered, when the graphviz package and binary exist
sg.viz.graph(loss, params=model)             # parameter leaves named "transformer.h.0.attn.c_attn.weight"
"""

from __future__ import annotations

from somegrad.autograd.graph import Node

__all__ = ["graph"]


def _shape(shape) -> str:
    return str(tuple(shape))


def _names(params) -> dict[int, str]:
    if params is None:
        return {}
    items = params.named_parameters() if hasattr(params, "named_parameters") else params.items()
    names: dict[int, str] = {}
    for name, tensor in items:
        names.setdefault(id(tensor), name)  # a tied weight keeps its first name
    return names


def graph(tensor, path: str | None = None, params=None) -> str:
    """The graph that produced `tensor` as DOT text: one box per op (name, output shape and
    dtype), one ellipse per leaf (shape, dtype, whether it requires grad). With `path`
    ("graph.svg", "graph.png"), also render it with the `graphviz` package.

    `params`: a module (anything with `named_parameters()`) or a dict name -> tensor, as
    torchviz's `make_dot(y, params=dict(model.named_parameters()))`; those leaves are labelled
    with their names."""
    names = _names(params)
    lines = ["digraph somegrad {", '  rankdir="BT";', '  node [fontname="Helvetica", fontsize=10];']
    ids: dict[int, str] = {}

    def node_id(obj) -> str:
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    root = tensor.grad_fn if tensor.grad_fn is not None else tensor
    output_label = f"output\\n{_shape(tensor.shape)} {tensor.dtype.name}"
    lines.append(f'  out [label="{output_label}", shape=note];')
    lines.append(f"  {node_id(root)} -> out;")
    stack, seen = [root], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Node):
            label = f"{item.spec.name}"
            lines.append(f'  {node_id(item)} [label="{label}", shape=box, style=filled, fillcolor="#dbe8f7"];')
            for edge, (shape, dtype) in zip(item.edges, item.input_meta):
                if edge is None:
                    continue
                lines.append(f'  {node_id(edge)} -> {node_id(item)} [label="{_shape(shape)} {dtype.name}"];')
                stack.append(edge)
        else:
            flag = "requires_grad" if item.requires_grad else "no grad"
            title = names.get(id(item), "leaf").replace('"', '\\"')
            label = f"{title}\\n{_shape(item.shape)} {item.dtype.name}\\n{flag}"
            lines.append(f'  {node_id(item)} [label="{label}", shape=ellipse, style=filled, fillcolor="#e8f5d8"];')
    lines.append("}")
    dot = "\n".join(lines)
    if path is not None:
        _render(dot, path)
    return dot


def _render(dot: str, path: str) -> None:
    try:
        import graphviz
    except ImportError:
        raise RuntimeError(
            "viz.graph: rendering needs the graphviz package (pip install graphviz) and binary"
        ) from None
    stem, _, fmt = path.rpartition(".")
    graphviz.Source(dot).render(stem, format=fmt, cleanup=True)
