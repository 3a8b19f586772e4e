"""The public surface, derived from the op registry: exports, Tensor methods, typing stubs.

Every op declares its public function, methods, in-place variants and operators beside its
spec (`somegrad.ops.spec.public`). This module reads them back:

* `exports()`: name -> function, what `somegrad.ops` (and so `somegrad`) exports;
* `tensor_members()`: name -> (kind, function), what `Tensor` gets ("method", "inplace",
  "reflected" or "inplace_operator");
* `render_tensor_stub()` / `render_ops_stub()`: the typing stubs that let a type checker
  see those methods and functions (`somegrad/_tensor_methods.pyi`,
  `somegrad/ops/__init__.pyi`). They are generated, checked in, and a test checks they are
  current: `python scripts/generate_stubs.py` rewrites them.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from somegrad.ops.spec import OPS, with_numpy_names

__all__ = ["exports", "tensor_members", "render_tensor_stub", "render_ops_stub", "write_stubs"]

# `__radd__` calls fn(other, self); `__iadd__` is the in-place variant; the rest call fn(self, other).
REFLECTED = frozenset(
    f"__r{name}__"
    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor")
    + ("lshift", "rshift")
)
INPLACE_OPERATORS = frozenset(
    f"__i{name}__"
    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor")
    + ("lshift", "rshift")
)


def _declared():
    return [spec for spec in OPS.values() if spec.function is not None]


def _inplace_function(name: str):
    """`somegrad.exp_(x)`: the in-place Tensor method `name` as a function, as PyTorch has them."""

    def inplace(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"`input.{name}(...)`: the in-place variant, written into `input`."
    return inplace


_inplace_functions: dict = {}
# PyTorch's fill_, zero_ and index_put_, and the binary in-place functions it has at the top
_ALSO_INPLACE = ("fill", "zeros_like", "index_put", "clamp_min", "clamp_max", "gcd", "lcm", "xlogy", "ldexp")


def _inplace_exports(spec) -> list:
    """The in-place variants a unary elementwise op exports as functions (`abs_`, `exp_`, ...)."""
    unary = spec.kind == "elementwise" and len(spec.inputs) == 1
    if not (spec.export and (unary or spec.name in _ALSO_INPLACE)):
        return []
    out = []
    for entry in spec.inplace:
        name = entry[0] if isinstance(entry, tuple) else entry
        if name not in _inplace_functions:
            _inplace_functions[name] = _inplace_function(name)
        out.append((name, _inplace_functions[name]))
    return out


def exports() -> dict:
    """Every public op function under its name and aliases, and the in-place variants of the
    unary elementwise ops as functions (`somegrad.exp_(x)`, as PyTorch's)."""
    names: dict = {}
    for spec in _declared():
        exported = [(name, spec.function) for name in (spec.function.__name__, *spec.aliases)] if spec.export else []
        exported += [(fn.__name__, fn) for fn in spec.forms]
        exported += _inplace_exports(spec)
        for name, fn in exported:
            if name in names and names[name] is not fn:
                raise ValueError(f"two ops export the name {name!r}: {names[name].__module__} and {spec.name!r}")
            names[name] = fn
    return names


def tensor_members() -> dict:
    """name -> (kind, function, spec) for every Tensor member an op declares."""
    members: dict = {}

    def add(name, kind, fn, spec):
        if name in members:
            raise ValueError(f"ops {members[name][2].name!r} and {spec.name!r} both declare Tensor.{name}")
        members[name] = (kind, fn, spec)

    for spec in _declared():
        for entry in spec.methods:
            name, fn = entry if isinstance(entry, tuple) else (entry, None)
            add(name, "method", with_numpy_names(fn) if fn else spec.function, spec)
        for entry in spec.inplace:
            name, fn = entry if isinstance(entry, tuple) else (entry, None)
            add(name, "inplace" if fn is None else "method", with_numpy_names(fn) if fn else spec.function, spec)
        for name in spec.operators:
            if name in REFLECTED:
                add(name, "reflected", spec.function, spec)
            elif name in INPLACE_OPERATORS:
                target = spec.inplace[0] if spec.inplace else None
                if target is None:
                    raise ValueError(f"op {spec.name!r}: operator {name} needs an in-place variant")
                add(name, "inplace_operator", target[0] if isinstance(target, tuple) else target, spec)
            else:
                add(name, "method", spec.function, spec)
    return members


# --- typing stubs --------------------------------------------------------------------------------
_HEADER = "# Generated from the op registry by `python scripts/generate_stubs.py`; do not edit.\n"


def _parameters(fn, drop_first):
    params = list(inspect.signature(fn).parameters.values())
    if drop_first:
        params = params[1:]
    parts, star_done = [], False
    for p in params:
        annotation = "Any" if p.annotation is inspect.Parameter.empty else str(p.annotation)
        default = "" if p.default is inspect.Parameter.empty else " = ..."
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}: {annotation}")
            star_done = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}: {annotation}")
        else:
            if p.kind is p.KEYWORD_ONLY and not star_done:
                parts.append("*")
                star_done = True
            if p.kind is p.POSITIONAL_ONLY:
                parts.append(f"__{p.name}: {annotation}{default}")
            else:
                parts.append(f"{p.name}: {annotation}{default}")
    return parts


def _returns(fn) -> str:
    annotation = inspect.signature(fn).return_annotation
    return "Tensor" if annotation is inspect.Signature.empty else str(annotation)


_KNOWN_NAMES = {"Tensor", "ValuesIndices", "Any"}


def _result_imports(functions) -> list[str]:
    """`from module import Name` for the named result types (QRResult, MinMax, ...) that the
    functions' return annotations use, resolved in each function's own module."""
    imports = set()
    for fn in functions:
        for name in re.findall(r"\b[A-Z]\w*", _returns(fn)):
            value = inspect.unwrap(fn).__globals__.get(name)
            if name not in _KNOWN_NAMES and inspect.isclass(value):
                imports.add(f"from {value.__module__} import {name}")
    return sorted(imports)


_COMPARED = ("__eq__", "__ne__")  # object's return bool; a tensor's return a bool tensor
_UNARY_OPERATORS = ("__neg__", "__abs__", "__invert__", "__pos__", "__getitem__", "__setitem__")


def render_tensor_stub() -> str:
    """The stub of `TensorMethods`, the class Tensor derives from for type checkers only."""
    lines = [
        _HEADER,
        "from typing import Any",
        "",
        "from somegrad.tensor import Tensor, ValuesIndices",
    ]
    members = tensor_members()
    lines += [*_result_imports(fn for _, (_, fn, _) in sorted(members.items()) if callable(fn)), ""]
    lines += [
        "class TensorMethods:",
        '    """The Tensor methods, in-place variants and operators that ops declare."""',
        "",
    ]
    for name, (kind, fn, _spec) in sorted(members.items()):
        binary_operator = name.startswith("__") and name not in _UNARY_OPERATORS
        if kind in ("reflected", "inplace_operator") or binary_operator:
            ignore = "  # type: ignore[override]" if name in _COMPARED else ""
            lines.append(f"    def {name}(self, other: Any) -> Tensor: ...{ignore}")
        elif kind == "inplace":
            params = ", ".join(["self", *_parameters(fn, drop_first=True)])
            lines.append(f"    def {name}({params}) -> Tensor: ...")
        else:
            params = ", ".join(["self", *_parameters(fn, drop_first=True)])
            lines.append(f"    def {name}({params}) -> {_returns(fn)}: ...")
    return "\n".join(lines) + "\n"


def render_ops_stub() -> str:
    """The stub of `somegrad.ops`: every exported function with its signature."""
    names = exports()
    lines = [
        _HEADER,
        "from typing import Any",
        "",
        "from somegrad.ops import dispatch as dispatch",
        "from somegrad.ops.creation import as_tensor as as_tensor",
        "from somegrad.ops.creation import from_numpy as from_numpy",
        "from somegrad.ops.creation import tensor as tensor",
        "from somegrad.ops.inplace import inplace as inplace",
        "from somegrad.ops.inplace import try_foreach_kernel as foreach_kernel",
        "from somegrad.ops.inplace import try_inplace_kernel as inplace_kernel",
        "from somegrad.ops.transfer import transfer as transfer",
        "from somegrad.ops.spec import OPS as OPS",
        "from somegrad.ops.spec import PRIMITIVES as PRIMITIVES",
        "from somegrad.ops.spec import OpSpec as OpSpec",
        "from somegrad.ops.spec import get_op as get_op",
        "from somegrad.ops.spec import primitives as primitives",
        "from somegrad.tensor import Tensor, ValuesIndices",
        *_result_imports(fn for _, fn in sorted(names.items())),
        "",
    ]
    for name, fn in sorted(names.items()):
        params = ", ".join(_parameters(fn, drop_first=False))
        lines.append(f"def {name}({params}) -> {_returns(fn)}: ...")
    lines += ["", f"__all__ = {sorted({*names, 'tensor', 'as_tensor', 'from_numpy'})!r}"]
    return "\n".join(lines) + "\n"


_CORE = Path(__file__).resolve().parent.parent
STUBS = {
    _CORE / "_tensor_methods.pyi": render_tensor_stub,
    _CORE / "ops" / "__init__.pyi": render_ops_stub,
}


def write_stubs(check: bool = False) -> list[Path]:
    """Rewrite the stubs (or, with `check`, only list those that are out of date)."""
    stale = []
    for path, render in STUBS.items():
        text = render()
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not check:
                path.write_text(text)
    return stale
