"""`MLP`: Linear layers with an activation (and optional dropout) between them."""

from __future__ import annotations

from somegrad.nn.activation import ReLU
from somegrad.nn.container import Sequential
from somegrad.nn.dropout import Dropout
from somegrad.nn.linear import Flatten, Linear
from somegrad.nn.module import Module


class MLP(Sequential):
    """in_features -> hidden_features... -> out_features, flattening (N, *) inputs first.

    MLP(784, [256, 128], 10)    # 784 -> 256 -> ReLU -> 128 -> ReLU -> 10
    """

    def __init__(
        self,
        in_features: int,
        hidden_features=(128,),
        out_features: int = 10,
        activation=ReLU,
        dropout: float = 0.0,
        bias: bool = True,
    ):
        if isinstance(hidden_features, int):
            hidden_features = (hidden_features,)
        layers: list[Module] = [Flatten()]
        width = in_features
        for hidden in hidden_features:
            layers += [Linear(width, hidden, bias=bias), activation()]
            if dropout:
                layers.append(Dropout(dropout))
            width = hidden
        layers.append(Linear(width, out_features, bias=bias))
        super().__init__(*layers)
