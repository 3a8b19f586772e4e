"""Samples for `somegrad.ops.products`."""
