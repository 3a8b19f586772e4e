"""The QR, singular value and symmetric eigen decompositions, and what is built on them
(pinv, matrix_rank, lstsq).

A factorization with several results is one primitive returning them packed into one tensor
(`linalg_qr_packed`, `linalg_svd_packed`, `linalg_eigh_packed`; the layouts are in
`somegrad.backends.array_api_linalg`), so that its backward sees the gradients of all of them
at once; the public op (`linalg_qr`, `linalg_svd`, `linalg_eigh`) is an implicit composite
that slices the pieces out. Backward formulas, PyTorch's (real case; k = min(m, n)):

    qr (m >= n):  gA = (gQ + Q copyltu(M)) R^-T,  M = R gR^T - gQ^T Q
    qr (m < n):   A = [X | Y]: gY = Q gV_R, gX from the square case with gQ + Y gV_R^T
    svd:          gA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T
                       + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),  E_ij = S_j^2 - S_i^2
    eigh:         gA = V [skew(V^T gV) / 2E + diag(gL)] V^T,  E_ij = L_j - L_i
    svdvals:      gA = U diag(gS) V^T;   eigvalsh: gA = V diag(gL) V^T

The svd and eigh gradients of the vectors are infinite for repeated values (the vectors are
not unique there), as in PyTorch; a loss of the values alone has a finite gradient.
"""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import ArgumentError, ShapeError
from somegrad.ops.comparison import where
from somegrad.ops.decompositions_common import (
    LINALG_FLOATS,
    EighResult,
    LstsqResult,
    QRResult,
    SVDResult,
    check_input,
    check_matrix,
    diag_embed,
    run,
    safe_divide,
)
from somegrad.ops.dispatch import apply
from somegrad.ops.movement import cat
from somegrad.ops.shapes import broadcast_shapes
from somegrad.ops.spec import OpSpec, public, register


def _solve(A, B):
    from somegrad.ops.decompositions import solve

    return solve(A, B)


# --- qr ------------------------------------------------------------------------------------------
_QR_MODES = ("reduced", "complete", "r")


def _qr_packed_infer(A, mode):
    check_matrix("linalg.qr", A)
    m, n = A.shape[-2:]
    width = m if mode == "complete" else min(m, n)
    return A.shape[:-2] + (m + n, width), A.dtype


def _qr_tall_backward(gQ, gR, Q, R):
    M = R @ gR.mT - gQ.mT @ Q
    symmetric = M.tril() + M.tril(-1).mT  # copyltu(M): the lower triangle mirrored
    return _solve(R, (gQ + Q @ symmetric).mT).mT  # (...) R^-T


def _qr_backward(g, out, input_shape, mode):
    m, n = input_shape[-2:]
    if mode == "complete" and m > n:
        raise RuntimeError(
            "linalg.qr: the QR decomposition is not differentiable when mode='complete' and nrows > ncols "
            f"(input of shape {tuple(input_shape)}); use mode='reduced'"
        )
    Q, R = out[..., :m, :], out[..., m:, :].mT
    gQ, gR = g[..., :m, :], g[..., m:, :].mT
    if m >= n:
        return _qr_tall_backward(gQ, gR, Q, R)
    # A = [X | Y] with X (m, m) = Q U and Y = Q V: V = Q^T Y passes gV to Y and to Q.
    U, V, gU, gV = R[..., :m], R[..., m:], gR[..., :m], gR[..., m:]
    gX = _qr_tall_backward(gQ + (Q @ V) @ gV.mT, gU, Q, U)
    return cat([gX, Q @ gV], -1)


LINALG_QR_PACKED = register(
    OpSpec(
        "linalg_qr_packed",
        "matmul",
        ("A",),
        _qr_packed_infer,
        _qr_backward,
        accepts=LINALG_FLOATS,
        doc="Q (..., m, w) above R^T (..., n, w): (..., m + n, w), w = min(m, n) reduced, m complete.",
    )
)


def _qr_infer(A, mode):
    check_matrix("linalg.qr", A)
    m, n = A.shape[-2:]
    k = min(m, n)
    if mode == "r":
        return ((0,), A.dtype), (A.shape[:-2] + (k, n), A.dtype)
    width = m if mode == "complete" else k
    return (A.shape[:-2] + (m, width), A.dtype), (A.shape[:-2] + (width, n), A.dtype)


def _qr(A, mode):
    m = A.shape[-2]
    packed = apply(LINALG_QR_PACKED, (A,), {"mode": "reduced" if mode == "r" else mode})
    R = packed[..., m:, :].mT
    if mode == "r":
        return QRResult(A.new_zeros(0), R)
    return QRResult(packed[..., :m, :], R)


LINALG_QR = register(
    OpSpec(
        "linalg_qr",
        "composite",
        ("A",),
        _qr_infer,
        decompose=_qr,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(Q, R) with A = Q R, Q orthonormal columns, R upper triangular.",
    )
)


@public(LINALG_QR, export=False)
def qr(A, mode="reduced") -> QRResult:
    """`(Q, R)` with A = Q R: A (..., m, n) -> Q (..., m, k), R (..., k, n), k = min(m, n)
    (`mode="complete"`: Q (..., m, m), R (..., m, n); `mode="r"`: R only, Q empty).
    Differentiable as in PyTorch: reduced mode, and complete mode when m <= n."""
    if mode not in _QR_MODES:
        raise ArgumentError(f"linalg.qr: qr received unrecognized mode {mode!r} but expected one of {_QR_MODES}")
    check_input("linalg.qr", A)
    return apply(LINALG_QR, (A,), {"mode": mode})


# --- svd -----------------------------------------------------------------------------------------
def _svd_packed_infer(A, full_matrices):
    check_matrix("linalg.svd", A)
    m, n = A.shape[-2:]
    width = max(m, n) if full_matrices else min(m, n)
    return A.shape[:-2] + (m + 1 + n, width), A.dtype


def _skew(X):
    return X - X.mT


def _svd_backward(g, out, input_shape):
    m, n = input_shape[-2:]
    k = min(m, n)
    # With full matrices only the first k columns of U and V take part: the others are any
    # basis of the complements (PyTorch ignores their gradients too).
    U, S, V = out[..., :m, :k], out[..., m, :k], out[..., m + 1 :, :k]
    gU, gS, gV = g[..., :m, :k], g[..., m, :k], g[..., m + 1 :, :k]
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    inner = safe_divide(_skew(U.mT @ gU) * S.unsqueeze(-2) + S.unsqueeze(-1) * _skew(V.mT @ gV), E)
    inner = inner + diag_embed(gS)
    if m > n:
        outside = gU - U @ (U.mT @ gU)  # the part of gU outside U's columns
        return (U @ inner + safe_divide(outside, S.unsqueeze(-2))) @ V.mT
    if m < n:
        outside = gV - V @ (V.mT @ gV)
        return U @ (inner @ V.mT + safe_divide(outside, S.unsqueeze(-2)).mT)
    return U @ inner @ V.mT


LINALG_SVD_PACKED = register(
    OpSpec(
        "linalg_svd_packed",
        "matmul",
        ("A",),
        _svd_packed_infer,
        _svd_backward,
        accepts=LINALG_FLOATS,
        doc="U, S and V (Vh transposed) stacked by rows and zero-padded: (..., m + 1 + n, w).",
    )
)


def _svd_infer(A, full_matrices):
    check_matrix("linalg.svd", A)
    m, n = A.shape[-2:]
    k = min(m, n)
    u, v = (m, n) if full_matrices else (k, k)
    batch = A.shape[:-2]
    return (batch + (m, u), A.dtype), (batch + (k,), A.dtype), (batch + (v, n), A.dtype)


def _svd(A, full_matrices):
    m, n = A.shape[-2:]
    k = min(m, n)
    packed = run(LINALG_SVD_PACKED, (A,), {"full_matrices": full_matrices}, "linalg.svd", "the SVD did not converge")
    u, v = (m, n) if full_matrices else (k, k)
    return SVDResult(packed[..., :m, :u], packed[..., m, :k], packed[..., m + 1 :, :v].mT)


LINALG_SVD = register(
    OpSpec(
        "linalg_svd",
        "composite",
        ("A",),
        _svd_infer,
        decompose=_svd,
        outputs=3,
        accepts=LINALG_FLOATS,
        doc="(U, S, Vh) with A = U diag(S) Vh, S descending.",
    )
)


@public(LINALG_SVD, export=False)
def svd(A, full_matrices=True, *, driver=None) -> SVDResult:
    """`(U, S, Vh)` with A = U diag(S) Vh and S descending: A (..., m, n) -> U (..., m, m),
    S (..., k), Vh (..., n, n), k = min(m, n); `full_matrices=False`: U (..., m, k), Vh
    (..., k, n). The signs of the singular vectors are the kernel's, as in PyTorch: compare
    gauge-invariant quantities. `driver` (a cuSOLVER choice in PyTorch) is accepted and unused."""
    check_input("linalg.svd", A)
    return apply(LINALG_SVD, (A,), {"full_matrices": bool(full_matrices)})


def _svdvals_infer(A):
    check_matrix("linalg.svdvals", A)
    return A.shape[:-2] + (min(A.shape[-2:]),), A.dtype


def _svdvals_backward(g, A):
    U, _, Vh = svd(A, full_matrices=False)
    return (U * g.unsqueeze(-2)) @ Vh


LINALG_SVDVALS = register(
    OpSpec(
        "linalg_svdvals",
        "matmul",
        ("A",),
        _svdvals_infer,
        _svdvals_backward,
        accepts=LINALG_FLOATS,
        doc="The singular values of each matrix, descending.",
    )
)


@public(LINALG_SVDVALS, export=False)
def svdvals(A, *, driver=None):
    """The singular values, descending: A (..., m, n) -> (..., min(m, n)). Computes no
    singular vectors (the backward computes them)."""
    check_input("linalg.svdvals", A)
    return run(LINALG_SVDVALS, (A,), {}, "linalg.svdvals", "the SVD did not converge")


# --- eigh ----------------------------------------------------------------------------------------
def _eigh_packed_infer(A):
    check_matrix("linalg.eigh", A, square=True)
    n = A.shape[-1]
    return A.shape[:-2] + (n + 1, n), A.dtype


def _eigh_backward(g, out):
    L, V = out[..., 0, :], out[..., 1:, :]
    gL, gV = g[..., 0, :], g[..., 1:, :]
    inner = safe_divide(0.5 * _skew(V.mT @ gV), L.unsqueeze(-2) - L.unsqueeze(-1)) + diag_embed(gL)
    return V @ inner @ V.mT


LINALG_EIGH_PACKED = register(
    OpSpec(
        "linalg_eigh_packed",
        "matmul",
        ("A",),
        _eigh_packed_infer,
        _eigh_backward,
        accepts=LINALG_FLOATS,
        doc="The eigenvalues (a row) above the eigenvectors (columns): (..., n + 1, n). Reads the lower triangle.",
    )
)


def _check_uplo(op, UPLO):
    if UPLO not in ("L", "U"):
        raise ArgumentError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")


def _eigh_infer(A, UPLO):
    check_matrix("linalg.eigh", A, square=True)
    return (A.shape[:-1], A.dtype), (A.shape, A.dtype)


def _eigh(A, UPLO):
    # The kernel reads the lower triangle: the upper one is the lower one of A^T.
    A = A.mT if UPLO == "U" else A
    packed = run(LINALG_EIGH_PACKED, (A,), {}, "linalg.eigh", "the eigenvalue algorithm did not converge")
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


LINALG_EIGH = register(
    OpSpec(
        "linalg_eigh",
        "composite",
        ("A",),
        _eigh_infer,
        decompose=_eigh,
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="(eigenvalues ascending, eigenvectors) of symmetric matrices.",
    )
)


@public(LINALG_EIGH, export=False)
def eigh(A, UPLO="L") -> EighResult:
    """`(eigenvalues, eigenvectors)` of symmetric matrices, A = V diag(L) V^T, eigenvalues
    ascending: A (..., n, n) -> (..., n), (..., n, n). Only the lower triangle is read (the
    upper one with `UPLO="U"`). Eigenvector signs are the kernel's: compare gauge-invariant
    quantities."""
    _check_uplo("linalg.eigh", UPLO)
    check_input("linalg.eigh", A, square=True)
    return apply(LINALG_EIGH, (A,), {"UPLO": UPLO})


def _eigvalsh_infer(A):
    check_matrix("linalg.eigvalsh", A, square=True)
    return A.shape[:-1], A.dtype


def _eigvalsh_backward(g, A):
    V = eigh(A).eigenvectors
    return (V * g.unsqueeze(-2)) @ V.mT


LINALG_EIGVALSH = register(
    OpSpec(
        "linalg_eigvalsh",
        "matmul",
        ("A",),
        _eigvalsh_infer,
        _eigvalsh_backward,
        accepts=LINALG_FLOATS,
        doc="The eigenvalues of symmetric matrices, ascending (reads the lower triangle).",
    )
)


@public(LINALG_EIGVALSH, export=False)
def eigvalsh(A, UPLO="L"):
    """The eigenvalues of symmetric matrices, ascending: A (..., n, n) -> (..., n); the lower
    triangle is read (the upper one with `UPLO="U"`)."""
    _check_uplo("linalg.eigvalsh", UPLO)
    check_input("linalg.eigvalsh", A, square=True)
    A = A.mT if UPLO == "U" else A
    return run(LINALG_EIGVALSH, (A,), {}, "linalg.eigvalsh", "the eigenvalue algorithm did not converge")


# --- pinv, matrix_rank ---------------------------------------------------------------------------
_EPS = {"float32": 2.0**-23, "float64": 2.0**-52}


def _tolerance(S, atol, rtol, shape):
    """PyTorch's cut-off for the singular values S (..., k): max(atol, rtol * max(S)), with
    rtol = eps * max(m, n) when neither is given, 0 when only atol is."""
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else _EPS[S.dtype.name] * max(shape[-2:])
    atol = 0.0 if atol is None else atol
    largest = S.amax(-1, keepdim=True) if S.shape[-1] else S.sum(-1, keepdim=True)
    return (largest * rtol).clamp(min=atol)


def _pinv_infer(A, atol, rtol, hermitian):
    check_matrix("linalg.pinv", A, square=hermitian)
    return A.shape[:-2] + (A.shape[-1], A.shape[-2]), A.dtype


def _pinv(A, atol, rtol, hermitian):
    if hermitian:
        L, V = eigh(A)
        keep = L.abs() > _tolerance(L.abs(), atol, rtol, A.shape)
        inverse = where(keep, 1.0 / where(keep, L, 1.0), 0.0)
        return (V * inverse.unsqueeze(-2)) @ V.mT
    U, S, Vh = svd(A, full_matrices=False)
    keep = S > _tolerance(S, atol, rtol, A.shape)
    inverse = where(keep, 1.0 / where(keep, S, 1.0), 0.0)
    return (Vh.mT * inverse.unsqueeze(-2)) @ U.mT


def _pinv_backward(g, A, out):
    # PyTorch's pinv_backward (Golub and Pereyra), for a locally constant rank.
    m, n = A.shape[-2:]
    P, Pt, gt = out, out.mT, g.mT
    if m <= n:
        K = gt @ P
        KPt = K @ Pt
        return -(P @ K).mT + KPt - (A @ P) @ KPt + (Pt @ P) @ (gt - K @ A)
    K = P @ gt
    PtK = Pt @ K
    return -(K @ P).mT + (gt - A @ K) @ P @ Pt + PtK - PtK @ P @ A


LINALG_PINV = register(
    OpSpec(
        "linalg_pinv",
        "composite",
        ("A",),
        _pinv_infer,
        _pinv_backward,
        _pinv,
        explicit=True,
        accepts=LINALG_FLOATS,
        doc="The Moore-Penrose pseudoinverse, through the SVD (eigh when hermitian).",
    )
)


def _cutoffs(op, atol, rtol):
    for name, value in (("atol", atol), ("rtol", rtol)):
        if value is not None and not isinstance(value, (int, float)):
            raise TypeError(f"{op}: {name} must be a number or None, got {type(value).__name__}")
        if value is not None and value < 0:
            raise ArgumentError(f"{op}: {name} must be non-negative, got {value}")
    return atol, rtol


@public(LINALG_PINV, export=False)
def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The pseudoinverse: A (..., m, n) -> (..., n, m). Singular values at most
    max(atol, rtol * largest) count as zero (rtol: eps * max(m, n) unless given);
    `hermitian=True` takes A symmetric and uses its eigen decomposition (lower triangle)."""
    atol, rtol = _cutoffs("linalg.pinv", atol, rtol)
    check_input("linalg.pinv", A, square=bool(hermitian))
    return apply(LINALG_PINV, (A,), {"atol": atol, "rtol": rtol, "hermitian": bool(hermitian)})


def _matrix_rank_infer(A, atol, rtol, hermitian):
    check_matrix("linalg.matrix_rank", A, square=hermitian)
    return A.shape[:-2], dtypes.int64


def _matrix_rank(A, atol, rtol, hermitian):
    S = eigvalsh(A).abs() if hermitian else svdvals(A)
    return (S > _tolerance(S, atol, rtol, A.shape)).sum(-1)


LINALG_MATRIX_RANK = register(
    OpSpec(
        "linalg_matrix_rank",
        "composite",
        ("A",),
        _matrix_rank_infer,
        decompose=_matrix_rank,
        accepts=LINALG_FLOATS,
        doc="The numerical rank: how many singular values exceed the tolerance.",
    )
)


@public(LINALG_MATRIX_RANK, export=False)
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The numerical rank of each matrix (int64): A (..., m, n) -> (...), the number of
    singular values above max(atol, rtol * largest) (`tol`: PyTorch's older form of atol)."""
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _cutoffs("linalg.matrix_rank", atol, rtol)
    check_input("linalg.matrix_rank", A, square=bool(hermitian))
    return apply(LINALG_MATRIX_RANK, (A,), {"atol": atol, "rtol": rtol, "hermitian": bool(hermitian)})


# --- lstsq ---------------------------------------------------------------------------------------
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_infer(A, B, rcond, driver):
    check_matrix("linalg.lstsq", A)
    if B.ndim != A.ndim or B.shape[-2] != A.shape[-2]:
        raise ShapeError(
            f"linalg.lstsq: A (..., m, n) and B (..., m, k) must have the same number of rows, "
            f"got shapes {tuple(A.shape)} and {tuple(B.shape)}"
        )
    if A.dtype is not B.dtype:
        raise RuntimeError(
            f"linalg.lstsq: expected A and B to have the same dtype, but got A of type {A.dtype.name} "
            f"and B of type {B.dtype.name}"
        )
    m, n = A.shape[-2:]
    batch = broadcast_shapes("linalg.lstsq", A.shape[:-2], B.shape[:-2])
    rank = (A.shape[:-2], dtypes.int64) if driver != "gels" else ((0,), dtypes.int64)
    singular = (A.shape[:-2] + (min(m, n),), A.dtype) if driver in ("gelsd", "gelss") else ((0,), A.dtype)
    # the residuals are empty unless every matrix has full rank: known only from the values
    return (batch + (n, B.shape[-1]), A.dtype), (None, A.dtype), rank, singular


def _lstsq(A, B, rcond, driver):
    m, n = A.shape[-2:]
    X = pinv(A, rtol=rcond) @ B
    empty = A.new_zeros(0)
    full_rank = None
    if driver != "gels":
        S = svdvals(A)
        rank = (S > _tolerance(S, None, rcond, A.shape)).sum(-1)
        full_rank = bool((rank == min(m, n)).all())
    else:
        rank = A.new_zeros(0, dtype=dtypes.int64)
    residuals = empty
    if m > n and driver != "gelsy" and (full_rank is None or full_rank):
        residuals = ((A @ X - B) ** 2).sum(-2)
    singular = S if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X, residuals, rank, singular)


LINALG_LSTSQ = register(
    OpSpec(
        "linalg_lstsq",
        "composite",
        ("A", "B"),
        _lstsq_infer,
        decompose=_lstsq,
        outputs=4,
        accepts=LINALG_FLOATS,
        doc="(solution, residuals, rank, singular_values) of min ||A X - B||.",
    )
)


@public(LINALG_LSTSQ, export=False)
def lstsq(A, B, rcond=None, *, driver=None) -> LstsqResult:
    """The least squares solution of A X = B: A (..., m, n), B (..., m, k) -> X (..., n, k),
    the minimum-norm one (through the pseudoinverse; PyTorch's default 'gelsy' agrees for
    full-rank A). `residuals` (..., k), the squared residual norms, when m > n and every
    matrix has full rank (for drivers other than 'gelsy'), `rank` unless driver='gels',
    `singular_values` for 'gelsd' and 'gelss'; each is empty otherwise, as in PyTorch."""
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise ArgumentError(f"torch.linalg.lstsq: parameter `driver` should be one of {_DRIVERS}, got {driver!r}")
    check_input("linalg.lstsq", A)
    vector = B.ndim == A.ndim - 1
    if vector:
        B = B.unsqueeze(-1)
    result = apply(LINALG_LSTSQ, (A, B), {"rcond": rcond, "driver": driver})
    if vector:
        result = result._replace(solution=result.solution.squeeze(-1))
    return result
