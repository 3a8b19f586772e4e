"""The Module system: registration, traversal, modes, state dicts, hooks, to(), repr."""

from collections import OrderedDict

import numpy as np
import pytest

import somegrad as sg
from somegrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.LayerNorm(4)])
        self.scale = nn.Parameter(sg.ones(1))
        self.register_buffer("steps", sg.zeros(1))
        self.register_buffer("cache", sg.zeros(2), persistent=False)
        self.plain = 3

    def forward(self, x):
        x = self.act(self.fc1(x))
        for block in self.blocks:
            x = block(x)
        return x * self.scale


def test_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "fc1.weight",
        "fc1.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "fc1",
        "act",
        "blocks",
        "blocks.0",
        "blocks.1",
    ]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "ReLU", "ModuleList"]
    assert len(list(net.parameters())) == 7
    assert net.plain == 3 and "plain" not in net._parameters
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.requires_grad
    assert net.get_parameter("blocks.1.bias") is net.blocks[1].bias
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        net.missing


def test_assigning_wrong_types_to_registered_names_fails():
    net = Net()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = sg.ones(1)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    del net.fc1
    assert "fc1" not in dict(net.named_children())


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(sg.randn(2, 3)).sum().backward()
    assert net.fc1.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert float(net.fc1.weight.grad.abs().sum()) == 0.0
    net.zero_grad()
    assert net.fc1.weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"


def test_state_dict_round_trip():
    a, b = Net(), Net()
    with sg.no_grad():
        a.steps.fill_(7.0)
    state = a.state_dict()
    assert list(state) == [
        "scale",
        "steps",
        "fc1.weight",
        "fc1.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    assert "cache" not in state  # non-persistent
    assert not state["fc1.weight"].requires_grad
    result = b.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in b.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    x = sg.randn(2, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # loading copies: the parameters stay the same objects
    weight = b.fc1.weight
    b.load_state_dict(Net().state_dict())
    assert b.fc1.weight is weight


def test_load_state_dict_errors_name_the_keys():
    net = Net()
    state = net.state_dict()
    del state["fc1.bias"]
    state["extra.weight"] = sg.zeros(1)
    state["blocks.0.weight"] = sg.zeros(5, 4)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Net" in message
    assert 'Missing key(s) in state_dict: "fc1.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for blocks.0.weight: copying a param with shape (5, 4) from checkpoint" in message
    del state["blocks.0.weight"]
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.bias", "blocks.0.weight"]
    assert result.unexpected_keys == ["extra.weight"]


def test_to_dtype_keeps_parameter_objects():
    net = Net()
    weight = net.fc1.weight
    net.to(sg.float64)
    assert net.fc1.weight is weight and weight.dtype is sg.float64
    assert net.steps.dtype is sg.float64
    assert net(sg.randn(2, 3, dtype=sg.float64)).dtype is sg.float64
    net.float()
    assert weight.dtype is sg.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(sg.int64)
    assert net.to("cpu") is net


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 0)
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    out = lin(sg.ones(1, 2))
    assert calls == [(1, 2)] and float(out.abs().sum()) == 0.0
    handle.remove()
    pre.remove()
    assert float(lin(sg.ones(1, 2)).abs().sum()) > 0 and len(calls) == 1


def test_repr_is_nested_like_pytorch():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Dropout(0.1)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (1): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.Parameter(sg.zeros(1))).startswith("Parameter containing:\ntensor(")


def test_containers():
    seq = nn.Sequential(OrderedDict(first=nn.Linear(2, 3), act=nn.Tanh()))
    assert [n for n, _ in seq.named_children()] == ["first", "act"]
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Tanh)
    assert len(seq[:1]) == 1
    seq.append(nn.Linear(3, 1))
    assert seq(sg.randn(4, 2)).shape == (4, 1)
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Tanh"]
    assert [n for n, _ in layers.named_parameters()] == ["1.weight", "1.bias"]
    table = nn.ModuleDict({"a": nn.Linear(1, 1)})
    table["b"] = nn.ReLU()
    assert list(table.keys()) == ["a", "b"] and "a" in table and len(table) == 2


def test_module_without_init_call_gives_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_deepcopy_clones_parameters_and_keeps_sharing():
    import copy

    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.BatchNorm1d(2), shared)
    model(sg.randn(3, 2)).sum().backward()
    twin = copy.deepcopy(model)
    assert twin[0].weight is not shared.weight and isinstance(twin[0].weight, nn.Parameter)
    assert twin[0].weight is twin[2].weight
    np.testing.assert_array_equal(twin[0].weight.numpy(force=True), shared.weight.numpy(force=True))
    np.testing.assert_array_equal(twin[0].weight.grad.numpy(), shared.weight.grad.numpy())
    with sg.no_grad():
        twin[0].weight.fill_(0.0)
    assert float(shared.weight.abs().sum()) > 0
    assert list(twin.state_dict()) == list(model.state_dict())
