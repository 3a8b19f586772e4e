"""The cuda backend's hooks for `somegrad.compile`: CuPy ufuncs into given outputs, runs of
elementwise ops as one generated `cupy.ElementwiseKernel`, and the whole replay as a CUDA graph.

The core finds this module as `somegrad_cuda.fusion` (`somegrad.compile.program.backend_hooks`).

* `out_kernel(entry, slots)` / `direct_kernel(entry, slots)`: the CuPy ufunc of an op whose
  kernel is one (add, mul, exp, matmul...), for float32/float64 operands of the output's dtype.
* `fuse(ops, slots)`: a run of elementwise ops, each reading the previous result, as one
  `ElementwiseKernel` (one launch and one output array instead of one per op; CuPy broadcasts the
  operands). It is compiled with `--fmad=false`, so that no multiply-add is contracted and
  each op rounds as it does alone; transcendental functions are CUDA's, as CuPy's own ufuncs'.
* `graph(program)`: the replay captured once as a CUDA graph (`graphs.GraphReplay`) and
  launched on later calls.

Written against CuPy's documented API (ElementwiseKernel, Stream.begin_capture/end_capture,
Graph.launch); not yet run on a GPU.
"""

from __future__ import annotations

import cupy

from somegrad_cuda.graphs import GraphReplay

__all__ = ["out_kernel", "direct_kernel", "fusible", "fuse", "graph"]

_UNARY = {
    "neg": "-({0})", "exp": "exp({0})", "log": "log({0})", "sqrt": "sqrt({0})", "abs": "abs({0})",
    "tanh": "tanh({0})", "sin": "sin({0})", "cos": "cos({0})",
}  # fmt: skip
_BINARY = {
    "add": "({0}) + ({1})", "sub": "({0}) - ({1})", "mul": "({0}) * ({1})", "div": "({0}) / ({1})",
    # NaN-propagating, as cupy.maximum/minimum
    "maximum": "(isnan({0}) || ({0}) > ({1})) ? ({0}) : ({1})",
    "minimum": "(isnan({0}) || ({0}) < ({1})) ? ({0}) : ({1})",
}  # fmt: skip
_UFUNCS = {
    "neg": cupy.negative, "exp": cupy.exp, "log": cupy.log, "sqrt": cupy.sqrt, "abs": cupy.abs,
    "tanh": cupy.tanh, "sin": cupy.sin, "cos": cupy.cos, "add": cupy.add, "sub": cupy.subtract,
    "mul": cupy.multiply, "div": cupy.divide, "maximum": cupy.maximum, "minimum": cupy.minimum,
    "matmul": cupy.matmul,
}  # fmt: skip
_FLOATS = {"float32": "float", "float64": "double"}
_cache: dict = {}


def _operands(entry, slots):
    from somegrad.compile.capture import Slot

    if entry.kwargs or not all(isinstance(a, Slot) for a in entry.args):
        return None
    return [slots[a.index] for a in entry.args]


def out_kernel(entry, slots):
    ufunc = _UFUNCS.get(entry.name)
    if ufunc is None or len(entry.outs) != 1:
        return None
    operands = _operands(entry, slots)
    if operands is None:
        return None
    out = slots[entry.outs[0]]
    if str(out.dtype) not in _FLOATS or any(str(o.dtype) != str(out.dtype) for o in operands):
        return None
    if entry.name == "matmul" and (len(out.shape) < 2 or any(len(o.shape) < 2 for o in operands)):
        return None
    return ufunc


def direct_kernel(entry, slots):
    return out_kernel(entry, slots) if entry.name != "matmul" else None


def fusible(entry, slots) -> bool:
    return (entry.name in _UNARY or entry.name in _BINARY) and out_kernel(entry, slots) is not None


def fuse(ops, slots):
    """One ElementwiseKernel for the run `ops`, or None."""
    if len(ops) < 2 or not all(fusible(e, slots) for e in ops):
        return None
    dtype = str(slots[ops[-1].outs[0]].dtype)
    inputs: list[int] = []
    value = {}  # slot -> C expression variable
    body = []
    for i, entry in enumerate(ops):
        names = []
        for a in entry.args:
            if a.index not in value:
                if a.index not in inputs:
                    inputs.append(a.index)
                value[a.index] = f"a{inputs.index(a.index)}"
            names.append(value[a.index])
        template = _UNARY.get(entry.name) or _BINARY[entry.name]
        body.append(f"const T t{i} = {template.format(*names)};")
        value[entry.outs[0]] = f"t{i}"
    body.append(f"out = t{len(ops) - 1};")
    source = "\n".join(body)
    key = (source, len(inputs), dtype)
    kernel = _cache.get(key)
    if kernel is None:
        name = "somegrad_fused_" + "_".join(e.name for e in ops)[:80]
        kernel = _cache[key] = cupy.ElementwiseKernel(
            ", ".join(f"T a{k}" for k in range(len(inputs))), "T out", source, name, options=("--fmad=false",)
        )

    def run(*arrays):
        return kernel(*arrays)

    run.__name__ = f"elementwise_kernel[{'+'.join(e.name for e in ops)}]"
    return run


def graph(program):
    """The program's replay as one CUDA graph (see graphs.GraphReplay)."""
    return GraphReplay(program)
