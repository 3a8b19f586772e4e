"""somegrad.nn: modules, layers, losses, `functional`, `init`, `utils` and `models`.

Names, signatures, defaults and initialisations follow PyTorch, so a model ports by
changing imports, and a state dict's keys are PyTorch's for the same model:

    from somegrad import nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
"""

from somegrad.nn import functional, init, lazy, rnn, transformer, upsampling, utils  # noqa: E402
from somegrad.nn.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from somegrad.nn.attention import MultiheadAttention
from somegrad.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from somegrad.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from somegrad.nn.distance import CosineSimilarity, PairwiseDistance
from somegrad.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from somegrad.nn.lazy import *  # noqa: F403
from somegrad.nn.linear import Bilinear, Flatten, Identity, Linear, Unflatten
from somegrad.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from somegrad.nn.module import Module
from somegrad.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    LocalResponseNorm,
    RMSNorm,
)
from somegrad.nn.parameter import Buffer, Parameter
from somegrad.nn.pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from somegrad.nn.rnn import *  # noqa: F403
from somegrad.nn.sparse import Embedding, EmbeddingBag
from somegrad.nn.transformer import *  # noqa: F403
from somegrad.nn.upsampling import *  # noqa: F403

__all__ = [
    "functional",
    "init",
    "utils",
    "Module",
    "Parameter",
    "Buffer",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "ParameterList",
    "ParameterDict",
    "Identity",
    "Linear",
    "Bilinear",
    "Flatten",
    "Unflatten",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Embedding",
    "EmbeddingBag",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LocalResponseNorm",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "PairwiseDistance",
    "CosineSimilarity",
    "ReLU",
    "LeakyReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "LogSoftmax",
    "Softplus",
    "ELU",
    "ReLU6",
    "Hardtanh",
    "Mish",
    "GLU",
    "SELU",
    "CELU",
    "Hardswish",
    "Hardsigmoid",
    "Softsign",
    "LogSigmoid",
    "Tanhshrink",
    "Softshrink",
    "Hardshrink",
    "Threshold",
    "RReLU",
    "PReLU",
    "Softmin",
    "Softmax2d",
    "MultiheadAttention",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
    "PoissonNLLLoss",
    "GaussianNLLLoss",
    "CosineEmbeddingLoss",
    "MarginRankingLoss",
    "HingeEmbeddingLoss",
    "SoftMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "MultiLabelMarginLoss",
    "models",  # noqa: F405  (lazy: __getattr__ below)
    "parallel",  # noqa: F405
    *lazy.__all__,
    *rnn.__all__,
    *transformer.__all__,
    *upsampling.__all__,
]

# Imported on first access (`sg.nn.models.GPT` after a plain `import somegrad as sg`): models
# are built from the layers above, and parallel needs somegrad.distributed.
_LAZY_SUBMODULES = ("models", "parallel")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"somegrad.nn.{name}")
    raise AttributeError(f"module 'somegrad.nn' has no attribute {name!r}")
