"""Faults the train package's tests leave out: the atomic write failing at fsync or at the
rename, and a checkpoint that fails to save in the middle of a run.

(Covered there: SIGKILL mid-write, OSError from the writer, a file-size limit, truncated,
bit-flipped and hostile files, pickles.)
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from reliability_helpers import parameter_bytes, small_gpt, token_dataset, train_step

import somegrad as sg


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_fsync_or_rename_keeps_the_old_file(tmp_path, monkeypatch, failing):
    """fsync can report ENOSPC or EIO (delayed allocation, network file systems); the rename can
    fail too. Either way the old file stays whole and no temporary file is left behind."""
    path = tmp_path / "state.safetensors"
    sg.save({"x": sg.arange(4.0)}, path)
    before = path.read_bytes()
    monkeypatch.setattr(os, failing, _disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        sg.save({"x": sg.zeros(10_000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.safetensors"]
    np.testing.assert_array_equal(sg.load(path)["x"].numpy(), np.arange(4.0))
    sg.save({"x": sg.ones(3)}, path)  # and the next save works
    np.testing.assert_array_equal(sg.load(path)["x"].numpy(), np.ones(3))


def test_a_checkpoint_that_fails_to_save_does_not_disturb_the_run(tmp_path, monkeypatch):
    """A GPT run whose checkpoint at step 8 hits a full disk carries on exactly as a run that
    never saved (saving reads the model, optimizer and random state without touching them),
    and the checkpoint from step 4 still resumes it."""
    from somegrad.data import DataLoader
    from somegrad.train import load_checkpoint, save_checkpoint

    def build(seed=0):
        model, optimizer = small_gpt(seed, dropout=0.1)
        return model, optimizer, DataLoader(token_dataset(16), batch_size=4, shuffle=True)

    model, optimizer, loader = build()
    expected = [train_step(model, optimizer, x, y) for _ in range(3) for x, y in loader]
    expected_params = parameter_bytes(model)

    model, optimizer, loader = build()
    path = tmp_path / "gpt.safetensors"
    losses = []
    for epoch in range(3):
        for x, y in loader:
            losses.append(train_step(model, optimizer, x, y))
        if epoch == 0:
            save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
            saved = path.read_bytes()
        if epoch == 1:
            with monkeypatch.context() as patch:
                patch.setattr(os, "fsync", _disk_full)
                with pytest.raises(OSError):
                    save_checkpoint(path, model=model, optimizer=optimizer, epoch=2)
    assert losses == expected and parameter_bytes(model) == expected_params
    assert path.read_bytes() == saved and os.listdir(tmp_path) == ["gpt.safetensors"]

    model, optimizer, loader = build(seed=9)
    assert load_checkpoint(path, model=model, optimizer=optimizer)["epoch"] == 1
    resumed = [train_step(model, optimizer, x, y) for _ in range(2) for x, y in loader]
    assert resumed == expected[len(expected) // 3 :]
    assert parameter_bytes(model) == expected_params
