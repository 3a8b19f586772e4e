"""Samples for `somegrad.ops.statistics`."""
