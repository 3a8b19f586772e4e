"""Samples for `somegrad.ops.special`."""
