"""somegrad.profiler: a GPT training step's ops (forward, backward with their nodes, the optimizer's
kernel), PyTorch's table, a valid Chrome trace, record_function ranges, nothing left installed."""

import json

import pytest

import somegrad as sg
from somegrad.autograd import engine
from somegrad.nn.models import GPT, GPTConfig
from somegrad.ops import dispatch
from somegrad.profiler import profile, record_function


@pytest.fixture(scope="module")
def gpt_step_profile():
    sg.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=17, block_size=8, n_layer=2, n_head=2, n_embd=16))
    optimizer = sg.optim.AdamW(model.parameters(), lr=1e-3)
    idx = sg.randint(0, 17, (4, 8))
    with profile(record_shapes=True, profile_memory=True) as prof:
        with record_function("train_step"):
            with record_function("forward"):
                _, loss = model(idx, idx)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return prof


def test_the_profile_records_forward_backward_and_optimizer_ops(gpt_step_profile):
    events = gpt_step_profile.events()
    by_name = {}
    for e in events:
        by_name.setdefault(e.name, []).append(e)
    assert len(by_name["linear"]) == 2 * 4  # c_attn, c_proj, c_fc, mlp.c_proj per block
    assert len(by_name["LinearBackward0"]) == 2 * 4 and all(e.kind == "backward" for e in by_name["LinearBackward0"])
    # each fused linear_backward ran inside the backward node that called it
    for e in by_name["linear_backward"]:
        assert e.node == "LinearBackward0" and e.parent.name == "LinearBackward0"
    assert all(e.node == "" for e in by_name["linear"])
    assert by_name["linear"][0].input_shapes == ((4, 8, 16), (48, 16), (48,))
    assert by_name["linear"][0].kernel == "numpy"
    assert by_name["linear"][0].self_cpu_memory_usage == 4 * 8 * 48 * 4  # float32 output
    assert by_name["foreach_adam_step_"][0].kind == "kernel"
    assert by_name["cross_entropy"][0].kernel in ("numpy", "numpy, decomposed")
    step = by_name["train_step"][0]
    assert step.kind == "range" and step.parent is None
    # every event but the range lies inside it, and children inside their parents
    for e in events:
        if e is not step:
            assert step.start_us <= e.start_us <= e.end_us <= step.end_us
        if e.parent is not None:
            assert e.parent.start_us <= e.start_us and e.end_us <= e.parent.end_us
    assert abs(events.self_cpu_time_total - step.cpu_time_total) <= 1e-6 * step.cpu_time_total + 1.0
    forward = by_name["forward"][0]
    assert forward.parent is step and any(e.parent is forward for e in by_name["embedding"])


def test_key_averages_table_in_pytorchs_shape(gpt_step_profile):
    table = gpt_step_profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=8)
    lines = table.splitlines()
    assert lines[1].split("  ")[0].strip() == "Name"
    for column in ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "CPU Mem", "# of Calls"):
        assert column in lines[1]
    rows = lines[3:-2]
    assert len(rows) == 8 and lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    assert lines[-1].startswith("Self CPU time total: ")
    averages = gpt_step_profile.key_averages()
    ordered = sorted(averages, key=lambda a: a.self_cpu_time_total, reverse=True)
    assert [row.split()[0] for row in rows] == [a.key for a in ordered[:8]]
    linear = next(a for a in averages if a.key == "linear")
    assert linear.count == 8 and linear.kernels == {"numpy"}
    shaped = gpt_step_profile.key_averages(group_by_input_shape=True).table(sort_by="count", row_limit=3)
    assert "Input Shapes" in shaped
    with pytest.raises(ValueError, match="sort_by must be one of"):
        averages.table(sort_by="gpu_time")


def test_chrome_trace_is_valid_trace_event_json(gpt_step_profile, tmp_path):
    path = tmp_path / "trace.json"
    gpt_step_profile.export_chrome_trace(path)
    document = json.loads(path.read_text())
    events = document["traceEvents"]
    assert len(events) == len(gpt_step_profile.events())
    for e in events:
        assert e["ph"] == "X" and isinstance(e["name"], str) and e["name"]
        assert isinstance(e["ts"], (int, float)) and isinstance(e["dur"], (int, float)) and e["dur"] >= 0
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int) and isinstance(e["args"], dict)
    cats = {e["cat"] for e in events}
    assert {"cpu_op", "autograd", "user_annotation", "kernel"} <= cats
    backward_op = next(e for e in events if e["name"] == "linear_backward")
    assert backward_op["args"]["Backward node"] == "LinearBackward0" and "Input Dims" in backward_op["args"]


def test_nothing_is_installed_outside_a_profile_and_ranges_cost_nothing():
    assert dispatch._modes == [] and engine._observers == []
    with record_function("outside"):  # no profile: nothing recorded, no error
        sg.ones(2) + 1
    with profile() as prof:
        assert dispatch._modes == [prof] and engine._observers == [prof]

        @record_function("decorated")
        def work():
            return sg.ones(3).sum()

        work()
    assert dispatch._modes == [] and engine._observers == []
    names = [e.name for e in prof.events()]
    assert names[0] == "decorated" and "sum" in names and "full" in names
