"""`summary(model, input_size)`: a table of layers, output shapes and parameter counts.

    >>> print(summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), (1, 4)))
    Layer (type)  Output shape  Params
    ==================================
    0 (Linear)    (1, 8)            40
    1 (ReLU)      (1, 8)             0
    2 (Linear)    (1, 2)            18
    ==================================
    Total params: 58
    Trainable params: 58

A module that owns no parameters of its own (a container) shows 0; parameters shared by
several modules (tied embeddings) count once in the totals, and a note under the table says
by how much the rows add up to more.

    >>> print(gpt.summary((1, 32), dtype=sg.int64))     # token ids: an integer input
    >>> print(gpt.summary(idx))                          # or an example tensor
"""

from __future__ import annotations

import somegrad as sg
from somegrad.dtypes import DType
from somegrad.tensor import Tensor

__all__ = ["summary"]


def _shapes(output) -> str:
    if isinstance(output, Tensor):
        return str(tuple(output.shape))
    if isinstance(output, (tuple, list)):
        shown = [_shapes(o) for o in output if o is not None]
        return ", ".join(shown) if shown else "-"
    return "-"


def summary(model, input_size=None, *, input_data=None, dtype=None, dtypes=None, device=None) -> str:
    """Run one forward pass (under no_grad) and return a table with each submodule's name
    and type, its output shape(s) and its own parameter count, then the totals.

    Give `input_size` (a shape; a zeros tensor of `dtype`, default float32, is fed: pass an
    integer dtype, `sg.int64` or "int64", for token ids; `dtypes=[sg.int64]` as torchinfo) or
    example inputs: a tensor (positionally in place of `input_size`, or as `input_data`) or a
    tuple of positional arguments as `input_data`.
    """
    if isinstance(input_size, Tensor):
        input_data, input_size = input_size, None
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (a shape) or input_data (example inputs)")
        if isinstance(input_size, int):
            input_size = (input_size,)
        try:
            shape = tuple(int(size) for size in input_size)
        except (TypeError, ValueError):
            raise TypeError(
                f"summary: input_size must be a shape such as (1, 32) or a tensor, got {input_size!r}"
            ) from None
        if dtypes is not None:
            if dtype is not None:
                raise ValueError("summary: give dtype or dtypes, not both")
            dtype = dtypes[0] if isinstance(dtypes, (list, tuple)) else dtypes
        dtype = sg.get_default_dtype() if dtype is None else _as_dtype(dtype)
        if device is None:
            device = next((p.device for p in model.parameters()), None)
        input_data = sg.zeros(shape, dtype=dtype, device=device)
    arguments = input_data if isinstance(input_data, tuple) else (input_data,)
    rows = []
    handles = []
    for name, module in model.named_modules():
        if module is model:
            continue

        def record(module, args, output, name=name):
            own = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((f"{name} ({type(module).__name__})", _shapes(output), own))

        handles.append(module.register_forward_hook(record))
    try:
        with sg.no_grad():
            model(*arguments)
    finally:
        for handle in handles:
            handle.remove()
    # Each module once, in the order its first forward finished (a module called twice keeps its first row).
    seen, unique = set(), []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            unique.append(row)
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    name_width = max([len("Layer (type)")] + [len(r[0]) for r in unique]) + 2
    shape_width = max([len("Output shape")] + [len(r[1]) for r in unique]) + 2
    count_width = max([len("Params")] + [len(f"{r[2]:,}") for r in unique])
    rule = "=" * (name_width + shape_width + count_width)
    lines = [f"{'Layer (type)':<{name_width}}{'Output shape':<{shape_width}}{'Params':>{count_width}}", rule]
    lines += [f"{n:<{name_width}}{s:<{shape_width}}{c:>{count_width},}" for n, s, c in unique]
    lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}"]
    listed = sum(row[2] for row in unique)
    if listed > total:
        lines.append(
            f"Note: the rows add up to {listed:,}, more than the total, because some modules share "
            f"parameters (tied weights: {', '.join(_shared(model))}); shared ones count once in the total"
        )
    return "\n".join(lines)


def _as_dtype(dtype):
    if isinstance(dtype, str):
        found = getattr(sg, dtype, None)
        if not isinstance(found, DType):
            raise TypeError(f"summary: unknown dtype {dtype!r}")
        return found
    return dtype


def _shared(model) -> list[str]:
    """The names of the modules' parameters that another module's parameter is, "a = b"."""
    owners: dict[int, list[str]] = {}
    for module_name, module in model.named_modules():
        for name, p in module.named_parameters(recurse=False):
            owners.setdefault(id(p), []).append(f"{module_name}.{name}" if module_name else name)
    return [" = ".join(names) for names in owners.values() if len(names) > 1]
