"""Samples for resampling and the other spatial nn composites (interpolate, fold/unfold, 3-d conv and pools)."""
