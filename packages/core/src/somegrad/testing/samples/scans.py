"""Samples for `somegrad.ops.scans`."""
