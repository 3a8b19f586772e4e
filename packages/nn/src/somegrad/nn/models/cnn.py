"""`CNN`: a small convolutional classifier for single-channel images (MNIST, digits)."""

from __future__ import annotations

from somegrad.nn.activation import ReLU
from somegrad.nn.container import Sequential
from somegrad.nn.conv import Conv2d
from somegrad.nn.dropout import Dropout
from somegrad.nn.linear import Flatten, Linear
from somegrad.nn.module import Module
from somegrad.nn.normalization import BatchNorm2d
from somegrad.nn.pooling import MaxPool2d


class CNN(Module):
    """Two conv(3x3) -> [BatchNorm] -> ReLU -> MaxPool(2) stages, then a 2-layer classifier.

    input: (N, in_channels, image_size, image_size) -> logits (N, num_classes). The image
    size must be divisible by 4 (28 for MNIST, 8 for sklearn's digits).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        channels=(16, 32),
        hidden: int = 128,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"CNN: image_size must be divisible by 4, got {image_size}")
        c1, c2 = channels

        def stage(cin, cout):
            layers = [Conv2d(cin, cout, 3, padding=1)]
            if batch_norm:
                layers.append(BatchNorm2d(cout))
            return layers + [ReLU(), MaxPool2d(2)]

        self.features = Sequential(*stage(in_channels, c1), *stage(c1, c2))
        side = image_size // 4
        self.classifier = Sequential(
            Flatten(),
            Linear(c2 * side * side, hidden),
            ReLU(),
            Dropout(dropout),
            Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
