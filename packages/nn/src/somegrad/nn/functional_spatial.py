"""The spatial part of `somegrad.nn.functional`: interpolate, fold/unfold, pad modes, 3-d conv and pools,
unpooling, pixel_shuffle. `functional` re-exports everything here."""

__all__: list[str] = []
