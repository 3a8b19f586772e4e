"""The PyTorch MNIST example, ported by its imports: it trains, logs as the original, and learns."""

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_examples import EXAMPLES, run  # noqa: E402


def test_the_body_is_pytorch_code_with_only_the_imports_changed():
    source = (EXAMPLES / "06_mnist_cnn.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import somegrad", "from somegrad"))]
    assert "import somegrad as torch" in imports
    assert "optim.Adadelta(model.parameters(), lr=args.lr)" in source
    assert "torch.accelerator.is_available()" in source


@pytest.mark.slow
def test_mnist_cnn_learns_the_synthetic_digits():
    out = run(
        "06_mnist_cnn.py", "--train-size", 1280, "--test-size", 300, "--log-interval", 5, "--num-workers", 2
    ).stdout
    losses = [float(v) for v in re.findall(r"Loss: ([0-9.]+)", out)]
    assert len(losses) == 4 and losses[-1] < losses[0]
    accuracy = float(re.search(r"final accuracy ([0-9.]+)%", out).group(1))
    assert accuracy > 60.0, out  # ten classes: chance is 10%


def test_mnist_cnn_dry_run_stops_after_one_batch():
    out = run("06_mnist_cnn.py", "--dry-run", "--train-size", 128, "--test-size", 64).stdout
    assert out.count("Train Epoch") == 1
    assert "Test set: Average loss" in out
