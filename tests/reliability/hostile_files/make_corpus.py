"""Write the corpus of hostile files beside this script, and `expected.json` (file -> the
SerializationError message each must give). Rerun after adding a case:

    hatch run python tests/reliability/hostile_files/make_corpus.py

Each file is small; the big hostile inputs (a 1 GB file, a 3 MB header) are made by the tests
themselves. `somegrad.load` and `somegrad.load_metadata` must refuse every file here, naming it
(`load_metadata` reads no tensor, so it is exempt for the files in DATA_ONLY).
"""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).parent


def header_file(header, data: bytes = b"", length: int | None = None) -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def tensor(dtype, shape, offsets):
    return {"dtype": dtype, "shape": shape, "data_offsets": offsets}


def _somegrad_like(structure_json: str, tensors: dict, data: bytes, metadata: str | None = None) -> bytes:
    """A file as somegrad writes it, with its checksums right, around a hostile structure."""
    checksums = {"tensors": {name: [info["dtype"], info["shape"], zlib.crc32(data)] for name, info in tensors.items()}}
    checksums["somegrad"] = zlib.crc32(structure_json.encode())
    meta = {"somegrad": structure_json}
    if metadata is not None:
        meta["somegrad.metadata"] = metadata
        checksums["somegrad.metadata"] = zlib.crc32(metadata.encode())
    meta["somegrad.crc32"] = json.dumps(checksums)
    return header_file({"__metadata__": meta, **tensors}, data)


DEEP = 1000
CASES: dict[str, tuple[bytes, str]] = {
    # --- from the loader's first tests
    "empty.safetensors": (b"", r"truncated: 0 bytes"),
    "five_bytes.safetensors": (b"\x01\x02\x03\x04\x05", r"truncated: 5 bytes"),
    "header_length_2_63.safetensors": (struct.pack("<Q", 2**63) + b"{}", r"bad header length 9223372036854775808"),
    "header_length_past_end.safetensors": (header_file({}, length=1000), r"bad header length 1000: the file has 2"),
    "header_not_json.safetensors": (struct.pack("<Q", 4) + b"{{{{", r"corrupt header, not valid JSON"),
    "header_not_utf8.safetensors": (header_file(b'{"\xff\xfe": 1}'), r"corrupt header, not valid JSON"),
    "header_a_list.safetensors": (header_file([1, 2]), r"expected a JSON object, got list"),
    "metadata_not_strings.safetensors": (header_file({"__metadata__": {"a": 1}}), r"__metadata__ must map strings"),
    "unknown_dtype.safetensors": (header_file({"x": tensor("Q8", [1], [0, 1])}, b"\x00"), r"dtype 'Q8'"),
    "offsets_past_end.safetensors": (
        header_file({"x": tensor("F32", [4], [0, 16])}, bytes(8)),
        r"data_offsets \[0, 16\] past the end of the data \(8 bytes\)",
    ),
    "size_mismatch.safetensors": (
        header_file({"x": tensor("F32", [3], [0, 8])}, bytes(8)),
        r"needs 12 bytes, its data_offsets \[0, 8\] span 8",
    ),
    "negative_dim.safetensors": (header_file({"x": tensor("F32", [-1], [0, 4])}, bytes(4)), r"bad shape \[-1\]"),
    "float_dim.safetensors": (header_file({"x": tensor("F32", [1.0], [0, 4])}, bytes(4)), r"bad shape \[1.0\]"),
    "bool_dim.safetensors": (header_file({"x": tensor("F32", [True], [0, 4])}, bytes(4)), r"bad shape \[True\]"),
    "overlap.safetensors": (
        header_file({"x": tensor("F32", [2], [0, 8]), "y": tensor("F32", [1], [4, 8])}, bytes(8)),
        r"overlaps another",
    ),
    "gap.safetensors": (header_file({"x": tensor("U8", [2], [2, 4])}, bytes(4)), r"leaves a gap before it"),
    "trailing_data.safetensors": (
        header_file({"x": tensor("U8", [2], [0, 2])}, bytes(5)),
        r"3 bytes of data after the last tensor",
    ),
    "zip_archive.pt": (b"PK\x03\x04" + bytes(60), r"zip archive \(torch.save's format\)"),
    "pickle.pt": (pickle.dumps({"weights": [1.0, 2.0]}, protocol=4), r"this is a pickle"),
    "checksums_without_structure.safetensors": (
        header_file({"__metadata__": {"somegrad.crc32": "{}"}}),
        r"'somegrad' is missing from __metadata__",
    ),
    # --- found by attacking the loader
    "rank_65.safetensors": (header_file({"x": tensor("U8", [1] * 65, [0, 1])}, b"\x00"), r"rank 65: at most 64 dims"),
    "huge_empty_shape.safetensors": (
        header_file({"x": tensor("F32", [2**62, 0], [0, 0])}),
        r"too large for any file",
    ),
    "huge_dims.safetensors": (
        header_file({"x": tensor("F32", [2**40, 2**40, 2**40], [0, 4])}, bytes(4)),
        r"too large for any file",
    ),
    "dtype_a_list.safetensors": (
        header_file({"x": tensor(["F32"], [1], [0, 4])}, bytes(4)),
        r"has dtype \"\['F32'\]\"",
    ),
    "dtype_an_object.safetensors": (header_file({"x": tensor({"a": 1}, [1], [0, 4])}, bytes(4)), r"has dtype"),
    "shape_an_object.safetensors": (header_file({"x": tensor("F32", {"a": 1}, [0, 4])}, bytes(4)), r"bad shape"),
    "offsets_strings.safetensors": (header_file({"x": tensor("U8", [1], ["0", "1"])}, b"\x00"), r"bad data_offsets"),
    "header_nested_1000_deep.safetensors": (
        header_file(b'{"x": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        r"corrupt header entry for tensor 'x'|nested too deeply",
    ),
    "header_nested_100000_deep.safetensors": (
        header_file(b"[" * 100_000 + b"]" * 100_000),
        r"nested too deeply",
    ),
    "duplicate_tensor_name.safetensors": (
        header_file(
            b'{"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},'
            b' "x": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}',
            b"\x01\x02",
        ),
        r"the key 'x' appears twice",
    ),
    "duplicate_metadata.safetensors": (
        header_file(b'{"__metadata__": {}, "__metadata__": {"a": "b"}}'),
        r"the key '__metadata__' appears twice",
    ),
    "integer_with_10000_digits.safetensors": (
        header_file(b'{"x": {"dtype": "U8", "shape": [' + b"9" * 10_000 + b'], "data_offsets": [0, 1]}}', b"\x00"),
        r"not valid JSON",
    ),
    "bool_byte_2.safetensors": (
        header_file({"x": tensor("BOOL", [2], [0, 2])}, b"\x01\x02"),
        r"bytes other than 0 and 1",
    ),
    "structure_nested_200_deep.safetensors": (  # valid JSON, deeper than save() ever writes
        _somegrad_like('{"format_version": 1, "structure": ' + '{"list": [' * 200 + "1" + "]}" * 200 + "}", {}, b""),
        r"nested more than 100 levels deep",
    ),
    "structure_nested_1000_deep.safetensors": (
        _somegrad_like('{"format_version": 1, "structure": ' + '{"list": [' * DEEP + "1" + "]}" * DEEP + "}", {}, b""),
        r"nested too deeply",
    ),
    "structure_json_nested_100000_deep.safetensors": (
        _somegrad_like('{"format_version": 1, "structure": ' + "[" * 100_000 + "]" * 100_000 + "}", {}, b""),
        r"nested too deeply",
    ),
    "structure_unknown_tensor.safetensors": (
        _somegrad_like('{"format_version": 1, "structure": {"tensor": "y"}}', {}, b""),
        r"no tensor named 'y'",
    ),
    "structure_unhashable_key.safetensors": (
        _somegrad_like('{"format_version": 1, "structure": {"dict": [[[1], 2]]}}', {}, b""),
        r"corrupt structure metadata",
    ),
    "structure_bad_pair.safetensors": (
        _somegrad_like('{"format_version": 1, "structure": {"dict": [1]}}', {}, b""),
        r"not a \[key, value\] pair",
    ),
    "structure_version_2.safetensors": (
        _somegrad_like('{"format_version": 2, "structure": 1}', {}, b""),
        r"format version 2",
    ),
    "metadata_nested_100000_deep.safetensors": (
        _somegrad_like('{"format_version": 1, "structure": 1}', {}, b"", metadata="[" * 100_000 + "]" * 100_000),
        r"nested too deeply",
    ),
    "metadata_key_flipped.safetensors": (
        header_file(
            {
                "__metadata__": {
                    "somegrad": '{"format_version":1,"structure":1}',
                    "somegrad.metadatb": '{"epoch":3}',  # one flipped bit in the key
                    "somegrad.crc32": json.dumps(
                        {
                            "tensors": {},
                            "somegrad": zlib.crc32(b'{"format_version":1,"structure":1}'),
                            "somegrad.metadata": zlib.crc32(b'{"epoch":3}'),
                        }
                    ),
                }
            }
        ),
        r"checksum mismatch in the header's 'somegrad.metadata' entry",
    ),
    "checksum_record_a_list.safetensors": (
        header_file({"__metadata__": {"somegrad": '{"format_version":1,"structure":1}', "somegrad.crc32": "[1]"}}),
        r"the checksum record is not valid",
    ),
    "checksum_record_wrong_shape.safetensors": (
        _somegrad_like(
            '{"format_version": 1, "structure": {"tensor": "x"}}', {"x": tensor("U8", [1], [0, 1])}, b"\x07"
        ).replace(b'\\"U8\\", [1]', b'\\"U8\\", [2]'),
        r"dtype or shape",
    ),
}


# problems in the tensors' bytes, which only load reads
DATA_ONLY = {"bool_byte_2.safetensors"}


def main(folder: Path = HERE) -> None:
    for old in folder.iterdir():
        if old.suffix in (".safetensors", ".pt"):
            old.unlink()
    for name, (content, _) in CASES.items():
        (folder / name).write_bytes(content)
    expected = {
        name: {"message": message, "load_metadata_refuses": name not in DATA_ONLY}
        for name, (_, message) in sorted(CASES.items())
    }
    (folder / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
