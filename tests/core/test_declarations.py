"""What an op's declaration promises and dispatch enforces: the dtype rule, the result's dtype
and shape, views decided by what the backend did, and the public surface derived from it."""

import numpy as np
import pytest

import somegrad as sg
from somegrad.ops import OPS, dispatch
from somegrad.ops.spec import FLOATING, OpSpec, public
from somegrad.ops.surface import exports, tensor_members


@pytest.fixture
def numpy_backend():
    dispatch.clear_kernel_cache()
    yield sg.get_backend("numpy")
    dispatch.clear_kernel_cache()


def _same(x):
    return x.shape, x.dtype


# --- the dtype rule ----------------------------------------------------------------------------
def test_an_input_outside_the_dtype_rule_is_refused_before_any_kernel():
    spec = OpSpec("float_only", "elementwise", ("x",), _same, decompose=lambda x: x * 2, accepts=FLOATING)
    assert dispatch.apply(spec, (sg.ones(3),), {}).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="float_only: input 'x' has dtype int64, but the op accepts only"):
        dispatch.apply(spec, (sg.ones(3, dtype=sg.int64),), {})


def test_the_dtype_rule_may_name_each_input():
    spec = OpSpec(
        "pick",
        "elementwise",
        ("condition", "x"),
        lambda condition, x: (x.shape, x.dtype),
        decompose=lambda condition, x: sg.where(condition, x, 0.0),
        accepts={"condition": frozenset({sg.bool}), "x": FLOATING},
    )
    out = dispatch.apply(spec, (sg.tensor([True, False]), sg.tensor([1.0, 2.0])), {})
    assert out.tolist() == [1.0, 0.0]
    with pytest.raises(RuntimeError, match="input 'condition' has dtype float32"):
        dispatch.apply(spec, (sg.tensor([1.0, 0.0]), sg.tensor([1.0, 2.0])), {})


def test_a_dtype_rule_naming_no_input_is_a_declaration_error():
    with pytest.raises(ValueError, match="accepts names no input"):
        OpSpec("bad", "elementwise", ("x",), _same, accepts={"y": FLOATING})


def test_float_only_public_functions_promote_integers_first():
    # The dtype rule is the kernel's contract; the public function owns PyTorch's promotion.
    assert sg.exp(sg.tensor([0, 1])).dtype is sg.float32
    assert OPS["exp"].accepts is FLOATING


# --- what the kernel returned ------------------------------------------------------------------
def test_a_kernel_returning_the_wrong_dtype_is_caught(numpy_backend, monkeypatch):
    monkeypatch.setitem(numpy_backend.kernels, "neg", lambda x: (-x).astype(np.float64))
    with pytest.raises(RuntimeError, match="neg: backend 'numpy' returned an array of dtype float64, .* says float32"):
        sg.neg(sg.ones(3))


def test_a_kernel_returning_the_wrong_shape_is_caught(numpy_backend, monkeypatch):
    monkeypatch.setitem(numpy_backend.kernels, "neg", lambda x: (-x).reshape(-1))
    with pytest.raises(RuntimeError, match=r"neg: backend 'numpy' returned an array of shape \(6,\)"):
        sg.neg(sg.ones(2, 3))


def test_an_implicit_composite_is_checked_against_its_declaration_when_asked():
    # A wrong shape rule: the decomposition sums over dim 0, the rule claims dim 1.
    wrong = OpSpec("wrong_rule", "composite", ("x",), lambda x: ((x.shape[0],), x.dtype), decompose=lambda x: x.sum(0))
    x = sg.ones(2, 3)
    assert dispatch.apply(wrong, (x,), {}).shape == (3,)  # unchecked: the fast path
    with dispatch.check_declarations(), pytest.raises(RuntimeError, match=r"wrong_rule: .* shape \(3,\).*\(2,\)"):
        dispatch.apply(wrong, (x,), {})
    wrong_dtype = OpSpec("wrong_dtype", "composite", ("x",), lambda x: (x.shape, sg.float64), decompose=lambda x: x * 2)
    with dispatch.check_declarations(), pytest.raises(RuntimeError, match="dtype float32, .* says float64"):
        dispatch.apply(wrong_dtype, (x,), {})


def test_an_explicit_composites_decomposition_is_always_checked():
    wrong = OpSpec(
        "wrong_explicit",
        "composite",
        ("x",),
        lambda x: ((x.shape[0],), x.dtype),
        lambda g: g,
        lambda x: x.sum(0),
        explicit=True,
    )
    with pytest.raises(RuntimeError, match="wrong_explicit: its decomposition returned shape"):
        dispatch.apply(wrong, (sg.ones(2, 3),), {})


def test_a_backward_parameter_the_rule_never_reads_is_refused():
    with pytest.raises(ValueError, match=r"never reads its parameters \['mask'\]"):
        OpSpec("leaky", "composite", ("x", "mask"), lambda x, mask: (x.shape, x.dtype), lambda g, x, mask: g * x)


def test_attention_keeps_no_mask_alive():
    spec = OPS["attention_probabilities"]
    assert "mask" not in [spec.inputs[i] for i in spec.saved_inputs]


# --- views by fact -----------------------------------------------------------------------------
def test_a_copying_reshape_gets_its_own_version_counter():
    a = sg.randn(3, 4, requires_grad=True)
    z = a.exp()
    with sg.no_grad():
        z.T.reshape(12).add_(1)  # a copy: z is unchanged
    z.sum().backward()  # no false "modified by an in-place operation"
    np.testing.assert_allclose(a.grad.numpy(), np.exp(a.detach().numpy()), rtol=1e-6)


def test_a_viewing_reshape_shares_the_version_counter():
    a = sg.randn(3, 4, requires_grad=True)
    z = a.exp()
    with sg.no_grad():
        z.reshape(12).add_(1)  # a view: z changed under the graph
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_view_refuses_a_layout_that_needs_a_copy():
    x = sg.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError, match=r"view: a tensor of shape \(4, 3\) .* use .reshape"):
        x.T.view(12)
    v = x.view(2, 6)
    v[0, 0] = 100.0
    assert x[0, 0].item() == 100.0
    assert x.T.view(4, 3).shape == (4, 3)  # the same layout: a view


def test_advanced_indexing_copies_and_basic_indexing_views():
    a = sg.randn(4, requires_grad=True)
    z = a.exp()
    with sg.no_grad():
        z[sg.tensor([0, 1])].add_(1)  # a gathered copy
    z.sum().backward()
    b = sg.zeros(4)
    b[1:3].add_(1)
    assert b.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_shape_is_a_tuple_of_ints_whatever_the_array_uses():
    class ShapeList(np.ndarray):
        @property
        def shape(self):
            return list(super().shape)

    t = sg.Tensor._make(np.ones((2, 3), dtype=np.float32).view(ShapeList), sg.float32, sg.device("cpu"))
    assert t.shape == (2, 3) and type(t.shape) is tuple


# --- the surface comes from the registry ------------------------------------------------------
def test_public_declares_function_methods_and_inplace_variants():
    spec = OpSpec("twice", "elementwise", ("x",), _same, decompose=lambda x: x * 2)

    @public(spec, methods=True, inplace=True, operators=("__pos__",), aliases=("double_it",))
    def twice(x):
        return dispatch.apply(spec, (x,), {})

    assert spec.function is twice and spec.methods == ("twice",) and spec.inplace == ("twice_",)
    with pytest.raises(ValueError, match="has a public function already"):
        public(spec)(lambda x: x)


def test_every_exported_op_function_is_declared():
    declared = {spec.function for spec in OPS.values() if spec.function is not None}
    declared |= {fn for spec in OPS.values() for fn in spec.forms}
    # the in-place variants as functions, from the declared in-place names (somegrad.exp_)
    declared |= {fn for name, fn in exports().items() if name.endswith("_") and hasattr(sg.Tensor, name)}
    for name, fn in exports().items():
        assert fn in declared, name
        assert getattr(sg, name) is fn, f"somegrad.{name} is not the declared function"


def test_tensor_members_come_from_declarations():
    members = tensor_members()
    for name, (kind, fn, spec) in members.items():
        assert hasattr(sg.Tensor, name), name
        assert spec.name in OPS
        if kind == "method":  # the declared function itself is the method
            assert getattr(sg.Tensor, name) is fn, name
    if "exp" in members:
        assert sg.Tensor.exp.__doc__ == OPS["exp"].function.__doc__
