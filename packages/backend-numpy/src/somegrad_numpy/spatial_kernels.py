"""NumPy kernels for the spatial nn composites beyond conv2d and the 2-d pools: conv3d and its
backward ops, im2col/col2im (unfold/fold) and the argmax of max-pooling windows.

They work over any number of spatial dims. A window is a strided view of the padded input
(`sliding_window_view`), copied once into columns, so that a convolution is one BLAS matmul;
the adjoint (col2im) adds each kernel tap's slice back, a loop over the taps of the kernel,
never over output positions. The window geometry is the core's (`somegrad.ops.nn.conv3d`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from somegrad.ops.nn.conv3d import output_sizes, window_taps


def _pad(x, padding, value=0.0):
    if any(b or a for b, a in padding):
        return np.pad(x, ((0, 0), (0, 0)) + tuple(padding), constant_values=value)
    return x


def _windows(xp, kernel, stride, dilation, out):
    """A strided view (N, C, *out, *kernel) of every (dilated) window of the padded input."""
    dims = len(kernel)
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True))
    view = sliding_window_view(xp, spans, axis=tuple(range(2, 2 + dims)))
    key = tuple(slice(None, s * (n - 1) + 1, s) for s, n in zip(stride, out, strict=True))
    return view[(slice(None), slice(None)) + key + tuple(slice(None, None, d) for d in dilation)]


def im2col(x, kernel_size, stride, padding, dilation):
    """(N, C, *spatial) -> (N, C * prod(kernel), prod(out)), one copy of the window view."""
    dims = len(kernel_size)
    out = output_sizes(x.shape, kernel_size, stride, padding, dilation)
    windows = _windows(_pad(x, padding), kernel_size, stride, dilation, out)
    order = (0, 1) + tuple(range(2 + dims, 2 + 2 * dims)) + tuple(range(2, 2 + dims))
    cols = np.ascontiguousarray(windows.transpose(order))
    return cols.reshape(x.shape[0], x.shape[1] * math.prod(kernel_size), math.prod(out))


def _col2im(cols, shape, kernel, stride, padding, dilation, out):
    n, c = shape[:2]
    cols = cols.reshape((n, c, math.prod(kernel)) + tuple(out))
    padded = tuple(s + b + a for s, (b, a) in zip(shape[2:], padding, strict=True))
    image = np.zeros((n, c) + padded, dtype=cols.dtype)
    for tap, (_, key) in enumerate(window_taps(kernel, stride, dilation, out)):
        image[key] += cols[:, :, tap]
    crop = tuple(slice(b, b + s) for s, (b, _) in zip(shape[2:], padding, strict=True))
    return np.ascontiguousarray(image[(slice(None), slice(None)) + crop])


def col2im(cols, output_size, kernel_size, stride, padding, dilation):
    shape = (cols.shape[0], cols.shape[1] // math.prod(kernel_size)) + tuple(output_size)
    out = output_sizes(shape, kernel_size, stride, padding, dilation)
    return _col2im(cols, shape, kernel_size, stride, padding, dilation, out)


def _grouped(a, groups):
    """(N, G * K, ...) -> (N, G, K, prod(...)), every size spelled out (a size may be 0)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, math.prod(a.shape[2:]))


def _grouped_weight(weight, groups):
    return weight.reshape(groups, weight.shape[0] // groups, math.prod(weight.shape[1:]))


def conv3d(x, weight, stride, padding, dilation, groups):
    # (O, C k^3) @ (N, C k^3, L): the output comes out (N, O, *out), with no transpose to copy
    kernel = tuple(weight.shape[2:])
    out = output_sizes(x.shape, kernel, stride, padding, dilation)
    cols = im2col(x, kernel, stride, padding, dilation)
    if groups == 1:
        result = np.matmul(weight.reshape(weight.shape[0], math.prod(weight.shape[1:])), cols)
    else:
        result = np.matmul(_grouped_weight(weight, groups), _grouped(cols, groups))
    return result.reshape((x.shape[0], weight.shape[0]) + out)


def conv3d_backward_input(g, weight, input_shape, stride, padding, dilation, groups):
    kernel, out = tuple(weight.shape[2:]), tuple(g.shape[2:])
    cols = np.matmul(_grouped_weight(weight, groups).transpose(0, 2, 1), _grouped(g, groups))
    return _col2im(cols, tuple(input_shape), kernel, stride, padding, dilation, out)


def conv3d_backward_weight(g, x, weight_shape, stride, padding, dilation, groups):
    # per sample and group, (O/G, L) @ (L, C/G k^3), summed over the batch
    cols = _grouped(im2col(x, tuple(weight_shape[2:]), stride, padding, dilation), groups)
    grads = np.matmul(_grouped(g, groups), cols.transpose(0, 1, 3, 2))
    return np.add.reduce(grads, axis=0).reshape(weight_shape)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool_indices(x, kernel_size, stride, padding, dilation):
    """The flat spatial index of each window's first maximum: argmax over the window view,
    turned from a tap into a position with each dim's offset."""
    dims = len(kernel_size)
    out = output_sizes(x.shape, kernel_size, stride, padding, dilation)
    windows = _windows(_pad(x, padding, _lowest(x.dtype)), kernel_size, stride, dilation, out)
    tap = np.argmax(windows.reshape(windows.shape[: 2 + dims] + (-1,)), axis=-1)
    offsets = np.unravel_index(tap, kernel_size)
    flat = np.zeros(tap.shape, dtype=np.int64)
    for d in range(dims):
        start = (np.arange(out[d]) * stride[d] - padding[d][0]).reshape((-1,) + (1,) * (dims - 1 - d))
        flat *= x.shape[2 + d]
        flat += start + offsets[d] * dilation[d]
    return flat


KERNELS = {
    "conv3d": conv3d,
    "conv3d_backward_input": conv3d_backward_input,
    "conv3d_backward_weight": conv3d_backward_weight,
    "im2col": im2col,
    "col2im": col2im,
    "max_pool_indices": max_pool_indices,
}
