"""Samples for `somegrad.ops.pointwise`."""
