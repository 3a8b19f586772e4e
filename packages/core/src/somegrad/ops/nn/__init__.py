"""The composites that somegrad.nn builds on: linear, embedding, normalisation, losses,
attention, convolution and pooling. They live in the core so that every backend and the
conformance suite see them without somegrad.nn installed.

Every op here is an explicit composite: it records one graph node with its own backward,
and its `decompose` (written with Tensor ops) is the specification that a backend's fused
kernel must agree with. Where a fused backward pays off, the backward is itself an op
(`layer_norm_backward`, `cross_entropy_backward`, `conv2d_backward_input`, ...) with a
decomposition and, on NumPy, a kernel. Backward ops that have no backward of their own are
only used when no graph is being recorded; with `create_graph=True` the backward rules
run the differentiable Tensor-op formulas instead.

One module per family: `linear`, `embedding`, `normalization`, `loss`, `attention`, `conv`,
`conv3d`, `pooling`, `pooling_nd`, `fold`, `resample`, `grid`. The public functions own PyTorch's
semantics (argument forms, defaults, dtype promotion); `somegrad.nn.functional` re-exports them
with PyTorch's signatures.
"""

from somegrad.ops.nn.attention import scaled_dot_product_attention
from somegrad.ops.nn.conv import conv2d, conv_output_size, conv_transpose2d  # noqa: F401
from somegrad.ops.nn.conv3d import conv3d, conv_transpose3d
from somegrad.ops.nn.embedding import embedding
from somegrad.ops.nn.fold import fold, unfold
from somegrad.ops.nn.linear import linear
from somegrad.ops.nn.loss import cross_entropy, nll_loss  # noqa: F401
from somegrad.ops.nn.normalization import batch_norm_train, layer_norm
from somegrad.ops.nn.pooling import avg_pool2d, max_pool2d
from somegrad.ops.nn.pooling_nd import avg_pool3d, max_pool3d
from somegrad.ops.nn.recurrent import lstm_cell  # noqa: F401
from somegrad.ops.nn.resample import interpolate, pixel_shuffle, pixel_unshuffle

__all__ = [
    "linear",
    "embedding",
    "layer_norm",
    "batch_norm_train",
    "cross_entropy",
    "scaled_dot_product_attention",
    "conv2d",
    "conv_transpose2d",
    "max_pool2d",
    "avg_pool2d",
    "conv3d",
    "conv_transpose3d",
    "max_pool3d",
    "avg_pool3d",
    "unfold",
    "fold",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
]
