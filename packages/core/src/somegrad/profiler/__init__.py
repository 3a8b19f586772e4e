"""A profiler of ops, as `torch.profiler`: what ran, where the time went, what it allocated.

    with sg.profiler.profile(record_shapes=True, profile_memory=True) as prof:
        with sg.profiler.record_function("train_step"):
            _, loss = model(idx, targets)
            loss.backward()
            optimizer.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")   # open in https://ui.perfetto.dev or chrome://tracing

It records every op call at the dispatch layer (forward ops and the ops of each backward
rule, creation ops, in-place and multi-tensor kernels such as the optimizer step), each
backward node the engine runs (`MulBackward0`, the ops it ran nested inside), and
`record_function` ranges. While no profile is active nothing is installed, so ops pay nothing.
"""

from somegrad.profiler.events import EventList, FunctionEvent, FunctionEventAvg
from somegrad.profiler.profile import ProfilerActivity, profile, record_function

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList", "FunctionEvent", "FunctionEventAvg"]
