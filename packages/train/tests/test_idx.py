"""The IDX reader (MNIST's format) and the MNIST dataset, on small files the tests write byte by
byte."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import somegrad as sg
from somegrad.data import MNIST, DataLoader, IDXFormatError, read_idx, write_idx


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_reads_uint8_images(tmp_path):
    values = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(0x08, (2, 3, 4), values.tobytes()))
    array = read_idx(path)
    assert array.dtype == np.uint8 and array.shape == (2, 3, 4)
    np.testing.assert_array_equal(array, values)


@pytest.mark.parametrize("code, dtype", [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")])
def test_reads_every_type_big_endian(tmp_path, code, dtype):
    values = np.array([[-3, 2, 1000 if dtype != ">i1" else 100]], dtype=dtype)
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(code, (1, 3), values.tobytes()))
    array = read_idx(str(path))
    assert array.dtype.isnative and array.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(array, values)


def test_reads_gzip_by_content_and_round_trips_write_idx(tmp_path):
    labels = np.array([7, 2, 1, 0], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (4,), labels.tobytes())))
    np.testing.assert_array_equal(read_idx(path), labels)
    renamed = tmp_path / "labels-without-suffix"
    renamed.write_bytes(path.read_bytes())
    np.testing.assert_array_equal(read_idx(renamed), labels)

    floats = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    write_idx(tmp_path / "f.idx.gz", floats)
    assert (tmp_path / "f.idx.gz").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx.gz"), floats)
    write_idx(tmp_path / "f.idx", floats)
    assert (tmp_path / "f.idx").read_bytes() == idx_bytes(0x0D, (2, 3), floats.astype(">f4").tobytes())
    with pytest.raises(TypeError, match="no type for dtype int64"):
        write_idx(tmp_path / "bad.idx", np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"truncated: 0 bytes"),
        (b"\x00\x00\x08", r"truncated: 3 bytes"),
        (b"\x12\x34\x08\x01\x00\x00\x00\x01\x05", r"bad magic number 0x12340801"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", r"bad magic number 0x00000701"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", r"truncated header: 3 dimensions need 16 bytes"),
        (idx_bytes(0x08, (2, 3), bytes(5)), r"truncated: the header says shape \(2, 3\) of uint8"),
        (idx_bytes(0x0C, (2,), bytes(9)), r"trailing data: .* \(8 bytes of data\), the file has 9"),
        (b"\x1f\x8b\x08\x00garbage", r"corrupt gzip data"),
        (gzip.compress(idx_bytes(0x08, (4,), bytes(4)))[:-6], r"corrupt gzip data"),
    ],
)
def test_bad_files_are_refused_with_the_file_named(tmp_path, content, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_idx("/nonexistent/train-images-idx3-ubyte")


def write_mnist(folder, n_train=5, n_test=3, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        data[prefix] = (images, labels)
    return data


def test_mnist_dataset(tmp_path):
    data = write_mnist(tmp_path)
    train, test = MNIST(tmp_path), MNIST(tmp_path, train=False)
    assert (len(train), len(test)) == (5, 3)
    image, label = train[1]
    assert image.shape == (1, 28, 28) and image.dtype == sg.float32
    np.testing.assert_allclose(image.numpy()[0], data["train"][0][1] / 255.0, rtol=1e-6)
    assert isinstance(label, int) and label == int(data["train"][1][1])
    assert train.targets.dtype == np.int64 and test.data.shape == (3, 28, 28)
    xb, yb = next(iter(DataLoader(train, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and yb.dtype == sg.int64
    flat = MNIST(tmp_path, transform=lambda a: a.reshape(-1), target_transform=lambda y: y + 100)
    assert flat[0][0].shape == (784,) and flat[0][1] >= 100


def test_mnist_torchvision_layout_and_plain_files(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", gz=False)
    assert len(MNIST(tmp_path, train=False)) == 3


def test_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\[.gz\] not found"):
        MNIST(tmp_path)
    write_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"expected \(5,\) to match"):
        MNIST(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28), dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"expected uint8 images \(N, rows, cols\)"):
        MNIST(tmp_path, train=False)
