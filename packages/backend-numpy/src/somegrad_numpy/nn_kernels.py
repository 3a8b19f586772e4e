"""Fused NumPy kernels for the nn composites declared in `somegrad.ops.nn`.

Each kernel computes what its op's decomposition computes, in few passes over memory:
in-place ufuncs with `out=`, `einsum` for row-wise dot products, and one BLAS matmul for
convolutions (im2col through a strided window view). Loops run over kernel taps or groups,
never over elements or the batch. The window geometry (output sizes, the taps' slices) is the
core's, from `somegrad.ops.nn.conv`. float16/bfloat16 inputs run in float32 and are rounded
back, as in the rest of the backend (see `table.py`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from somegrad.ops.nn.conv import _window_slices as _taps
from somegrad.ops.nn.conv import conv_output_size
from somegrad.ops.nn.loss import class_index_error
from somegrad_numpy.kernels import sigmoid
from somegrad_numpy.special import erf, erfc32

# --- gelu --------------------------------------------------------------------------------------
_SQRT_HALF = 1 / math.sqrt(2)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
# The float32 erf fit takes some 25 passes; over blocks that stay in the cache they cost
# cache bandwidth, not memory bandwidth (about twice as fast on a million elements).
_BLOCK = 1 << 16


def _blockwise(kernel, out, *inputs):
    """kernel(out_block, *input_blocks) over 1-d blocks of `_BLOCK` elements."""
    for start in range(0, out.shape[0], _BLOCK):
        block = slice(start, start + _BLOCK)
        kernel(out[block], *(a[block] for a in inputs))
    return out


# The tanh approximation is x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), since
# (1 + tanh(u)) / 2 = sigmoid(2u): one exp instead of a tanh (NumPy's float32 exp is the faster
# of the two), and no 1 + tanh(u) that cancels for negative x.
_GELU_CUBIC = 0.044715
_GELU_MINUS_2K = -2 * _SQRT_2_OVER_PI


def _gelu_denominator(out, x):
    """out = 1 + exp(-2u), the reciprocal of sigmoid(2u), in place."""
    np.square(x, out=out)
    out *= _GELU_CUBIC * _GELU_MINUS_2K
    out += _GELU_MINUS_2K
    out *= x
    np.exp(out, out=out)
    out += 1


def _gelu_tanh(out, x):
    _gelu_denominator(out, x)
    np.divide(x, out, out=out)


def _gelu_exact32(out, x):
    # gelu(x) = relu(x) - |x|/2 erfc(|x| / sqrt(2)): no cancellation for x < 0, where gelu is
    # tiny, and no series for small |x|, where the fit's absolute error is far below x's own.
    a = np.abs(x)
    a *= _SQRT_HALF
    tail = erfc32(a)
    tail *= a
    tail *= _SQRT_HALF
    np.maximum(x, 0, out=out)
    out -= tail


def gelu(x, approximate):
    shape, x = x.shape, x.reshape(-1)  # 1-d, so that no in-place step meets a NumPy scalar
    if approximate == "tanh":
        return _blockwise(_gelu_tanh, np.empty_like(x), x).reshape(shape)
    if x.dtype == np.float64:
        out = erf(x * _SQRT_HALF)
        out += 1
    else:
        return _blockwise(_gelu_exact32, np.empty_like(x), x).reshape(shape)
    out *= x
    out *= 0.5
    return out.reshape(shape)


def _gelu_tanh_grad(out, g, x):
    # d/dx x s(2u) = s + x s (1 - s) 2 du/dx, with s = sigmoid(2u) and
    # 2 du/dx = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    s = np.empty_like(x)
    _gelu_denominator(s, x)
    np.reciprocal(s, out=s)
    slope = np.square(x)
    slope *= 3 * _GELU_CUBIC * -_GELU_MINUS_2K
    slope -= _GELU_MINUS_2K
    slope *= x
    np.subtract(1, s, out=out)
    out *= s
    out *= slope
    out += s
    out *= g


def _gelu_exact_grad(out, g, x):
    # cdf(x) + x pdf(x), pdf(x) = exp(-x^2 / 2) / sqrt(2 pi)
    if x.dtype == np.float64:
        cdf = erf(x * _SQRT_HALF)
        cdf += 1
        cdf *= 0.5
        gauss = np.square(x)
        gauss *= -0.5
        np.exp(gauss, out=gauss)
    else:
        # cdf(x) = erfc(|x| / sqrt(2)) / 2 for x < 0, 1 - that for x >= 0: exact in both tails.
        a = np.abs(x)
        a *= _SQRT_HALF
        half, gauss = erfc32(a, gaussian=True)
        half *= 0.5
        cdf = np.multiply(half, -2)
        cdf += 1
        cdf *= x >= 0
        cdf += half
    gauss *= x
    gauss *= _INV_SQRT_2PI
    np.add(cdf, gauss, out=out)
    out *= g


def gelu_backward(g, x, approximate):
    shape, x, g = x.shape, x.reshape(-1), g.reshape(-1)
    grad = _gelu_tanh_grad if approximate == "tanh" else _gelu_exact_grad
    return _blockwise(grad, np.empty_like(x), g, x).reshape(shape)


# --- the LSTM cell ----------------------------------------------------------------------------
def _gate_quarters(gates):
    hidden = gates.shape[1] // 4
    return [gates[:, k * hidden : (k + 1) * hidden] for k in range(4)]


def lstm_cell(gates, c):
    """[h' | c'] with c' = s(f) c + s(i) tanh(g), h' = s(o) tanh(c'), written into one array."""
    i, f, g, o = _gate_quarters(gates)
    hidden = c.shape[1]
    out = np.empty((c.shape[0], 2 * hidden), dtype=c.dtype)
    h_next, c_next = out[:, :hidden], out[:, hidden:]
    np.multiply(sigmoid(f), c, out=c_next)
    c_next += sigmoid(i) * np.tanh(g)
    np.multiply(sigmoid(o), np.tanh(c_next), out=h_next)
    return out


def lstm_cell_backward(g, gates, c, out):
    """(d gates, d c) from the gradient g of [h' | c'] (the closed form of ops/nn/recurrent.py)."""
    hidden = c.shape[1]
    i, f, gg, o = _gate_quarters(gates)
    si, sf, so, tg = sigmoid(i), sigmoid(f), sigmoid(o), np.tanh(gg)
    tc = np.tanh(out[:, hidden:])
    dh = g[:, :hidden]
    dc = dh * so
    dc *= 1 - tc * tc
    dc += g[:, hidden:]
    d_gates = np.empty_like(gates)
    di, df, dg, do = _gate_quarters(d_gates)
    np.multiply(dc, tg, out=di)
    di *= si * (1 - si)
    np.multiply(dc, c, out=df)
    df *= sf * (1 - sf)
    np.multiply(dc, si, out=dg)
    dg *= 1 - tg * tg
    np.multiply(dh, tc, out=do)
    do *= so * (1 - so)
    dc *= sf
    return d_gates, dc


# --- linear and embedding ----------------------------------------------------------------------
def linear(x, weight, bias):
    out = np.matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), weight.T)
    out += bias
    return out.reshape(x.shape[:-1] + (weight.shape[0],))


def linear_backward(g, x, weight, needs_input_grad):
    g2 = g.reshape(math.prod(g.shape[:-1]), g.shape[-1])
    dx = np.matmul(g2, weight).reshape(x.shape) if needs_input_grad[0] else None
    dweight = np.matmul(g2.T, x.reshape(g2.shape[0], x.shape[-1])) if needs_input_grad[1] else None
    return dx, dweight, np.add.reduce(g2, axis=0) if needs_input_grad[2] else None


def embedding(weight, indices, padding_idx):
    return np.take(weight, indices, axis=0)


def embedding_backward(g, indices, num_weights, padding_idx):
    dim = g.shape[-1]
    rows = g.reshape(-1, dim)
    index = indices.reshape(-1)
    if num_weights * rows.shape[0] <= 1 << 22:
        # A one-hot matrix times the gradient rows: one BLAS call, faster than add.at.
        onehot = np.zeros((num_weights, rows.shape[0]), dtype=g.dtype)
        onehot[index, np.arange(rows.shape[0])] = 1
        out = onehot @ rows
    else:
        out = np.zeros((num_weights, dim), dtype=g.dtype)
        np.add.at(out, index, rows)
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


# --- normalisation -----------------------------------------------------------------------------
def _rows(x, normalized_shape):
    size = math.prod(normalized_shape)
    return x.reshape(math.prod(x.shape[: x.ndim - len(normalized_shape)]), size), size


def _row_statistics(x2, eps):
    """Centered rows and 1/sqrt(var + eps) per row, (M, 1)."""
    # sum then scale: np.mean's generic path costs more than the reduction itself on short rows;
    # rows of size 0 have no elements to scale (the max only avoids a Python 1 / 0)
    scale = 1 / max(x2.shape[1], 1)
    centered = x2 - x2.sum(axis=1, keepdims=True) * scale
    var = np.einsum("ij,ij->i", centered, centered) * scale
    rstd = 1.0 / np.sqrt(var + eps)
    return centered, rstd.reshape(x2.shape[0], 1).astype(x2.dtype, copy=False)


def layer_norm(x, weight, bias, normalized_shape, eps):
    x2, size = _rows(x, normalized_shape)
    out, rstd = _row_statistics(x2, eps)
    out *= rstd
    out *= weight.reshape(size)
    out += bias.reshape(size)
    return out.reshape(x.shape)


def layer_norm_backward(g, x, weight, normalized_shape, eps):
    x2, size = _rows(x, normalized_shape)
    rows = x2.shape[0]
    g2 = g.reshape(rows, size)
    xhat, rstd = _row_statistics(x2, eps)
    xhat *= rstd
    packed = np.empty((rows + 2, size), dtype=x.dtype)
    np.einsum("ij,ij->j", g2, xhat, out=packed[rows])
    np.sum(g2, axis=0, out=packed[rows + 1])
    dx = packed[:rows]
    np.multiply(g2, weight.reshape(size), out=dx)
    scale = 1 / max(size, 1)
    mean_gw = dx.sum(axis=1, keepdims=True) * scale
    mean_gw_xhat = (np.einsum("ij,ij->i", dx, xhat) * scale).reshape(rows, 1)
    dx -= mean_gw
    xhat *= mean_gw_xhat
    dx -= xhat
    dx *= rstd
    return packed


def batch_norm(x, weight, bias, eps):
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    out = x - x.mean(axis=dims, keepdims=True)
    var = np.square(out).mean(axis=dims, keepdims=True)
    scale = weight.reshape(shape) / np.sqrt(var + eps)
    out *= scale
    out += bias.reshape(shape)
    return out


# --- cross entropy -----------------------------------------------------------------------------
# The ufuncs' own reduce (np.maximum.reduce, np.add.reduce) skips the Python layer of x.max() and
# x.sum(): on a (128, 10) batch that layer costs more than the arithmetic.
def _class_terms(x, target, weight, ignore_index):
    """(valid, safe, weight_t): which rows count (None when all do), each row's class index
    (0 where the row is ignored) and each row's weight (0 where ignored)."""
    if ignore_index < 0 and (target.size == 0 or np.minimum.reduce(target) >= 0):
        # the common case: ignore_index is no class (the default, -100) and no target is it
        return None, target, weight[target].astype(x.dtype, copy=False)
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    weight_t = weight[safe].astype(x.dtype, copy=False)
    weight_t *= valid
    return valid, safe, weight_t


def _shifted(x):
    """x minus its row maxima, (N, C)."""
    return np.subtract(x, np.maximum.reduce(x, axis=1, keepdims=True))


def _check_targets(target, classes, ignore_index):
    """The op's class-index check (see `check_class_indices`), on the raw array: two reductions
    in the common case, without the dispatches and read-backs of the Tensor version."""
    if target.size == 0 or 0 <= np.minimum.reduce(target) <= np.maximum.reduce(target) < classes:
        return
    bad = (target != ignore_index) & ((target < 0) | (target >= classes))
    if bad.any():
        raise class_index_error("cross_entropy", int(target[bad][0]), classes, ignore_index)


def cross_entropy(x, target, weight, ignore_index, label_smoothing, reduction):
    n, classes = x.shape
    _check_targets(target, classes, ignore_index)
    shifted = _shifted(x)
    lse = np.log(np.add.reduce(np.exp(shifted), axis=1))
    valid, safe, weight_t = _class_terms(x, target, weight, ignore_index)
    loss = lse - shifted[np.arange(n), safe]
    loss *= weight_t
    if label_smoothing:
        # sum_c w_c * -log p_c = lse * sum(w) - shifted @ w, one matrix-vector product
        smooth = lse * weight.sum() - shifted @ weight
        smooth *= label_smoothing / classes
        loss *= 1 - label_smoothing
        loss += smooth if valid is None else smooth * valid
    if reduction == "none":
        return loss.astype(x.dtype, copy=False)
    total = np.add.reduce(loss)
    if reduction == "mean":
        total = total / np.add.reduce(weight_t)
    return np.asarray(total, dtype=x.dtype)


def cross_entropy_backward(g, x, target, weight, ignore_index, label_smoothing, reduction):
    n, classes = x.shape
    valid, safe, weight_t = _class_terms(x, target, weight, ignore_index)
    # d loss / d loss_i: g per row for "none", else one number (g, or g over the weights' sum)
    row = g / np.add.reduce(weight_t) if reduction == "mean" else g
    p = _shifted(x)
    np.exp(p, out=p)
    p /= np.add.reduce(p, axis=1, keepdims=True)
    target_coefficient = row * weight_t
    if label_smoothing:
        target_coefficient *= 1 - label_smoothing
        smooth = row * (label_smoothing / classes)
        if valid is not None:
            smooth = smooth * valid
        p *= (target_coefficient + smooth * weight.sum()).reshape(-1, 1)
        p -= np.reshape(smooth, (-1, 1)) * weight.reshape(1, -1)
    else:
        p *= target_coefficient.reshape(-1, 1)
    p[np.arange(n), safe] -= target_coefficient
    return p


# --- attention ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _causal_bias(length, source, dtype):
    """(L, S): 0 where a query may attend, -inf after it; added to the scores in one pass."""
    bias = np.zeros((length, source), dtype=dtype)
    bias[~np.tri(length, source, dtype=bool)] = -np.inf
    bias.flags.writeable = False
    return bias


def _attention_probabilities(q, k, mask, is_causal, scale):
    """softmax(q @ k^T * scale + mask [causal]) over the last axis, computed in place."""
    p = np.matmul(q, np.swapaxes(k, -1, -2))
    p *= scale
    if mask.ndim:
        if np.broadcast_shapes(p.shape, mask.shape) == p.shape:
            p += mask
        else:
            p = p + mask
    if is_causal:
        p += _causal_bias(p.shape[-2], p.shape[-1], p.dtype)
    p -= p.max(axis=-1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=-1, keepdims=True)
    return p


def attention_probabilities(q, k, mask, is_causal, scale):
    return _attention_probabilities(q, k, mask, is_causal, scale)


def attention_probabilities_backward(g, q, k, p, scale):
    """(dq, dk): the softmax backward in place, ds = p * (g - rowsum(g * p)), scaled once for
    both products; each with the batch shape of the probabilities p."""
    batch = p.shape[:-2]
    dq = np.empty(batch + q.shape[-2:], dtype=g.dtype)
    dk = np.empty(batch + k.shape[-2:], dtype=g.dtype)
    row = np.einsum("...ij,...ij->...i", g, p)
    ds = g - row[..., None]
    ds *= p
    ds *= scale
    np.matmul(ds, k, out=dq)
    np.matmul(np.swapaxes(ds, -1, -2), q, out=dk)
    return dq, dk


# --- convolution -------------------------------------------------------------------------------
def _pad2d(x, padding, value=0.0):
    (top, bottom), (left, right) = padding
    if top or bottom or left or right:
        return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)
    return x


def _windows(xp, kernel, stride, dilation, out_hw):
    """A strided view (N, C, Ho, Wo, kh, kw) of every (dilated) window of the padded input."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    view = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return view[:, :, : sh * (ho - 1) + 1 : sh, : sw * (wo - 1) + 1 : sw, ::dh, ::dw]


def _im2col(x, kernel, stride, padding, dilation, out_hw):
    """(N, C * kh * kw, Ho * Wo), copied once from the window view."""
    n, c = x.shape[:2]
    windows = _windows(_pad2d(x, padding), kernel, stride, dilation, out_hw)
    cols = np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3))
    return cols.reshape(n, c * kernel[0] * kernel[1], out_hw[0] * out_hw[1])


def _out_hw(shape, kernel, stride, padding, dilation):
    return tuple(conv_output_size(shape[2 + d], kernel[d], stride[d], padding[d], dilation[d]) for d in (0, 1))


def _im2row(x, kernel, stride, padding, dilation, out_hw):
    """(N * Ho * Wo, C * kh * kw): one row per output position, copied once from the window
    view, so that each gradient of conv2d is one GEMM over the whole batch (a batched matmul
    per sample, or tensordot's transposing copies, cost several times more)."""
    n, c = x.shape[:2]
    windows = _windows(_pad2d(x, padding), kernel, stride, dilation, out_hw)
    rows = np.ascontiguousarray(windows.transpose(0, 2, 3, 1, 4, 5))
    return rows.reshape(n * out_hw[0] * out_hw[1], c * kernel[0] * kernel[1])


def _channels_last(g):
    """(N, O, Ho, Wo) -> (N * Ho * Wo, O), the gradient's rows in the order of `_im2row`."""
    n, out_channels, ho, wo = g.shape
    return np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(n * ho * wo, out_channels)


def _grouped(a, groups):
    """(N, G * K, ...) -> (N, G, K, prod(...)), with K spelled out: reshape cannot infer -1
    when another size is 0 (an empty batch, no channels)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, math.prod(a.shape[2:]))


def _grouped_weight(weight, groups):
    """(O, C/groups, kh, kw) -> (groups, O/groups, C/groups * kh * kw)."""
    return weight.reshape(groups, weight.shape[0] // groups, math.prod(weight.shape[1:]))


def conv2d(x, weight, stride, padding, dilation, groups):
    # (O, C kh kw) @ (N, C kh kw, Ho Wo): the output comes out NCHW, with no transpose to copy.
    n = x.shape[0]
    out_channels = weight.shape[0]
    kernel = weight.shape[2:]
    out_hw = _out_hw(x.shape, kernel, stride, padding, dilation)
    cols = _im2col(x, kernel, stride, padding, dilation, out_hw)
    if groups == 1:
        out = np.matmul(weight.reshape(out_channels, math.prod(weight.shape[1:])), cols)
    else:
        out = np.matmul(_grouped_weight(weight, groups), _grouped(cols, groups))
    return out.reshape((n, out_channels) + out_hw)


def _col2im(cols, input_shape, kernel, stride, padding, dilation, out_hw):
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    cols = cols.reshape(n, c, kernel[0], kernel[1], out_hw[0], out_hw[1])
    out = np.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    for i, j, key in _taps(kernel, stride, dilation, out_hw):
        out[key] += cols[:, :, i, j]
    return out[:, :, top : top + h, left : left + w]


def _row2im(rows, input_shape, kernel, stride, padding, dilation, out_hw):
    """The adjoint of `_im2row`, summed channels-last (N, H, W, C) tap by tap, then NCHW."""
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    rows = rows.reshape(n, out_hw[0], out_hw[1], c, kernel[0], kernel[1])
    out = np.zeros((n, h + top + bottom, w + left + right, c), dtype=rows.dtype)
    for i, j, (_, _, hs, ws) in _taps(kernel, stride, dilation, out_hw):
        out[:, hs, ws] += rows[..., i, j]
    return np.ascontiguousarray(out[:, top : top + h, left : left + w].transpose(0, 3, 1, 2))


def conv2d_backward_input(g, weight, input_shape, stride, padding, dilation, groups):
    out_hw = g.shape[2:]
    if groups == 1:
        rows = _channels_last(g) @ weight.reshape(weight.shape[0], math.prod(weight.shape[1:]))
        return _row2im(rows, input_shape, weight.shape[2:], stride, padding, dilation, out_hw)
    cols = np.matmul(_grouped_weight(weight, groups).transpose(0, 2, 1), _grouped(g, groups))
    dx = _col2im(cols, input_shape, weight.shape[2:], stride, padding, dilation, out_hw)
    return np.ascontiguousarray(dx)


def conv2d_backward_weight(g, x, weight_shape, stride, padding, dilation, groups):
    # Per sample and group, (O/G, Ho Wo) @ (Ho Wo, C/G kh kw), summed over the batch: one batched
    # GEMM on the im2col copy, which is several times cheaper to make than the channels-last rows
    # of _im2row (2.2 ms against 0.4 ms for the digits CNN's first layer).
    out_hw = g.shape[2:]
    cols = _grouped(_im2col(x, weight_shape[2:], stride, padding, dilation, out_hw), groups)
    grads = np.matmul(_grouped(g, groups), cols.transpose(0, 1, 3, 2))
    return np.add.reduce(grads, axis=0).reshape(weight_shape)


# --- pooling -----------------------------------------------------------------------------------
def max_pool2d(x, kernel_size, stride, padding, dilation):
    out_hw = _out_hw(x.shape, kernel_size, stride, padding, dilation)
    xp = _pad2d(x, padding, -np.inf)
    out = None
    for _, _, key in _taps(kernel_size, stride, dilation, out_hw):
        out = xp[key].copy() if out is None else np.maximum(out, xp[key], out=out)
    return out


def max_pool2d_backward(g, x, best, kernel_size, stride, padding, dilation):
    out_hw = g.shape[2:]
    n, c, h, w = x.shape
    (top, bottom), (left, right) = padding
    xp = _pad2d(x, padding, -np.inf)
    taken = np.zeros(best.shape, dtype=bool)
    dxp = np.zeros(xp.shape, dtype=g.dtype)
    # Windows that don't overlap write each input once: no read-modify-write.
    disjoint = all(d * (k - 1) < s for k, s, d in zip(kernel_size, stride, dilation, strict=True))
    hit = np.empty(best.shape, dtype=bool)
    for _, _, key in _taps(kernel_size, stride, dilation, out_hw):
        # The first tap that holds the maximum gets the gradient, as in PyTorch.
        np.equal(xp[key], best, out=hit)
        np.greater(hit, taken, out=hit)  # hit and not yet taken
        taken |= hit
        if disjoint:
            np.multiply(g, hit, out=dxp[key])
        else:
            dxp[key] += g * hit
    return np.ascontiguousarray(dxp[:, :, top : top + h, left : left + w])


def _avg_divisor(shape, kernel_size, stride, padding, count_include_pad, dtype):
    if count_include_pad or not any(p for pair in padding for p in pair):
        return dtype.type(kernel_size[0] * kernel_size[1])
    return _window_sum(np.ones((1, 1) + tuple(shape[2:]), dtype=dtype), kernel_size, stride, padding)


def _window_sum(x, kernel_size, stride, padding):
    out_hw = _out_hw(x.shape, kernel_size, stride, padding, (1, 1))
    xp = _pad2d(x, padding)
    out = None
    for _, _, key in _taps(kernel_size, stride, (1, 1), out_hw):
        out = xp[key].copy() if out is None else np.add(out, xp[key], out=out)
    return out


def avg_pool2d(x, kernel_size, stride, padding, dilation, count_include_pad):
    out = _window_sum(x, kernel_size, stride, padding)
    out /= _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, x.dtype)
    return out


def avg_pool2d_backward(g, input_shape, kernel_size, stride, padding, dilation, count_include_pad):
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    share = g / _avg_divisor(input_shape, kernel_size, stride, padding, count_include_pad, g.dtype)
    dxp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=g.dtype)
    for _, _, key in _taps(kernel_size, stride, (1, 1), g.shape[2:]):
        dxp[key] += share
    return np.ascontiguousarray(dxp[:, :, top : top + h, left : left + w])


KERNELS = {
    "gelu": gelu,
    "gelu_backward": gelu_backward,
    "linear": linear,
    "linear_backward": linear_backward,
    "lstm_cell": lstm_cell,
    "lstm_cell_backward": lstm_cell_backward,
    "embedding": embedding,
    "embedding_backward": embedding_backward,
    "layer_norm": layer_norm,
    "layer_norm_backward": layer_norm_backward,
    "batch_norm": batch_norm,
    "cross_entropy": cross_entropy,
    "cross_entropy_backward": cross_entropy_backward,
    "attention_probabilities": attention_probabilities,
    "attention_probabilities_backward": attention_probabilities_backward,
    "conv2d": conv2d,
    "conv2d_backward_input": conv2d_backward_input,
    "conv2d_backward_weight": conv2d_backward_weight,
    "max_pool2d": max_pool2d,
    "max_pool2d_backward": max_pool2d_backward,
    "avg_pool2d": avg_pool2d,
    "avg_pool2d_backward": avg_pool2d_backward,
}
