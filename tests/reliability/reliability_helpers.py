"""What several reliability tests share: a small GPT trained on random tokens, and memory probes."""

from __future__ import annotations

import gc
import os

import numpy as np

import somegrad as sg

VOCAB = 32
SMALL_GPT = dict(vocab_size=VOCAB, block_size=16, n_layer=2, n_head=2, n_embd=32)


def small_gpt(seed: int, dropout: float = 0.0):
    """The default GPT at a small size (2 layers, 32 wide, block 16) and its AdamW."""
    from somegrad import optim
    from somegrad.nn.models import GPT, GPTConfig

    sg.manual_seed(seed)
    model = GPT(GPTConfig(**SMALL_GPT, dropout=dropout))
    return model, optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)


def token_dataset(sequences: int = 64, seed: int = 0):
    """(sequences, 17) random tokens as a TensorDataset of (inputs, targets), each (N, 16)."""
    from somegrad.data import TensorDataset

    tokens = np.random.default_rng(seed).integers(0, VOCAB, size=(sequences, SMALL_GPT["block_size"] + 1))
    return TensorDataset(sg.tensor(tokens[:, :-1]), sg.tensor(tokens[:, 1:]))


def train_step(model, optimizer, x, y) -> float:
    _, loss = model(x, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def parameter_bytes(model) -> dict[str, bytes]:
    return {name: value.numpy().tobytes() for name, value in model.state_dict().items()}


def resident_bytes() -> int:
    """The process's resident set size now (Linux /proc; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def live_tensors() -> int:
    """How many somegrad Tensors the garbage collector can see right now."""
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), sg.Tensor))  # type(): no __class__ lookups


def graph_objects_in_cycles() -> list:
    """Run the cyclic collector and return the tensors, graph nodes and saved tensors it found
    unreachable: what reference counting alone failed to free (other garbage, such as an
    import's, is ignored)."""
    from somegrad.autograd.graph import Node, SavedTensor

    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [obj for obj in gc.garbage if isinstance(obj, (sg.Tensor, Node, SavedTensor))]
    finally:
        gc.garbage.clear()
        gc.set_debug(0)


class gc_disabled:
    """Turn the cyclic garbage collector off, so only reference counting frees objects."""

    def __enter__(self):
        gc.collect()
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
