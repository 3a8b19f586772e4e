"""somegrad's GPU backend on CuPy (device "cuda", "cuda:N").

Importing this package never imports CuPy; the backend loads it when first used and reports
itself unavailable, with the reason, when CuPy or a GPU is missing.
"""

__version__ = "0.1.0"
