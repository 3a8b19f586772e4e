"""Samples for `somegrad.ops.scatter`."""
