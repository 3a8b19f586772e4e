"""Reading a safetensors header without trusting it: what `somegrad.load` does before it reads
a single tensor byte.

A file is an 8-byte little-endian header length, a JSON header, then the tensors' bytes. Everything
a header can make the loader do is bounded before it is done:

* only regular files are opened (a FIFO, ``/dev/zero`` or a folder is refused at once, without
  blocking or reading);
* the header length is checked against the file's size and ``MAX_HEADER_BYTES`` before it is read,
  and only the first 8 bytes and the header are read: never the whole file;
* JSON nesting deeper than the interpreter allows and duplicate keys are refused;
* at most ``MAX_TENSORS`` entries (counted in the raw bytes before the JSON is parsed);
* a tensor's rank is at most ``MAX_RANK`` (64, as in PyTorch) before its shape is multiplied out,
  and its element count must match its byte range, which must lie inside the file.

Every problem raises `SerializationError` with the file's name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import stat
import struct
from typing import Any, BinaryIO, NamedTuple

__all__ = ["SerializationError", "TensorEntry", "Header", "open_regular_file", "read_header", "fail"]

MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces
# Checking a header costs time and memory per tensor entry (about 10 us and 700 bytes): this bounds
# what a hostile header of many small entries costs, far above what a checkpoint holds.
MAX_TENSORS = 100_000
MAX_RANK = 64  # PyTorch's limit on a tensor's number of dims
# the most bytes (or, for an empty tensor, the most bytes its non-zero dims span) any dimension
# list may describe: NumPy refuses anything larger, and no file is that big
MAX_EXTENT = 2**62

# somegrad dtype name <-> safetensors dtype code
CODES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
}
NAMES = {code: name for name, code in CODES.items()}
ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class SerializationError(ValueError):
    """A file that ``somegrad.load`` refuses: truncated, corrupt, hostile or not safetensors.

    The message names the file and the problem.
    """


def fail(path: str, problem: str) -> SerializationError:
    return SerializationError(f"somegrad.load: {path}: {problem}")


class TensorEntry(NamedTuple):
    """One tensor as the header describes it; `begin` and `end` are offsets into the data."""

    name: str
    code: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclasses.dataclass
class Header:
    path: str
    metadata: dict[str, str]
    entries: list[TensorEntry]  # in the header's order
    data_start: int  # where the data begins in the file


_KINDS = [
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISSOCK, "a socket"),
]


def open_regular_file(path: str) -> tuple[BinaryIO, int]:
    """The open file and its size; a SerializationError for anything but a regular file.

    O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except IsADirectoryError:  # Windows and some systems refuse to open folders at all
        raise fail(path, "not a regular file but a folder") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise fail(path, f"not a regular file but {kind}; somegrad loads only regular files")
        return os.fdopen(descriptor, "rb", buffering=0), info.st_size
    except BaseException:
        os.close(descriptor)
        raise


def read_exactly(file: BinaryIO, size: int, path: str, what: str) -> bytearray:
    """`size` bytes from `file`, read into one buffer of that size (no growing, no copies)."""
    data = bytearray(size)
    view = memoryview(data)
    filled = 0
    while filled < size:
        got = file.readinto(view[filled:])  # type: ignore[attr-defined]
        if not got:
            raise fail(path, f"truncated while reading {what}: {filled} of {size} bytes (did the file change?)")
        filled += got
    return data


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return result


class _Duplicate(Exception):
    pass


def parse_json(path: str, text: bytes | bytearray | str, what: str) -> Any:
    """JSON from a file: a SerializationError (never RecursionError) for anything malformed,
    nested too deeply or holding a key twice."""
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _Duplicate as exc:
        raise fail(path, f"corrupt {what}: the key {str(exc)[:80]!r} appears twice") from None
    except RecursionError:
        raise fail(path, f"corrupt {what}: JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise fail(path, f"corrupt {what}, not valid JSON ({str(exc)[:200]})") from None


_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def _entry(path: str, name: str, info: Any, data_size: int) -> TensorEntry:
    # JSON gives exact types (a bool is not an int here): `type(n) is int` keeps this fast for
    # headers of a million entries.
    if type(info) is not dict or info.keys() != _ENTRY_KEYS:
        raise fail(path, f"corrupt header entry for tensor {name!r}: {str(info)[:200]}")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    itemsize = ITEMSIZE.get(code) if type(code) is str else None
    if itemsize is None:
        raise fail(
            path,
            f"tensor {name!r} has dtype {str(code)[:40]!r}, which somegrad does not know "
            f"(known: {', '.join(ITEMSIZE)})",
        )
    if type(shape) is not list or len(shape) > MAX_RANK:
        rank = f" of rank {len(shape)}" if type(shape) is list else ""
        raise fail(path, f"tensor {name!r} has a bad shape{rank}: at most {MAX_RANK} dims, each an integer >= 0")
    # Multiply the dims out with the bound checked at each step, so that no shape, however
    # hostile, makes a huge number: at most MAX_RANK small multiplications.
    elements, extent = 1, itemsize
    for n in shape:
        if type(n) is not int or n < 0:
            raise fail(path, f"tensor {name!r} has a bad shape {str(shape)[:200]}")
        elements *= n
        extent *= n or 1
        if extent > MAX_EXTENT:
            raise fail(path, f"tensor {name!r} has a shape {str(shape)[:200]} too large for any file")
    if type(offsets) is not list or len(offsets) != 2:
        raise fail(path, f"tensor {name!r} has bad data_offsets {str(offsets)[:100]}")
    begin, end = offsets
    if type(begin) is not int or type(end) is not int or not 0 <= begin <= end:
        raise fail(path, f"tensor {name!r} has bad data_offsets {str(offsets)[:100]}")
    if end > data_size:
        raise fail(
            path,
            f"tensor {name!r} has data_offsets {offsets} past the end of the data "
            f"({data_size} bytes): the file is truncated or corrupt",
        )
    if end - begin != elements * itemsize:
        raise fail(
            path,
            f"tensor {name!r} of {code} {tuple(shape)} needs {elements * itemsize} bytes, its "
            f"data_offsets {offsets} span {end - begin}",
        )
    return TensorEntry(name, code, tuple(shape), begin, end)


def _refuse_foreign_formats(path: str, start: bytes) -> None:
    if start[:1] == b"\x80" and start[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise fail(
            path,
            "this is a pickle (as torch.save writes); somegrad never unpickles, re-save the tensors as safetensors",
        )
    if start[:4] == b"PK\x03\x04":
        raise fail(
            path,
            "this is a zip archive (torch.save's format), not safetensors; "
            "somegrad never unpickles, re-save the tensors as safetensors",
        )


@contextlib.contextmanager
def _no_cyclic_collection():
    """The cyclic garbage collector off: parsing a header of a million entries creates millions of
    containers, and the collections they trigger would make that quadratic (47 s for 300,000)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_header(path: str, file: BinaryIO, size: int) -> Header:
    """Read and check the header of the open regular `file` of `size` bytes, completely, before
    anything reads a tensor. Reads the first 8 bytes and the header only."""
    with _no_cyclic_collection():
        return _read_header(path, file, size)


def _read_header(path: str, file: BinaryIO, size: int) -> Header:
    start = file.read(8)
    _refuse_foreign_formats(path, start)
    if len(start) < 8:
        raise fail(path, f"truncated: {len(start)} bytes, too short for the 8-byte header length")
    (header_length,) = struct.unpack("<Q", start)
    if header_length > MAX_HEADER_BYTES or header_length > size - 8:
        limit = f" (at most {MAX_HEADER_BYTES})" if header_length > MAX_HEADER_BYTES else ""
        raise fail(
            path,
            f"bad header length {header_length}{limit}: the file has {size - 8} bytes after it "
            "(truncated, or not a safetensors file)",
        )
    text = read_exactly(file, header_length, path, "the header")
    # every tensor entry names its data_offsets: an upper bound on the entries, found at C speed
    if text.count(b'"data_offsets"') > MAX_TENSORS:
        raise fail(path, f"the header describes more than {MAX_TENSORS} tensors, somegrad's limit for one file")
    header = parse_json(path, text, "header")
    if not isinstance(header, dict):
        raise fail(path, f"corrupt header: expected a JSON object, got {type(header).__name__}")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail(path, "corrupt header: __metadata__ must map strings to strings")

    data_start = 8 + header_length
    data_size = size - data_start
    entries = [_entry(path, name, info, data_size) for name, info in header.items() if name != "__metadata__"]
    position = 0
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):  # by their place in the file
        if entry.begin != position:
            problem = "overlaps another" if entry.begin < position else "leaves a gap before it"
            raise fail(path, f"tensor {entry.name!r} at data_offsets [{entry.begin}, {entry.end}] {problem}")
        position = entry.end
    if position != data_size:
        raise fail(path, f"{data_size - position} bytes of data after the last tensor")
    return Header(path, metadata, entries, data_start)
