"""somegrad's CPU backend on NumPy (device "cpu")."""

from somegrad_numpy.backend import NumpyBackend

__all__ = ["NumpyBackend"]
__version__ = "0.1.0"
