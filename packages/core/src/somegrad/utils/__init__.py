"""Training utilities that sit on the autograd engine: `somegrad.utils.checkpoint`.

`somegrad.utils.data` (`torch.utils.data`'s objects) comes from somegrad-train, which shares
this package as it shares `somegrad`."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from somegrad.utils import checkpoint  # noqa: E402

__all__ = ["checkpoint"]
