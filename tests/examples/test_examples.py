"""The runnable examples, run as a user runs them (subprocesses), with tiny settings."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SOURCE_DIRS = ["core", "backend-numpy", "nn", "train"]


def run(script, *args, cwd=None, check=True, timeout=300):
    """Run examples/`script` with `args`; works installed (hatch) and from the source tree."""
    env = dict(os.environ)
    paths = [str(ROOT / "packages" / name / "src") for name in SOURCE_DIRS]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("SOMEGRAD_PLUGINS", "somegrad_numpy.plugin")
    env["MPLBACKEND"] = "Agg"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *map(str, args)],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        command = " ".join(map(str, [script, *args]))
        pytest.fail(f"{command} failed:\n{result.stdout}\n{result.stderr}")
    return result


TINY_GPT = [
    "--n-layer",
    1,
    "--n-head",
    2,
    "--n-embd",
    32,
    "--block-size",
    16,
    "--batch-size",
    8,
    "--max-chars",
    20_000,
    "--eval-batches",
    2,
    "--lr",
    1e-2,
    "--max-new-tokens",
    20,
]


def test_gpt_trains_checkpoints_resumes_and_samples(tmp_path):
    out = tmp_path / "run"
    first = run("gpt.py", *TINY_GPT, "--steps", 30, "--eval-interval", 15, "--out", out)
    assert "unigram entropy" in first.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["step"] == 30
    checkpoint = out / "checkpoint.safetensors"
    assert checkpoint.is_file()
    assert "sample (prompt 'def '" in first.stdout
    assert ("loss curve" in first.stdout) or ("matplotlib is not installed" in first.stdout)

    # --resume continues from step 30 to step 60 and the loss keeps falling
    second = run("gpt.py", *TINY_GPT, "--steps", 60, "--eval-interval", 15, "--out", out, "--resume")
    assert "resumed from" in second.stdout and "at step 30" in second.stdout
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["step"] == 60
    # the history (somegrad.train.History) spans both runs: one record per evaluation
    history = json.loads((out / "history.json").read_text())
    assert [record["step"] for record in history["epochs"]] == [15, 30, 45, 60]
    assert history["epochs"][-1]["val_loss"] == resumed["val_loss"]
    assert (out / "history.csv").read_text().splitlines()[0] == "epoch,step,loss,val_loss,lr"
    assert resumed["val_loss"] < summary["val_loss"]
    assert resumed["val_loss"] < resumed["unigram_entropy"] + 0.5

    sampled = run(
        "gpt.py",
        "--sample",
        "--out",
        out,
        "--prompt",
        "import ",
        "--max-new-tokens",
        30,
        "--top-k",
        5,
        "--temperature",
        0.5,
    )
    assert sampled.stdout.startswith("import ")
    assert len(sampled.stdout.rstrip("\n")) >= len("import ") + 30 - 1


def test_gpt_training_lowers_the_loss(tmp_path):
    result = run("gpt.py", *TINY_GPT, "--steps", 60, "--eval-interval", 20, "--out", tmp_path)
    vals = [
        float(line.split("val loss ")[1].split()[0])
        for line in result.stdout.splitlines() + result.stderr.splitlines()
        if "val loss" in line and line.startswith("step")
    ]
    assert len(vals) == 3 and vals[-1] < vals[0]


@pytest.mark.slow
def test_gpt_default_configuration_runs(tmp_path):
    result = run("gpt.py", "--steps", 3, "--out", tmp_path, "--max-new-tokens", 10)
    assert "4 layers, 4 heads, n_embd 128, context 64" in result.stdout
    assert (tmp_path / "checkpoint.safetensors").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--steps", "0"], "--steps: must be a positive integer"),
        (["--steps", "ten"], "invalid positive_int value"),
        (["--n-embd", "30", "--n-head", "4"], "must be divisible by --n-head"),
        (["--device", "nosuchdevice"], "--device nosuchdevice"),
        (["--corpus", "/no/such/path"], "is not a file or folder"),
        (["--sample", "--out", "/no/such/run"], "no checkpoint"),
        (["--resume", "--out", "/no/such/run", "--max-chars", "1000"], "no checkpoint"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_gpt_bad_input_gives_a_clear_error(args, message):
    result = run("gpt.py", *args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_gpt_reads_a_corpus_file(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("hello world, hello somegrad. " * 200)
    result = run("gpt.py", *TINY_GPT, "--corpus", corpus, "--steps", 5, "--out", tmp_path, "--prompt", "hello")
    assert "vocabulary 14" in result.stdout


def test_gpt_rejects_a_binary_corpus(tmp_path):
    corpus = tmp_path / "data.bin"
    corpus.write_bytes(bytes(range(256)) * 10)
    result = run("gpt.py", "--corpus", corpus, check=False)
    assert result.returncode != 0 and "cannot read corpus" in result.stderr
    assert "Traceback" not in result.stderr


def test_linear_regression_recovers_the_coefficients():
    result = run("01_linear_regression.py", "--steps", 100)
    assert float(result.stdout.split("largest error:")[1]) < 0.01


def test_bigram_network_matches_the_counts():
    result = run("02_bigram.py", "--chars", 50_000, "--steps", 100, "--batch-size", 1024)
    assert "bigram by counting" in result.stdout and "bigram as a network" in result.stdout


def test_mlp_language_model():
    result = run("03_mlp_lm.py", "--steps", 50)
    assert "MLP + BatchNorm" in result.stdout and "val loss" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None,
    reason="scikit-learn is not installed (optional extra for 04_digits.py)",
)
def test_digits():
    result = run("04_digits.py", "--epochs", 1)
    assert "CNN: test accuracy" in result.stdout


def test_digits_without_sklearn_says_what_to_install(tmp_path, monkeypatch):
    # a module named sklearn that fails to import stands in for a missing install
    (tmp_path / "sklearn").mkdir()
    (tmp_path / "sklearn" / "__init__.py").write_text("raise ImportError('no sklearn')")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    result = run("04_digits.py", check=False)
    assert result.returncode != 0
    assert "pip install scikit-learn" in result.stderr and "Traceback" not in result.stderr


def test_ladder_step_five_is_the_gpt_script():
    result = run("05_gpt.py", "--help")
    assert "--max-new-tokens" in result.stdout
