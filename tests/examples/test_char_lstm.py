"""examples/char_lstm.py, run as a user runs it (a subprocess), with tiny settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ["core", "backend-numpy", "nn", "train"]

TINY = [
    "--max-chars",
    20_000,
    "--emsize",
    16,
    "--nhid",
    32,
    "--nlayers",
    2,
    "--bptt",
    16,
    "--batch-size",
    8,
    "--lr",
    1e-2,
    "--eval-batches",
    2,
    "--chars",
    40,
]


def run(*args):
    env = dict(os.environ)
    paths = [str(ROOT / "packages" / name / "src") for name in SOURCE_DIRS]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("SOMEGRAD_PLUGINS", "somegrad_numpy.plugin")
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "char_lstm.py"), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def losses(stdout):
    return [float(x) for x in re.findall(r"\| step +\d+/ *\d+ .*\| loss +([0-9.]+)", stdout)]


def test_char_lstm_trains_and_samples():
    result = run(*TINY, "--steps", 40, "--log-interval", 10, "--prompt", "def ")
    assert result.returncode == 0, result.stdout + result.stderr
    curve = losses(result.stdout)
    assert len(curve) == 4, result.stdout
    assert curve[-1] < curve[0] - 0.3, f"the loss did not fall: {curve}"
    assert "valid loss" in result.stdout
    sample = result.stdout.split("sample (temperature 0.8):\n", 1)[1]
    assert sample.startswith("def ") and len(sample.rstrip("\n")) >= 40, sample


def test_char_lstm_reads_a_text_file(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog. " * 200)
    result = run(*TINY, "--data", corpus, "--steps", 30, "--log-interval", 10, "--prompt", "the ", "--temperature", 0.5)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "vocabulary 28" in result.stdout  # 26 letters, the space and the full stop
    curve = losses(result.stdout)
    assert curve[-1] < curve[0], curve
    sample = result.stdout.split("sample (temperature 0.5):\n", 1)[1]
    assert sample.startswith("the ") and set(sample.strip()) <= set("abcdefghijklmnopqrstuvwxyz. ")


def test_char_lstm_refuses_a_bad_temperature():
    result = run("--temperature", 0, "--steps", 1)
    assert result.returncode != 0
    assert "--temperature has to be greater than 0" in result.stderr
