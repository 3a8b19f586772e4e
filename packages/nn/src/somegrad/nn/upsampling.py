"""Resampling and spatial rearrangement modules: Upsample, PixelShuffle, Fold, Unfold,
and the 3-d conv and pool layers."""

__all__: list[str] = []
