"""somegrad.save / somegrad.load: round trips, interoperability with plain safetensors, refusal
of truncated, bit-flipped and hostile files, and atomic writes (OSError, full file system)."""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import somegrad as sg
from somegrad.serialization import SerializationError, load_metadata, write_atomically

DTYPES = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8"]


def sample_tensors():
    rng = np.random.default_rng(0)
    tensors = {}
    for name in DTYPES:
        dtype = getattr(sg, name)
        values = rng.normal(size=(3, 5)) * 50
        tensors[f"t.{name}"] = sg.tensor(values, dtype=dtype)
    tensors["flag"] = sg.tensor([True, False, True])
    tensors["scalar"] = sg.tensor(3.25, dtype=sg.float64)
    tensors["empty"] = sg.zeros(0, 3)
    tensors["transposed"] = sg.tensor(np.arange(6.0).reshape(2, 3)).transpose(0, 1)
    return tensors


def assert_same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    x, y = a.detach().numpy(), b.detach().numpy()
    assert x.tobytes() == np.ascontiguousarray(y).tobytes()


def test_round_trip_every_dtype_bit_exact(tmp_path):
    tensors = sample_tensors()
    path = tmp_path / "weights.safetensors"
    sg.save(tensors, path)
    loaded = sg.load(path)
    assert list(loaded) == list(tensors)
    for name in tensors:
        assert_same(loaded[name], tensors[name])
    assert str(loaded["flag"].device) == "cpu"
    loaded["t.float32"].add_(1.0)  # loaded tensors are writable and own their memory
    assert sg.load(path, device="cpu", map_location=None)["scalar"].item() == 3.25


def test_round_trip_nested_structures(tmp_path):
    state = {
        "model": {"w": sg.ones(2, 2), "b": sg.zeros(2)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": sg.full((2,), 0.5)}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}],
        },
        "best": math.inf,
        "worst": -math.inf,
        "nothing": None,
        "flags": [True, False],
        "name": "run-1 ✓",
        "big": 2**100 + 1,
        1.5: "float key",
        None: "none key",
    }
    path = tmp_path / "state.safetensors"
    sg.save(state, path, metadata={"note": "hello", "epoch": 3})
    loaded = sg.load(path)
    assert_same(loaded["optimizer"]["state"][0]["exp_avg"], state["optimizer"]["state"][0]["exp_avg"])
    assert loaded["optimizer"]["state"][0]["step"] == 3
    assert loaded["optimizer"]["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]
    assert loaded["best"] == math.inf and loaded["worst"] == -math.inf
    for key in ("nothing", "flags", "name", "big", 1.5, None):
        assert loaded[key] == state[key]
    nan = sg.load(_saved(tmp_path, {"x": float("nan")}))["x"]
    assert math.isnan(nan)
    assert load_metadata(path) == {"note": "hello", "epoch": 3}
    assert load_metadata(_saved(tmp_path, {"x": 1})) is None


def _saved(tmp_path, obj, name="other.safetensors"):
    path = tmp_path / name
    sg.save(obj, path)
    return path


def test_flat_state_dict_is_a_plain_safetensors_file(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    state = {"layer.weight": sg.ones(2, 3), "layer.bias": sg.tensor([1.0, 2.0])}
    path = _saved(tmp_path, state)
    plain = safetensors_numpy.load_file(str(path))
    assert set(plain) == {"layer.weight", "layer.bias"}
    np.testing.assert_array_equal(plain["layer.bias"], [1.0, 2.0])
    # and a file written by another tool loads as a flat dict
    safetensors_numpy.save_file({"x": np.arange(4, dtype=np.int32)}, str(tmp_path / "foreign.st"))
    foreign = sg.load(tmp_path / "foreign.st")
    assert list(foreign) == ["x"] and foreign["x"].dtype == sg.int32


@pytest.mark.parity
def test_state_dict_loads_into_pytorch_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch_model = torch.nn.Linear(3, 2)
    ours = {
        "weight": sg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3)),
        "bias": sg.tensor([0.5, -0.5]),
    }
    sg.save(ours, tmp_path / "ours.safetensors")
    torch_model.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    np.testing.assert_array_equal(torch_model.weight.detach().numpy(), ours["weight"].numpy())
    with torch.no_grad():
        torch_model.bias.fill_(7.0)
    safetensors_torch.save_file(torch_model.state_dict(), str(tmp_path / "theirs.safetensors"))
    back = sg.load(tmp_path / "theirs.safetensors")
    np.testing.assert_array_equal(back["bias"].numpy(), [7.0, 7.0])
    assert back["weight"].shape == (2, 3)


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"x": object()}, r"cannot store a object at 'x'"),
        ({"a": [1, {2, 3}]}, r"cannot store a set at 'a.1'"),
        ({("a", 1): sg.ones(1)}, r"dict key \('a', 1\)"),
    ],
)
def test_save_refuses_what_json_cannot_hold(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        sg.save(obj, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_needs_a_path(tmp_path):
    with open(tmp_path / "f", "wb") as f, pytest.raises(TypeError, match="file objects"):
        sg.save({"x": sg.ones(1)}, f)


# --- refusing bad files ---------------------------------------------------------------------------


def header_file(header: dict, data: bytes = b"", length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


HOSTILE = {
    "empty": (b"", r"truncated: 0 bytes"),
    "five bytes": (b"\x01\x02\x03\x04\x05", r"truncated: 5 bytes"),
    "header length 2**63": (
        struct.pack("<Q", 2**63) + b"{}",
        r"bad header length 9223372036854775808",
    ),
    "header length past the end": (
        header_file({}, length=1000),
        r"bad header length 1000: the file has 2",
    ),
    "header not JSON": (struct.pack("<Q", 4) + b"{{{{", r"corrupt header, not valid JSON"),
    "header not an object": (header_file([1, 2]), r"expected a JSON object, got list"),  # type: ignore[arg-type]
    "bad metadata": (header_file({"__metadata__": {"a": 1}}), r"__metadata__ must map strings"),
    "unknown dtype": (
        header_file({"x": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}}, b"\x00"),
        r"tensor 'x' has dtype 'Q8', which somegrad does not know",
    ),
    "uint16 dtype": (
        header_file({"x": {"dtype": "U16", "shape": [1], "data_offsets": [0, 2]}}, b"\x00\x00"),
        r"dtype 'U16'",
    ),
    "offsets past the end": (
        header_file({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)),
        r"data_offsets \[0, 16\] past the end of the data \(8 bytes\)",
    ),
    "size mismatch": (
        header_file({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
        r"needs 12 bytes, its data_offsets \[0, 8\] span 8",
    ),
    "negative shape": (
        header_file({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, bytes(4)),
        r"bad shape \[-1\]",
    ),
    "reversed offsets": (
        header_file({"x": {"dtype": "U8", "shape": [0], "data_offsets": [4, 0]}}, bytes(4)),
        r"bad data_offsets \[4, 0\]",
    ),
    "overlap": (
        header_file(
            {
                "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "y": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
            },
            bytes(8),
        ),
        r"tensor 'y' at data_offsets \[4, 8\] overlaps another",
    ),
    "gap": (
        header_file({"x": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}, bytes(4)),
        r"leaves a gap before it",
    ),
    "trailing data": (
        header_file({"x": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}, bytes(5)),
        r"3 bytes of data after the last tensor",
    ),
    "zip archive": (b"PK\x03\x04" + bytes(60), r"zip archive \(torch.save's format\)"),
    "checksum record without structure": (
        header_file({"__metadata__": {"somegrad.crc32": "{}"}}),
        r"'somegrad' is missing from __metadata__",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused(tmp_path, name):
    content, message = HOSTILE[name]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(SerializationError, match=message) as info:
        sg.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


class _Trap:
    """Unpickling this would create a file: proof that loading never runs pickled code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"weights": _Trap(str(marker))}, protocol=4))
    with pytest.raises(SerializationError, match=r"this is a pickle .* somegrad never unpickles"):
        sg.load(path)
    assert not marker.exists()
    # A pickle hidden after a plausible header length is refused by the header checks.
    path.write_bytes(struct.pack("<Q", 40) + pickle.dumps(_Trap(str(marker))))
    with pytest.raises(SerializationError, match=r"corrupt header|bad header length"):
        sg.load(path)
    assert not marker.exists()


def test_every_truncation_is_refused(scratch):
    path = _saved(scratch, {"w": sg.ones(3, 4), "step": 7, "b": sg.zeros(2, dtype=sg.int64)})
    content = path.read_bytes()
    for length in range(len(content)):
        path.write_bytes(content[:length])
        with pytest.raises(SerializationError):
            sg.load(path)


def _flipped_files(folder, positions):
    """Yield after writing each single-bit corruption of a small checkpoint-like file."""
    path = _saved(
        folder,
        {"w": sg.tensor([[1.0, -2.0], [3.0, 0.5]]), "meta": {"lr": 0.1}, "n": sg.tensor([3])},
    )
    content = bytearray(path.read_bytes())
    for byte, bit in positions(len(content)):
        content[byte] ^= 1 << bit
        path.write_bytes(content)
        yield path
        content[byte] ^= 1 << bit


def test_a_bit_flip_in_every_byte_is_refused(scratch):
    """Every byte, one bit each (a different bit from byte to byte), and every bit of the
    header length."""

    def positions(size):
        yield from ((byte, bit) for byte in range(8) for bit in range(8))
        yield from ((byte, (3 * byte) % 8) for byte in range(8, size))

    for path in _flipped_files(scratch, positions):
        with pytest.raises(SerializationError):
            sg.load(path)


@pytest.mark.slow
def test_every_single_bit_flip_is_refused(scratch):
    def positions(size):
        return ((byte, bit) for byte in range(size) for bit in range(8))

    for path in _flipped_files(scratch, positions):
        with pytest.raises(SerializationError):
            sg.load(path)


# --- atomic writes -------------------------------------------------------------------------------


def test_write_is_fsynced_then_renamed(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os,
        "replace",
        lambda a, b: (events.append(("replace", os.path.dirname(a))), real_replace(a, b))[1],
    )
    sg.save({"x": sg.ones(2)}, tmp_path / "x.safetensors")
    assert events == ["fsync", ("replace", str(tmp_path)), "fsync"]  # file, rename, folder
    assert os.listdir(tmp_path) == ["x.safetensors"]


def test_oserror_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    import safetensors.numpy

    path = tmp_path / "ckpt.safetensors"
    sg.save({"x": sg.ones(4)}, path)
    before = path.read_bytes()
    real_save_file = safetensors.numpy.save_file

    def half_then_full_disk(tensors, filename, metadata=None):
        real_save_file(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as f:
            f.truncate(os.path.getsize(filename) // 2)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors.numpy, "save_file", half_then_full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        sg.save({"x": sg.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    np.testing.assert_array_equal(sg.load(path)["x"].numpy(), np.ones(4))


FILE_SIZE_LIMIT_CHILD = """
import resource, signal, sys
import somegrad as sg
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
try:
    sg.save({"x": sg.zeros(100_000)}, sys.argv[1])
except OSError as exc:
    print("OSError", exc.errno, exc)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX resource limits")
def test_file_system_refusing_the_write_keeps_the_old_file(tmp_path, subprocess_env):
    """A real failing write (a file-size limit, as a full disk would): OSError, old file intact."""
    path = tmp_path / "ckpt.safetensors"
    sg.save({"x": sg.ones(4)}, path)
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT_CHILD, str(path)],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OSError 27"), result.stdout  # EFBIG: File too large
    assert str(path) in result.stdout
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_write_atomically_removes_the_temporary_file_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fail(temporary):
        with open(temporary, "w") as f:
            f.write("partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_atomically(target, fail)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


# --- what save refuses before touching the old file ----------------------------------------------


def _old_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    sg.save({"w": sg.arange(3.0)}, path)
    return path, path.read_bytes()


def test_a_tensor_named_metadata_is_refused_before_the_old_file_is_touched(tmp_path):
    """`__metadata__` is the header's own key: a tensor of that name made a file that neither
    somegrad nor safetensors could load, and replaced the good one."""
    path, before = _old_file(tmp_path)
    with pytest.raises(ValueError, match=r"a tensor may not be named '__metadata__'"):
        sg.save({"__metadata__": sg.ones(2), "w": sg.ones(1)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]
    # the key is fine where it names no tensor, or one deeper in the structure
    sg.save({"__metadata__": {"x": sg.ones(2)}, "n": {"__metadata__": 1}}, path)
    loaded = sg.load(path)
    assert loaded["n"] == {"__metadata__": 1} and loaded["__metadata__"]["x"].tolist() == [1.0, 1.0]


def _deep(levels, leaf):
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "obj, message",
    [
        (_deep(5000, sg.ones(1)), r"nested more than 100 levels deep at '0.0.0.0"),
        (_deep(101, 1), r"nested more than 100 levels deep"),
        ({"a": {"b": {}}}, None),  # placeholder for the cycle, built below
    ],
    ids=["5000 deep", "101 deep", "cycle"],
)
def test_deep_or_self_referencing_structures_are_refused_clearly(tmp_path, obj, message):
    if message is None:
        obj["a"]["b"]["again"] = obj
        message = r"the dict at 'a.b.again' contains itself \(a reference cycle\)"
    path, before = _old_file(tmp_path)
    with pytest.raises(ValueError, match=message):
        sg.save(obj, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_self_referencing_and_deep_metadata_are_refused_clearly(tmp_path):
    path, before = _old_file(tmp_path)
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"the list at 'metadata.1' contains itself"):
        sg.save({"w": sg.ones(1)}, path, metadata=loop)
    with pytest.raises(ValueError, match=r"nested more than 100 levels deep"):
        sg.save({"w": sg.ones(1)}, path, metadata=_deep(5000, 1))
    assert path.read_bytes() == before


def test_a_list_may_repeat_an_object_that_is_not_a_cycle(tmp_path):
    shared = {"lr": 0.1}
    path = _saved(tmp_path, {"groups": [shared, shared]})
    assert sg.load(path) == {"groups": [{"lr": 0.1}, {"lr": 0.1}]}


def test_100_levels_round_trip(tmp_path):
    """MAX_NESTING levels save and load (the loader refuses only what save never writes)."""
    obj = _deep(100, sg.tensor([2.0]))
    loaded = sg.load(_saved(tmp_path, obj))
    for _ in range(100):
        loaded = loaded[0]
    assert loaded.tolist() == [2.0]


# --- temporary files left by killed saves --------------------------------------------------------

KILLED_SAVE_CHILD = """
import os, signal, sys
import safetensors.numpy
import somegrad as sg
real = safetensors.numpy.save_file
def save_then_die(tensors, filename, metadata=None):
    real(tensors, filename, metadata=metadata)  # the temporary file is complete, not yet renamed
    os.kill(os.getpid(), signal.SIGKILL)
safetensors.numpy.save_file = save_then_die
sg.save({"x": sg.zeros(100_000)}, sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_temporaries_of_killed_saves_are_named_and_removed_by_the_next_save(tmp_path, subprocess_env):
    """kill -9 during a save leaves its temporary file (the old file is intact); its name says
    what it is, and the next save of the same target removes it: after three killed saves one
    temporary file is left, not three. Other targets' files are left alone."""
    path = tmp_path / "ckpt.safetensors"
    sg.save({"x": sg.ones(4)}, path)
    before = path.read_bytes()
    (tmp_path / ".other.safetensors.somegrad-partial-1-0123abcd.tmp").write_bytes(b"not ours to remove")
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", KILLED_SAVE_CHILD, str(path)], env=subprocess_env, capture_output=True, timeout=60
        )
        assert result.returncode == -9, result.stderr
    assert path.read_bytes() == before
    left = sorted(name for name in os.listdir(tmp_path) if name.startswith(".ckpt"))
    assert len(left) == 1
    assert all(re.fullmatch(r"\.ckpt\.safetensors\.somegrad-partial-\d+-[0-9a-f]{8}\.tmp", name) for name in left)
    sg.save({"x": sg.zeros(2)}, path)
    assert sorted(os.listdir(tmp_path)) == [".other.safetensors.somegrad-partial-1-0123abcd.tmp", "ckpt.safetensors"]
    assert sg.load(path)["x"].tolist() == [0.0, 0.0]


def test_a_save_in_progress_in_a_live_process_keeps_its_temporary(tmp_path):
    """Only a dead process's temporary files go: a concurrent save's (here: this process's
    parent, which is alive) stays."""
    from somegrad.serialization import remove_stale_temporaries

    path = tmp_path / "ckpt.safetensors"
    live = tmp_path / f".ckpt.safetensors.somegrad-partial-{os.getppid()}-0123abcd.tmp"
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".ckpt.safetensors.somegrad-partial-{int(dead_pid.stdout)}-89abcdef.tmp"
    legacy = tmp_path / f".ckpt.safetensors.{int(dead_pid.stdout)}.0badf00d.tmp"  # the earlier naming
    for file in (live, dead, legacy):
        file.write_bytes(b"partial")
    removed = remove_stale_temporaries(path)
    if sys.platform == "win32":
        assert removed == []
    else:
        assert sorted(removed) == sorted([dead.name, legacy.name])
        assert live.exists() and not dead.exists() and not legacy.exists()
