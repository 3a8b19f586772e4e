"""The workloads: what one step is, in each framework, from the same NumPy weights and data.

A workload makes its weights and data once, in NumPy, with names as PyTorch's state dict has them
(``make_inputs``); each framework's builder loads them and returns a ``step()`` that runs one
step and returns the loss as a float (or None where a step has no loss). A builder raises
``Unavailable`` when its framework (or the part of it the workload needs) is not installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy_mlp import NumpyMLP
from torch_gpt import torch_gpt

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


# --- 1. per-op overhead ------------------------------------------------------------------------
# A chain of small elementwise ops; the time of forward + backward divided by the chain length
# is the framework's fixed cost per op, since the arithmetic on 16 numbers is next to nothing.


def chain_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(0)
    shape = (sizes.chain_width,)
    return {
        "sizes": sizes,
        "x": rng.standard_normal(shape).astype(np.float32),
        "a": rng.uniform(0.5, 1.5, shape).astype(np.float32),
        "b": rng.standard_normal(shape).astype(np.float32),
    }


def _chain(x, a, b, length: int):
    # cycles of mul, add, tanh, sub: bounded values, two binary ops and one unary op per cycle
    y = x
    for i in range(length):
        kind = i % 4
        if kind == 0:
            y = y * a
        elif kind == 1:
            y = y + b
        elif kind == 2:
            y = y.tanh()
        else:
            y = y - a
    return y.sum()


def chain_somegrad(inputs: dict):
    (sg,) = _import_somegrad()
    x = sg.tensor(inputs["x"], requires_grad=True)
    a, b = sg.tensor(inputs["a"]), sg.tensor(inputs["b"])
    length = inputs["sizes"].chain_length

    def step() -> float:
        x.grad = None
        out = _chain(x, a, b, length)
        out.backward()
        return float(out.item())

    return step


def chain_torch(inputs: dict):
    torch = _import_torch()
    x = torch.tensor(inputs["x"], requires_grad=True)
    a, b = torch.tensor(inputs["a"]), torch.tensor(inputs["b"])
    length = inputs["sizes"].chain_length

    def step() -> float:
        x.grad = None
        out = _chain(x, a, b, length)
        out.backward()
        return float(out.item())

    return step


def chain_tinygrad(inputs: dict):
    _import_tinygrad()
    from tinygrad import Tensor

    x = _tinygrad_leaf(inputs["x"])
    a, b = Tensor(inputs["a"]), Tensor(inputs["b"])
    length = inputs["sizes"].chain_length

    def step() -> float:
        x.grad = None
        out = _chain(x, a, b, length)
        out.backward()
        x.grad.realize()
        return float(out.item())

    return step


# --- 2. MLP ------------------------------------------------------------------------------------


def mlp_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(1)
    weights: dict[str, np.ndarray] = {}
    dims = sizes.mlp
    for i in range(len(dims) - 1):
        _linear(rng, weights, str(2 * i), dims[i], dims[i + 1])  # Sequential: Linear, ReLU, ...
    return {
        "sizes": sizes,
        "weights": weights,
        "x": rng.standard_normal((sizes.mlp_batch, dims[0])).astype(np.float32),
        "y": rng.integers(0, dims[-1], sizes.mlp_batch).astype(np.int64),
    }


def _sequential_mlp(nn, dims: tuple[int, ...]):
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _classifier_somegrad(build, inputs: dict):
    """A cross-entropy + AdamW step of the somegrad model `build(nn)`, with the shared weights."""
    sg, nn, optim = _import_somegrad("nn", "optim")
    model = build(nn)
    inputs.setdefault("loaded", {})["somegrad"] = _load("somegrad", model, inputs["weights"])
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    x, y = sg.tensor(inputs["x"]), sg.tensor(inputs["y"])
    return _training_step(opt.zero_grad, lambda: nn.functional.cross_entropy(model(x), y), opt.step)


def _classifier_torch(build, inputs: dict):
    """The same step in PyTorch, for the model `build(torch.nn)`."""
    torch = _import_torch()
    model = build(torch.nn)
    inputs.setdefault("loaded", {})["torch"] = _load("torch", model, inputs["weights"])
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    x, y = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["y"])
    return _training_step(opt.zero_grad, lambda: torch.nn.functional.cross_entropy(model(x), y), opt.step)


def mlp_somegrad(inputs: dict):
    return _classifier_somegrad(lambda nn: _sequential_mlp(nn, inputs["sizes"].mlp), inputs)


def mlp_torch(inputs: dict):
    return _classifier_torch(lambda nn: _sequential_mlp(nn, inputs["sizes"].mlp), inputs)


def mlp_tinygrad(inputs: dict):
    _import_tinygrad()
    from tinygrad import Tensor, nn

    weights = inputs["weights"]
    layers = []
    for i in range(len(inputs["sizes"].mlp) - 1):
        layer = nn.Linear(1, 1)
        layer.weight = _tinygrad_leaf(weights[f"{2 * i}.weight"])
        layer.bias = _tinygrad_leaf(weights[f"{2 * i}.bias"])
        layers.append(layer)
    params = [t for layer in layers for t in (layer.weight, layer.bias)]
    opt = nn.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)
    x, y = Tensor(inputs["x"]), Tensor(inputs["y"].astype(np.int32))

    # tinygrad refuses to step an optimizer outside training mode, spelt differently by release
    if hasattr(Tensor, "train"):
        training = Tensor.train
    else:
        from tinygrad.helpers import Context

        def training():
            return Context(TRAINING=1)

    def step() -> float:
        with training():
            opt.zero_grad()
            h = x
            for i, layer in enumerate(layers):
                h = layer(h)
                if i < len(layers) - 1:
                    h = h.relu()
            # tinygrad is lazy: read the loss before the step changes the weights it reads
            loss_tensor = h.sparse_categorical_crossentropy(y)
            loss_tensor.backward()
            loss = float(loss_tensor.item())
            opt.step()
            return loss

    return step


def mlp_numpy(inputs: dict):
    model = NumpyMLP(inputs["weights"], len(inputs["sizes"].mlp) - 1, LR, WEIGHT_DECAY)
    x, y = inputs["x"], inputs["y"]
    return lambda: model.step(x, y)


# --- 3. CNN ------------------------------------------------------------------------------------


def cnn_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(2)
    weights: dict[str, np.ndarray] = {}
    _conv(rng, weights, "0", 1, 16, 3)
    _conv(rng, weights, "3", 16, 32, 3)
    flat = 32 * (sizes.cnn_image // 4) ** 2
    _linear(rng, weights, "7", flat, 10)
    image = sizes.cnn_image
    return {
        "sizes": sizes,
        "weights": weights,
        "x": rng.standard_normal((sizes.cnn_batch, 1, image, image)).astype(np.float32),
        "y": rng.integers(0, 10, sizes.cnn_batch).astype(np.int64),
    }


def _cnn(nn, image: int):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (image // 4) ** 2, 10),
    )


def cnn_somegrad(inputs: dict):
    return _classifier_somegrad(lambda nn: _cnn(nn, inputs["sizes"].cnn_image), inputs)


def cnn_torch(inputs: dict):
    return _classifier_torch(lambda nn: _cnn(nn, inputs["sizes"].cnn_image), inputs)


# --- 4. and 5. char GPT ------------------------------------------------------------------------


def gpt_weights(sizes: Sizes) -> dict[str, np.ndarray]:
    """GPT-2 style initialisation, under nanoGPT's (and somegrad's) state-dict names.

    The LM head is tied to the token embedding, so it has no entry of its own.
    """
    rng = np.random.default_rng(3)
    c, layers = sizes.gpt_width, sizes.gpt_layers

    def normal(*shape, std=0.02):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def zeros(*shape):
        return np.zeros(shape, np.float32)

    def ones(*shape):
        return np.ones(shape, np.float32)

    w = {
        "transformer.wte.weight": normal(sizes.gpt_vocab, c),
        "transformer.wpe.weight": normal(sizes.gpt_block, c),
    }
    projection_std = 0.02 / math.sqrt(2 * layers)
    for i in range(layers):
        p = f"transformer.h.{i}."
        w[p + "ln_1.weight"], w[p + "ln_1.bias"] = ones(c), zeros(c)
        w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"] = normal(3 * c, c), zeros(3 * c)
        w[p + "attn.c_proj.weight"] = normal(c, c, std=projection_std)
        w[p + "attn.c_proj.bias"] = zeros(c)
        w[p + "ln_2.weight"], w[p + "ln_2.bias"] = ones(c), zeros(c)
        w[p + "mlp.c_fc.weight"], w[p + "mlp.c_fc.bias"] = normal(4 * c, c), zeros(4 * c)
        w[p + "mlp.c_proj.weight"] = normal(c, 4 * c, std=projection_std)
        w[p + "mlp.c_proj.bias"] = zeros(c)
    w["transformer.ln_f.weight"], w["transformer.ln_f.bias"] = ones(c), zeros(c)
    return w


def gpt_inputs(sizes: Sizes) -> dict:
    rng = np.random.default_rng(4)
    shape = (sizes.gpt_batch, sizes.gpt_block)
    return {
        "sizes": sizes,
        "weights": gpt_weights(sizes),
        "idx": rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64),
        "targets": rng.integers(0, sizes.gpt_vocab, shape).astype(np.int64),
        "context": rng.integers(0, sizes.gpt_vocab, (1, sizes.generate_context)).astype(np.int64),
        "prompt": rng.integers(0, sizes.gpt_vocab, (1, sizes.cached_context)).astype(np.int64),
    }


def _somegrad_gpt(sizes: Sizes):
    _import_somegrad("nn")
    try:
        from somegrad.nn.models import GPT, GPTConfig
    except ImportError as e:
        raise Unavailable(f"somegrad.nn.models.GPT is not available: {e}") from e
    config = GPTConfig(
        vocab_size=sizes.gpt_vocab,
        block_size=sizes.gpt_block,
        n_layer=sizes.gpt_layers,
        n_head=sizes.gpt_heads,
        n_embd=sizes.gpt_width,
        dropout=0.0,
        bias=True,
        tie_weights=True,
    )
    return GPT(config)


def _gpt_model(framework: str, inputs: dict):
    sizes = inputs["sizes"]
    if framework == "torch":
        _import_torch()
        model = torch_gpt(sizes)
    else:
        model = _somegrad_gpt(sizes)
    try:
        how = _load(framework, model, inputs["weights"])
    except ValueError as e:
        how = f"own initialisation ({e})"
    inputs.setdefault("loaded", {})[framework] = how
    return model


def gpt_train_somegrad(inputs: dict):
    sg, optim = _import_somegrad("optim")
    model = _gpt_model("somegrad", inputs)
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def gpt_train_torch(inputs: dict):
    torch = _import_torch()
    model = _gpt_model("torch", inputs)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def gpt_train_bf16_somegrad(inputs: dict):
    sg, optim = _import_somegrad("optim")
    if not hasattr(sg, "autocast"):
        raise Unavailable("this somegrad has no autocast")
    model = _gpt_model("somegrad", inputs)
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])

    def forward_loss():
        with sg.autocast("cpu", dtype=sg.bfloat16):
            return model(idx, targets)[1]

    return _training_step(opt.zero_grad, forward_loss, opt.step)


def gpt_train_bf16_torch(inputs: dict):
    torch = _import_torch()
    model = _gpt_model("torch", inputs)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])

    def forward_loss():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return model(idx, targets)[1]

    return _training_step(opt.zero_grad, forward_loss, opt.step)


def gpt_train_checkpointed_somegrad(inputs: dict):
    sg, optim = _import_somegrad("optim")
    model = _gpt_model("somegrad", inputs)
    if not hasattr(model, "gradient_checkpointing"):
        raise Unavailable("this somegrad's GPT has no gradient_checkpointing")
    model.gradient_checkpointing = True
    opt = optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = sg.tensor(inputs["idx"]), sg.tensor(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def gpt_train_checkpointed_torch(inputs: dict):
    torch = _import_torch()
    from torch.utils.checkpoint import checkpoint

    model = _gpt_model("torch", inputs)
    for block in model.transformer.h:  # each block's forward through torch.utils.checkpoint
        block.forward = (lambda forward: lambda x: checkpoint(forward, x, use_reentrant=False))(block.forward)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    idx, targets = torch.from_numpy(inputs["idx"]), torch.from_numpy(inputs["targets"])
    return _training_step(opt.zero_grad, lambda: model(idx, targets)[1], opt.step)


def _somegrad_generate(inputs: dict, context_key: str, tokens: int, use_cache: bool):
    (sg,) = _import_somegrad()
    model = _gpt_model("somegrad", inputs)
    model.eval()
    context = sg.tensor(inputs[context_key])
    try:
        model.generate(context, 1, use_cache=use_cache)
    except TypeError as e:
        raise Unavailable(f"this somegrad's GPT.generate has no use_cache: {e}") from e

    def step() -> None:
        with sg.no_grad():
            model.generate(context, tokens, temperature=1.0, top_k=None, use_cache=use_cache)

    return step


def _torch_generate(inputs: dict, context_key: str, tokens: int):
    torch = _import_torch()
    model = _gpt_model("torch", inputs)
    model.eval()
    context = torch.from_numpy(inputs[context_key])

    def step() -> None:
        model.generate(context, tokens, temperature=1.0, top_k=None)

    return step


def gpt_generate_somegrad(inputs: dict):
    # the path without a KV cache, as this row measured before the cache existed
    return _somegrad_generate(inputs, "context", inputs["sizes"].generate_tokens, use_cache=False)


def gpt_generate_torch(inputs: dict):
    return _torch_generate(inputs, "context", inputs["sizes"].generate_tokens)


def gpt_generate_cached_somegrad(inputs: dict):
    return _somegrad_generate(inputs, "prompt", inputs["sizes"].cached_tokens, use_cache=True)


def gpt_generate_uncached_somegrad(inputs: dict):
    return _somegrad_generate(inputs, "prompt", inputs["sizes"].cached_tokens, use_cache=False)


def gpt_generate_prompt_torch(inputs: dict):
    # nanoGPT's generate, which recomputes the context for every token (no KV cache)
    return _torch_generate(inputs, "prompt", inputs["sizes"].cached_tokens)


# --- the list ----------------------------------------------------------------------------------

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload(
            "per_op",
            "chain of small elementwise ops on 16-element tensors, forward + backward",
            "us/op",
            chain_inputs,
            {"somegrad": chain_somegrad, "torch": chain_torch, "tinygrad": chain_tinygrad},
            time_scale=1e6,
            per_step_divisor=lambda s: s.chain_length,
        ),
        Workload(
            "mlp",
            "MLP 784-256-256-10, batch 128, cross-entropy, AdamW: one training step",
            "ms/step",
            mlp_inputs,
            {
                "somegrad": mlp_somegrad,
                "torch": mlp_torch,
                "numpy": mlp_numpy,
                "tinygrad": mlp_tinygrad,
            },
        ),
        Workload(
            "cnn",
            "CNN conv16-pool-conv32-pool-linear on 1x28x28, batch 64, AdamW: one step",
            "ms/step",
            cnn_inputs,
            {"somegrad": cnn_somegrad, "torch": cnn_torch},
        ),
        Workload(
            "gpt_train",
            "char GPT 4 layers, 4 heads, 128 wide, block 64, batch 32, AdamW: one step",
            "ms/step",
            gpt_inputs,
            {"somegrad": gpt_train_somegrad, "torch": gpt_train_torch},
            throughput=lambda s: s.gpt_batch * s.gpt_block,
            throughput_unit="tok/s",
        ),
        Workload(
            "gpt_generate",
            "GPT generation: 200 new tokens from a context of 64, batch 1 (no KV cache: use_cache=False)",
            "ms/step",
            gpt_inputs,
            {"somegrad": gpt_generate_somegrad, "torch": gpt_generate_torch},
            throughput=lambda s: s.generate_tokens,
            throughput_unit="tok/s",
        ),
        Workload(
            "gpt_train_bf16",
            "the gpt_train step under autocast(cpu, bfloat16) in both frameworks",
            "ms/step",
            gpt_inputs,
            {"somegrad": gpt_train_bf16_somegrad, "torch": gpt_train_bf16_torch},
            throughput=lambda s: s.gpt_batch * s.gpt_block,
            throughput_unit="tok/s",
        ),
        Workload(
            "gpt_train_ckpt",
            "the gpt_train step with each block checkpointed (activations recomputed in the backward)",
            "ms/step",
            gpt_inputs,
            {"somegrad": gpt_train_checkpointed_somegrad, "torch": gpt_train_checkpointed_torch},
            throughput=lambda s: s.gpt_batch * s.gpt_block,
            throughput_unit="tok/s",
        ),
        Workload(
            "gpt_gen_cached",
            "GPT generation with somegrad's KV cache: 56 new tokens after a prompt of 8 (within the "
            "block of 64), batch 1; torch is nanoGPT's generate (no cache)",
            "ms/step",
            gpt_inputs,
            {"somegrad": gpt_generate_cached_somegrad, "torch": gpt_generate_prompt_torch},
            throughput=lambda s: s.cached_tokens,
            throughput_unit="tok/s",
        ),
        Workload(
            "gpt_gen_nocache",
            "the gpt_gen_cached generation without somegrad's KV cache (use_cache=False)",
            "ms/step",
            gpt_inputs,
            {"somegrad": gpt_generate_uncached_somegrad, "torch": gpt_generate_prompt_torch},
            throughput=lambda s: s.cached_tokens,
            throughput_unit="tok/s",
        ),
    ]
}
