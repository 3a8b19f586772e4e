"""The linear algebra behind `somegrad.linalg`: norms, det, inv, solve, cholesky, qr, svd, eigh."""
