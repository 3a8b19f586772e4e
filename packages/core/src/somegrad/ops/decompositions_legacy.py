"""PyTorch's older top-level forms of the factorizations, still common in code written for it:
`torch.svd(input, some, compute_uv)` (which returns V, not Vh), `torch.qr(input, some)` and
`torch.pinverse(input, rcond)`, with their Tensor methods. Each is an implicit composite over
its `linalg` counterpart."""

from __future__ import annotations

from typing import NamedTuple

from somegrad.ops.decompositions_common import LINALG_FLOATS, QRResult, check_input, check_matrix
from somegrad.ops.decompositions_factor import pinv
from somegrad.ops.decompositions_factor import qr as linalg_qr
from somegrad.ops.decompositions_factor import svd as linalg_svd
from somegrad.ops.dispatch import apply
from somegrad.ops.spec import OpSpec, public, register
from somegrad.tensor import Tensor


class SVDResult(NamedTuple):
    """`torch.svd`'s result: V itself, where `linalg.svd` returns Vh."""

    U: Tensor
    S: Tensor
    V: Tensor


def _svd_infer(input, some, compute_uv):
    check_matrix("svd", input)
    m, n = input.shape[-2:]
    k = min(m, n)
    u, v = (k, k) if some and compute_uv else (m, n)
    batch = input.shape[:-2]
    return (batch + (m, u), input.dtype), (batch + (k,), input.dtype), (batch + (n, v), input.dtype)


def _svd(input, some, compute_uv):
    if not compute_uv:
        # only the singular values; U and V are zeros of the full shapes, as PyTorch returns
        from somegrad.ops.decompositions_factor import svdvals

        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return SVDResult(input.new_zeros(*batch, m, m), svdvals(input), input.new_zeros(*batch, n, n))
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return SVDResult(U, S, Vh.mT)


SVD = register(
    OpSpec(
        "svd",
        "composite",
        ("input",),
        _svd_infer,
        decompose=_svd,
        outputs=3,
        accepts=LINALG_FLOATS,
        doc="torch.svd: (U, S, V) with input = U diag(S) V^T.",
    )
)


@public(SVD, methods=True)
def svd(input, some=True, compute_uv=True) -> SVDResult:
    """PyTorch's `torch.svd` (and `Tensor.svd`): `(U, S, V)` with input = U diag(S) V^T, V
    itself (not its transpose, unlike `somegrad.linalg.svd`); reduced unless `some=False`;
    `compute_uv=False` returns zero U and V. Prefer `somegrad.linalg.svd`."""
    check_input("svd", input)
    return apply(SVD, (input,), {"some": bool(some), "compute_uv": bool(compute_uv)})


def _qr_infer(input, some):
    check_matrix("qr", input)
    m, n = input.shape[-2:]
    width = min(m, n) if some else m
    return (input.shape[:-2] + (m, width), input.dtype), (input.shape[:-2] + (width, n), input.dtype)


QR = register(
    OpSpec(
        "qr",
        "composite",
        ("input",),
        _qr_infer,
        decompose=lambda input, some: linalg_qr(input, "reduced" if some else "complete"),
        outputs=2,
        accepts=LINALG_FLOATS,
        doc="torch.qr: (Q, R), reduced unless some=False.",
    )
)


@public(QR, methods=True)
def qr(input, some=True) -> QRResult:
    """PyTorch's `torch.qr` (and `Tensor.qr`): `linalg.qr(input, "reduced" if some else
    "complete")`."""
    check_input("qr", input)
    return apply(QR, (input,), {"some": bool(some)})


def _pinverse_infer(input, rcond):
    check_matrix("pinverse", input)
    return input.shape[:-2] + (input.shape[-1], input.shape[-2]), input.dtype


PINVERSE = register(
    OpSpec(
        "pinverse",
        "composite",
        ("input",),
        _pinverse_infer,
        decompose=lambda input, rcond: pinv(input, rtol=rcond),
        accepts=LINALG_FLOATS,
        doc="torch.pinverse: the pseudoinverse, singular values below rcond * the largest taken as zero.",
    )
)


@public(PINVERSE, methods=True)
def pinverse(input, rcond=1e-15):
    """PyTorch's `torch.pinverse` (and `Tensor.pinverse`): `linalg.pinv(input, rtol=rcond)`."""
    check_input("pinverse", input)
    return apply(PINVERSE, (input,), {"rcond": float(rcond)})
