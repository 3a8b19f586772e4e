"""The errors of `somegrad.distributed`, named and nested as PyTorch's."""

__all__ = ["DistError", "DistBackendError"]


class DistError(RuntimeError):
    """An error in distributed communication."""


class DistBackendError(DistError):
    """The communication backend failed (an MPI or NCCL error, a timeout, ranks that disagree)."""
