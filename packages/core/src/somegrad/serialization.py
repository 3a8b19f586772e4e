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
renamed over the target, so a crash leaves either the old file or the new one. The temporary file
is named ``.<target>.somegrad-partial-<pid>-<random>.tmp``; one left behind by a process that was
killed is removed by the next save of the same target.

Loading reads the header first (`somegrad.serialization_header` bounds everything it can make the
loader do), then each tensor by its offset into memory of its own: a hostile file costs at most its
header's parsing, a corrupt one no more memory than its tensors.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import sys
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from somegrad.serialization_header import (
    CODES as _CODES,
)
from somegrad.serialization_header import (
    MAX_HEADER_BYTES,
    MAX_RANK,
    MAX_TENSORS,
    Header,
    SerializationError,
    open_regular_file,
    parse_json,
    read_header,
)
from somegrad.serialization_header import (
    fail as _fail,
)

__all__ = ["save", "load", "load_metadata", "SerializationError", "write_atomically"]

FORMAT_VERSION = 1
STRUCTURE_KEY = "somegrad"
METADATA_KEY = "somegrad.metadata"
CHECKSUM_KEY = "somegrad.crc32"
# How deeply save() nests dicts, lists and tuples (and metadata): each level is three JSON levels
# in the header, which must stay well inside what JSON parsers (and Python's recursion) allow.
MAX_NESTING = 100
__all__ += ["MAX_HEADER_BYTES", "MAX_RANK", "MAX_NESTING", "MAX_TENSORS"]


def _numpy_dtype(code: str) -> np.dtype:
    if code == "BF16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype({"BOOL": "bool"}.get(code, _NAMES[code]))


_NAMES = {code: name for name, code in _CODES.items()}


def _crc(data: Any) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


# --- writing -------------------------------------------------------------------------------------


_PARTIAL = "somegrad-partial"


def _temporary_name(path: str) -> str:
    """``.<name>.somegrad-partial-<pid>-<8 hex>.tmp`` beside `path`: hidden, and saying what it is."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{_PARTIAL}-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _process_is_alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there: never guess, keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files that saves of `path` left behind when their process died (kill -9,
    power loss): those of a process that no longer runs. Returns the names removed.

    A save in progress in another live process keeps its file. The older naming
    ``.<name>.<pid>.<8 hex>.tmp`` is recognised too.
    """
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    pattern = re.compile(rf"\.{re.escape(name)}\.(?:{_PARTIAL}-(\d+)-|(\d+)\.)[0-9a-f]{{8}}\.tmp")
    removed: list[str] = []
    try:
        candidates = os.listdir(folder)
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.fullmatch(candidate)
        if match is None:
            continue
        pid = int(match.group(1) or match.group(2))
        if pid == os.getpid() or _process_is_alive(pid):
            continue
        try:
            os.unlink(os.path.join(folder, candidate))
            removed.append(candidate)
        except OSError:
            pass
    return removed


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Call ``write(temporary_path)``, then make that file appear at ``path`` atomically.

    The temporary file sits in the same folder (so the rename cannot cross file systems), named
    ``.<name>.somegrad-partial-<pid>-<random>.tmp``; it is fsynced before ``os.replace`` and the
    folder is fsynced after, so after a crash or power loss ``path`` holds either its old content
    or the complete new one. On any error the temporary file is removed and ``path`` is untouched;
    temporary files of ``path`` left by killed processes are removed first.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    remove_stale_temporaries(path)
    temporary = _temporary_name(path)
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
        obj: ``{name: Tensor}``, or nested dicts, lists and tuples of tensors and JSON values,
            at most ``MAX_NESTING`` (100) levels deep and without cycles. Dict keys may be
            strings, integers, floats, booleans or None. No tensor may be named ``__metadata__``
            (the header's own key).
        path: the file to write (atomically: it is replaced only once the new file is complete).
        metadata: optional JSON-serialisable value stored in the header; read it back with
            :func:`load_metadata` without loading the tensors.

    Raises:
        TypeError: something that files cannot hold (nothing is pickled).
        ValueError: a cycle, nesting deeper than ``MAX_NESTING``, more than ``MAX_TENSORS``
            tensors, or a tensor named ``__metadata__``.
            Nothing is written then: an existing file at ``path`` is untouched.

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
    structure = _encode(obj, "", arrays, set())
    if len(arrays) > MAX_TENSORS:
        raise ValueError(
            f"somegrad.save: {len(arrays)} tensors, more than the {MAX_TENSORS} one file may hold "
            "(the loader's bound on hostile headers); split them over several files (nothing was written)"
        )
    if "__metadata__" in arrays:
        raise ValueError(
            "somegrad.save: a tensor may not be named '__metadata__': safetensors files keep their "
            "metadata under that key; rename it (the file was not written)"
        )
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
        _check_json_nesting(metadata, "metadata", set())
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


def _short(where: str) -> str:
    where = where or "<root>"
    return where if len(where) <= 80 else f"{where[:40]}...{where[-30:]}"


def _enter(value: Any, where: str, active: set[int]) -> None:
    """Refuse a container that contains itself, or nesting past MAX_NESTING (`active`: the ids of
    the containers on the path to `value`)."""
    if id(value) in active:
        raise ValueError(
            f"somegrad.save: the {type(value).__name__} at '{_short(where)}' contains itself (a reference "
            "cycle); files hold trees of values, nothing was written"
        )
    if len(active) >= MAX_NESTING:
        raise ValueError(
            f"somegrad.save: nested more than {MAX_NESTING} levels deep at '{_short(where)}'; "
            "flatten the structure (nothing was written)"
        )


def _check_json_nesting(value: Any, where: str, active: set[int]) -> None:
    if isinstance(value, (dict, list, tuple)):
        _enter(value, where, active)
        active.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            _check_json_nesting(item, _join(where, key), active)
        active.discard(id(value))


def _encode(value: Any, where: str, arrays: dict[str, np.ndarray], active: set[int]) -> Any:
    """The JSON form of ``value``: containers are tagged objects, tensors become references."""
    import somegrad as sg

    if isinstance(value, sg.Tensor):
        name = where or "tensor"
        while name in arrays:  # e.g. {"a.b": x, "a": {"b": y}}
            name += "_"
        arrays[name] = _tensor_to_numpy(value, where)
        return {"tensor": name}
    if isinstance(value, (Mapping, list, tuple)):
        _enter(value, where, active)
        active.add(id(value))
        try:
            return _encode_container(value, where, arrays, active)
        finally:
            active.discard(id(value))
    if value is None or isinstance(value, (bool, int, float, str)):
        return _encode_scalar(value, where)
    if isinstance(value, np.generic):
        return _encode_scalar(value.item(), where)
    raise TypeError(
        f"somegrad.save: cannot store a {type(value).__name__} at '{_short(where)}'; only "
        "tensors, dicts, lists, tuples, str, int, float, bool and None (nothing is pickled)"
    )


def _encode_container(value: Any, where: str, arrays: dict[str, np.ndarray], active: set[int]) -> Any:
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float))):
                raise TypeError(
                    f"somegrad.save: dict key {key!r} at '{_short(where)}' is a {type(key).__name__}; "
                    "keys must be str, int, float, bool or None"
                )
            items.append([_encode_scalar(key, where), _encode(item, _join(where, key), arrays, active)])
        return {"dict": items}
    kind = "tuple" if isinstance(value, tuple) else "list"
    return {kind: [_encode(item, _join(where, i), arrays, active) for i, item in enumerate(value)]}


def _encode_scalar(value: Any, where: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}  # "inf", "-inf", "nan": JSON has no such numbers
    return value


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


# --- reading -------------------------------------------------------------------------------------


def _check_header(header: Header) -> dict[str, Any] | None:
    """Everything but the tensors' bytes: the somegrad entries are all there or all absent, their
    checksums match, and the checksum record names the header's tensors with their dtypes and
    shapes. Returns the per-tensor record ({name: [code, shape, crc]}), or None for a file written
    by another tool (nothing to verify against)."""
    path, metadata = header.path, header.metadata
    has_structure, has_checksums = STRUCTURE_KEY in metadata, CHECKSUM_KEY in metadata
    if has_structure != has_checksums or (METADATA_KEY in metadata and not has_checksums):
        missing = CHECKSUM_KEY if not has_checksums else STRUCTURE_KEY
        raise _fail(path, f"corrupt header: '{missing}' is missing from __metadata__")
    if not has_checksums:
        return None
    checksums = parse_json(path, metadata[CHECKSUM_KEY], "checksum record")
    tensors = checksums.get("tensors") if isinstance(checksums, dict) else None
    if not isinstance(tensors, dict):
        raise _fail(path, "corrupt header: the checksum record is not valid")
    for key in (STRUCTURE_KEY, METADATA_KEY):
        if (key in metadata) != (key in checksums) or (
            key in metadata and _crc(metadata[key].encode()) != checksums[key]
        ):
            raise _fail(path, f"checksum mismatch in the header's '{key}' entry: the file is corrupt")
    if METADATA_KEY in metadata:  # load does not return it, but agrees with load_metadata about it
        parse_json(path, metadata[METADATA_KEY], "metadata")
    names = {entry.name for entry in header.entries}
    if set(tensors) != names:
        raise _fail(path, "corrupt header: the tensor names differ from the checksum record")
    for entry in header.entries:
        record = tensors[entry.name]
        if not isinstance(record, list) or len(record) != 3 or record[:2] != [entry.code, list(entry.shape)]:
            raise _fail(path, f"checksum mismatch for tensor {entry.name!r}'s dtype or shape: the file is corrupt")
    return tensors


def _structure(header: Header) -> Any:
    """The decoded structure document's tree, or None for a flat file; checked as load checks it."""
    path, metadata = header.path, header.metadata
    if STRUCTURE_KEY not in metadata:
        return None
    document = parse_json(path, metadata[STRUCTURE_KEY], "structure metadata")
    if not isinstance(document, dict) or "format_version" not in document or "structure" not in document:
        raise _fail(path, "corrupt structure metadata")
    version = document["format_version"]
    if version != FORMAT_VERSION:
        raise _fail(path, f"written in format version {str(version)[:20]}; this somegrad reads {FORMAT_VERSION}")
    return document["structure"]


def _decode(node: Any, tensors: dict[str, Any], path: str, depth: int = 0) -> Any:
    """The value that `_encode` encoded as `node`; `depth`: how many containers hold it."""
    if isinstance(node, dict):
        if len(node) != 1:
            raise _fail(path, f"corrupt structure metadata: unexpected object {node!r:.80}")
        ((kind, content),) = node.items()
        if kind in ("dict", "list", "tuple") and depth >= MAX_NESTING:  # save() never writes deeper
            raise _fail(path, f"corrupt structure metadata: nested more than {MAX_NESTING} levels deep")
        deeper = depth + 1
        if kind == "tensor":
            if not isinstance(content, str) or content not in tensors:
                raise _fail(path, f"corrupt structure metadata: no tensor named {content!r:.80}")
            return tensors[content]
        if kind == "dict" and isinstance(content, list):
            items: dict[Any, Any] = {}
            for pair in content:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _fail(path, "corrupt structure metadata: a dict item is not a [key, value] pair")
                key = _decode(pair[0], tensors, path, deeper)
                try:
                    items[key] = _decode(pair[1], tensors, path, deeper)
                except TypeError:  # an unhashable key
                    raise _fail(path, f"corrupt structure metadata: bad dict key {pair[0]!r:.80}") from None
            return items
        if kind in ("list", "tuple") and isinstance(content, list):
            elements = [_decode(item, tensors, path, deeper) for item in content]
            return elements if kind == "list" else tuple(elements)
        if kind == "float" and content in ("inf", "-inf", "nan"):
            return float(content)
        raise _fail(path, f"corrupt structure metadata: unknown entry kind {kind!r:.40}")
    if isinstance(node, list):
        raise _fail(path, "corrupt structure metadata: untagged list")
    return node


def _read_tensor(file: Any, header: Header, entry: Any) -> np.ndarray:
    """One tensor's bytes, read at its offset into a fresh writable array (nothing else is read)."""
    count = math.prod(entry.shape)  # bounded: read_header checked it against the file's size
    array = np.empty(count, dtype=_numpy_dtype(entry.code))
    buffer = memoryview(array.view(np.uint8).reshape(-1))  # type: ignore[arg-type]
    file.seek(header.data_start + entry.begin)
    filled = 0
    while filled < len(buffer):
        got = file.readinto(buffer[filled:])
        if not got:
            raise _fail(header.path, f"truncated while reading tensor {entry.name!r} (did the file change?)")
        filled += got
    if entry.code == "BOOL" and array.view(np.uint8).max(initial=0) > 1:
        raise _fail(header.path, f"tensor {entry.name!r} of BOOL holds bytes other than 0 and 1")
    if sys.byteorder == "big":
        array = array.byteswap().view(array.dtype.newbyteorder(">"))
    return array.reshape(entry.shape)


def load(path: str | os.PathLike[str], *, device: Any = None, map_location: Any = None) -> Any:
    """Load what :func:`save` wrote (or any safetensors file, as a flat ``{name: Tensor}``).

    Args:
        path: the file.
        device: where the tensors go (default ``"cpu"``); ``map_location`` is an alias for
            PyTorch users.

    The header is read and checked first (never the whole file: a hostile header costs at most
    its own parsing), then each tensor is read at its offset. Only regular files are read.

    Raises:
        SerializationError (a ValueError): the file is truncated, corrupt (checksum mismatch),
            hostile (bad header length, offsets past the end, unknown dtype, rank over 64,
            duplicate names, deep nesting), a pickle, or not a regular file (FIFO, device).
        FileNotFoundError: no such file.
    """
    path = os.fspath(path)
    file, size = open_regular_file(path)
    with file:
        header = read_header(path, file, size)
        record = _check_header(header)
        structure = _structure(header)
        arrays = {entry.name: _read_tensor(file, header, entry) for entry in header.entries}
    if record is not None:
        for name, array in arrays.items():
            if _crc(_raw_bytes(array)) != record[name][2]:
                raise _fail(path, f"checksum mismatch for tensor {name!r}: the file is corrupt")
    target = device if device is not None else map_location
    tensors = {name: _to_tensor(array, target) for name, array in arrays.items()}
    if structure is None:
        return tensors
    return _decode(structure, tensors, path)


def load_metadata(path: str | os.PathLike[str]) -> Any:
    """The ``metadata`` given to :func:`save` (``None`` if there was none), without loading
    tensors. The header is checked as :func:`load` checks it (everything but the tensors' bytes),
    so a file whose header ``load`` refuses is refused here too."""
    path = os.fspath(path)
    file, size = open_regular_file(path)
    with file:
        header = read_header(path, file, size)
    _check_header(header)
    structure = _structure(header)
    if structure is not None:
        _decode(structure, {entry.name: None for entry in header.entries}, path)
    if METADATA_KEY not in header.metadata:
        return None
    return parse_json(path, header.metadata[METADATA_KEY], "metadata")


def _to_tensor(array: np.ndarray, device: Any) -> Any:
    import somegrad as sg

    tensor = sg.from_numpy(array)
    return tensor if device is None else tensor.to(device)
