"""Which ops autocast runs in which dtype, per device type: PyTorch's lists, in somegrad's op names.

Three rules, as in PyTorch (`torch/csrc/autograd/autocast_mode.cpp` and the "Autocast Op
Reference" of the AMP docs):

* ``LOWER``: the floating inputs are cast to the autocast dtype (bfloat16 or float16), for
  the ops that gain from it and are safe in it: matrix products, convolutions, attention;
* ``FLOAT32``: the floating inputs are cast to float32, for ops whose range or accumulation
  needs it (exp and log, reductions, softmax and norms on CUDA; losses and products on CPU);
* ``PROMOTE``: the floating inputs are cast to the widest floating dtype among them, for ops
  that need their inputs in one dtype.

Every other op runs in whatever dtype its inputs have. The CPU lists differ from CUDA's: on CPU
softmax, layer_norm, exp or sum of a bfloat16 tensor stay in bfloat16 (checked op by op against
``torch.autocast("cpu")`` in the parity tests). Ops somegrad has no name for (``mse_loss``,
``nll_loss``, ``baddbmm`` ...) are not listed; ``matmul`` covers PyTorch's ``mm``, ``bmm``,
``addmm`` and ``matmul``. ``attention_probabilities`` is the softmax(q kᵀ) part of attention
with dropout, so it follows ``scaled_dot_product_attention``.
"""

from __future__ import annotations

__all__ = ["LOWER", "FLOAT32", "PROMOTE", "POLICIES", "rule"]

LOWER = "lower"
FLOAT32 = "float32"
PROMOTE = "promote"

_LOWER_ATTENTION = ("scaled_dot_product_attention", "attention_probabilities")
# linear algebra has no half-precision kernels: autocast on the CPU runs it in float32, as PyTorch's
_LINALG = (
    "linalg_inv", "linalg_cholesky", "linalg_qr", "linalg_svd", "linalg_svdvals", "linalg_eigh", "linalg_eigvalsh",
    "linalg_pinv", "linalg_solve", "linalg_lstsq",
)  # fmt: skip

CUDA = {
    **dict.fromkeys(("matmul", "linear", "conv2d", *_LOWER_ATTENTION), LOWER),
    **dict.fromkeys(
        (
            "pow",
            "exp",
            "expm1",
            "log",
            "log1p",
            "cumsum",
            "prod",
            "sum",
            "softmax",
            "log_softmax",
            "layer_norm",
            "cross_entropy",
            "softplus",
        ),
        FLOAT32,
    ),
    **dict.fromkeys(("index_put", "scatter_add"), PROMOTE),
}

CPU = {
    **dict.fromkeys(("matmul", "linear", "conv2d", *_LOWER_ATTENTION), LOWER),
    **dict.fromkeys(("prod", "cross_entropy", *_LINALG), FLOAT32),
    **dict.fromkeys(("cat",), PROMOTE),
}

POLICIES: dict[str, dict[str, str]] = {"cpu": CPU, "cuda": CUDA}


def rule(device_type: str, op: str) -> str | None:
    """The rule for `op` under autocast on `device_type` (None: run as the inputs are)."""
    return POLICIES[device_type].get(op)
