# Checked by mypy in test_typed_surface.py: method chains are Tensors, unknown methods are errors.
import somegrad as sg

x = sg.randn(3, 4)
chained = x.exp().sum(dim=0).reshape(2, 2).softmax(-1)
reveal_type(chained)  # noqa: F821
operators = (x + 1) * x - x / 2
reveal_type(operators)  # noqa: F821
function = sg.matmul(x, x.T).relu()
reveal_type(function)  # noqa: F821
x.no_such_method()
