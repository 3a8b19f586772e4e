"""Samples for `somegrad.ops.sets`."""
