"""Samples for `somegrad.ops.layout`."""
