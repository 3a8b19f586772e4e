"""somegrad: a deep learning framework, readable end to end, with pluggable backends.

    import somegrad as sg
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])

`somegrad.nn`, `somegrad.optim`, `somegrad.data` and `somegrad.train` come from the
separate distributions somegrad-nn and somegrad-train, which share this namespace.
"""

# ruff: noqa: I001  (the order matters: extend_path first, Tensor before the ops that use it)
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

import importlib.abc as _abc  # noqa: E402
import sys as _sys  # noqa: E402

__version__ = "0.1.0"


class _MissingDistributionFinder(_abc.MetaPathFinder):
    """Turn `import somegrad.nn` without somegrad-nn installed into an error that says what
    to install. It sits last on sys.meta_path, so it only sees imports nothing else found."""

    DISTRIBUTIONS = {
        "somegrad.nn": "somegrad-nn",
        "somegrad.optim": "somegrad-train",
        "somegrad.data": "somegrad-train",
        "somegrad.train": "somegrad-train",
        "somegrad.utils.data": "somegrad-train",
    }

    def find_spec(self, name, path=None, target=None):
        distribution = self.DISTRIBUTIONS.get(name)
        if distribution is not None:
            raise ModuleNotFoundError(
                f"No module named {name!r}: it is provided by the {distribution} distribution "
                f"(pip install {distribution})",
                name=name,
            )
        return None


if not any(isinstance(f, _MissingDistributionFinder) for f in _sys.meta_path):
    _sys.meta_path.append(_MissingDistributionFinder())

from somegrad import dtypes  # noqa: E402
from somegrad.dtypes import (  # noqa: E402
    DType,
    bfloat16,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from somegrad.dtypes import bool_ as bool  # noqa: E402, A001
from somegrad.dtypes import promote_types, result_type  # noqa: E402
from somegrad.device import Device, device  # noqa: E402
from somegrad.hookspecs import hookimpl  # noqa: E402
from somegrad.tensor import Tensor  # noqa: E402
from somegrad import autograd  # noqa: E402
from somegrad.autograd import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from somegrad.ops import *  # noqa: E402, F401, F403  (rand, randn, randint and multinomial among them)
from somegrad.random import (  # noqa: E402
    Generator,
    bernoulli,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    normal,
    rand_like,
    randint_like,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from somegrad import accelerator, backends, cuda, viz  # noqa: E402
from somegrad.printing import get_printoptions, printoptions, set_printoptions  # noqa: E402
from somegrad.layouts import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    preserve_format,
    strided,
)
from somegrad.threads import get_num_threads, set_num_threads  # noqa: E402
from somegrad.ops.joins import broadcast_shapes  # noqa: E402
from somegrad.ops.special_numbers import finfo, iinfo  # noqa: E402
from somegrad.ops.sets import (  # noqa: E402  (the queries PyTorch also has as functions)
    detach,
    is_complex,
    is_conj,
    is_floating_point,
    is_neg,
    is_nonzero,
    is_same_size,
    is_signed,
    resolve_conj,
    resolve_neg,
)
from somegrad.backends import default_device, get_backend, set_default_device  # noqa: E402
from somegrad.backends import backends as list_backends  # noqa: E402
from somegrad.serialization import SerializationError, load, load_metadata, save  # noqa: E402

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128


def is_tensor(obj):
    """Whether `obj` is a somegrad Tensor."""
    return isinstance(obj, Tensor)


def equal(a, b):
    """True when `a` and `b` have the same shape and the same values (a Python bool)."""
    return tuple(a.shape) == tuple(b.shape) and all(eq(a, b)).item()


def numel(x):
    """The number of elements of `x`; the same as `x.numel()`."""
    return x.numel()


def from_dlpack(array):
    """A tensor over an object that supports DLPack (`__dlpack__`), sharing its memory.

    CPU arrays (NumPy, PyTorch CPU tensors...) become "cpu" tensors; others need a backend
    for their device that accepts DLPack."""
    import numpy as np

    device_type, _ = array.__dlpack_device__()
    if device_type != 1:  # kDLCPU
        cuda = backends.backend_for(device("cuda"))
        return cuda.from_dlpack(array)
    return from_numpy(np.from_dlpack(array))


_SUBPACKAGES = ("nn", "optim", "data", "train", "distributed", "amp", "profiler", "utils", "linalg", "fft", "special")
# names that live in a subpackage imported on first use: name -> (module, attribute)
_LAZY = {
    "autocast": ("somegrad.amp", "autocast"),
    "is_autocast_enabled": ("somegrad.amp.autocast_mode", "is_autocast_enabled"),
    "get_autocast_dtype": ("somegrad.amp.autocast_mode", "get_autocast_dtype"),
    "compile": ("somegrad.compile", "compile"),
}
# PyTorch's top-level forms of nn functions (`torch.conv2d`), where their arguments are
# nn.functional's: from somegrad.nn, imported on first use. (`torch.embedding`, `torch.batch_norm`
# and the losses order or encode their arguments differently, so they are not aliased.)
_NN_FUNCTIONS = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
    "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "dropout", "alpha_dropout",
    "feature_alpha_dropout", "layer_norm", "group_norm", "rms_norm", "bilinear", "pairwise_distance",
    "cosine_similarity", "prelu", "rrelu", "rrelu_", "threshold", "threshold_", "hardshrink", "channel_shuffle",
    "pdist", "celu_", "selu_",
)  # fmt: skip
_LAZY.update({name: ("somegrad.nn.functional", name) for name in _NN_FUNCTIONS})


def __getattr__(name):
    # `sg.nn.Linear` after a plain `import somegrad as sg`, as with `torch.nn`: the
    # subpackages come from other distributions (or import heavy libraries, as distributed
    # does mpi4py), so they are imported on first access.
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f"somegrad.{name}")
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'somegrad' has no attribute {name!r}")
