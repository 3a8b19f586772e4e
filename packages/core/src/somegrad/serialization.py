"""Saving and loading tensors: ``somegrad.save(obj, path)`` and ``somegrad.load(path)``.

Files are safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's
dtype, shape and byte range, then the raw little-endian data. Loading parses JSON and copies
bytes, nothing else: no pickle, no code runs, whatever the file holds.

``obj`` may be a flat ``{name: Tensor}`` state dict, which gives a plain safetensors file that
PyTorch reads with ``safetensors.torch.load_file`` (same names and layouts), or any nesting of
dicts, lists and tuples holding tensors and JSON values (numbers, strings, booleans, None), which
is how checkpoints store an optimizer's state next to a model's. The nesting goes into the
header's ``__metadata__`` as JSON (key ``"somegrad"``), the tensors are named by their path
(``"optimizer.state.0.exp_avg"``).

Every file somegrad writes also records a CRC-32 of each tensor's bytes, dtype and shape and of its
JSON parts (key ``"somegrad.crc32"``), so a flipped bit is reported instead of loaded. Writing is
atomic: the data goes to a temporary file in the same folder, which is flushed, fsynced and then
renamed over the target, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["save", "load", "load_metadata", "SerializationError", "write_atomically"]

FORMAT_VERSION = 1
STRUCTURE_KEY = "somegrad"
METADATA_KEY = "somegrad.metadata"
CHECKSUM_KEY = "somegrad.crc32"
MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces

# somegrad dtype name <-> safetensors dtype code
_CODES = {
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
_NAMES = {code: name for name, code in _CODES.items()}
_ITEMSIZE = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}


class SerializationError(ValueError):
    """A file that ``somegrad.load`` refuses: truncated, corrupt, hostile or not safetensors.

    The message names the file and the problem.
    """


def _numpy_dtype(code: str) -> np.dtype:
    if code == "BF16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype({"BOOL": "bool"}.get(code, _NAMES[code]))


def _crc(data: Any) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


# --- writing -------------------------------------------------------------------------------------


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Call ``write(temporary_path)``, then make that file appear at ``path`` atomically.

    The temporary file sits in the same folder (so the rename cannot cross file systems); it is
    fsynced before ``os.replace`` and the folder is fsynced after, so after a crash or power loss
    ``path`` holds either its old content or the complete new one. On any error the temporary
    file is removed and ``path`` is untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(temporary)
        descriptor = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, where folders cannot be opened
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def save(obj: Any, path: str | os.PathLike[str], *, metadata: Any = None) -> None:
    """Save tensors (a state dict, or any nesting of dicts/lists/tuples) to a safetensors file.

    Args:
        obj: ``{name: Tensor}``, or nested dicts, lists and tuples of tensors and JSON values.
            Dict keys may be strings, integers, floats, booleans or None.
        path: the file to write (atomically: it is replaced only once the new file is complete).
        metadata: optional JSON-serialisable value stored in the header; read it back with
            :func:`load_metadata` without loading the tensors.

    Example::

        sg.save(model.state_dict(), "model.safetensors")
        model.load_state_dict(sg.load("model.safetensors"))

    Unlike ``torch.save``, arbitrary Python objects cannot be stored (nothing is pickled).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"somegrad.save: path must be a file name (str or os.PathLike), got "
            f"{type(path).__name__}; file objects cannot be written atomically"
        )
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, "", arrays)
    structure_json = _dumps({"format_version": FORMAT_VERSION, "structure": structure})
    header_metadata = {STRUCTURE_KEY: structure_json}
    checksums: dict[str, Any] = {
        "tensors": {
            name: [_CODES[_dtype_name(array)], list(array.shape), _crc(_raw_bytes(array))]
            for name, array in arrays.items()
        },
        STRUCTURE_KEY: _crc(structure_json.encode()),
    }
    if metadata is not None:
        try:
            header_metadata[METADATA_KEY] = _dumps(metadata)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"somegrad.save: metadata must be JSON-serialisable: {exc}") from None
        checksums[METADATA_KEY] = _crc(header_metadata[METADATA_KEY].encode())
    header_metadata[CHECKSUM_KEY] = _dumps(checksums)

    def write(temporary: str) -> None:
        import safetensors
        import safetensors.numpy

        try:
            safetensors.numpy.save_file(arrays, temporary, metadata=header_metadata)
        except safetensors.SafetensorError as exc:
            match = re.search(r"os error (\d+)", str(exc))
            code = int(match.group(1)) if match else None
            raise OSError(code, f"somegrad.save: could not write {os.fspath(path)}: {exc}") from exc

    write_atomically(path, write)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


def _dtype_name(array: np.ndarray) -> str:
    return "bool" if array.dtype == np.bool_ else array.dtype.name


def _raw_bytes(array: np.ndarray) -> np.ndarray:
    """The array's bytes as the file stores them (little-endian, C order), as uint8."""
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def _tensor_to_numpy(tensor: Any, where: str) -> np.ndarray:
    name = tensor.dtype.name
    if name not in _CODES:
        raise TypeError(f"somegrad.save: tensor at '{where}' has dtype {name}, which files cannot hold")
    array = tensor.detach().to("cpu").numpy()
    if name == "bfloat16" and array.dtype.name != "bfloat16":
        import ml_dtypes

        array = array.astype(ml_dtypes.bfloat16)
    # not np.ascontiguousarray, which turns 0-d arrays into 1-d ones
    return array if array.flags.c_contiguous else array.copy(order="C")


def _encode(value: Any, where: str, arrays: dict[str, np.ndarray]) -> Any:
    """The JSON form of ``value``: containers are tagged objects, tensors become references."""
    import somegrad as sg

    if isinstance(value, sg.Tensor):
        name = where or "tensor"
        while name in arrays:  # e.g. {"a.b": x, "a": {"b": y}}
            name += "_"
        arrays[name] = _tensor_to_numpy(value, where)
        return {"tensor": name}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float))):
                raise TypeError(
                    f"somegrad.save: dict key {key!r} at '{where}' is a {type(key).__name__}; "
                    "keys must be str, int, float, bool or None"
                )
            items.append([_encode_scalar(key, where), _encode(item, _join(where, key), arrays)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_encode(item, _join(where, i), arrays) for i, item in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return _encode_scalar(value, where)
    if isinstance(value, np.generic):
        return _encode_scalar(value.item(), where)
    raise TypeError(
        f"somegrad.save: cannot store a {type(value).__name__} at '{where or '<root>'}'; only "
        "tensors, dicts, lists, tuples, str, int, float, bool and None (nothing is pickled)"
    )


def _encode_scalar(value: Any, where: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}  # "inf", "-inf", "nan": JSON has no such numbers
    return value


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


# --- reading -------------------------------------------------------------------------------------


def _read(path: str | os.PathLike[str]) -> tuple[str, bytes, dict[str, Any], int]:
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    return path, raw, *_parse_header(path, raw)


def _fail(path: str, problem: str) -> SerializationError:
    return SerializationError(f"somegrad.load: {path}: {problem}")


def _parse_header(path: str, raw: bytes) -> tuple[dict[str, Any], int]:
    """Check the header completely before anything else reads the file."""
    if raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _fail(
            path,
            "this is a pickle (as torch.save writes); somegrad never unpickles, re-save the tensors as safetensors",
        )
    if raw[:4] == b"PK\x03\x04":
        raise _fail(
            path,
            "this is a zip archive (torch.save's format), not safetensors; "
            "somegrad never unpickles, re-save the tensors as safetensors",
        )
    if len(raw) < 8:
        raise _fail(path, f"truncated: {len(raw)} bytes, too short for the 8-byte header length")
    (header_length,) = struct.unpack("<Q", raw[:8])
    if header_length > MAX_HEADER_BYTES or header_length > len(raw) - 8:
        raise _fail(
            path,
            f"bad header length {header_length}: the file has {len(raw) - 8} bytes after it "
            "(truncated, or not a safetensors file)",
        )
    try:
        header = json.loads(raw[8 : 8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(path, f"corrupt header, not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _fail(path, f"corrupt header: expected a JSON object, got {type(header).__name__}")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, "corrupt header: __metadata__ must map strings to strings")

    data_start = 8 + header_length
    data_size = len(raw) - data_start
    ranges = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _fail(path, f"corrupt header entry for tensor '{name}': {info!r}")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _ITEMSIZE:
            raise _fail(
                path,
                f"tensor '{name}' has dtype {code!r}, which somegrad does not know (known: {', '.join(_ITEMSIZE)})",
            )
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise _fail(path, f"tensor '{name}' has a bad shape {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            raise _fail(path, f"tensor '{name}' has bad data_offsets {offsets!r}")
        if offsets[1] > data_size:
            raise _fail(
                path,
                f"tensor '{name}' has data_offsets {offsets} past the end of the data "
                f"({data_size} bytes): the file is truncated or corrupt",
            )
        expected = math.prod(shape) * _ITEMSIZE[code]
        if offsets[1] - offsets[0] != expected:
            raise _fail(
                path,
                f"tensor '{name}' of {code} {tuple(shape)} needs {expected} bytes, its "
                f"data_offsets {offsets} span {offsets[1] - offsets[0]}",
            )
        ranges.append((offsets[0], offsets[1], name))
    position = 0
    for begin, end, name in sorted(ranges):
        if begin != position:
            problem = "overlaps another" if begin < position else "leaves a gap before it"
            raise _fail(path, f"tensor '{name}' at data_offsets [{begin}, {end}] {problem}")
        position = end
    if position != data_size:
        raise _fail(path, f"{data_size - position} bytes of data after the last tensor")
    return header, data_start


def _check(path: str, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    metadata = header.get("__metadata__", {})
    has_structure, has_checksums = STRUCTURE_KEY in metadata, CHECKSUM_KEY in metadata
    if has_structure != has_checksums:
        missing = CHECKSUM_KEY if has_structure else STRUCTURE_KEY
        raise _fail(path, f"corrupt header: '{missing}' is missing from __metadata__")
    if not has_checksums:
        return  # written by another tool: nothing to verify against
    try:
        checksums = json.loads(metadata[CHECKSUM_KEY])
        tensors = checksums["tensors"]
        if not isinstance(tensors, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise _fail(path, "corrupt header: the checksum record is not valid") from None
    if set(tensors) != set(arrays):
        raise _fail(path, "corrupt header: the tensor names differ from the checksum record")
    for key in (STRUCTURE_KEY, METADATA_KEY):
        if (key in metadata) != (key in checksums) or (
            key in metadata and _crc(metadata[key].encode()) != checksums[key]
        ):
            raise _fail(path, f"checksum mismatch in the header's '{key}' entry: the file is corrupt")
    for name, array in arrays.items():
        code, shape = _CODES[_dtype_name(array)], list(array.shape)
        if tensors[name] != [code, shape, _crc(_raw_bytes(array))]:
            raise _fail(path, f"checksum mismatch for tensor '{name}': the file is corrupt")


def _decode(node: Any, tensors: dict[str, Any], path: str) -> Any:
    if isinstance(node, dict):
        if len(node) != 1:
            raise _fail(path, f"corrupt structure metadata: unexpected object {node!r:.80}")
        ((kind, content),) = node.items()
        if kind == "tensor":
            if content not in tensors:
                raise _fail(path, f"corrupt structure metadata: no tensor named {content!r}")
            return tensors[content]
        if kind == "dict":
            return {_decode(key, tensors, path): _decode(item, tensors, path) for key, item in content}
        if kind == "list":
            return [_decode(item, tensors, path) for item in content]
        if kind == "tuple":
            return tuple(_decode(item, tensors, path) for item in content)
        if kind == "float" and content in ("inf", "-inf", "nan"):
            return float(content)
        raise _fail(path, f"corrupt structure metadata: unknown entry kind {kind!r}")
    if isinstance(node, list):
        raise _fail(path, "corrupt structure metadata: untagged list")
    return node


def load(path: str | os.PathLike[str], *, device: Any = None, map_location: Any = None) -> Any:
    """Load what :func:`save` wrote (or any safetensors file, as a flat ``{name: Tensor}``).

    Args:
        path: the file.
        device: where the tensors go (default ``"cpu"``); ``map_location`` is an alias for
            PyTorch users.

    Raises:
        SerializationError (a ValueError): the file is truncated, corrupt (checksum mismatch),
            hostile (bad header length, offsets past the end, unknown dtype) or a pickle.
        FileNotFoundError: no such file.
    """
    import safetensors

    path, raw, header, _ = _read(path)
    try:
        entries = safetensors.deserialize(raw)
    except Exception as exc:  # the header was checked above; this is a last line of defence
        raise _fail(path, f"not a valid safetensors file ({exc})") from None
    arrays = {}
    for name, info in entries:
        dtype = _numpy_dtype(info["dtype"])
        arrays[name] = np.frombuffer(info["data"], dtype=dtype).reshape(info["shape"])
    _check(path, header, arrays)
    target = device if device is not None else map_location
    tensors = {name: _to_tensor(array, target) for name, array in arrays.items()}
    metadata = header.get("__metadata__", {})
    if STRUCTURE_KEY not in metadata:
        order = [name for name in header if name != "__metadata__"]
        return {name: tensors[name] for name in order}
    try:
        document = json.loads(metadata[STRUCTURE_KEY])
        version = document["format_version"]
        structure = document["structure"]
    except (ValueError, KeyError, TypeError):
        raise _fail(path, "corrupt structure metadata") from None
    if version != FORMAT_VERSION:
        raise _fail(path, f"written in format version {version}; this somegrad reads {FORMAT_VERSION}")
    try:
        return _decode(structure, tensors, path)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SerializationError):
            raise
        raise _fail(path, f"corrupt structure metadata ({exc})") from None


def load_metadata(path: str | os.PathLike[str]) -> Any:
    """The ``metadata`` given to :func:`save` (``None`` if there was none), without loading
    tensors. The header is checked as :func:`load` checks it."""
    path, _, header, _ = _read(path)
    metadata = header.get("__metadata__", {})
    if METADATA_KEY not in metadata:
        return None
    try:
        checksums = json.loads(metadata[CHECKSUM_KEY])
        if _crc(metadata[METADATA_KEY].encode()) != checksums[METADATA_KEY]:
            raise ValueError
        return json.loads(metadata[METADATA_KEY])
    except (ValueError, KeyError, TypeError):
        raise _fail(path, "corrupt or mismatched metadata in the header") from None


def _to_tensor(array: np.ndarray, device: Any) -> Any:
    import somegrad as sg

    tensor = sg.from_numpy(array)
    return tensor if device is None else tensor.to(device)
