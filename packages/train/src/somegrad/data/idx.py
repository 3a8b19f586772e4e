"""The IDX file format (MNIST's): read it, and write it (for tests and for small exports).

An IDX file is: two zero bytes, a type code, the number of dimensions ``n``; then ``n``
big-endian uint32 sizes; then the values, big-endian, in C order. Files may be gzip-compressed
(detected by content, not by name).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from typing import Any

import numpy as np

__all__ = ["IDXFormatError", "read_idx", "write_idx"]

# type code -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """An IDX file that is not one, or is truncated or padded; the message names the file."""


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or gzip) into a numpy array in native byte order.

    Example: ``images = read_idx("train-images-idx3-ubyte.gz")`` gives ``uint8 (60000, 28, 28)``.

    Raises:
        FileNotFoundError: no such file.
        IDXFormatError (a ValueError): bad magic number, unknown type code, a size that does not
            match the header (truncated or with trailing bytes), or a corrupt gzip stream.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise IDXFormatError(f"read_idx: {path}: corrupt gzip data ({exc})") from None
    return _parse(raw, path)


def _parse(raw: bytes, path: str) -> np.ndarray:
    if len(raw) < 4:
        raise IDXFormatError(f"read_idx: {path}: truncated: {len(raw)} bytes, shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise IDXFormatError(
            f"read_idx: {path}: bad magic number 0x{raw[:4].hex()}: expected 00 00, a type code "
            f"in ({known}) and the number of dimensions"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXFormatError(
            f"read_idx: {path}: truncated header: {ndim} dimensions need {header_size} bytes, the file has {len(raw)}"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "trailing data"
        raise IDXFormatError(
            f"read_idx: {path}: {problem}: the header says shape {tuple(shape)} of {dtype.name} "
            f"({expected} bytes of data), the file has {actual}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: Any, compress: bool | None = None) -> None:
    """Write a numpy array (uint8, int8, int16, int32, float32 or float64) as an IDX file.

    ``compress`` defaults to whether the name ends in ``.gz``.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    matches = [
        (code, dtype)
        for code, dtype in IDX_DTYPES.items()
        if array.dtype.kind == dtype.kind and array.dtype.itemsize == dtype.itemsize
    ]
    if not matches:
        raise TypeError(f"write_idx: {path}: the IDX format has no type for dtype {array.dtype}")
    code, dtype = matches[0]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + np.ascontiguousarray(array, dtype=dtype).tobytes()
    if compress if compress is not None else path.endswith(".gz"):
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)
