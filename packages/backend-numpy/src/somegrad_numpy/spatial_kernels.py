"""NumPy kernels for the spatial nn composites beyond conv2d and the 2-d pools (3-d conv and pools,
resampling, fold/unfold)."""

from __future__ import annotations

KERNELS: dict = {}
