"""Interop: the autograd graph as DOT text, and DLPack both ways."""

import numpy as np
import pytest

import somegrad as sg


def test_graph_dot_names_ops_shapes_dtypes_and_leaves():
    x = sg.randn(3, requires_grad=True)
    w = sg.randn(3, 2, dtype=sg.float32, requires_grad=True)
    c = sg.ones(2)  # a constant: no grad, so no edge
    y = ((x @ w) * c).relu().sum()
    dot = sg.viz.graph(y)
    assert dot.startswith("digraph somegrad {") and dot.rstrip().endswith("}")
    for op in ("matmul", "mul", "relu", "sum"):
        assert f'label="{op}"' in dot
    assert dot.count("requires_grad") == 2  # x and w, and not the constant
    assert "(3, 2) float32" in dot and "(3,) float32" in dot
    assert "output\\n() float32" in dot
    # every edge goes from something declared to something declared
    declared = {line.split()[0] for line in dot.splitlines() if "[label=" in line and "->" not in line}
    for line in dot.splitlines():
        if "->" in line:
            src, dst = line.split("->")[0].strip(), line.split("->")[1].split()[0].rstrip(";")
            assert src in declared and (dst in declared or dst == "out")


def test_graph_of_a_leaf_is_just_the_leaf():
    x = sg.ones(2, requires_grad=True)
    dot = sg.viz.graph(x)
    assert "leaf" in dot and "requires_grad" in dot


def test_dlpack_from_numpy_shares_memory():
    a = np.arange(6.0)
    t = sg.from_dlpack(a)
    a[0] = 42.0
    assert t[0].item() == 42.0 and t.dtype is sg.float64


def test_dlpack_to_numpy_shares_memory_and_asarray_works():
    t = sg.arange(4.0)
    a = np.from_dlpack(t)
    t[1] = 7.0
    assert a[1] == 7.0
    np.testing.assert_array_equal(np.asarray(sg.tensor([1, 2])), [1, 2])
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(sg.ones(2, requires_grad=True))


@pytest.mark.parity
def test_dlpack_with_torch_both_ways():
    torch = pytest.importorskip("torch")
    source = torch.arange(5.0)
    t = sg.from_dlpack(source)
    source[2] = -1.0
    assert t.tolist() == [0.0, 1.0, -1.0, 3.0, 4.0]
    back = torch.from_dlpack(sg.arange(3, dtype=sg.float32))
    assert back.tolist() == [0.0, 1.0, 2.0]
