"""The matrix products PyTorch names apart from matmul: mm, bmm, mv, dot, vdot, inner, outer (ger), tensordot,
addmm, addmv, addbmm, baddbmm.

Each is an implicit composite over the matmul primitive (one BLAS call, batched where PyTorch's is),
so its gradient, and the gradient of that, come from matmul's. Unlike `matmul` they take operands
of exactly the ranks their names say, of one dtype, and refuse anything else as PyTorch does.
"""

from __future__ import annotations

import math

from somegrad import dtypes
from somegrad.errors import ArgumentError, DTypeError, ShapeError, UnsupportedDTypeError
from somegrad.ops import elementwise as ew
from somegrad.ops.dispatch import apply
from somegrad.ops.linalg import MATMUL
from somegrad.ops.spec import NUMERIC, OpSpec, public, register
from somegrad.tensor import Tensor


class RankError(ShapeError, IndexError):
    """An operand of the wrong rank. PyTorch reports some of these as RuntimeError ("batch1 must
    be a 3D tensor") and others as IndexError (a size read past the last dim, as baddbmm's of a
    2-D batch1 is): this is both, and a ShapeError."""


def _sizes(shape) -> str:
    return "x".join(str(s) for s in shape)


def _same_dtype(op, *tensors):
    first = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not first:
            raise DTypeError(f"{op}: expected operands of the same dtype, but got {first.name} and {t.dtype.name}")
    return first


def _ranks(op, names, tensors, ranks):
    for name, t, rank in zip(names, tensors, ranks):
        if t.ndim != rank:
            raise RankError(f"{op}: {name} must be a {rank}-D tensor, got shape {tuple(t.shape)}")


def _matrices(op, a, b):
    _ranks(op, ("mat1", "mat2"), (a, b), (2, 2))
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"{op}: mat1 and mat2 shapes cannot be multiplied ({_sizes(a.shape)} and {_sizes(b.shape)})")
    return a.shape[0], b.shape[1]


def _batches(op, a, b):
    _ranks(op, ("batch1", "batch2"), (a, b), (3, 3))
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise ShapeError(
            f"{op}: expected size for first two dimensions of batch2 tensor to be: "
            f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]; shapes {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    return a.shape[0], a.shape[1], b.shape[2]


def _matrix_vector(op, a, v, input_shape=None):
    if a.ndim != 2 or v.ndim != 1:
        raise RankError(f"{op}: vector + matrix @ vector expected, got shapes {tuple(a.shape)} and {tuple(v.shape)}")
    if a.shape[1] != v.shape[0]:
        given = "" if input_shape is None else f"input ({_sizes(input_shape)}), "
        raise RankError(f"{op}: size mismatch, got {given}mat ({_sizes(a.shape)}), vec ({_sizes(v.shape)})")
    return a.shape[0]


def _vectors(op, a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"{op}: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise ShapeError(
            f"{op}: inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
            f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively"
        )


def _expandable(op, x, shape, what):
    lead = len(shape) - x.ndim
    if lead < 0 or any(s not in (1, shape[lead + i]) for i, s in enumerate(x.shape)):
        raise ShapeError(f"{op}: input of shape {tuple(x.shape)} cannot be expanded to the shape {shape} of {what}")


def _refuse_bool(op, *tensors):
    # before the declaration's dtype check, to raise PyTorch's class (NotImplementedError)
    if any(t.dtype is dtypes.bool_ for t in tensors):
        raise UnsupportedDTypeError(f"{op}: not implemented for bool tensors; convert them with .int() or .float()")


def _mm(a, b):
    return apply(MATMUL, (a, b), {})


# --- mm, bmm, mv, dot, vdot, inner, outer ---------------------------------------------------------
def _product(name, infer_shape, decompose, inputs=("input", "mat2"), doc="", accepts=NUMERIC):
    """An implicit composite product: `infer_shape` validates (ranks, sizes) and gives the shape;
    the operands must share one dtype, which is the result's."""

    def infer(*tensors, **params):
        shape = infer_shape(*tensors, **params)
        return shape, _same_dtype(name, *tensors)

    return register(OpSpec(name, "matmul", inputs, infer, decompose=decompose, accepts=accepts, doc=doc))


MM = _product("mm", lambda a, b: _matrices("mm", a, b), _mm, doc="(n, k) @ (k, m) -> (n, m)")
BMM = _product("bmm", lambda a, b: _batches("bmm", a, b), _mm, doc="(b, n, k) @ (b, k, m) -> (b, n, m)")
MV = _product(
    "mv",
    lambda a, v: (_matrix_vector("mv", a, v),),
    lambda a, v: _mm(a, v.reshape(v.shape[0], 1)).reshape(a.shape[0]),
    inputs=("input", "vec"),
    doc="(n, k) @ (k,) -> (n,)",
)


def _dot(a, b):
    return _mm(a.reshape(1, a.shape[0]), b.reshape(b.shape[0], 1)).reshape(())


def _dot_infer(name):
    def infer(a, b):
        _vectors(name, a, b)
        return ()

    return infer


DOT = _product("dot", _dot_infer("dot"), _dot, inputs=("input", "other"), doc="(n,) . (n,) -> ()")
VDOT = _product(
    "vdot", _dot_infer("vdot"), _dot, inputs=("input", "other"), doc="(n,) . (n,) -> (); conjugates nothing (real)"
)


def _inner_infer(a, b):
    if a.ndim and b.ndim and a.shape[-1] != b.shape[-1]:
        raise ShapeError(
            f"inner: the last dimension must match on both input tensors but got shapes {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )
    return a.shape[:-1] + b.shape[:-1] if a.ndim and b.ndim else (a.shape if b.ndim == 0 else b.shape)


def _inner(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return ew.mul(a, b)
    k = a.shape[-1]
    out = _mm(a.reshape(math.prod(a.shape[:-1]), k), b.reshape(math.prod(b.shape[:-1]), k).mT)
    return out.reshape(a.shape[:-1] + b.shape[:-1])


INNER = _product("inner", _inner_infer, _inner, inputs=("input", "other"), doc="(..., k), (..., k) -> sum over k")


def _outer_infer(a, b):
    for name, t in (("self", a), ("vec2", b)):
        if t.ndim != 1:
            raise ShapeError(f"outer: expected 1-D argument {name}, but got {t.ndim}-D (shape {tuple(t.shape)})")
    return (a.shape[0], b.shape[0])


# A broadcast product: the k = 1 matmul would be a BLAS call for nothing.
OUTER = _product(
    "outer",
    _outer_infer,
    lambda a, b: ew.mul(a.reshape(a.shape[0], 1), b.reshape(1, b.shape[0])),
    inputs=("input", "vec2"),
    doc="(n,), (m,) -> (n, m); bools: logical and",
    accepts=None,
)


@public(MM, methods=True)
def mm(input, mat2):
    """Matrix product of two matrices: input (n, k), mat2 (k, m) -> (n, m). No broadcasting and no
    vectors (see `matmul`)."""
    _refuse_bool("mm", input, mat2)
    return apply(MM, (input, mat2), {})


@public(BMM, methods=True)
def bmm(input, mat2):
    """Batched matrix product: input (b, n, k), mat2 (b, k, m) -> (b, n, m), with the same b."""
    _refuse_bool("bmm", input, mat2)
    return apply(BMM, (input, mat2), {})


@public(MV, methods=True)
def mv(input, vec):
    """Matrix-vector product: input (n, k), vec (k,) -> (n,)."""
    _refuse_bool("mv", input, vec)
    return apply(MV, (input, vec), {})


@public(DOT, methods=True)
def dot(input, other):
    """Inner product of two 1-D tensors of the same size: (n,), (n,) -> ()."""
    _refuse_bool("dot", input, other)
    return apply(DOT, (input, other), {})


@public(VDOT, methods=True)
def vdot(input, other):
    """`dot` with the first argument conjugated; for the real dtypes somegrad has, the same as `dot`."""
    _refuse_bool("vdot", input, other)
    return apply(VDOT, (input, other), {})


@public(INNER, methods=True)
def inner(input, other):
    """Sum of products over the last dims: input (..., k), other (..., k) -> input.shape[:-1] +
    other.shape[:-1]; a 0-d operand multiplies the other."""
    _refuse_bool("inner", input, other)
    return apply(INNER, (input, other), {})


@public(OUTER, methods=("outer", "ger"), aliases=("ger",))
def outer(input, vec2):
    """Outer product: input (n,), vec2 (m,) -> (n, m); dtypes promote (`ger` is the same)."""
    if input.dtype is not vec2.dtype:
        dtype = dtypes.promote_types(input.dtype, vec2.dtype)
        input, vec2 = ew.cast(input, dtype), ew.cast(vec2, dtype)
    return apply(OUTER, (input, vec2), {})


# --- addmm, addmv, addbmm, baddbmm: beta * input + alpha * product ------------------------------
def _scaled_sum(input, product, beta, alpha):
    """`beta * input + alpha * product`; beta = 0 ignores input (its NaNs too), as PyTorch."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        if not input.requires_grad:
            return product
        # input's values are ignored (its NaNs too), but it gets its zero gradient, as in PyTorch
        ignored = ew.where(
            ew.scalar_tensor(False, dtypes.bool_, input.device), input, ew.scalar_tensor(0, input.dtype, input.device)
        )
        return product + ignored
    return product + (input if beta == 1 else input * beta)


def _added(name, product_shape, product, inputs):
    def infer(input, a, b, beta, alpha):
        shape = product_shape(a, b, input)
        _expandable(name, input, shape, "the product")
        return shape, _same_dtype(name, input, a, b)

    def decompose(input, a, b, beta, alpha):
        if not input.dtype.is_floating_point:  # PyTorch takes integral scalars' integer part
            beta, alpha = int(beta), int(alpha)
        return _scaled_sum(input, product(a, b), beta, alpha)

    return register(OpSpec(name, "matmul", inputs, infer, decompose=decompose, accepts=NUMERIC))


def _addbmm(a, b):
    # sum over the batch of a[i] @ b[i] is one product: (n, b*k) @ (b*k, m)
    batch, n, k = a.shape
    return _mm(a.permute(1, 0, 2).reshape(n, batch * k), b.reshape(batch * k, b.shape[2]))


ADDMM = _added("addmm", lambda a, b, input: _matrices("addmm", a, b), _mm, ("input", "mat1", "mat2"))
ADDMV = _added(
    "addmv",
    lambda a, v, input: (_matrix_vector("addmv", a, v, input.shape),),
    lambda a, v: _mm(a, v.reshape(v.shape[0], 1)).reshape(a.shape[0]),
    ("input", "mat", "vec"),
)
ADDBMM = _added("addbmm", lambda a, b, input: _batches("addbmm", a, b)[1:], _addbmm, ("input", "batch1", "batch2"))
BADDBMM = _added("baddbmm", lambda a, b, input: _batches("baddbmm", a, b), _mm, ("input", "batch1", "batch2"))


@public(ADDMM, methods=True, inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """`beta * input + alpha * (mat1 @ mat2)`: mat1 (n, k), mat2 (k, m), input broadcastable to (n, m)."""
    _refuse_bool("addmm", input, mat1, mat2)
    return apply(ADDMM, (input, mat1, mat2), {"beta": beta, "alpha": alpha})


@public(ADDMV, methods=True, inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """`beta * input + alpha * (mat @ vec)`: mat (n, k), vec (k,), input broadcastable to (n,)."""
    _refuse_bool("addmv", input, mat, vec)
    return apply(ADDMV, (input, mat, vec), {"beta": beta, "alpha": alpha})


@public(ADDBMM, methods=True, inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """`beta * input + alpha * sum_i batch1[i] @ batch2[i]`: batch1 (b, n, k), batch2 (b, k, m),
    input broadcastable to (n, m). The batch is reduced inside one matrix product."""
    _refuse_bool("addbmm", input, batch1, batch2)
    return apply(ADDBMM, (input, batch1, batch2), {"beta": beta, "alpha": alpha})


@public(BADDBMM, methods=True, inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """`beta * input + alpha * (batch1 @ batch2)`: batch1 (b, n, k), batch2 (b, k, m), input
    broadcastable to (b, n, m)."""
    _refuse_bool("baddbmm", input, batch1, batch2)
    return apply(BADDBMM, (input, batch1, batch2), {"beta": beta, "alpha": alpha})


# --- tensordot ---------------------------------------------------------------------------------
def _tensordot_infer(a, b, dims_a, dims_b):
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):
            raise ShapeError(
                f"tensordot: contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                f"and second has size {b.shape[db]} in dim {db}"
            )
    free_a = tuple(s for d, s in enumerate(a.shape) if d not in dims_a)
    free_b = tuple(s for d, s in enumerate(b.shape) if d not in dims_b)
    return free_a + free_b


def _tensordot(a, b, dims_a, dims_b):
    # a's free dims by the contracted ones, times the contracted ones by b's free dims: one matmul;
    # a contracted dim of size 1 on one side stretches (PyTorch's broadcast): the other side's sums
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            if a.shape[da] == 1:
                b = b.sum(db, keepdim=True, dtype=b.dtype)
            else:
                a = a.sum(da, keepdim=True, dtype=a.dtype)
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = math.prod(a.shape[d] for d in dims_a)
    left = a.permute(*free_a, *dims_a).reshape(math.prod(a.shape[d] for d in free_a), k)
    right = b.permute(*dims_b, *free_b).reshape(k, math.prod(b.shape[d] for d in free_b))
    out = _mm(left, right)
    return out.reshape(tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


TENSORDOT = _product("tensordot", _tensordot_infer, _tensordot, inputs=("a", "b"), doc="sum over paired dims")


def _contracted(op, dims, ndim):
    from somegrad.ops.shapes import normalize_dim

    dims = [dims] if isinstance(dims, int) else list(dims)
    normalized = [normalize_dim(op, d, ndim) for d in dims]
    if len(set(normalized)) != len(normalized):
        raise ArgumentError(f"{op}: dim {dims} appears multiple times in the list of dims")
    return tuple(normalized)


@public(TENSORDOT)
def tensordot(a, b, dims=2, out=None):
    """Sums of products over pairs of dims: `dims` an int n (the last n of a with the first n of
    b) or two lists of dims (`([1, 0], [0, 1])`). a (2, 3, 4), b (3, 4, 5) with dims=2 -> (2, 5)."""
    if out is not None:
        raise ArgumentError("tensordot: out= is not supported; use the result")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise ArgumentError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise ArgumentError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = tuple(range(a.ndim - dims, a.ndim)), tuple(range(dims))
    else:
        if len(dims) != 2:
            raise ArgumentError(f"tensordot: dims must be an int or a pair of dim lists, got {dims!r}")
        dims_a, dims_b = _contracted("tensordot", dims[0], a.ndim), _contracted("tensordot", dims[1], b.ndim)
        if len(dims_a) != len(dims_b):
            raise ArgumentError(
                f"tensordot: both dimension lists should have same length, got {len(dims_a)} and {len(dims_b)}"
            )
    _refuse_bool("tensordot", a, b)
    return apply(TENSORDOT, (a, b), {"dims_a": dims_a, "dims_b": dims_b})
