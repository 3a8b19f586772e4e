"""What every workload shares: the sizes, the Workload record, PyTorch's default initialisation
in NumPy, and the per-framework plumbing (imports, loading NumPy weights, a training step)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FRAMEWORKS = ("somegrad", "torch", "numpy", "tinygrad")


class Unavailable(Exception):
    """The framework, or a piece of it this workload needs, is not installed here."""


@dataclass(frozen=True)
class Sizes:
    """The shapes of every workload; ``full`` is what the issue asks for, ``tiny`` is for tests."""

    chain_length: int = 100
    chain_width: int = 16
    mlp: tuple[int, ...] = (784, 256, 256, 10)
    mlp_batch: int = 128
    cnn_batch: int = 64
    cnn_image: int = 28
    gpt_layers: int = 4
    gpt_heads: int = 4
    gpt_width: int = 128
    gpt_block: int = 64
    gpt_vocab: int = 96
    gpt_batch: int = 32
    generate_tokens: int = 200
    generate_context: int = 64
    cached_context: int = 8  # KV-cache generation: a prompt and new tokens that fit the block
    cached_tokens: int = 56
    lstm_embed: int = 64  # char LSTM: embedding, 2-layer LSTM, linear head over gpt_vocab
    lstm_hidden: int = 256
    lstm_layers: int = 2
    lstm_seq: int = 64
    lstm_batch: int = 32
    encoder_width: int = 128  # nn.TransformerEncoder, batch_first, no dropout
    encoder_heads: int = 4
    encoder_layers: int = 2
    encoder_ff: int = 512
    encoder_seq: int = 64
    encoder_batch: int = 16


FULL = Sizes()
TINY = Sizes(
    chain_length=8,
    mlp=(32, 16, 16, 10),
    mlp_batch=8,
    cnn_batch=2,
    cnn_image=8,
    gpt_layers=1,
    gpt_heads=2,
    gpt_width=16,
    gpt_block=8,
    gpt_vocab=12,
    gpt_batch=2,
    generate_tokens=4,
    generate_context=8,
    cached_context=2,
    cached_tokens=5,
    lstm_embed=8,
    lstm_hidden=8,
    lstm_layers=1,
    lstm_seq=5,
    lstm_batch=2,
    encoder_width=8,
    encoder_heads=2,
    encoder_layers=1,
    encoder_ff=16,
    encoder_seq=4,
    encoder_batch=2,
)

LR = 1e-3
WEIGHT_DECAY = 0.01


@dataclass
class Workload:
    name: str
    description: str
    unit: str  # of the reported time: "ms/step" or "us/op"
    make_inputs: Callable[[Sizes], dict]
    builders: dict[str, Callable[[dict], Callable[[], float | None]]]
    time_scale: float = 1e3  # seconds -> unit
    per_step_divisor: Callable[[Sizes], int] = lambda sizes: 1
    throughput: Callable[[Sizes], int] | None = None  # items per step, for items/s
    throughput_unit: str | None = None
    extra: dict = field(default_factory=dict)


# --- shared initialisation, as PyTorch's defaults ----------------------------------------------


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def _linear(rng, weights: dict, name: str, fan_in: int, fan_out: int, bias: bool = True):
    # nn.Linear's default: kaiming_uniform(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bound = 1 / math.sqrt(fan_in)
    weights[f"{name}.weight"] = _uniform(rng, (fan_out, fan_in), bound)
    if bias:
        weights[f"{name}.bias"] = _uniform(rng, (fan_out,), bound)


def _conv(rng, weights: dict, name: str, c_in: int, c_out: int, k: int):
    bound = 1 / math.sqrt(c_in * k * k)
    weights[f"{name}.weight"] = _uniform(rng, (c_out, c_in, k, k), bound)
    weights[f"{name}.bias"] = _uniform(rng, (c_out,), bound)


def _assign(named: dict, arrays: dict[str, np.ndarray], set_value) -> str:
    """Copy ``arrays`` into the parameters ``named`` (name -> parameter); returns how.

    By name when the names agree; else in order when the shapes agree in order (a model that
    names its parameters differently but builds them in the same order). Raises ValueError
    when neither works.
    """
    if set(named) == set(arrays):
        for name, param in named.items():
            set_value(param, arrays[name])
        return "by name"
    params = list(named.values())
    values = [arrays[k] for k in arrays]
    shapes_params = [tuple(p.shape) for p in params]
    shapes_values = [v.shape for v in values]
    if shapes_params == shapes_values:
        for param, value in zip(params, values, strict=True):
            set_value(param, value)
        return "in order (parameter names differ from PyTorch's)"
    raise ValueError(f"parameters differ: model has {list(named)[:6]}..., weights have {list(arrays)[:6]}...")


# --- per-framework plumbing --------------------------------------------------------------------


def _import_torch():
    try:
        import torch
    except ImportError as e:
        raise Unavailable("torch is not installed") from e
    return torch


def _import_somegrad(*parts: str):
    try:
        import somegrad as sg
    except ImportError as e:
        raise Unavailable("somegrad is not importable") from e
    modules = [sg]
    for part in parts:
        try:
            modules.append(__import__(f"somegrad.{part}", fromlist=["_"]))
        except ImportError as e:
            raise Unavailable(f"somegrad.{part} is not available: {e}") from e
    return modules


def _import_tinygrad():
    try:
        import tinygrad
    except ImportError as e:
        raise Unavailable("tinygrad is not installed") from e
    try:
        tinygrad.Tensor([1.0]).realize()
    except Exception as e:  # tinygrad needs a compiler or a device it can use
        raise Unavailable(f"tinygrad is installed but cannot run here: {e}") from e
    return tinygrad


def _tinygrad_leaf(value: np.ndarray):
    from tinygrad import Tensor

    leaf = Tensor(value)
    leaf.requires_grad = True
    return leaf


def _torch_set(param, value: np.ndarray) -> None:
    import torch

    with torch.no_grad():
        param.copy_(torch.from_numpy(value))


def _somegrad_set(param, value: np.ndarray) -> None:
    import somegrad as sg

    with sg.no_grad():
        param.copy_(sg.tensor(value))


def _load(framework: str, model, weights: dict) -> str:
    setter = _torch_set if framework == "torch" else _somegrad_set
    return _assign(dict(model.named_parameters()), weights, setter)


def _training_step(zero_grad, forward_loss, step):
    def run() -> float:
        zero_grad()
        loss = forward_loss()
        loss.backward()
        step()
        return float(loss.item())

    return run
