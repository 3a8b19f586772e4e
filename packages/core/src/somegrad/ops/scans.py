"""Cumulative ops along a dim: cumprod, cummax, cummin, logcumsumexp."""
