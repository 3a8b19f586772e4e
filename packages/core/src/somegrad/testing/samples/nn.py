"""Samples for the composites in `somegrad.ops.nn` (losses, normalisation, convolution,
pooling, embedding, attention). Each registers only when its op spec exists."""

from __future__ import annotations
