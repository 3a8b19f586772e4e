"""Array API kernels for the discrete Fourier transforms (somegrad.fft);
merged into the shared table by `array_api_kernels`."""

from __future__ import annotations

# the kernels whose float16/bfloat16 inputs a backend should compute in float32, and those
# whose results can be inf or NaN from finite inputs (the numpy backend silences its warnings)
FLOAT_MATH: frozenset[str] = frozenset()
QUIET: frozenset[str] = frozenset()


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""
    return {}
