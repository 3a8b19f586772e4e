"""Every operation, declared as an `OpSpec` in one family module, and its public function.

Families: `elementwise`, `reduce`, `movement`, `indexing`, `linalg`, `creation`, `sorting`,
`nn` (the composites that somegrad.nn uses). `OPS` maps each op's name to its spec, and
`PRIMITIVES` lists what every backend must implement.
"""

# ruff: noqa: I001  (the nn composites are built from the families above them: they come last)
import types

from somegrad.ops import dispatch
from somegrad.ops.spec import OPS, PRIMITIVES, OpSpec, get_op, primitives
from somegrad.ops.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from somegrad.ops.elementwise import (
    abs,
    add,
    cast,
    ceil,
    clamp,
    cos,
    div,
    eq,
    erf,
    exp,
    expm1,
    floor,
    floor_divide,
    ge,
    gelu,
    gt,
    isfinite,
    isnan,
    le,
    leaky_relu,
    lerp,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from somegrad.ops.inplace import inplace
from somegrad.ops.inplace import try_foreach_kernel as foreach_kernel
from somegrad.ops.inplace import try_inplace_kernel as inplace_kernel
from somegrad.ops.indexing import gather, getitem, index_select, masked_fill, nonzero, scatter_add, setitem
from somegrad.ops.linalg import matmul
from somegrad.ops.movement import (
    broadcast_to,
    cat,
    chunk,
    clone,
    contiguous,
    expand,
    flatten,
    flip,
    movedim,
    narrow,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
)
from somegrad.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)
from somegrad.ops.sorting import argsort, sort, topk
from somegrad.ops.transfer import transfer
from somegrad.random import multinomial, rand, randint, randn
from somegrad.ops import nn  # noqa: F401  (registers the nn composites)
from somegrad.ops import optim  # noqa: F401  (registers the multi-tensor optimizer steps)


def logical_and_or_bitwise(kind):
    """`&`, `|`, `^` on tensors: logical for bool tensors (integer bitwise ops are not provided)."""
    logical = {"and": logical_and, "or": logical_or, "xor": logical_xor}[kind]

    def op(a, b):
        for v in (a, b):
            dtype = getattr(v, "dtype", None)
            if dtype is not None and dtype.name != "bool":
                raise TypeError(f"bitwise_{kind}: only bool tensors are supported, got {dtype.name}")
        return logical(a, b)

    op.__name__ = f"bitwise_{kind}"
    return op


# `from somegrad.ops import *` (what `import somegrad` does) exports the op functions only,
# never the family modules: `somegrad.nn` must stay the nn package, not `somegrad.ops.nn`.
__all__ = [
    name for name, value in globals().items() if not name.startswith("_") and not isinstance(value, types.ModuleType)
]
