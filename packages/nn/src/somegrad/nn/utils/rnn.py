"""`somegrad.nn.utils.rnn`: packed and padded batches of sequences of different lengths.

A `PackedSequence` stores the time steps of a batch one after another, each step holding only
the sequences still running at it (longest first), so a recurrent layer never computes over
padding:

    padded = pad_sequence([a, b, c])                       # (T, B, *), T the longest length
    packed = pack_padded_sequence(padded, [5, 3, 2])       # data (5 + 3 + 2, *), batch_sizes (T,)
    output, h_n = nn.LSTM(8, 16)(packed)                   # a PackedSequence again
    output, lengths = pad_packed_sequence(output)          # (T, B, 16), lengths (B,)

Packing and unpacking are one gather each (`index_select` with indices computed on the host),
so their gradients are one scatter, whatever the number of steps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import somegrad as sg
from somegrad.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """A packed batch: `data` (sum of the lengths, *), `batch_sizes` (T,) int64 on the CPU (how
    many sequences run at each step), and, when the batch was sorted by length on packing,
    `sorted_indices` (B,) (sorted position -> original) and `unsorted_indices` (its inverse).

    Build one with `pack_padded_sequence` or `pack_sequence`, not by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PyTorch's form PackedSequence((data, batch_sizes), ...)
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data) -> PackedSequence:
        indices = [None if i is None else i.to(data.device) for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """`data` moved or converted as `Tensor.to` does; the indices follow its device."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self._with_data(self.data.cuda(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self._with_data(self.data.cpu())

    def double(self) -> PackedSequence:
        return self.to(sg.float64)

    def float(self) -> PackedSequence:
        return self.to(sg.float32)

    def half(self) -> PackedSequence:
        return self.to(sg.float16)

    @property
    def is_cuda(self) -> bool:
        return self.data.device.type == "cuda"

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None)."""
    if permutation is None:
        return None
    order = permutation.detach().cpu().numpy().astype(np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return sg.tensor(inverse, dtype=sg.int64, device=permutation.device)


def _host_lengths(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D tensor")
        return lengths.detach().cpu().numpy().astype(np.int64)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _index(values: np.ndarray, device) -> Tensor:
    return sg.tensor(values.astype(np.int64), dtype=sg.int64, device=device)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Pack a padded batch. input: (T, B, *) or, with `batch_first`, (B, T, *); lengths: B ints
    (a list or a 1-d int64 tensor). With `enforce_sorted` the lengths must be non-increasing;
    otherwise the batch is sorted here and `sorted_indices` records the order."""
    lengths = _host_lengths(lengths)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1] if input.ndim > 1 else 0
    if lengths.size != batch:
        raise RuntimeError(
            f"pack_padded_sequence: expected `lengths` to have {batch} elements (the batch size), got {lengths.size}"
        )
    if enforce_sorted:
        if np.any(lengths[:-1] < lengths[1:]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _index(order, input.device)
    lengths = lengths[order]
    if batch and lengths[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if batch and lengths[0] > steps:
        raise RuntimeError(
            f"pack_padded_sequence: the longest length is {int(lengths[0])} but the input has only {steps} steps"
        )
    longest = int(lengths[0]) if batch else 0
    running = np.arange(longest)[:, None] < lengths[None, :]  # (T, B) in sorted order
    step_index, row = np.nonzero(running)  # row-major: step by step, longest sequence first
    flat = step_index * batch + order[row]
    data = input.reshape(steps * batch, *input.shape[2:]).index_select(0, _index(flat, input.device))
    batch_sizes = sg.tensor(running.sum(1).astype(np.int64), dtype=sg.int64)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
):
    """Undo `pack_padded_sequence`: returns (padded (T, B, *) or (B, T, *), lengths (B,) int64),
    in the batch's original order. `total_length` pads to that many steps (at least the longest)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes.detach().cpu().numpy().astype(np.int64)
    longest = batch_sizes.size
    if total_length is not None:
        if total_length < longest:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {longest}"
            )
        steps = int(total_length)
    else:
        steps = longest
    batch = int(batch_sizes[0]) if longest else 0
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)  # (B,) in sorted order
    running = np.arange(steps)[:, None] < lengths[None, :]  # (T, B)
    # Each running (step, sequence) is the next row of data in row-major order; the rest read
    # the padding row appended after the data.
    rows = np.where(running, np.cumsum(running.reshape(-1)).reshape(running.shape) - 1, data.shape[0])
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices.detach().cpu().numpy().astype(np.int64)
        rows, lengths = rows[:, unsorted], lengths[unsorted]
    if batch_first:
        rows = rows.T
    padding = sg.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    extended = sg.cat([data, padding], 0)
    padded = extended.index_select(0, _index(rows.reshape(-1), data.device)).reshape(*rows.shape, *data.shape[1:])
    return padded, sg.tensor(lengths.astype(np.int64), dtype=sg.int64)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack sequences of shapes (L_i, *) into (T, B, *) (or (B, T, *)), T the longest L_i,
    padding with `padding_value` on the right (or on the left with padding_side="left")."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = [sequences[i] for i in range(sequences.shape[0])] if isinstance(sequences, Tensor) else list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = sequences[0].shape[1:]
    for s in sequences:
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise RuntimeError(
                "pad_sequence: every sequence must be (L_i, *) with the same trailing dims, got shapes "
                f"{[tuple(t.shape) for t in sequences]}"
            )
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(steps)[:, None]
    offset = t if padding_side == "right" else t - (steps - lengths[None, :])
    running = (offset >= 0) & (offset < lengths[None, :])
    rows = np.where(running, starts[None, :] + offset, lengths.sum())  # (T, B); the padding row at the end
    if batch_first:
        rows = rows.T
    first = sequences[0]
    padding = sg.full((1, *trailing), padding_value, dtype=first.dtype, device=first.device)
    extended = sg.cat([*sequences, padding], 0)
    return extended.index_select(0, _index(rows.reshape(-1), first.device)).reshape(*rows.shape, *trailing)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """Undo `pad_sequence`: the list of the B sequences (L_i, *)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(_host_lengths(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (longest first unless `enforce_sorted=False`)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo `pack_sequence`: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
