"""Array API kernels for the layout family (the index creators `tril_indices` and `triu_indices`;
the rest of the family are composites); merged into the shared table by `array_api_kernels`."""

from __future__ import annotations

from somegrad import dtypes

# the kernels whose float16/bfloat16 inputs a backend should compute in float32, and those
# whose results can be inf or NaN from finite inputs (the numpy backend silences its warnings)
FLOAT_MATH: frozenset[str] = frozenset()
QUIET: frozenset[str] = frozenset()


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""
    int64 = native(dtypes.int64)

    def astype(x, dtype):  # NumPy 1.x and CuPy 13 have the method, not the standard's function
        return xp.astype(x, dtype) if hasattr(xp, "astype") else x.astype(dtype)

    def triangle_indices(lower):
        def kernel(device, row, col, offset, dtype):
            rows = xp.reshape(xp.arange(row, dtype=int64), (row, 1))
            cols = xp.reshape(xp.arange(col, dtype=int64), (1, col))
            # the mask's nonzero positions, in row-major order, are the triangle's indices
            mask = (cols - rows <= offset) if lower else (cols - rows >= offset)
            r, c = xp.nonzero(xp.broadcast_to(mask, (row, col)))
            return astype(xp.stack([r, c]), native(dtype))

        return kernel

    return {"tril_indices": triangle_indices(True), "triu_indices": triangle_indices(False)}
