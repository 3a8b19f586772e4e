"""`somegrad.linalg`: PyTorch's `torch.linalg` (norms, det, inv, solve, cholesky, qr, svd, eigh)."""
