"""embedding: rows of a weight matrix at integer indices, and its scatter-add backward."""

from __future__ import annotations

from somegrad import dtypes
from somegrad.errors import DTypeError, ShapeError
from somegrad.ops import elementwise as ew
from somegrad.ops.creation import arange, zeros
from somegrad.ops.dispatch import apply
from somegrad.ops.indexing import scatter_add
from somegrad.ops.nn.composite import composite
from somegrad.ops.spec import FLOATING, INTEGERS, public


def _embedding_infer(weight, indices, padding_idx):
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), got {tuple(weight.shape)}")
    if indices.dtype.is_floating_point or indices.dtype is dtypes.bool_:
        raise DTypeError(f"embedding: indices must be an integer tensor, got {indices.dtype.name}")
    return indices.shape + (weight.shape[1],), weight.dtype


def _embedding_backward_infer(g, indices, num_weights, padding_idx):
    return (num_weights, g.shape[-1]), g.dtype


def _embedding_backward_formula(g, indices, num_weights, padding_idx):
    dim = g.shape[-1]
    flat_index = indices.reshape(-1, 1).expand(-1, dim)
    out = scatter_add(zeros((num_weights, dim), dtype=g.dtype, device=g.device), 0, flat_index, g.reshape(-1, dim))
    if padding_idx is not None:
        out = ew.where(arange(num_weights, device=g.device).reshape(-1, 1) == padding_idx, 0.0, out)
    return out


def _embedding_backward_backward(grad, indices, padding_idx):
    if padding_idx is not None:
        rows = arange(grad.shape[0], device=grad.device).reshape(-1, 1)
        grad = ew.where(rows == padding_idx, 0.0, grad)
    return embedding(indices, grad), None


EMBEDDING_BACKWARD = composite(
    "embedding_backward",
    ("g", "indices"),
    _embedding_backward_infer,
    _embedding_backward_backward,
    _embedding_backward_formula,
    doc="The weight gradient of embedding: g scatter-added into rows `indices`.",
    accepts={"g": FLOATING, "indices": INTEGERS},
)


def _embedding_backward(g, indices, input_shape, padding_idx):
    params = {"num_weights": input_shape[0], "padding_idx": padding_idx}
    return apply(EMBEDDING_BACKWARD, (g, indices), params), None


EMBEDDING = composite(
    "embedding",
    ("weight", "indices"),
    _embedding_infer,
    _embedding_backward,
    lambda weight, indices, padding_idx: weight[indices],
    doc="Rows of weight (num_embeddings, dim) at integer indices (*) -> (*, dim).",
    accepts={"weight": FLOATING, "indices": INTEGERS},
)


@public(EMBEDDING, export=False)
def embedding(input, weight, padding_idx=None):
    """Rows of `weight` at the integer `input`: (*) -> (*, embedding_dim). The row at
    `padding_idx` gets no gradient."""
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if input.numel():
        low, high = int(input.min().item()), int(input.max().item())
        if low < 0 or high >= num:
            bad = high if high >= num else low
            raise IndexError(f"embedding: index {bad} is out of range for an embedding of {num} rows")
    return apply(EMBEDDING, (weight, input), {"padding_idx": padding_idx})
