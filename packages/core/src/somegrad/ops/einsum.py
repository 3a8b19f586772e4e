"""einsum: Einstein summation, written over permute, reshape and matmul."""
