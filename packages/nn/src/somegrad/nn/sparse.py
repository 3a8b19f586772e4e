"""`Embedding`, a lookup table of vectors, and `EmbeddingBag`, sums, means or maxima of its
rows over bags of indices."""

from __future__ import annotations

import somegrad as sg
from somegrad.nn import functional as F
from somegrad.nn import init
from somegrad.nn.functional_sparse import EmbeddingArgumentError, padding_index
from somegrad.nn.linear import empty_parameter
from somegrad.nn.module import Module
from somegrad.nn.parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _table(module, num_embeddings, embedding_dim, _weight, device, dtype):
    if _weight is None:
        module.weight = empty_parameter(num_embeddings, embedding_dim, device=device, dtype=dtype)
        module.reset_parameters()
    else:
        if tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError(
                f"{type(module).__name__}: Shape of weight {tuple(_weight.shape)} does not match num_embeddings "
                f"and embedding_dim ({num_embeddings}, {embedding_dim})"
            )
        module.weight = Parameter(_weight)


def _zero_padding_row(module):
    init.normal_(module.weight)
    if module.padding_idx is not None:
        with sg.no_grad():
            module.weight[module.padding_idx] = 0.0


def _check_pretrained(embeddings):
    if embeddings.ndim != 2:
        raise EmbeddingArgumentError(f"Embeddings parameter is expected to be 2-dimensional, got {embeddings.ndim}D")


class Embedding(Module):
    """Rows of `weight` (num_embeddings, embedding_dim), initialised N(0, 1), at integer
    indices: (*) -> (*, embedding_dim). The `padding_idx` row starts at zero and gets no
    gradient; `max_norm` rescales, in place, looked-up rows whose `norm_type`-norm exceeds it;
    `scale_grad_by_freq` divides each row's gradient by its count in the batch. `sparse` is
    accepted, and the gradient is dense."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_index(padding_idx, num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        _table(self, num_embeddings, embedding_dim, _weight, device, dtype)
        self.weight.requires_grad = not _freeze

    def reset_parameters(self) -> None:
        _zero_padding_row(self)

    def forward(self, input):
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding `embeddings` (rows, dim) as its weight (not trained with `freeze`)."""
        _check_pretrained(embeddings)
        rows, dim = embeddings.shape
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings.detach().clone(),
            _freeze=freeze,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text + (", sparse=True" if self.sparse else "")


class EmbeddingBag(Module):
    """The sum, mean or max of the embeddings in each bag: input (B, L) of fixed-length bags, or
    1-d indices with `offsets` (B,) where each bag starts -> (B, embedding_dim). `weight` is
    (num_embeddings, embedding_dim), initialised N(0, 1); `per_sample_weights` (mode "sum")
    weighs each index; `padding_idx` entries are left out of the bag."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight=None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = padding_index(padding_idx, num_embeddings, "EmbeddingBag")
        _table(self, num_embeddings, embedding_dim, _weight, device, dtype)

    def reset_parameters(self) -> None:
        _zero_padding_row(self)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag holding `embeddings` (rows, dim) as its weight (not trained with `freeze`)."""
        _check_pretrained(embeddings)
        rows, dim = embeddings.shape
        bag = cls(
            rows,
            dim,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            mode,
            sparse,
            embeddings.detach().clone(),
            include_last_offset,
            padding_idx,
        )
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        text += f", mode={self.mode!r}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
