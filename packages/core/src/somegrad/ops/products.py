"""The matrix products PyTorch names apart from matmul: mm, bmm, mv, dot, outer, addmm, baddbmm."""
