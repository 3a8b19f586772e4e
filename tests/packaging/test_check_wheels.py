"""scripts/check_wheels.py on small hand-made wheels: it must catch a second somegrad/__init__.py."""

import zipfile

import pytest

GOOD = {
    "somegrad": ["somegrad/__init__.py", "somegrad/tensor.py", "somegrad/py.typed"],
    "somegrad_numpy": ["somegrad_numpy/__init__.py", "somegrad_numpy/plugin.py"],
    "somegrad_cuda": ["somegrad_cuda/__init__.py", "somegrad_cuda/plugin.py"],
    "somegrad_nn": ["somegrad/nn/__init__.py", "somegrad/nn/py.typed"],
    "somegrad_train": ["somegrad/optim/__init__.py", "somegrad/data/__init__.py", "somegrad/train/__init__.py"],
}


def write_wheels(directory, contents, tag="py3-none-any", version="0.1.0"):
    for name, files in contents.items():
        with zipfile.ZipFile(directory / f"{name}-{version}-{tag}.whl", "w") as archive:
            for path in files:
                archive.writestr(path, "")
            archive.writestr(f"{name}-{version}.dist-info/METADATA", "")
            archive.writestr(f"{name}-{version}.dist-info/RECORD", "")


def problems_in(check_wheels, directory):
    return check_wheels.check_wheels(sorted(directory.glob("*.whl")))


def test_consistent_wheels_pass(check_wheels, tmp_path, capsys):
    write_wheels(tmp_path, GOOD)
    assert problems_in(check_wheels, tmp_path) == []
    assert check_wheels.main([str(tmp_path)]) == 0
    assert "5 wheels" in capsys.readouterr().out


def test_second_namespace_init_fails(check_wheels, tmp_path, capsys):
    write_wheels(tmp_path, {**GOOD, "somegrad_nn": ["somegrad/__init__.py", "somegrad/nn/__init__.py"]})
    problems = problems_in(check_wheels, tmp_path)
    assert any("somegrad_nn" in p and "somegrad/__init__.py" in p for p in problems)
    assert check_wheels.main([str(tmp_path)]) == 1
    assert "somegrad/__init__.py" in capsys.readouterr().out


def test_core_without_namespace_init_fails(check_wheels, tmp_path):
    write_wheels(tmp_path, {**GOOD, "somegrad": ["somegrad/tensor.py"]})
    assert any("does not ship somegrad/__init__.py" in p for p in problems_in(check_wheels, tmp_path))


@pytest.mark.parametrize("stray", ["somegrad/py.typed", "somegrad/helpers.py"])
def test_portion_with_top_level_file_fails(check_wheels, tmp_path, stray):
    write_wheels(tmp_path, {**GOOD, "somegrad_train": [*GOOD["somegrad_train"], stray]})
    problems = problems_in(check_wheels, tmp_path)
    assert any("somegrad_train" in p and stray in p for p in problems)


def test_missing_and_duplicate_wheels_fail(check_wheels, tmp_path):
    write_wheels(tmp_path, {name: files for name, files in GOOD.items() if name != "somegrad_cuda"})
    write_wheels(tmp_path, {"somegrad_nn": GOOD["somegrad_nn"]}, version="0.0.9")
    problems = problems_in(check_wheels, tmp_path)
    assert "no wheel for somegrad_cuda" in problems
    assert any(p.startswith("several wheels for somegrad_nn") for p in problems)


def test_py2_tag_fails(check_wheels, tmp_path):
    write_wheels(tmp_path, GOOD, tag="py2.py3-none-any")
    assert len([p for p in problems_in(check_wheels, tmp_path) if "tagged py2.py3" in p]) == 5


def test_empty_directory_fails(check_wheels, tmp_path):
    assert check_wheels.main([str(tmp_path)]) == 1
