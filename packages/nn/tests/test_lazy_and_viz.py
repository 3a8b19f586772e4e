"""`sg.nn.models` and `sg.nn.parallel` resolve after a plain `import somegrad`, and `viz.graph`
names a model's parameter leaves."""

import subprocess
import sys

import somegrad as sg
from somegrad.nn.models import GPT, GPTConfig


def test_nn_models_and_parallel_resolve_without_importing_them_first():
    code = (
        "import sys, somegrad as sg\n"
        "assert 'somegrad.nn.models' not in sys.modules\n"
        "print(sg.nn.models.GPT.__name__, sg.nn.parallel.DistributedDataParallel.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["GPT", "DistributedDataParallel"]


def test_viz_graph_labels_parameter_leaves_with_their_module_names():
    model = GPT(GPTConfig(vocab_size=11, block_size=4, n_layer=1, n_head=1, n_embd=8))
    idx = sg.zeros(1, 4, dtype=sg.int64)
    _, loss = model(idx, idx)
    dot = sg.viz.graph(loss, params=model)
    assert '"transformer.h.0.attn.c_attn.weight\\n(24, 8) float32\\nrequires_grad"' in dot
    assert "transformer.wte.weight\\n(11, 8)" in dot  # the tied head weight, under its first name
    assert "lm_head.weight" not in dot
    named = sg.viz.graph(loss, params={"w": model.transformer.ln_f.weight})
    assert '"w\\n(8,) float32' in named and '"leaf\\n(24, 8)' in named
    assert "leaf\\n" in sg.viz.graph(loss) and "transformer." not in sg.viz.graph(loss)
