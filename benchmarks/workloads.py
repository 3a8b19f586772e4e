"""The workloads: what one step is, in each framework, from the same NumPy weights and data.

A workload makes its weights and data once, in NumPy, with names as PyTorch's state dict has them
(``make_inputs``); each framework's builder loads them and returns a ``step()`` that runs one
step and returns the loss as a float (or None where a step has no loss). A builder raises
``Unavailable`` when its framework (or the part of it the workload needs) is not installed.
The shared pieces are in ``plumbing.py``, the GPT workloads in ``workloads_gpt.py``, and the
recurrent and Transformer layers in ``workloads_layers.py``.
"""

from __future__ import annotations

import numpy as np
from numpy_mlp import NumpyMLP
from plumbing import (  # noqa: F401  (re-exported: run.py, compiled.py and distributed.py read them here)
    FRAMEWORKS,
    FULL,
    LR,
    TINY,
    WEIGHT_DECAY,
    Sizes,
    Unavailable,
    Workload,
    _assign,
    _conv,
    _import_somegrad,
    _import_tinygrad,
    _import_torch,
    _linear,
    _load,
    _tinygrad_leaf,
    _training_step,
)
from workloads_gpt import (  # noqa: F401
    _gpt_model,
    gpt_generate_cached_somegrad,
    gpt_generate_prompt_torch,
    gpt_generate_somegrad,
    gpt_generate_torch,
    gpt_generate_uncached_somegrad,
    gpt_inputs,
    gpt_train_bf16_somegrad,
    gpt_train_bf16_torch,
    gpt_train_checkpointed_somegrad,
    gpt_train_checkpointed_torch,
    gpt_train_somegrad,
    gpt_train_torch,
)
from workloads_layers import LAYER_WORKLOADS

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
        *LAYER_WORKLOADS,
    ]
}
