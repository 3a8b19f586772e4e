"""Turning a list of samples into a batch: ``default_collate`` and ``default_convert``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import somegrad as sg

__all__ = ["default_collate", "default_convert", "move_to_device"]


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure (as PyTorch does).

    ========================  ==========================================================
    each sample is            the batch is
    ========================  ==========================================================
    Tensor of shape S         Tensor of shape (B, *S)  (``sg.stack``)
    numpy array of shape S    Tensor of shape (B, *S)
    float / int / bool        Tensor (B,) of float64 / int64 / bool
    numpy scalar              Tensor (B,) of its dtype
    str or bytes              the list itself
    dict                      dict of collated values, key by key
    namedtuple                the namedtuple of collated fields
    tuple or list             a list of collated positions (``x, y = batch`` works)
    ========================  ==========================================================
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, sg.Tensor):
        shapes = {tuple(t.shape) for t in batch}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: tensors in a batch must all have the same shape, got {sorted(shapes)}")
        return sg.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: cannot batch numpy arrays of dtype {elem.dtype}")
        shapes = {a.shape for a in batch}
        if len(shapes) > 1:
            raise ValueError(
                f"default_collate: numpy arrays in a batch must all have the same shape, got {sorted(shapes)}"
            )
        return sg.from_numpy(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind in "biuf":
        return sg.from_numpy(np.array(batch))
    if isinstance(elem, bool):
        return sg.tensor(list(batch), dtype=sg.bool)
    if isinstance(elem, int):
        return sg.tensor(list(batch), dtype=sg.int64)
    if isinstance(elem, float):
        return sg.tensor(list(batch), dtype=sg.float64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise ValueError(f"default_collate: every sample in a batch must have the same length, got {sorted(sizes)}")
        return [default_collate(list(position)) for position in zip(*batch, strict=True)]
    raise TypeError(
        "default_collate: samples must be tensors, numpy arrays, numbers, strings, dicts, "
        f"tuples or lists; found {type(elem).__name__}"
    )


def default_convert(data: Any) -> Any:
    """Convert numpy arrays (inside any structure) to tensors without batching them."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return sg.from_numpy(data)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(value) for value in data)
    return data


def move_to_device(data: Any, device: Any) -> Any:
    """Move every tensor inside a batch (tensor, dict, list, tuple, namedtuple) to ``device``."""
    if isinstance(data, sg.Tensor):
        return data.to(device)
    if isinstance(data, Mapping):
        return {key: move_to_device(value, device) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(move_to_device(value, device) for value in data))
    if isinstance(data, (list, tuple)):
        return type(data)(move_to_device(value, device) for value in data)
    return data
