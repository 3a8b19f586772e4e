"""The shared `somegrad` namespace: subpackages from other distributions as attributes."""

import subprocess
import sys

import pytest


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize(
    "name, attribute", [("nn", "Linear"), ("optim", "AdamW"), ("data", "DataLoader"), ("train", "fit")]
)
def test_subpackages_are_attributes_after_a_plain_import(name, attribute):
    result = _run(f"import somegrad as sg; print(sg.{name}.{attribute}.__name__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == attribute


def test_unknown_attribute_is_an_attribute_error():
    result = _run("import somegrad as sg\ntry:\n    sg.nonexistent\nexcept AttributeError as e:\n    print(e)")
    assert "has no attribute 'nonexistent'" in result.stdout
