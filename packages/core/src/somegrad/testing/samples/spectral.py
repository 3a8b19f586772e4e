"""Samples for `somegrad.ops.spectral`."""
