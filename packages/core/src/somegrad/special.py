"""`somegrad.special`: PyTorch's `torch.special`, the special functions under their SciPy-style names.

import somegrad as sg
sg.special.gammaln(x), sg.special.expit(x), sg.special.ndtr(x)
"""

from somegrad.ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    i0,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    round,  # noqa: A004  (PyTorch's name)
    sinc,
    softmax,
    xlogy,
)
from somegrad.ops import digamma as psi
from somegrad.ops import lgamma as gammaln
from somegrad.ops import mvlgamma as multigammaln
from somegrad.ops import sigmoid as expit
from somegrad.ops.special_gamma import polygamma
from somegrad.ops.special_scipy import entr, erfcx, log_ndtr, ndtr, ndtri, xlog1py

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "log1p",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
    "sinc", "softmax", "xlog1py", "xlogy",
]  # fmt: skip
