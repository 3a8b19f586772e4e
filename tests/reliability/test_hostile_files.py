"""Hostile files: every file in hostile_files/ is refused by `somegrad.load` and
`somegrad.load_metadata` with a SerializationError naming it, in well under a second; huge
hostile inputs (a 150,000-dim shape, a 1 GB file, a FIFO, /dev/zero) are refused without
reading them; loading costs no more memory than the file's own tensors."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

import somegrad as sg
from somegrad.serialization import SerializationError, load_metadata

CORPUS = Path(__file__).parent / "hostile_files"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
MiB = 2**20


def refused(load, path, message=".", seconds=1.0):
    """`load(path)` raises a SerializationError naming `path` and matching `message`, in time."""
    start = time.perf_counter()
    with pytest.raises(SerializationError, match=message) as info:
        load(path)
    elapsed = time.perf_counter() - start
    assert str(path) in str(info.value)
    assert elapsed < seconds, f"{load.__name__} took {elapsed:.2f} s to refuse {path}"
    return info.value


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_hostile_file_is_refused(name):
    expected = EXPECTED[name]
    refused(sg.load, CORPUS / name, expected["message"])
    if expected["load_metadata_refuses"]:
        refused(load_metadata, CORPUS / name, expected["message"])


def test_the_corpus_is_what_make_corpus_writes(tmp_path):
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus
    finally:
        sys.path.remove(str(CORPUS))
    make_corpus.main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".safetensors", ".pt", ".json"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), f"{name} is stale: rerun make_corpus.py"


def _header_file(path: Path, header: dict, data: bytes = b"") -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


@pytest.mark.parametrize("rank", [65, 40_000, 150_000])
def test_a_shape_of_huge_rank_is_refused_before_it_is_multiplied_out(tmp_path, rank):
    """A 3 MB header of 150,000 dims of 2**40: math.prod over it took minutes."""
    path = _header_file(
        tmp_path / "rank.safetensors",
        {"x": {"dtype": "F32", "shape": [2**40] * rank, "data_offsets": [0, 4]}},
        bytes(4),
    )
    refused(sg.load, path, rf"rank {rank}: at most 64 dims")
    refused(load_metadata, path, rf"rank {rank}: at most 64 dims")


def test_a_huge_sparse_file_with_a_bad_header_is_refused_without_reading_it(tmp_path):
    """1 GB (sparse) whose JSON is broken: the first 8 bytes and the header are all that is read."""
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", 64) + b"{" * 64)
        f.truncate(2**30)
    for load in (sg.load, load_metadata):
        tracemalloc.start()
        try:
            refused(load, path, "not valid JSON")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < MiB, f"{load.__name__} allocated {peak / MiB:.1f} MiB to refuse a bad header"


def _peak_while(function):
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_loading_costs_no_more_memory_than_the_tensors(tmp_path):
    """Each tensor is read at its offset into its own array, which the tensor then holds: the peak
    is the tensors' bytes (16 MiB) plus a little, not the whole file plus a copy of it."""
    path = tmp_path / "weights.safetensors"
    sg.save({"a": sg.ones(2 * MiB, dtype=sg.float32), "b": sg.zeros(2 * MiB, dtype=sg.float32), "step": 3}, path)
    loaded, peak = _peak_while(lambda: sg.load(path))
    assert loaded["a"].shape == (2 * MiB,) and loaded["step"] == 3
    assert peak < 16 * MiB + MiB, f"loading 16 MiB of tensors peaked at {peak / MiB:.1f} MiB"
    loaded["a"].add_(1.0)  # writable, its own memory
    assert sg.load(path)["a"][0].item() == 1.0


def test_a_corrupt_tensor_is_refused_with_no_more_memory_than_the_tensors(tmp_path):
    path = tmp_path / "weights.safetensors"
    sg.save({"a": sg.ones(2 * MiB, dtype=sg.float32)}, path)
    with open(path, "r+b") as f:
        f.seek(-5, os.SEEK_END)
        f.write(b"\x13")
    error, peak = _peak_while(lambda: refused(sg.load, path, "checksum mismatch for tensor 'a'"))
    assert peak < 8 * MiB + MiB, f"refusing an 8 MiB corrupt tensor peaked at {peak / MiB:.1f} MiB"


class _Timeout(Exception):
    pass


def _within(seconds, function):
    """Run `function`, failing if it blocks for more than `seconds` (a FIFO's open would)."""
    if not hasattr(signal, "SIGALRM"):
        return function()

    def interrupt(*_):
        raise _Timeout(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        return function()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    for load in (sg.load, load_metadata):
        _within(10, lambda load=load: refused(load, fifo, r"not a regular file but a FIFO"))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_without_reading_it(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    for load in (sg.load, load_metadata):
        _within(10, lambda load=load: refused(load, device, r"not a regular file but a character device"))


def test_a_folder_is_refused(tmp_path):
    for load in (sg.load, load_metadata):
        refused(load, tmp_path, r"not a regular file but a folder")


def test_a_missing_file_is_file_not_found(tmp_path):
    for load in (sg.load, load_metadata):
        with pytest.raises(FileNotFoundError):
            load(tmp_path / "missing.safetensors")


def test_load_metadata_agrees_with_load_on_every_header_bit_flip(tmp_path):
    """A bit flipped anywhere in the header (the metadata's key, its value, the checksums, the
    structure): load_metadata refuses exactly when load does. The one exception is a flip in a
    tensor's own CRC, which only the tensor's bytes can contradict: load_metadata reads no tensor,
    and returns the metadata, whose own checksum still holds."""
    path = tmp_path / "ckpt.safetensors"
    sg.save({"w": sg.tensor([[1.0, -2.0]]), "opt": {"step": 3, "lr": 0.1}}, path, metadata={"epoch": 3, "note": "x"})
    content = bytearray(path.read_bytes())
    header_end = 8 + struct.unpack("<Q", content[:8])[0]
    tensor_crc = re.search(rb'\[\\"F32\\",\[1,2\],(\d+)\]', bytes(content[:header_end]))
    assert tensor_crc is not None
    disagreements = []
    for byte in range(header_end):
        if tensor_crc.start(1) <= byte < tensor_crc.end(1):
            continue
        for bit in {(3 * byte) % 8, (3 * byte + 5) % 8}:
            content[byte] ^= 1 << bit
            path.write_bytes(content)
            outcomes = []
            for load in (sg.load, load_metadata):
                try:
                    load(path)
                    outcomes.append("loaded")
                except SerializationError:
                    outcomes.append("refused")
            if outcomes[0] != outcomes[1]:
                disagreements.append((byte, bit, bytes(content[max(0, byte - 12) : byte + 12]), outcomes))
            content[byte] ^= 1 << bit
    assert not disagreements, disagreements[:5]


def test_a_flipped_bit_in_the_metadata_key_is_refused_by_both(tmp_path):
    """The case that load_metadata used to answer with None while load refused it."""
    path = tmp_path / "ckpt.safetensors"
    sg.save({"w": sg.ones(2)}, path, metadata={"epoch": 3})
    content = path.read_bytes()
    position = content.index(b"somegrad.metadata")
    flipped = content[:position] + b"somegrad.metadatb" + content[position + 17 :]
    path.write_bytes(flipped)
    for load in (sg.load, load_metadata):
        refused(load, path, r"checksum mismatch in the header's 'somegrad.metadata' entry")


def test_a_file_that_shrinks_while_it_is_read_is_refused(tmp_path, monkeypatch):
    import somegrad.serialization as serialization

    path = tmp_path / "w.safetensors"
    sg.save({"a": sg.ones(1000)}, path)
    real = serialization._read_tensor

    def truncate_first(file, header, entry):
        os.truncate(path, header.data_start + 10)
        return real(file, header, entry)

    monkeypatch.setattr(serialization, "_read_tensor", truncate_first)
    refused(sg.load, path, r"truncated while reading tensor 'a'")


def test_safetensors_refuses_the_malformed_files_too():
    """A sanity check that the corpus files are what they claim: safetensors itself refuses them."""
    safetensors = pytest.importorskip("safetensors")
    for name in ("header_length_past_end.safetensors", "offsets_past_end.safetensors", "overlap.safetensors"):
        with pytest.raises(safetensors.SafetensorError):
            safetensors.deserialize((CORPUS / name).read_bytes())


def test_a_header_of_too_many_entries_is_refused_before_it_is_parsed(tmp_path):
    from somegrad.serialization import MAX_TENSORS

    entry = b'"t%d": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}'
    body = b"{" + b", ".join(entry % i for i in range(MAX_TENSORS + 1)) + b"}"
    path = tmp_path / "many.safetensors"
    path.write_bytes(struct.pack("<Q", len(body)) + body)
    (error, peak) = _peak_while(lambda: refused(sg.load, path, rf"more than {MAX_TENSORS} tensors"))
    assert peak < 2 * len(body), f"refusing a {len(body) / MiB:.0f} MiB header peaked at {peak / MiB:.0f} MiB"


def test_save_refuses_more_tensors_than_load_accepts(tmp_path, monkeypatch):
    import somegrad.serialization as serialization

    monkeypatch.setattr(serialization, "MAX_TENSORS", 3)
    with pytest.raises(ValueError, match=r"4 tensors, more than the 3 one file may hold"):
        sg.save({str(i): sg.ones(1) for i in range(4)}, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []
