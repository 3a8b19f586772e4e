"""MNIST from a folder of the four standard IDX files (bring your own; nothing is downloaded)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

import somegrad as sg

from .dataset import Dataset
from .idx import IDXFormatError, read_idx

__all__ = ["MNIST"]

_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(root: str, name: str) -> str:
    tried = []
    for folder in (root, os.path.join(root, "MNIST", "raw"), os.path.join(root, "raw")):
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
            tried.append(path)
    raise FileNotFoundError(
        f"MNIST: {name}[.gz] not found; looked for {', '.join(tried)}. "
        "Download the four MNIST IDX files into that folder first."
    )


class MNIST(Dataset[tuple[Any, int]]):
    """MNIST digits from ``root``: ``(image, label)`` pairs.

    ``root`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each may end in ``.gz``), directly
    or in ``root/MNIST/raw`` (torchvision's layout).

    Args:
        train: the 60,000 training digits (default) or the 10,000 test digits.
        transform: applied to each image. Without one, an image is a float32 tensor
            ``(1, 28, 28)`` with values in [0, 1] (torchvision's ``ToTensor()`` output).
        target_transform: applied to each label (a Python int).

    Attributes: ``data``, uint8 numpy ``(N, 28, 28)``; ``targets``, int64 numpy ``(N,)``.
    """

    classes = [str(i) for i in range(10)]

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
    ) -> None:
        root = os.fspath(root)
        image_path, label_path = (_find(root, name) for name in _FILES[bool(train)])
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise IDXFormatError(
                f"MNIST: {image_path}: expected uint8 images (N, rows, cols), got {images.dtype} {images.shape}"
            )
        if labels.ndim != 1 or len(labels) != len(images):
            raise IDXFormatError(
                f"MNIST: {label_path} has labels of shape {labels.shape}, expected "
                f"({len(images)},) to match {image_path}"
            )
        self.root = root
        self.train = bool(train)
        self.data = images
        self.targets = labels.astype(np.int64)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = self.data[index]
        label: Any = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        else:
            image = sg.from_numpy((image.astype(np.float32) / 255.0)[None])
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label
