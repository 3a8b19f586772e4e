"""Samples for `somegrad.ops.einsum`."""
