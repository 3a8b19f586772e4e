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


def test_gpt_with_gradient_checkpointing_trains_as_without(tmp_path):
    """--gradient-checkpointing changes the memory, not the run: the same validation losses;
    --no-cache samples the same text as the cached default (greedy-free, same seed)."""
    args = [*TINY_GPT, "--steps", 20, "--eval-interval", 10]
    plain = run("gpt.py", *args, "--out", tmp_path / "plain")
    run("gpt.py", *args, "--gradient-checkpointing", "--out", tmp_path / "ckpt")
    losses = [json.loads((tmp_path / name / "history.json").read_text())["epochs"] for name in ("plain", "ckpt")]
    assert [e["val_loss"] for e in losses[0]] == pytest.approx([e["val_loss"] for e in losses[1]], rel=1e-5)
    sample = plain.stdout.split("temperature 0.8):")[1]
    uncached = run("gpt.py", *TINY_GPT, "--sample", "--no-cache", "--out", tmp_path / "plain").stdout
    cached = run("gpt.py", *TINY_GPT, "--sample", "--out", tmp_path / "plain").stdout
    assert uncached == cached and len(sample.strip()) > 0


def _mpiexec():
    beside = Path(sys.executable).with_name("mpiexec")
    if importlib.util.find_spec("mpi4py") is None or not beside.exists():
        return None
    return beside


@pytest.mark.slow
@pytest.mark.skipif(_mpiexec() is None, reason="needs mpi4py and the mpich wheel's mpiexec beside this Python")
def test_gpt_on_two_processes_equals_one_process_with_twice_the_batch(tmp_path):
    """2 ranks with --batch-size 4 train as 1 process with --batch-size 8 (the same starts split
    between them, gradients averaged): the same validation losses; rank 0 alone writes and prints;
    --resume on both ranks continues from the same checkpoint."""
    args = [*TINY_GPT[: TINY_GPT.index("--batch-size")], *TINY_GPT[TINY_GPT.index("--batch-size") + 2 :]]
    args += ["--eval-interval", 10]
    env_paths = [str(ROOT / "packages" / name / "src") for name in SOURCE_DIRS]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(env_paths + sys.path))
    env.setdefault("SOMEGRAD_PLUGINS", "somegrad_numpy.plugin")

    def launch(*more):
        command = [sys.executable, "-m", "somegrad.distributed.run", "-n", "2", str(EXAMPLES / "gpt.py")]
        done = subprocess.run(
            [*command, *map(str, args), "--batch-size", "4", *map(str, more)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    two = launch("--steps", 20, "--out", tmp_path / "two")
    assert two.stdout.count("unigram entropy") == 2  # the corpus line and the final line, once each
    assert "2 processes" in two.stdout
    launch("--steps", 30, "--out", tmp_path / "two", "--resume")
    run("gpt.py", *args, "--batch-size", 8, "--steps", 20, "--out", tmp_path / "one")
    run("gpt.py", *args, "--batch-size", 8, "--steps", 30, "--out", tmp_path / "one", "--resume")
    histories = [json.loads((tmp_path / name / "history.json").read_text())["epochs"] for name in ("one", "two")]
    assert [e["step"] for e in histories[1]] == [10, 20, 30]
    assert [e["val_loss"] for e in histories[1]] == pytest.approx([e["val_loss"] for e in histories[0]], rel=1e-4)


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
