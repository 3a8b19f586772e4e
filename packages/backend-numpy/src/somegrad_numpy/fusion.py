"""The numpy backend's hooks for `somegrad.compile`: kernels that write into a given output,
fused runs of elementwise ops, one error state per replay.

The core finds this module as `somegrad_numpy.fusion` (see `somegrad.compile.program.backend_hooks`).

* `out_kernel(entry, slots)`: for an op whose kernel is one NumPy ufunc (add, mul, exp, matmul...)
  on float32 or float64 arrays of the output's dtype, the ufunc itself (and for `linear`, its
  matmul and bias add), called with `out=`, so
  the memory plan can hand it a buffer that an earlier result no longer needs. The same ufunc on
  the same arrays: the same bits as the kernel.
* `fuse(ops, slots)`: a run of such elementwise ops, each reading the previous one's result, as
  one function: the first op allocates the result, the others write into it in place (one array
  for the run instead of one per op, and one call instead of one per op). Over large arrays
  (`BLOCK * 4` elements and more) whose operands all have the result's shape, the run goes block
  by block, `BLOCK` elements at a time, so that each block stays in cache through the whole run
  (one pass over memory instead of one per op). Each element sees the same operations in the
  same order: the same bits as unfused.
* `replay_context()`: NumPy's warnings off for the whole replay (the kernels in the table's
  QUIET set each switch them off per call; a replay does it once).

numexpr is not used: it is not among this project's dependencies, and `out=` chains give
the one-pass behaviour without it.
"""

from __future__ import annotations

import numpy as np

from somegrad_numpy.kernels import _zeros_to_broadcast

__all__ = ["BLOCK", "out_kernel", "direct_kernel", "fusible", "fuse", "replay_context"]

BLOCK = 16384  # elements per block: 64 KiB of float32, inside L2 with room for the operands

_UNARY = {
    "neg": np.negative, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh,
    "sin": np.sin, "cos": np.cos,
}  # fmt: skip
_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "maximum": np.maximum,
    "minimum": np.minimum,
}  # fmt: skip


def _linear(x, weight, bias, out):
    # the table's `linear` (nn_kernels.linear), into `out`: the same matmul, the same in-place add
    np.matmul(x.reshape(-1, x.shape[-1]), weight.T, out=out.reshape(-1, weight.shape[0]))
    out += bias
    return out


def _relu(x, out):
    return np.maximum(x, _zeros_to_broadcast(x), out=out)  # kernels.relu, into `out`


def _relu_backward(g, result, out):
    return np.multiply(g, result > 0, out=out)  # kernels.relu_backward, into `out`


_OUT = {**_UNARY, **_BINARY, "matmul": np.matmul, "linear": _linear, "relu": _relu, "relu_backward": _relu_backward}
_WRAPPERS = (_linear, _relu, _relu_backward)  # not ufuncs: only with a planned output
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _operands(entry, slots):
    from somegrad.compile.capture import Slot

    if entry.kwargs or not all(isinstance(a, Slot) for a in entry.args):
        return None
    return [slots[a.index] for a in entry.args]


def out_kernel(entry, slots):
    """The ufunc that computes `entry` into a given `out=`, or None."""
    ufunc = _OUT.get(entry.name)
    if ufunc is None or len(entry.outs) != 1:
        return None
    operands = _operands(entry, slots)
    if operands is None:
        return None
    out = slots[entry.outs[0]]
    if np.dtype(out.dtype) not in _FLOATS or any(np.dtype(o.dtype) != np.dtype(out.dtype) for o in operands):
        return None
    if entry.name == "matmul" and (len(out.shape) < 2 or any(len(o.shape) < 2 for o in operands)):
        return None  # 1-d operands: NumPy's out= shape rules differ from the result's
    if ufunc in _WRAPPERS and not out.shape:
        return None
    return ufunc


def fusible(entry, slots) -> bool:
    """Whether `entry` can be part of a fused run."""
    return entry.name in _UNARY or entry.name in _BINARY and out_kernel(entry, slots) is not None


def fuse(ops, slots):
    """One function for the run `ops` (each reads the previous result), or None."""
    if len(ops) < 2 or not all(fusible(e, slots) for e in ops):
        return None
    out = slots[ops[-1].outs[0]]
    if not out.shape:
        return None  # NumPy returns 0-d results as scalars, which cannot be written into
    inputs: list[int] = []  # the run's inputs, in the order the generated call passes them
    produced = set()
    plan = []  # per op: (ufunc, operands: "acc" or an input position)
    for entry in ops:
        operands = []
        for a in entry.args:
            if a.index in produced:
                operands.append("acc")
            else:
                if a.index not in inputs:
                    inputs.append(a.index)
                operands.append(inputs.index(a.index))
        if plan and "acc" not in operands:
            return None  # not a chain
        if np.dtype(slots[entry.outs[0]].dtype) != np.dtype(out.dtype):
            return None
        plan.append((_UNARY.get(entry.name) or _BINARY[entry.name], tuple(operands)))
        produced.add(entry.outs[0])
    first_ufunc, first_operands = plan[0]
    rest = plan[1:]
    shape, dtype = out.shape, np.dtype(out.dtype)
    size = int(np.prod(shape)) if shape else 1
    input_shapes = [slots[s].shape for s in inputs]
    blocked = size >= 4 * BLOCK and all(s == shape or int(np.prod(s)) == 1 for s in input_shapes)
    names = "+".join(e.name for e in ops)

    def run(*arrays):
        acc = first_ufunc(*[arrays[k] for k in first_operands])
        for ufunc, operands in rest:
            ufunc(*[acc if k == "acc" else arrays[k] for k in operands], out=acc)
        return acc

    if not blocked:
        run.__name__ = f"fused[{names}]"
        run.inline = lambda args, out: _inline(plan, args, out)
        return run

    def run_blocked(*arrays):
        if not all(a.flags.c_contiguous for a in arrays if a.ndim and a.size > 1):
            return run(*arrays)
        result = np.empty(shape, dtype)
        flat = result.reshape(-1)
        views = [a.reshape(-1) if a.size > 1 else a.reshape(()) for a in arrays]
        for start in range(0, size, BLOCK):
            block = flat[start : start + BLOCK]
            parts = [v[start : start + BLOCK] if v.ndim else v for v in views]
            first_ufunc(*[parts[k] for k in first_operands], out=block)
            for ufunc, operands in rest:
                ufunc(*[block if k == "acc" else parts[k] for k in operands], out=block)
        return result

    run_blocked.__name__ = f"fused_blocked[{names}]"
    return run_blocked


def _inline(plan, args, out):
    """The run as lines of the replay's own code (no call per run): (lines, names they use)."""
    names = {}
    lines = []
    for i, (ufunc, operands) in enumerate(plan):
        name = f"np_{ufunc.__name__}"
        names[name] = ufunc
        operands = ", ".join(out if k == "acc" else args[k] for k in operands)
        lines.append(f"{out} = {name}({operands})" if i == 0 else f"{name}({operands}, out={out})")
    return lines, names


def direct_kernel(entry, slots):
    """The ufunc itself for an op whose kernel is one (without the table's per-call wrappers:
    the replay's error state is set once, and a result with dimensions is an array already)."""
    ufunc = out_kernel(entry, slots)
    if ufunc is None or ufunc in _WRAPPERS or not slots[entry.outs[0]].shape:
        return None
    return ufunc


def replay_context():
    return np.errstate(all="ignore")
