"""Samples for `somegrad.ops.decompositions`."""
