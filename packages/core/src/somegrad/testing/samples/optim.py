"""Samples of the multi-tensor optimizer ops (`somegrad.ops.optim`).

A sample's inputs are the op's lists laid end to end (all parameters, then all gradients, then
each state list); its `call` splits them, runs the op on copies (the suite runs the kernel and
the decomposition on the same inputs) and returns everything the op wrote, flattened into one
tensor. The references are the published update rules in float64 NumPy, written as the papers
write them, not as `somegrad.ops.optim` computes them.
"""

from __future__ import annotations

import numpy as np

from somegrad import dtypes
from somegrad.testing.samples import FLOATS, ErrorSample, Input, Sample, register_samples, values

SHAPES = ((3, 4), (5,), ())  # a matrix, a vector and a 0-d parameter, in one group
STEPS = [1, 4, 30]  # each parameter has its own step count
_EPS = {dtypes.float16: 2.0**-10, dtypes.bfloat16: 2.0**-7}


def _state(kind, shape, key):
    if kind == "square":  # second moments are never negative
        return values(shape, 0.05, 1.0, key=key)
    return values(shape, -1.0, 1.0, key=key)


def _inputs(kinds):
    """Inputs for lists of `kinds` ("param", "grad", "avg", "square"), one tensor per shape each."""
    return tuple(Input(_state(kind, shape, (kind, i))) for kind in kinds for i, shape in enumerate(SHAPES))


def _split(tensors, count):
    n = len(SHAPES)
    return [list(tensors[i * n : (i + 1) * n]) for i in range(count)]


def _flat(*lists):
    from somegrad import cat

    return cat([t.reshape(-1) for ts in lists for t in ts])


def _host_flat(*lists):
    return np.concatenate([np.reshape(a, -1) for ts in lists for a in ts])


def _tolerance(dtype):
    # float16 and bfloat16 take the decomposition, which rounds after each of its operations
    eps = _EPS.get(dtype)
    return (None, None) if eps is None else (8 * eps, 8 * eps)


# --- Adam ----------------------------------------------------------------------------------------
ADAM_CONFIGS = {
    "adam": dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False),
    "adam-l2": dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-3, weight_decay=0.1, decoupled_weight_decay=False),
    "adamw": dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.3, decoupled_weight_decay=True),
    "adamw-amsgrad": dict(
        lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, decoupled_weight_decay=True, amsgrad=True
    ),
}


def _adam_reference(*host, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, amsgrad=False):
    lists = _split(host, 5 if amsgrad else 4)
    params, grads, avgs, squares = (list(map(np.array, ts)) for ts in lists[:4])
    maxima = list(map(np.array, lists[4])) if amsgrad else None
    for i, t in enumerate(STEPS):
        p, g = params[i], grads[i]
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        avgs[i] = beta1 * avgs[i] + (1 - beta1) * g
        squares[i] = beta2 * squares[i] + (1 - beta2) * g * g
        v = squares[i]
        if amsgrad:
            v = maxima[i] = np.maximum(maxima[i], v)
        params[i] = p - lr * (avgs[i] / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return _host_flat(params, avgs, squares, *([maxima] if amsgrad else []))


def _adam_call(amsgrad, hyper):
    from somegrad.ops.optim import foreach_adam_step_

    def call(*tensors):
        lists = [[t.clone() for t in ts] for ts in _split(tensors, 5 if amsgrad else 4)]
        params, grads, avgs, squares = lists[:4]
        maxima = lists[4] if amsgrad else None
        foreach_adam_step_(params, grads, avgs, squares, maxima, steps=list(STEPS), **hyper)
        return _flat(params, avgs, squares, *([maxima] if amsgrad else []))

    return call


@register_samples("foreach_adam_step_")
def _adam_samples():
    for name, config in ADAM_CONFIGS.items():
        amsgrad = config.get("amsgrad", False)
        hyper = {k: v for k, v in config.items() if k != "amsgrad"}
        kinds = ("param", "grad", "avg", "square") + (("square",) if amsgrad else ())
        for dtype in FLOATS:
            rtol, atol = _tolerance(dtype)
            yield Sample(
                _inputs(kinds),
                config,
                _adam_reference,
                dtype=dtype,
                name=name,
                grad=False,
                call=_adam_call(amsgrad, hyper),
                rtol=rtol,
                atol=atol,
            )
    yield from _list_errors("foreach_adam_step_", _adam_call(False, ADAM_CONFIGS["adamw"]), 4)


# --- SGD -----------------------------------------------------------------------------------------
SGD_CONFIGS = {
    "sgd": dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "sgd-wd": dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.2, nesterov=False),
    "momentum-dampening-wd": dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1, nesterov=False),
    "nesterov": dict(lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.0, nesterov=True),
}
FRESH = [True, False, False]  # the first buffer was just created: it takes the gradient as it is


def _sgd_reference(*host, lr, momentum, dampening, weight_decay, nesterov):
    lists = _split(host, 3 if momentum else 2)
    params, grads = (list(map(np.array, ts)) for ts in lists[:2])
    buffers = list(map(np.array, lists[2])) if momentum else None
    for i in range(len(SHAPES)):
        g = grads[i] + weight_decay * params[i]
        if momentum:
            buffers[i] = g.copy() if FRESH[i] else momentum * buffers[i] + (1 - dampening) * g
            g = g + momentum * buffers[i] if nesterov else buffers[i]
        params[i] = params[i] - lr * g
    return _host_flat(params, *([buffers] if momentum else []))


def _sgd_call(hyper):
    from somegrad.ops.optim import foreach_sgd_step_

    with_buffers = hyper["momentum"] != 0

    def call(*tensors):
        lists = [[t.clone() for t in ts] for ts in _split(tensors, 3 if with_buffers else 2)]
        buffers = lists[2] if with_buffers else None
        foreach_sgd_step_(lists[0], lists[1], buffers, fresh=list(FRESH), **hyper)
        return _flat(lists[0], *([buffers] if with_buffers else []))

    return call


@register_samples("foreach_sgd_step_")
def _sgd_samples():
    for name, config in SGD_CONFIGS.items():
        kinds = ("param", "grad") + (("avg",) if config["momentum"] else ())
        for dtype in FLOATS:
            rtol, atol = _tolerance(dtype)
            yield Sample(
                _inputs(kinds),
                config,
                _sgd_reference,
                dtype=dtype,
                name=name,
                grad=False,
                call=_sgd_call(config),
                rtol=rtol,
                atol=atol,
            )
    yield from _list_errors("foreach_sgd_step_", _sgd_call(SGD_CONFIGS["nesterov"]), 3)


# --- errors shared by both -----------------------------------------------------------------------
def _list_errors(op, call, lists):
    """Lists that do not fit: refused by the op's shape rule, with the op's name."""
    n = len(SHAPES)
    good = [_state("square", shape, ("e", i)) for _ in range(lists) for i, shape in enumerate(SHAPES)]
    short = [Input(v) for v in good]
    short[2 * n - 1] = Input(np.zeros(7))  # the last gradient has the wrong shape
    yield ErrorSample(
        tuple(short), {}, RuntimeError, f"{op}: grads[{n - 1}] has shape (7,)", name="grad-shape", call=call
    )
    integer = [Input(v) for v in good]
    integer[0] = Input(np.zeros(SHAPES[0]), dtype=dtypes.int64)
    yield ErrorSample(tuple(integer), {}, RuntimeError, f"{op}: params[0] has dtype int64", name="int-param", call=call)

    def one_gradient_short(*tensors):
        from somegrad.ops import optim

        lists_ = _split(tensors, lists)
        lists_[1] = lists_[1][:-1]
        function = optim.foreach_adam_step_ if op == "foreach_adam_step_" else optim.foreach_sgd_step_
        if op == "foreach_adam_step_":
            return function(*lists_, None, steps=list(STEPS), **ADAM_CONFIGS["adamw"])
        return function(*lists_, fresh=list(FRESH), **SGD_CONFIGS["nesterov"])

    yield ErrorSample(
        tuple(Input(v) for v in good),
        {},
        RuntimeError,
        f"{op}: tensor lists must have the same number of tensors, got {n} params and {n - 1} grads",
        name="lengths",
        call=one_gradient_short,
    )
