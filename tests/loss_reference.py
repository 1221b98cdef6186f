"""Float64 NumPy references for optkern.losses: (loss, grad) of each loss,
written straight from docs/losses.md, with no torch. Inputs of any
float dtype are computed in float64; reductions are 'none', 'mean', 'sum'
(and kl_div's 'batchmean'), the gradient is that of the reduced loss (of
loss.sum() for 'none').
"""

import numpy as np


def _f64(*arrays):
    return [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]


def _reduce(loss, grad, reduction, denominator):
    """(reduced loss, gradient scaled to match)."""
    if reduction == "none":
        return loss, grad
    total = loss.sum()
    if reduction == "sum":
        return total, grad
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / denominator, grad / denominator


def _sign(d):
    """torch's (d > 0) - (d < 0): 0 at 0 and at NaN."""
    return (d > 0).astype(np.float64) - (d < 0)


def mse_loss(x, y, reduction="mean", weight=None):
    x, y, w = _f64(x, y, weight)
    d = x - y
    ww = np.ones_like(d) if w is None else w
    return _reduce(ww * d * d, 2 * ww * d, reduction, d.size if w is None else ww.sum())


def l1_loss(x, y, reduction="mean", weight=None):
    x, y, w = _f64(x, y, weight)
    d = x - y
    ww = np.ones_like(d) if w is None else w
    return _reduce(ww * np.abs(d), ww * _sign(d), reduction, d.size if w is None else ww.sum())


def huber_loss(x, y, reduction="mean", delta=1.0, weight=None):
    x, y, w = _f64(x, y, weight)
    d = x - y
    a = np.abs(d)
    ww = np.ones_like(d) if w is None else w
    inside = ~(a >= delta)  # NaN inside: its gradient is NaN, as torch's
    loss = np.where(inside, 0.5 * d * d, delta * (a - 0.5 * delta))
    grad = np.where(inside, d, delta * _sign(d))
    return _reduce(ww * loss, ww * grad, reduction, d.size)


def smooth_l1_loss(x, y, reduction="mean", beta=1.0):
    if beta == 0:
        return l1_loss(x, y, reduction)
    x, y = _f64(x, y)
    d = x - y
    a = np.abs(d)
    inside = ~(a >= beta)
    loss = np.where(inside, 0.5 * d * d / beta, a - 0.5 * beta)
    grad = np.where(inside, d / beta, _sign(d))
    return _reduce(loss, grad, reduction, d.size)


def kl_div(x, y, reduction="mean", log_target=False):
    shape0 = np.shape(x)[0] if np.ndim(x) else 1
    x, y = _f64(x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        if log_target:
            e = np.exp(y)
            loss, grad = e * (y - x), -e
        else:
            ylogy = np.where(y == 0, 0.0, y * np.log(np.where(y == 0, 1.0, y)))
            ylogy = np.where(np.isnan(y), np.nan, ylogy)
            loss, grad = ylogy - y * x, -y
    if reduction == "batchmean":
        return _reduce(loss, grad, "mean", shape0)
    return _reduce(loss, grad, reduction, x.size)


def binary_cross_entropy_with_logits(x, y, weight=None, reduction="mean", pos_weight=None):
    x, y, w, p = _f64(x, y, weight, pos_weight)
    w = np.ones_like(x) if w is None else np.broadcast_to(w, x.shape)
    p = np.ones_like(x) if p is None else np.broadcast_to(p, x.shape)
    big_l = 1 + (p - 1) * y
    softplus = np.logaddexp(0.0, -x)  # log(1 + e^-x)
    sigmoid = 0.5 * (1 + np.tanh(0.5 * x))
    loss = w * ((1 - y) * x + big_l * softplus)
    grad = w * (big_l * sigmoid - p * y)
    return _reduce(loss, grad, reduction, x.size)


def _rows(x):
    """logits (C,) or (N, C, d...) as (samples, C) with the class axis last,
    and the function that puts a (samples, C) array back."""
    if x.ndim == 1:
        return x[None, :], lambda r: r[0]
    moved = np.moveaxis(x, 1, -1)
    shape = moved.shape
    return moved.reshape(-1, shape[-1]), lambda r: np.moveaxis(r.reshape(shape), -1, 1)


def _log_softmax(z):
    with np.errstate(invalid="ignore"):
        m = np.max(z, axis=1, keepdims=True)
        lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
        return z - lse, lse[:, 0]


def cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, z_loss=0.0,
                  softcap=None):
    """Class targets (integer) or probabilities (float, the input's shape)."""
    x, w = _f64(x, weight)
    rows, back = _rows(x)
    n, c = rows.shape
    ww = np.ones(c) if w is None else w
    z = rows if softcap is None else softcap * np.tanh(rows / softcap)
    chain = np.ones_like(z) if softcap is None else 1 - np.tanh(rows / softcap) ** 2
    logp, lse = _log_softmax(z)
    p = np.exp(logp)
    eps = label_smoothing
    probs = np.issubdtype(np.asarray(target).dtype, np.floating)
    if probs:
        t, _ = _rows(np.asarray(target, dtype=np.float64))
        a = ww * ((1 - eps) * t + eps / c)
        rho = np.ones(n)
        live = np.ones(n, dtype=bool)
        denominator = n
    else:
        y = np.asarray(target).reshape(-1).astype(np.int64)
        live = y != ignore_index
        ys = np.where(live, y, 0)
        a = np.tile(ww * eps / c, (n, 1))
        a[np.arange(n), ys] += (1 - eps) * ww[ys]
        a[~live] = 0
        rho = np.where(live, ww[ys], 0.0)
        denominator = rho.sum()
    with np.errstate(invalid="ignore"):
        if probs:  # torch: -(target' * log_softmax).sum(), so 0 * -inf is NaN
            loss = -(a * logp).sum(axis=1)
        else:  # torch: the target's term alone, plus the smoothing's sum when eps > 0
            loss = -(1 - eps) * rho * logp[np.arange(n), ys]
            if eps:
                loss = loss - eps / c * (ww * logp).sum(axis=1)
        loss = loss + np.where(live, z_loss * rho * lse * lse if z_loss else 0.0, 0.0)
        mass = a.sum(axis=1) + (2 * z_loss * rho * lse if z_loss else 0.0)
        grad = (p * mass[:, None] - a) * chain
    grad[~live] = 0
    loss = np.where(live, loss, 0.0)
    samples_shape = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    loss = loss.reshape(samples_shape)
    return _reduce(loss, back(grad), reduction, denominator)


def nll_loss(x, target, weight=None, ignore_index=-100, reduction="mean"):
    (x, w) = _f64(x, weight)
    rows, back = _rows(x)
    n, c = rows.shape
    ww = np.ones(c) if w is None else w
    y = np.asarray(target).reshape(-1).astype(np.int64)
    live = y != ignore_index
    ys = np.where(live, y, 0)
    rho = np.where(live, ww[ys], 0.0)
    loss = np.where(live, -rho * rows[np.arange(n), ys], 0.0)
    grad = np.zeros_like(rows)
    grad[np.arange(n), ys] = np.where(live, -rho, 0.0)
    samples_shape = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    return _reduce(loss.reshape(samples_shape), back(grad), reduction, rho.sum())


def linear_cross_entropy(hidden, weight, target, bias=None, **kwargs):
    """The logits hidden @ weight.T + bias, materialised whole, through
    cross_entropy; the gradients of hidden, weight and bias by the chain
    rule: (loss, grad_hidden, grad_weight, grad_bias)."""
    h, w, b = _f64(hidden, weight, bias)
    h = h.reshape(int(np.prod(np.shape(target))), w.shape[1])
    loss, g = cross_entropy(h @ w.T + (0.0 if b is None else b), np.reshape(target, -1), **kwargs)
    if np.all(np.reshape(target, -1) == kwargs.get("ignore_index", -100)):
        g = np.zeros_like(g)  # every sample ignored: no gradient ('mean' would make it 0 / 0)
    if kwargs.get("reduction") == "none":
        loss = loss.reshape(np.shape(target))
    return loss, (g @ w).reshape(np.shape(hidden)), g.T @ h, None if b is None else g.sum(axis=0)


def multilabel_soft_margin_loss(x, y, reduction="mean", weight=None):
    """docs/losses.md#multilabel_soft_margin_loss: per sample (all axes but
    the last), the mean over the C classes of w [(1 - y) x + softplus(-x)];
    gradient w (sigmoid(x) - y) / C."""
    x, y, w = _f64(x, y, weight)
    c = x.shape[-1]
    w = np.ones(c) if w is None else w.reshape(-1) * np.ones(c)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        softplus = np.logaddexp(0.0, -x)
        sigmoid = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
        loss = (w * ((1 - y) * x + softplus)).sum(axis=-1) / c
        grad = w * (sigmoid - y) / c
    return _reduce(loss, grad, reduction, loss.size)


def multi_margin_loss(x, y, reduction="mean", p=1, margin=1.0, weight=None):
    """docs/losses.md#multi_margin_loss: per sample, with z_k = margin -
    x_y + x_k, w_y sum_{k != y} max(0, z_k)^p / C; gradient w_y p
    max(0, z_k)^(p-1) [z_k > 0] / C at k != y, minus their sum at y."""
    x, w = _f64(x, weight)
    y = np.asarray(y)
    rows = x.reshape(-1, x.shape[-1] if x.ndim else 1)
    labels = y.reshape(-1)
    n, c = rows.shape
    at = np.arange(n)
    z = margin - rows[at, labels][:, None] + rows
    live = (z > 0) & (np.arange(c)[None, :] != labels[:, None])
    h = np.where(live, z, 0.0)
    wy = (np.ones(n) if w is None else w[labels])[:, None]
    loss = (wy * h ** p).sum(axis=1) / c
    grad = wy * p * (h if p == 2 else live.astype(np.float64)) / c
    grad[at, labels] = -grad.sum(axis=1)
    shape = y.shape if x.ndim < 2 else (n,)
    return _reduce(loss.reshape(shape), grad.reshape(x.shape), reduction, n)
