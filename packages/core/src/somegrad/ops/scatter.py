"""Writing into a tensor by index or mask: scatter, scatter_reduce, index_add, index_copy, index_put,
masked_select, masked_scatter."""
