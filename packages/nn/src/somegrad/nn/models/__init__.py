"""Ready-made models: `MLP`, a small `CNN` for 1xHxW images, and `GPT` with `GPTConfig` and its `KVCache`."""

from somegrad.nn.models.cnn import CNN
from somegrad.nn.models.gpt import GPT, GPTConfig, KVCache
from somegrad.nn.models.mlp import MLP

__all__ = ["MLP", "CNN", "GPT", "GPTConfig", "KVCache"]
