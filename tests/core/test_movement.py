"""Movement ops, views that share memory, and sorting/scans, checked against NumPy."""

import numpy as np
import pytest

import somegrad as sg


def arange(*shape):
    return sg.arange(int(np.prod(shape)), dtype=sg.float32).reshape(shape)


def test_views_share_memory_with_their_base():
    base = arange(2, 3)
    for view in (
        base.reshape(3, 2),
        base.view(6),
        base.T,
        base.transpose(0, 1),
        base[1],
        base[:, ::2],
        base.unsqueeze(0),
        base[None],
        base.permute(1, 0),
        base.expand(4, 2, 3),
    ):
        assert np.shares_memory(view.numpy(), base.numpy())
    view = base[:, 1:]
    view.add_(100)
    assert base.tolist() == [[0, 101, 102], [3, 104, 105]]
    flat = base.view(-1)
    flat[0] = -1.0
    assert base[0, 0].item() == -1.0


def test_strides_and_contiguity():
    x = arange(2, 3, 4)
    assert x.stride() == (12, 4, 1) and x.stride(1) == 4 and x.is_contiguous()
    t = x.transpose(0, 2)
    assert t.shape == (4, 3, 2) and t.stride() == (1, 4, 12) and not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.stride() == (6, 2, 1)
    assert not np.shares_memory(c.numpy(), x.numpy())
    assert x.contiguous() is x
    assert x[:, :, ::2].stride() == (12, 4, 2)
    assert x[:, :1].is_contiguous() is False
    assert arange(1, 3)[:, :].is_contiguous()


def test_views_share_the_version_counter():
    x = arange(2, 3)
    v = x[0]
    v.mul_(2)
    assert x._version == v._version == 1


def test_clone_copies():
    x = arange(2, 2)
    c = x.clone()
    c.add_(1)
    assert x.tolist() == [[0, 1], [2, 3]]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda x: x.reshape(4, -1), lambda a: a.reshape(4, -1)),
        (lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
        (lambda x: x.mT, lambda a: np.swapaxes(a, -1, -2)),
        (lambda x: x.T, lambda a: a.T),
        (lambda x: x[:, :1].squeeze(), lambda a: a[:, :1].squeeze()),
        (lambda x: x[:, :1].squeeze(1), lambda a: a[:, :1].squeeze(1)),
        (lambda x: x.unsqueeze(-1), lambda a: a[..., None]),
        (lambda x: x.flatten(), lambda a: a.reshape(-1)),
        (lambda x: x.flatten(0, 1), lambda a: a.reshape(6, 4)),
        (lambda x: x.unflatten(2, (2, 2)), lambda a: a.reshape(2, 3, 2, 2)),
        (lambda x: x.flip(0), lambda a: a[::-1]),
        (lambda x: x.flip((1, 2)), lambda a: a[:, ::-1, ::-1]),
        (lambda x: sg.pad(x, (1, 2)), lambda a: np.pad(a, ((0, 0), (0, 0), (1, 2)))),
        (
            lambda x: sg.pad(x, (0, 1, 2, 0), value=-1.0),
            lambda a: np.pad(a, ((0, 0), (2, 0), (0, 1)), constant_values=-1),
        ),
        (lambda x: sg.cat([x, x], 1), lambda a: np.concatenate([a, a], 1)),
        (lambda x: sg.cat([x, x[:, :0]], -2), lambda a: a),
        (lambda x: sg.stack([x, x + 1], 2), lambda a: np.stack([a, a + 1], 2)),
        (lambda x: sg.stack([x, x], -1), lambda a: np.stack([a, a], -1)),
        (lambda x: x.tril(), lambda a: np.tril(a)),
        (lambda x: x.triu(1), lambda a: np.triu(a, 1)),
        (lambda x: x.tril(-1), lambda a: np.tril(a, -1)),
        (lambda x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
        (lambda x: x.repeat(2, 1, 1, 1), lambda a: np.tile(a, (2, 1, 1, 1))),
        (lambda x: x.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
        (lambda x: x.narrow(1, 1, 2), lambda a: a[:, 1:3]),
        (lambda x: x.cumsum(1), lambda a: np.cumsum(a, 1)),
        (lambda x: x.sort(1).values, lambda a: np.sort(a, 1)),
        (lambda x: x.sort(-1, descending=True).values, lambda a: -np.sort(-a, -1)),
        (lambda x: x.argsort(0), lambda a: np.argsort(a, 0, kind="stable")),
        (lambda x: x.topk(2).values, lambda a: -np.sort(-a, -1)[..., :2]),
        (lambda x: x.topk(2, dim=0, largest=False).values, lambda a: np.sort(a, 0)[:2]),
    ],
)
def test_movement_matches_numpy(ours, theirs):
    values = np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype(np.float32)
    out = ours(sg.tensor(values))
    expected = theirs(values)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)


def test_split_and_chunk():
    x = sg.arange(10)
    assert [p.tolist() for p in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.tolist() for p in x.split([2, 8])] == [[0, 1], [2, 3, 4, 5, 6, 7, 8, 9]]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    assert [p.shape for p in sg.zeros(2, 6).chunk(2, dim=1)] == [(2, 3), (2, 3)]
    with pytest.raises(RuntimeError, match=r"split: sizes \[2, 2\] do not add up to 10"):
        x.split([2, 2])


def test_sort_is_stable_and_topk_returns_indices():
    x = sg.tensor([3, 1, 2, 1, 3])
    values, indices = x.sort()
    assert values.tolist() == [1, 1, 2, 3, 3] and indices.tolist() == [1, 3, 2, 0, 4]
    values, indices = x.sort(descending=True)
    assert values.tolist() == [3, 3, 2, 1, 1] and indices.tolist() == [0, 4, 2, 1, 3]
    top = sg.tensor([[1.0, 5.0, 3.0], [6.0, 4.0, 2.0]]).topk(2)
    assert top.values.tolist() == [[5.0, 3.0], [6.0, 4.0]] and top.indices.tolist() == [[1, 2], [0, 1]]
    with pytest.raises(RuntimeError, match=r"topk: k \(4\) is out of range"):
        sg.zeros(3).topk(4)


def test_cumsum_dtypes():
    assert sg.tensor([1, 2, 3], dtype=sg.int32).cumsum(0).dtype is sg.int64
    assert sg.tensor([True, True]).cumsum(0).tolist() == [1, 2]


def test_max_min_with_dim_return_values_and_indices():
    x = sg.tensor([[1.0, 7.0, 7.0], [4.0, 0.0, 2.0]])
    result = x.max(1)
    assert result.values.tolist() == [7.0, 4.0] and result.indices.tolist() == [1, 0]
    values, indices = x.min(0, keepdim=True)
    assert values.tolist() == [[1.0, 0.0, 2.0]] and indices.tolist() == [[0, 1, 1]]
    assert x.max().item() == 7.0 and x.argmax().item() == 1 and x.argmin(1).tolist() == [0, 1]


def test_reductions_match_numpy():
    a = np.random.default_rng(0).standard_normal((3, 4))
    x = sg.tensor(a)
    np.testing.assert_allclose(x.sum(1).numpy(), a.sum(1))
    np.testing.assert_allclose(x.mean((0, 1)).numpy(), a.mean())
    np.testing.assert_allclose(x.var(0).numpy(), a.var(0, ddof=1))
    np.testing.assert_allclose(x.std(1, correction=0).numpy(), a.std(1))
    np.testing.assert_allclose(x.prod(0, keepdim=True).numpy(), a.prod(0, keepdims=True))
    np.testing.assert_allclose(x.logsumexp(1).numpy(), np.log(np.exp(a).sum(1)))
    np.testing.assert_allclose(x.softmax(0).numpy(), np.exp(a) / np.exp(a).sum(0))
    assert (x > 0).all().item() == bool((a > 0).all()) and (x > 0).any(1).tolist() == list((a > 0).any(1))
    assert sg.zeros(0).sum().item() == 0.0 and np.isnan(sg.zeros(0).mean().item())


def test_multinomial_draws_valid_categories_reproducibly():
    probs = sg.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    sg.manual_seed(3)
    draws = sg.multinomial(probs, 4, replacement=True)
    assert draws.shape == (2, 4) and draws.dtype is sg.int64
    assert draws[0].tolist() == [1, 1, 1, 1] and set(draws[1].tolist()) <= {0, 2}
    sg.manual_seed(3)
    assert sg.multinomial(probs, 4, replacement=True).tolist() == draws.tolist()
    without = probs[1].multinomial(2)
    assert sorted(without.tolist()) == [0, 2]
    counts = np.bincount(sg.multinomial(sg.tensor([1.0, 3.0]), 4000, replacement=True).numpy(), minlength=2)
    assert 0.7 < counts[1] / 4000 < 0.8
    with pytest.raises(RuntimeError, match="cannot draw 4 samples without replacement from 3 categories"):
        sg.multinomial(probs, 4)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: arange(2, 3).reshape(4, 2),
            RuntimeError,
            r"reshape: shape \(4, 2\) is invalid for input of shape \(2, 3\)",
        ),
        (lambda: arange(2, 3).permute(0, 0), RuntimeError, "permute: dims"),
        (
            lambda: arange(2, 3).expand(4, 3),
            RuntimeError,
            "expand: the input size 2 at dimension 0 must match the target size 4",
        ),
        (
            lambda: sg.cat([arange(2, 3), arange(3, 2)]),
            RuntimeError,
            r"cat: sizes of tensors must match except in dimension 0; got shapes \(2, 3\), \(3, 2\)",
        ),
        (lambda: sg.stack([arange(2), arange(3)]), RuntimeError, "stack: expects each tensor to be equal size"),
        (
            lambda: arange(2, 3).sum(2),
            IndexError,
            r"sum: dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)",
        ),
        (lambda: arange(2, 3).transpose(0, -3), IndexError, "transpose: dimension out of range"),
        (lambda: arange(2, 3).softmax(5), IndexError, "softmax: dimension out of range"),
        (lambda: arange(2, 3).sum(1.5), TypeError, "sum: dim must be an int or a tuple of ints, got float"),
        (lambda: arange(2, 3).sum((0, -2)), RuntimeError, "names a dimension more than once"),
        (lambda: arange(3).tril(), RuntimeError, "tril: input must have at least 2 dimensions"),
        (
            lambda: arange(2, 3) @ arange(2, 3),
            RuntimeError,
            r"matmul: shapes \(2, 3\) and \(2, 3\) cannot be multiplied",
        ),
        (lambda: sg.zeros(2, 0).amax(1), IndexError, "amax: expected reduction dim 1 to have non-zero size"),
        (lambda: sg.tensor([1, 2]).mean(), RuntimeError, "mean: could not infer output dtype.*int64"),
        (lambda: sg.zeros(2, 3).argmax(2), IndexError, "argmax: dimension out of range"),
    ],
)
def test_bad_shapes_and_dims_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_indexing_every_dim_with_ints_gives_a_view():
    x = arange(2, 3)
    element = x[1, 2]
    assert element.shape == () and element.stride() == ()
    element.add_(10)
    assert x[1, 2].item() == 15
    row = sg.arange(3.0)
    row[0].fill_(7)
    assert row.tolist() == [7.0, 1.0, 2.0]
