"""Array API kernels for linear algebra (somegrad.linalg); merged into
the shared table by `array_api_kernels`.

Each kernel is one call of the standard's `linalg` extension (`xp.linalg.det`, `inv`, `solve`,
`cholesky`, `qr`, `svd`, `svdvals`, `eigh`, `eigvalsh`, `slogdet`) on a batch of matrices
`(..., m, n)`. The factorizations with several results return them packed into one array
(see `somegrad.ops.decompositions`), so that one node of the graph holds all of them for the
backward:

* `linalg_slogdet_packed`: `(..., 2)`, the sign then log|det|;
* `linalg_qr_packed`: `(..., m + n, w)`, Q's rows above R's columns (R transposed), w the
  columns of Q (k = min(m, n) reduced, m complete);
* `linalg_svd_packed`: `(..., m + 1 + n, w)`, U's rows, then S, then V's rows (Vh
  transposed), zero-padded to w columns (k reduced, max(m, n) with full matrices);
* `linalg_eigh_packed`: `(..., n + 1, n)`, the eigenvalues (ascending) above the eigenvectors.

A singular or non-positive-definite input makes NumPy (and libraries built on it) raise
`numpy.linalg.LinAlgError`; the op layer turns that into `somegrad.linalg.LinAlgError`. CuPy
only raises it inside `cupyx.errstate(linalg="raise")` (it returns NaN otherwise): its
factorizations run inside one, as PyTorch's CUDA kernels check their info too.
"""

from __future__ import annotations

# the kernels whose float16/bfloat16 inputs a backend should compute in float32, and those
# whose results can be inf or NaN from finite inputs (the numpy backend silences its warnings)
FLOAT_MATH: frozenset[str] = frozenset()
QUIET: frozenset[str] = frozenset({"linalg_det", "linalg_slogdet_packed", "linalg_svdvals", "linalg_svd_packed"})


def _raising(xp, kernel):
    """`kernel` raising LinAlgError on singular input where the library only does when asked
    (CuPy); `kernel` itself elsewhere."""
    if getattr(xp, "__name__", "") != "cupy":
        return kernel
    try:
        import cupyx
    except ImportError:
        return kernel

    def checked(*args, **params):
        with cupyx.errstate(linalg="raise"):
            return kernel(*args, **params)

    return checked


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""
    linalg = getattr(xp, "linalg", None)
    if linalg is None:  # a library without the linalg extension: the ops report no kernel
        return {}

    def transpose(x):
        axes = list(range(x.ndim))
        axes[-2], axes[-1] = axes[-1], axes[-2]
        return xp.permute_dims(x, tuple(axes))

    def pad_columns(x, width):
        missing = width - x.shape[-1]
        if missing == 0:
            return x
        # (on the current device, as the shared kernels allocate: CuPy's zeros take no device)
        zeros = xp.zeros(x.shape[:-1] + (missing,), dtype=x.dtype)
        return xp.concat([x, zeros], axis=-1)

    def det(x):
        return linalg.det(x)

    def slogdet_packed(x):
        sign, logabsdet = linalg.slogdet(x)
        return xp.stack([xp.asarray(sign), xp.asarray(logabsdet)], axis=-1)

    def inv(x):
        return linalg.inv(x)

    def solve(a, b):
        return linalg.solve(a, b)

    def cholesky(x):
        return linalg.cholesky(x)

    def qr_packed(x, mode):
        q, r = linalg.qr(x, mode=mode)
        return xp.concat([q, transpose(r)], axis=-2)

    def svd_packed(x, full_matrices):
        m, n = x.shape[-2:]
        u, s, vh = linalg.svd(x, full_matrices=full_matrices)
        width = max(m, n) if full_matrices else min(m, n)
        parts = [pad_columns(u, width), pad_columns(s[..., None, :], width), pad_columns(transpose(vh), width)]
        return xp.concat(parts, axis=-2)

    svdvals_of = getattr(linalg, "svdvals", None)

    def svdvals(x):
        if svdvals_of is not None:
            return svdvals_of(x)
        return linalg.svd(x, compute_uv=False)  # CuPy's, which predates the standard's svdvals

    def eigh_packed(x):
        values, vectors = linalg.eigh(x)
        return xp.concat([values[..., None, :], vectors], axis=-2)

    def eigvalsh(x):
        return linalg.eigvalsh(x)

    return {
        "linalg_det": det,
        "linalg_slogdet_packed": slogdet_packed,
        "linalg_inv": _raising(xp, inv),
        "linalg_solve": _raising(xp, solve),
        "linalg_cholesky": _raising(xp, cholesky),
        "linalg_qr_packed": qr_packed,
        "linalg_svd_packed": svd_packed,
        "linalg_svdvals": svdvals,
        "linalg_eigh_packed": eigh_packed,
        "linalg_eigvalsh": eigvalsh,
    }
