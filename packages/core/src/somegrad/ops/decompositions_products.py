"""Products of matrices in `somegrad.linalg`: `matrix_power`, `matrix_exp`, `multi_dot`, `vecdot`, and
`cond`, the condition number. Implicit composites over matmul, inv and the norms: autograd goes
through the ops they are made of."""

from __future__ import annotations

import math

from somegrad.errors import ArgumentError, DTypeError, ShapeError
from somegrad.ops.decompositions import inv
from somegrad.ops.decompositions_common import LINALG_FLOATS, check_input, check_matrix, identity
from somegrad.ops.decompositions_factor import svdvals
from somegrad.ops.decompositions_norms import matrix_norm
from somegrad.ops.dispatch import apply
from somegrad.ops.reduce import amax, amin
from somegrad.ops.shapes import broadcast_shapes, normalize_dim
from somegrad.ops.spec import NUMERIC, OpSpec, public, register


# --- matrix_power --------------------------------------------------------------------------------
def _matrix_power_infer(A, n):
    check_matrix("linalg.matrix_power", A, square=True)
    return A.shape, A.dtype


def _matrix_power(A, n):
    if n == 0:
        return identity(A.shape[-1], A).expand(*A.shape).contiguous()
    if n < 0:
        A, n = inv(A), -n
    # by repeated squaring: about 2 log2(n) products
    result, square = None, A
    while n:
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
        if n:
            square = square @ square
    return result


LINALG_MATRIX_POWER = register(
    OpSpec(
        "linalg_matrix_power",
        "composite",
        ("A",),
        _matrix_power_infer,
        decompose=_matrix_power,
        accepts=NUMERIC,
        doc="A to the integer power n (through the inverse for n < 0).",
    )
)


@public(LINALG_MATRIX_POWER, methods=True)
def matrix_power(A, n):
    """A (..., m, m) to the integer power `n`: the identity for n = 0, powers of inv(A) for
    n < 0 (float inputs only). Also `somegrad.matrix_power` and `Tensor.matrix_power(n)`."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n < 0:
        check_input("linalg.matrix_power", A, square=True)
    return apply(LINALG_MATRIX_POWER, (A,), {"n": n})


# --- matrix_exp ----------------------------------------------------------------------------------
_TAYLOR_DEGREE = 18  # 1/19! ~ 8e-18: below float64's resolution once ||A / 2^s||_1 <= 1/2


def _matrix_exp_infer(A):
    check_matrix("linalg.matrix_exp", A, square=True)
    return A.shape, A.dtype


def _matrix_exp(A):
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    # scaling and squaring: exp(A) = exp(A / 2^s)^(2^s), the Taylor series summed where it
    # converges fast (one s for the whole batch: the largest 1-norm decides)
    largest = float(matrix_norm(A.detach(), 1).amax().item())
    s = max(0, math.ceil(math.log2(largest)) + 1) if largest > 0 and math.isfinite(largest) else 0
    X = A / 2.0**s
    eye = identity(n, A)
    E = eye + X / _TAYLOR_DEGREE
    for k in range(_TAYLOR_DEGREE - 1, 0, -1):  # Horner: I + X/k (I + X/(k+1) (...))
        E = eye + (X @ E) / k
    for _ in range(s):
        E = E @ E
    return E


LINALG_MATRIX_EXP = register(
    OpSpec(
        "linalg_matrix_exp",
        "composite",
        ("A",),
        _matrix_exp_infer,
        decompose=_matrix_exp,
        accepts=LINALG_FLOATS,
        doc="The matrix exponential, by scaling and squaring of its Taylor series.",
    )
)


@public(LINALG_MATRIX_EXP, methods=True)
def matrix_exp(A):
    """The matrix exponential sum_k A^k / k!: A (..., n, n) -> (..., n, n), by scaling and
    squaring (differentiable through its products). Also `somegrad.matrix_exp` and
    `Tensor.matrix_exp()`."""
    check_input("linalg.matrix_exp", A, square=True)
    return apply(LINALG_MATRIX_EXP, (A,), {})


# --- multi_dot -----------------------------------------------------------------------------------
def _multi_dot_shapes(tensors):
    if len(tensors) < 2:
        raise ArgumentError(f"linalg.multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    shapes = [tuple(t.shape) for t in tensors]
    for i, t in enumerate(tensors):
        wanted = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in wanted:
            which = "first and last" if i in (0, len(tensors) - 1) else "middle"
            raise ShapeError(
                f"linalg.multi_dot(): the {which} tensors must be {' or '.join(f'{d}D' for d in wanted)}, "
                f"got shapes {shapes}"
            )
    rows = [1 if i == 0 and t.ndim == 1 else t.shape[0] for i, t in enumerate(tensors)]
    cols = [1 if i == len(tensors) - 1 and t.ndim == 1 else t.shape[-1] for i, t in enumerate(tensors)]
    for i in range(len(tensors) - 1):
        if cols[i] != rows[i + 1]:
            raise ShapeError(f"linalg.multi_dot(): tensors {i} and {i + 1} cannot be multiplied, shapes {shapes}")
    if len({t.dtype for t in tensors}) > 1:
        raise DTypeError(
            f"linalg.multi_dot(): all tensors must have the same dtype, got {[t.dtype.name for t in tensors]}"
        )
    shape = (() if tensors[0].ndim == 1 else (rows[0],)) + (() if tensors[-1].ndim == 1 else (cols[-1],))
    return shape, rows, cols


def _multi_dot_infer(*tensors):
    shape, _, _ = _multi_dot_shapes(tensors)
    return shape, tensors[0].dtype


def _multi_dot(*tensors):
    _, rows, cols = _multi_dot_shapes(tensors)
    matrices = [t.reshape(r, c) for t, r, c in zip(tensors, rows, cols)]
    dims = [rows[0], *cols]
    n = len(matrices)
    # the cheapest order of the products (the classic matrix-chain dynamic programme)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k) for k in range(i, j)
            )

    def product(i, j):
        if i == j:
            return matrices[i]
        k = split[i][j]
        return product(i, k) @ product(k + 1, j)

    shape, _, _ = _multi_dot_shapes(tensors)
    return product(0, n - 1).reshape(shape)


LINALG_MULTI_DOT = register(
    OpSpec(
        "linalg_multi_dot",
        "composite",
        ("*tensors",),
        _multi_dot_infer,
        decompose=_multi_dot,
        accepts=NUMERIC,
        doc="The product of a chain of matrices, in the cheapest order.",
    )
)


@public(LINALG_MULTI_DOT, export=False)
def multi_dot(tensors):
    """`tensors[0] @ tensors[1] @ ...` computed in the order that costs the fewest
    multiplications: 2-D matrices, the first may be a 1-D row vector and the last a 1-D
    column vector (their dims are removed from the result, as in PyTorch)."""
    return apply(LINALG_MULTI_DOT, tuple(tensors), {})


# --- vecdot --------------------------------------------------------------------------------------
def _vecdot_infer(x, y, dim):
    shape = broadcast_shapes("linalg.vecdot", tuple(x.shape), tuple(y.shape))
    if x.dtype is not y.dtype:
        raise DTypeError(f"linalg.vecdot: x and y must have the same dtype, got {x.dtype.name} and {y.dtype.name}")
    return shape[:dim] + shape[dim + 1 :], x.dtype


def _vecdot(x, y, dim):
    return (x * y).sum(dim)


LINALG_VECDOT = register(
    OpSpec(
        "linalg_vecdot",
        "composite",
        ("x", "y"),
        _vecdot_infer,
        decompose=_vecdot,
        accepts=NUMERIC,
        doc="The dot product of vectors along dim, broadcasting the others.",
    )
)


@public(LINALG_VECDOT, export=False)
def vecdot(x, y, *, dim=-1):
    """The dot product `sum(x * y, dim)` of the vectors along `dim`; the other dims
    broadcast: x (..., n), y (..., n) -> (...)."""
    shape = broadcast_shapes("linalg.vecdot", tuple(x.shape), tuple(y.shape))
    if not shape:
        raise ShapeError("linalg.vecdot: x and y must have at least one dimension, got 0-d tensors")
    return apply(LINALG_VECDOT, (x, y), {"dim": normalize_dim("linalg.vecdot", dim, len(shape))})


# --- cross ---------------------------------------------------------------------------------------
def _cross_infer(input, other, dim):
    shape = broadcast_shapes("linalg.cross", tuple(input.shape), tuple(other.shape))
    if not shape:
        raise ShapeError("linalg.cross: the inputs must have at least one dimension, got 0-d tensors")
    d = normalize_dim("linalg.cross", dim, len(shape))
    for name, t in (("input", input), ("other", other)):
        size = t.shape[d - len(shape)] if t.ndim >= len(shape) - d else 1
        if size != 3:
            raise ShapeError(
                f"linalg.cross: {name}.size({dim}) must be 3, but got {size} (shapes {tuple(input.shape)} "
                f"and {tuple(other.shape)})"
            )
    if input.dtype is not other.dtype:
        raise DTypeError(
            f"linalg.cross: expected both inputs of one dtype, got {input.dtype.name} and {other.dtype.name}"
        )
    return shape, input.dtype


def _cross(input, other, dim):
    from somegrad.ops.movement import stack

    shape = broadcast_shapes("linalg.cross", tuple(input.shape), tuple(other.shape))
    d = normalize_dim("linalg.cross", dim, len(shape))
    a, b = input.broadcast_to(shape), other.broadcast_to(shape)
    x, y, z = (a.narrow(d, i, 1).squeeze(d) for i in range(3))
    u, v, w = (b.narrow(d, i, 1).squeeze(d) for i in range(3))
    return stack([y * w - z * v, z * u - x * w, x * v - y * u], d)


LINALG_CROSS = register(
    OpSpec(
        "linalg_cross",
        "composite",
        ("input", "other"),
        _cross_infer,
        decompose=_cross,
        accepts=NUMERIC,
        doc="The cross product of 3-vectors along dim, the other dims broadcasting.",
    )
)


@public(LINALG_CROSS, export=False)
def cross(input, other, *, dim=-1):
    """The cross product of the 3-vectors along `dim` (size 3 in both): input (..., 3),
    other (..., 3) -> (..., 3), the other dims broadcasting."""
    return apply(LINALG_CROSS, (input, other), {"dim": dim})


# --- householder_product -------------------------------------------------------------------------
def _householder_infer(A, tau):
    check_matrix("linalg.householder_product", A)
    m, n = A.shape[-2:]
    if n > m:
        raise ShapeError(
            f"linalg.householder_product: A must have at least as many rows as columns, got {tuple(A.shape)}"
        )
    if tau.ndim != A.ndim - 1 or tau.shape[-1] > n or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ShapeError(
            f"linalg.householder_product: tau must have shape (..., k) with k <= {n} and A's batch dims, "
            f"got {tuple(tau.shape)} for A {tuple(A.shape)}"
        )
    if A.dtype is not tau.dtype:
        raise DTypeError(
            f"linalg.householder_product: A and tau must have one dtype, got {A.dtype.name} and {tau.dtype.name}"
        )
    return A.shape, A.dtype


def _householder(A, tau):
    from somegrad.ops.creation import arange, eye

    m, n = A.shape[-2:]
    rows = arange(m, device=A.device)
    Q = eye(m, n, dtype=A.dtype, device=A.device).expand(*A.shape)
    # Q = H_0 H_1 ... H_(k-1) I[:, :n], applied from the last reflector: H Q = Q - tau v (v^T Q)
    for i in range(tau.shape[-1] - 1, -1, -1):
        v = (A[..., :, i] * (rows > i) + (rows == i)).unsqueeze(-1)
        Q = Q - tau[..., i, None, None] * v @ (v.mT @ Q)
    return Q


LINALG_HOUSEHOLDER_PRODUCT = register(
    OpSpec(
        "linalg_householder_product",
        "composite",
        ("A", "tau"),
        _householder_infer,
        decompose=_householder,
        accepts=LINALG_FLOATS,
        doc="The first n columns of the product of the Householder reflectors stored in A and tau.",
    )
)


@public(LINALG_HOUSEHOLDER_PRODUCT, form=True)
def orgqr(input, tau):
    """PyTorch's `torch.orgqr` (and `Tensor.orgqr`): `linalg.householder_product(input, tau)`."""
    return householder_product(input, tau)


@public(LINALG_HOUSEHOLDER_PRODUCT, methods=(("orgqr", orgqr),), export=False)
def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i column i of A
    below the diagonal and a 1 on it (LAPACK's orgqr): A (..., m, n), tau (..., k) -> (..., m, n)."""
    check_input("linalg.householder_product", A)
    return apply(LINALG_HOUSEHOLDER_PRODUCT, (A, tau), {})


# --- vander --------------------------------------------------------------------------------------
def _vander_infer(x, N):
    if x.ndim < 1:
        raise ShapeError(f"linalg.vander: x must have at least one dimension, got shape {tuple(x.shape)}")
    if N <= 1:
        raise ArgumentError(f"linalg.vander: N must be greater than 1, got {N}")
    return tuple(x.shape) + (N,), x.dtype


def _vander(x, N):
    # by repeated products (no 0 ** 0 and no pow gradient at 0)
    powers = [x.ones_like(), x]
    while len(powers) < N:
        powers.append(powers[-1] * x)
    from somegrad.ops.movement import stack

    return stack(powers[:N], -1)


LINALG_VANDER = register(
    OpSpec(
        "linalg_vander",
        "composite",
        ("x",),
        _vander_infer,
        decompose=_vander,
        accepts=NUMERIC,
        doc="The Vandermonde matrix of x: increasing powers 0 .. N - 1 along a new last dim.",
    )
)


@public(LINALG_VANDER, export=False)
def vander(x, *, N=None):
    """The Vandermonde matrix: x (..., n) -> (..., n, N), the powers x^0, x^1, ..., x^(N-1)
    of each element (N = n unless given), increasing as in PyTorch (NumPy's decrease)."""
    if N is None:
        N = x.shape[-1] if x.ndim else 0
    return apply(LINALG_VANDER, (x,), {"N": int(N)})


# --- cond ----------------------------------------------------------------------------------------
_COND_ORDS = (None, "fro", "nuc", float("inf"), float("-inf"), 1, -1, 2, -2)


def _cond_infer(A, p):
    check_matrix("linalg.cond", A, square=p not in (None, 2, -2))
    return A.shape[:-2], A.dtype


def _cond(A, p):
    if p in (None, 2, -2):
        S = svdvals(A)
        largest, smallest = amax(S, -1), amin(S, -1)
        return largest / smallest if p != -2 else smallest / largest
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


LINALG_COND = register(
    OpSpec(
        "linalg_cond",
        "composite",
        ("A",),
        _cond_infer,
        decompose=_cond,
        accepts=LINALG_FLOATS,
        doc="The condition number of each matrix in the p-norm (2: the ratio of the extreme singular values).",
    )
)


@public(LINALG_COND, export=False)
def cond(A, p=None):
    """The condition number ||A||_p ||A^-1||_p: A (..., m, n) -> (...). p None or 2: the
    largest over the smallest singular value (any m, n); -2 the inverse ratio; 'fro', 'nuc',
    inf, -inf, 1, -1 through the matrix norms (square, invertible A)."""
    if p not in _COND_ORDS or isinstance(p, bool):
        raise ArgumentError(f"linalg.cond: order {p} is not supported (expected one of {_COND_ORDS})")
    check_input("linalg.cond", A, square=p not in (None, 2, -2))
    return apply(LINALG_COND, (A,), {"p": p})
