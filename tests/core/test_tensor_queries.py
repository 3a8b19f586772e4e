"""The Tensor queries and small methods PyTorch code calls (is_signed, is_nonzero, nelement,
itemsize, storage_offset, get_device, new, retains_grad, ...) and their top-level functions."""

import numpy as np
import pytest

import somegrad as sg
from somegrad.ops import sets


@pytest.mark.parametrize(
    "dtype, signed",
    [
        (sg.float32, True),
        (sg.float16, True),
        (sg.int8, True),
        (sg.int64, True),
        (sg.complex64, True),
        (sg.uint8, False),
        (sg.bool, False),
    ],
)
def test_is_signed(dtype, signed):
    x = sg.zeros(2, dtype=dtype)
    assert x.is_signed() is signed and sets.is_signed(x) is signed


def test_is_nonzero_needs_one_element():
    assert sg.tensor([2.0]).is_nonzero() is True and sg.tensor(0).is_nonzero() is False
    assert sets.is_nonzero(sg.tensor([[True]])) is True
    with pytest.raises(RuntimeError, match="more than one value"):
        sg.tensor([1.0, 2.0]).is_nonzero()
    with pytest.raises(RuntimeError, match="no values"):
        sg.zeros(0).is_nonzero()


def test_sizes_and_counts():
    x = sg.zeros(2, 3, 4, dtype=sg.float64)
    assert x.nelement() == 24 and x.ndimension() == 3
    assert x.itemsize == 8 == x.element_size() and sg.zeros(1, dtype=sg.int16).itemsize == 2
    assert x.is_same_size(sg.ones(2, 3, 4)) and not x.is_same_size(sg.ones(2, 12))
    assert sets.is_same_size(x, x.reshape(2, 3, 4))


def test_storage_offset_of_views():
    x = sg.arange(12.0).reshape(3, 4)
    assert x.storage_offset() == 0
    assert x[1].storage_offset() == 4 and x[1:, 2:].storage_offset() == 6
    assert x[2][1:].storage_offset() == 9
    assert x.clone().storage_offset() == 0


def test_device_and_memory_queries():
    x = sg.ones(3)
    assert x.is_cpu and not x.is_cuda and x.get_device() == -1
    assert not x.is_pinned() and x.pin_memory() is x and x.share_memory_() is x and not x.is_shared()


def test_new():
    x = sg.ones(2, dtype=sg.float64)
    empty = x.new()
    assert empty.shape == (0,) and empty.dtype is sg.float64
    sized = x.new(2, 3)
    assert sized.shape == (2, 3) and sized.dtype is sg.float64
    data = x.new([1, 2, 3])
    assert data.dtype is sg.float64 and data.tolist() == [1.0, 2.0, 3.0]
    copy = sg.zeros(3, dtype=sg.int64).new(sg.tensor([1.5, 2.5]))
    assert copy.dtype is sg.int64 and copy.tolist() == [1, 2]


def test_retains_grad():
    leaf = sg.ones(2, requires_grad=True)
    y = leaf * 2
    assert not leaf.retains_grad and not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    y.sum().backward()
    assert y.grad is not None and np.allclose(y.grad.numpy(), 1.0)


def test_top_level_queries():
    x = sg.ones(2, requires_grad=True)
    assert sets.is_floating_point(x) and not sets.is_floating_point(sg.zeros(2, dtype=sg.complex64))
    assert sets.is_complex(sg.zeros(1, dtype=sg.complex128)) and not sets.is_complex(x)
    assert not sets.is_conj(x) and not sets.is_neg(x) and not x.is_neg()
    assert sets.resolve_conj(x) is x and sets.resolve_neg(x) is x
    d = sets.detach(x * 3)
    assert not d.requires_grad and d.grad_fn is None and d.tolist() == [3.0, 3.0]


def test_unique_on_a_model_output_and_bincount_of_predictions():
    from somegrad import nn

    sg.manual_seed(0)
    model = nn.Linear(4, 3)
    logits = model(sg.randn(32, 4))
    predictions = logits.argmax(dim=1)
    classes, counts = sg.unique(predictions, return_counts=True)
    np.testing.assert_array_equal(sg.bincount(predictions, minlength=3)[classes].numpy(), counts.numpy())
    assert int(counts.sum()) == 32


def test_searchsorted_large_is_vectorised_and_right():
    rng = np.random.default_rng(3)
    seq = np.sort(rng.normal(size=5000))
    v = rng.normal(size=20000)
    got = sg.searchsorted(sg.tensor(seq), sg.tensor(v)).numpy()
    np.testing.assert_array_equal(got, np.searchsorted(seq, v))
    np.testing.assert_array_equal(
        sg.bucketize(sg.tensor(v), sg.tensor(seq), right=True).numpy(), np.searchsorted(seq, v, "right")
    )


def test_in_place_shape_changes_keep_sharing_memory():
    x = sg.zeros(2, 1, 3)
    alias = x.reshape(6)
    assert x.squeeze_() is x and x.shape == (2, 3)
    x.unsqueeze_(0)
    assert x.shape == (1, 2, 3)
    x.squeeze_(0).transpose_(0, 1)
    assert x.shape == (3, 2)
    x.t_()
    assert x.shape == (2, 3)
    x.swapaxes_(0, 1).swapdims_(1, 0)
    x.add_(1.0)
    np.testing.assert_array_equal(alias.numpy(), np.ones(6))  # the old view sees the write


def test_in_place_shape_changes_record_the_graph():
    leaf = sg.arange(6.0).reshape(2, 3).requires_grad_()
    y = leaf * 2
    y.t_()
    assert y.shape == (3, 2)
    (y * sg.tensor([[1.0, 10.0]])).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), [[2, 2, 2], [20, 20, 20]])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf.unsqueeze_(0)
    with sg.no_grad():
        leaf.unsqueeze_(0)
    assert leaf.shape == (1, 2, 3)


def test_post_accumulate_grad_hook_runs_after_the_grad_is_accumulated():
    from somegrad import nn

    layer = nn.Linear(3, 2)
    seen = []
    handles = [p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone())) for p in layer.parameters()]
    layer(sg.ones(4, 3)).sum().backward()
    assert len(seen) == 2
    assert sg.equal(seen[0], layer.weight.grad) and sg.equal(seen[1], layer.bias.grad)
    layer(sg.ones(4, 3)).sum().backward()  # accumulated: the hook sees the sum
    assert sg.equal(seen[2], layer.weight.grad) and sg.equal(seen[2], 2 * seen[0])
    for handle in handles:
        handle.remove()
    layer(sg.ones(4, 3)).sum().backward()
    assert len(seen) == 4
    with pytest.raises(RuntimeError, match="non-leaf"):
        (layer.weight * 2).register_post_accumulate_grad_hook(print)


def test_an_optimizer_steps_inside_the_backward():
    from somegrad import nn, optim

    sg.manual_seed(0)
    model = nn.Linear(4, 1)
    reference = nn.Linear(4, 1)
    reference.load_state_dict(model.state_dict())
    optimizers = {p: optim.SGD([p], lr=0.1) for p in model.parameters()}

    def step(p):
        optimizers[p].step()
        optimizers[p].zero_grad()

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(step)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1)
    x = sg.randn(8, 4)
    for _ in range(3):
        model(x).square().mean().backward()
        ref_opt.zero_grad()
        reference(x).square().mean().backward()
        ref_opt.step()
    assert sg.equal(model.weight, reference.weight) and sg.equal(model.bias, reference.bias)


@pytest.mark.parity
def test_post_accumulate_grad_hooks_see_what_pytorchs_see():
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (sg, torch):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        calls = []
        w.register_post_accumulate_grad_hook(lambda t, calls=calls: calls.append(t.grad.detach().clone().numpy()))
        (w * w).sum().backward()
        (w.exp()).sum().backward()
        seen[lib] = calls
    assert len(seen[sg]) == len(seen[torch]) == 2
    for ours, theirs in zip(seen[sg], seen[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
