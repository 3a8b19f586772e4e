"""An example somegrad backend written only against the Array API standard (device "strict").

It runs on array-api-strict, the standard's reference implementation, which allows nothing
beyond the standard: a backend that passes somegrad's conformance suite here will run on any
Array API library. See docs/writing-a-backend.md in the somegrad repository.
"""

from somegrad_arraystrict.backend import ArrayStrictBackend

__all__ = ["ArrayStrictBackend"]
__version__ = "0.1.0"
