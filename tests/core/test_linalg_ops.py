"""somegrad.linalg beyond the generic conformance samples: the public surface, batching, the
errors, gradients at the edges (singular matrices, repeated values), and training through it."""

from __future__ import annotations

import numpy as np
import pytest

import somegrad as sg
from somegrad.testing.gradcheck import check_grads

la = sg.linalg
rng = np.random.default_rng(0)


def tensor(shape, requires_grad=False, shift=0.0):
    value = rng.standard_normal(shape)
    if shift:
        value = value + shift * np.eye(shape[-1])
    return sg.tensor(value, dtype=sg.float64, requires_grad=requires_grad)


def test_the_namespace_and_the_top_level_forms():
    assert issubclass(la.LinAlgError, RuntimeError)
    for name in la.__all__:
        assert callable(getattr(la, name)), name
    A = tensor((2, 3, 3), shift=3.0)
    np.testing.assert_allclose(sg.det(A).numpy(), np.linalg.det(A.numpy()))
    np.testing.assert_allclose(A.det().numpy(), np.linalg.det(A.numpy()))
    np.testing.assert_allclose(sg.inverse(A).numpy(), np.linalg.inv(A.numpy()))
    np.testing.assert_allclose(A.inverse().numpy(), np.linalg.inv(A.numpy()))
    assert A.slogdet().sign.shape == (2,) and sg.slogdet(A).logabsdet.shape == (2,)
    P = A @ A.mT
    np.testing.assert_allclose(P.cholesky().numpy(), np.linalg.cholesky(P.numpy()))
    np.testing.assert_allclose(sg.cholesky(P, upper=True).numpy(), np.swapaxes(np.linalg.cholesky(P.numpy()), -1, -2))
    np.testing.assert_allclose(A.norm().item(), np.linalg.norm(A.numpy().ravel()))


def test_named_results():
    A = tensor((4, 3))
    U, S, Vh = la.svd(A, full_matrices=False)
    assert la.svd(A).Vh.shape == (3, 3) and la.svd(A).U.shape == (4, 4)
    assert la.qr(A).Q.shape == (4, 3) and la.qr(A).R.shape == (3, 3)
    sym = A.mT @ A
    assert la.eigh(sym).eigenvalues.shape == (3,) and la.eigh(sym).eigenvectors.shape == (3, 3)
    result = la.lstsq(A, tensor((4, 2)), driver="gelsd")
    assert result.solution.shape == (3, 2) and result.residuals.shape == (2,) and result.rank.item() == 3
    assert result.singular_values.shape == (3,)


def test_batches_are_independent_matrices():
    A = tensor((2, 3, 4, 4), shift=4.0)
    B = tensor((3, 4, 2))
    X = la.solve(A, B)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(X[i, j].numpy(), np.linalg.solve(A[i, j].numpy(), B[j].numpy()), atol=1e-12)
            np.testing.assert_allclose(la.det(A)[i, j].item(), np.linalg.det(A[i, j].numpy()))
    assert la.svdvals(A).shape == (2, 3, 4)
    assert la.matrix_norm(A, "nuc").shape == (2, 3)


def test_the_factorizations_reconstruct_their_input():
    A = tensor((3, 5, 4))
    U, S, Vh = la.svd(A, full_matrices=False)
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ Vh).numpy(), A.numpy(), atol=1e-12)
    Q, R = la.qr(A, mode="complete")
    np.testing.assert_allclose((Q @ R).numpy(), A.numpy(), atol=1e-12)
    np.testing.assert_allclose(R.numpy(), np.triu(R.numpy()), atol=1e-12)
    sym = A.mT @ A
    L, V = la.eigh(sym)
    np.testing.assert_allclose(((V * L.unsqueeze(-2)) @ V.mT).numpy(), sym.numpy(), atol=1e-10)
    assert bool((L[..., 1:] >= L[..., :-1]).all())
    np.testing.assert_allclose((la.pinv(A) @ A).numpy(), np.broadcast_to(np.eye(4), (3, 4, 4)), atol=1e-10)


def test_singular_and_indefinite_inputs_raise_linalg_error():
    singular = sg.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=sg.float64)
    with pytest.raises(la.LinAlgError, match=r"linalg.inv: .*singular.*\(input of shape \(2, 2\)\)"):
        la.inv(singular)
    with pytest.raises(la.LinAlgError, match="linalg.solve"):
        la.solve(singular, sg.ones(2, dtype=sg.float64))
    with pytest.raises(la.LinAlgError, match="linalg.cholesky: .*not positive-definite"):
        la.cholesky(-sg.eye(3, dtype=sg.float64))
    # a batch with one bad matrix fails as a whole, as in PyTorch
    with pytest.raises(RuntimeError):
        la.inv(sg.stack([sg.eye(2, dtype=sg.float64), singular]))
    # det and slogdet of a singular matrix are defined
    assert la.det(singular).item() == 0.0
    assert la.slogdet(singular).logabsdet.item() == -np.inf


def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(RuntimeError, match=r"linalg.det: A must be batches of square matrices, but they are 2 by 3"):
        la.det(sg.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"linalg.inv: the input tensor A must have at least 2 dimensions"):
        la.inv(sg.ones(3))
    with pytest.raises(NotImplementedError, match="linalg.svd: expected a floating point"):
        la.svd(sg.ones(3, 3, dtype=sg.int64))
    with pytest.raises(RuntimeError, match="low precision"):
        la.qr(sg.ones(3, 3, dtype=sg.float16))
    with pytest.raises(RuntimeError, match=r"incompatible shapes .*\(3, 3\) and \(4, 1\)"):
        la.solve(sg.eye(3), sg.ones(4))


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    A = sg.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]], dtype=sg.float64, requires_grad=True)
    la.det(A).backward()
    a = A.detach().numpy()
    cofactors = np.array(
        [[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_allclose(A.grad.numpy(), cofactors, atol=1e-12)
    check_grads(la.det, [A], order=2)


def test_repeated_values_give_finite_gradients_of_the_values():
    # the identity has one repeated eigenvalue and one repeated singular value: the vectors are
    # not unique, but a loss of the values alone is differentiable (as in PyTorch)
    for fn in (lambda A: la.eigh(A)[0], lambda A: la.svd(A)[1], la.eigvalsh, la.svdvals):
        A = sg.eye(3, dtype=sg.float64, requires_grad=True)
        (fn(A) * sg.tensor([1.0, 2.0, 3.0], dtype=sg.float64)).sum().backward()
        assert np.isfinite(A.grad.numpy()).all()
    A = sg.eye(3, dtype=sg.float64, requires_grad=True)
    la.matrix_norm(A, "nuc").backward()
    np.testing.assert_allclose(A.grad.numpy(), np.eye(3))


def test_norms_at_zero_and_at_ties():
    x = sg.zeros(2, 3, dtype=sg.float64, requires_grad=True)
    la.vector_norm(x, dim=1).sum().backward()
    assert (x.grad.numpy() == 0).all()
    y = sg.tensor([[1.0, -3.0, 3.0]], dtype=sg.float64, requires_grad=True)
    la.vector_norm(y, float("inf")).backward()
    np.testing.assert_allclose(y.grad.numpy(), [[0.0, -0.5, 0.5]])  # shared between the ties


def test_second_derivatives_through_the_factorizations():
    A = tensor((3, 3), requires_grad=True, shift=3.0)
    check_grads(lambda a: la.inv(a).sum() + la.slogdet(a)[1], [A], order=2)
    check_grads(lambda a: la.cholesky(a @ a.mT)[..., 1:, :], [A], order=2)
    check_grads(lambda a: la.svd(a)[0].abs() + la.qr(a)[1].abs(), [A], order=2)


def test_a_gaussian_fit_by_maximum_likelihood_through_cholesky():
    """A covariance parameterised by an nn.Parameter (S = W W^T + eps I), trained on the Gaussian
    negative log-likelihood: log det S through cholesky, the quadratic form through solve."""
    nn = pytest.importorskip("somegrad.nn")
    optim = pytest.importorskip("somegrad.optim")
    true = np.array([[2.0, 0.6], [0.6, 0.5]])
    data = sg.tensor(rng.multivariate_normal([0.0, 0.0], true, size=2000), dtype=sg.float64)
    W = nn.Parameter(sg.eye(2, dtype=sg.float64))
    opt = optim.Adam([W], lr=0.05)
    for _ in range(300):
        S = W @ W.mT + 1e-6 * sg.eye(2, dtype=sg.float64)
        L = la.cholesky(S)
        z = la.solve(L, data.mT)  # (2, N): whitened samples
        log_det = 2 * (L * sg.eye(2, dtype=sg.float64)).sum(-1).log().sum()
        loss = 0.5 * log_det + 0.5 * (z * z).sum(0).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    fitted = (W @ W.mT).detach().numpy()
    np.testing.assert_allclose(fitted, np.cov(data.numpy().T), rtol=0.05, atol=0.02)


@pytest.fixture
def strict_device():
    info = {i.name: i for i in sg.backends.backends()}.get("arraystrict")
    if info is None or info.backend is None:
        pytest.skip("the arraystrict backend is not available")
    return "strict"


def test_every_function_runs_on_the_array_api_strict_backend(strict_device):
    A = sg.tensor(rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), dtype=sg.float64, device=strict_device)
    A.requires_grad_()
    host = A.detach().to("cpu")
    pairs = [
        (la.det, np.linalg.det),
        (la.inv, np.linalg.inv),
        (lambda a: la.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1]),
        (lambda a: la.cholesky(a @ a.mT), lambda a: np.linalg.cholesky(a @ np.swapaxes(a, -1, -2))),
        (la.svdvals, lambda a: np.linalg.svd(a, compute_uv=False)),
        (lambda a: la.eigvalsh(a + a.mT), lambda a: np.linalg.eigvalsh(a + np.swapaxes(a, -1, -2))),
        (lambda a: la.qr(a)[1].abs(), lambda a: np.abs(np.linalg.qr(a)[1])),
        (lambda a: la.matrix_norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc", axis=(-2, -1))),
        (la.pinv, np.linalg.pinv),
    ]
    for fn, reference in pairs:
        out = fn(A)
        assert out.device.type == "strict"
        np.testing.assert_allclose(out.detach().to("cpu").numpy(), reference(host.numpy()), rtol=1e-9, atol=1e-10)
        (grad,) = sg.autograd.grad(out.sum(), [A])
        (expected,) = sg.autograd.grad(fn(host.requires_grad_()).sum(), [host])
        np.testing.assert_allclose(grad.to("cpu").numpy(), expected.numpy(), rtol=1e-8, atol=1e-10)
        host = host.detach()


def test_cholesky_ex_reports_instead_of_raising():
    good = tensor((3, 3))
    good = good @ good.mT + sg.eye(3, dtype=sg.float64)
    batch = sg.stack([good, -sg.eye(3, dtype=sg.float64)])
    L, info = la.cholesky_ex(batch)
    assert info.dtype is sg.int32 and info.tolist() == [0, 1]
    np.testing.assert_allclose(L[0].numpy(), np.linalg.cholesky(good.numpy()))
    assert np.isnan(L[1].numpy()).all()
    with pytest.raises(la.LinAlgError):
        la.cholesky_ex(batch, check_errors=True)


def test_matrix_exp_of_a_nilpotent_and_of_a_rotation_generator():
    N = sg.tensor([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]], dtype=sg.float64)
    np.testing.assert_allclose(la.matrix_exp(N).numpy(), np.eye(3) + N.numpy() + N.numpy() @ N.numpy() / 2, atol=1e-15)
    theta = 2.5
    G = sg.tensor([[0.0, -theta], [theta, 0.0]], dtype=sg.float64)
    rotation = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    np.testing.assert_allclose(G.matrix_exp().numpy(), rotation, atol=1e-14)


def test_multi_dot_agrees_with_the_plain_product_in_any_order():
    mats = [tensor(s) for s in [(10, 2), (2, 30), (30, 3), (3, 40)]]
    expected = ((mats[0] @ mats[1]) @ mats[2]) @ mats[3]
    np.testing.assert_allclose(la.multi_dot(mats).numpy(), expected.numpy(), rtol=1e-12)


def test_solve_triangular_reads_only_its_triangle():
    A = tensor((3, 3), shift=3.0)
    B = tensor((3, 2))
    garbage = A + sg.tensor(np.tril(np.full((3, 3), 100.0), -1))  # changes only the lower part
    np.testing.assert_allclose(
        la.solve_triangular(garbage, B, upper=True).numpy(), la.solve_triangular(A, B, upper=True).numpy()
    )
    X = la.solve_triangular(A, B, upper=True, unitriangular=True)
    unit = np.triu(A.numpy(), 1) + np.eye(3)
    np.testing.assert_allclose(unit @ X.numpy(), B.numpy(), atol=1e-12)
