"""Diagonals, rolls and splits: diag, diagonal, diag_embed, trace, tril/triu indices, roll, Tensor.unfold,
repeat_interleave, meshgrid, unbind, tensor_split."""
