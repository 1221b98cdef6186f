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


def binary_cross_entropy(x, y, weight=None, reduction="mean"):
    x, y, w = _f64(x, y, weight)
    w = np.ones_like(x) if w is None else np.broadcast_to(w, x.shape)
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100.0)
        log_rest = np.maximum(np.log1p(-x), -100.0)
    loss = w * ((y - 1) * log_rest - y * log_x)
    grad = w * (x - y) / np.maximum((1 - x) * x, 1e-12)
    return _reduce(loss, grad, reduction, x.size)


def _stirling(y):
    with np.errstate(divide="ignore", invalid="ignore"):
        term = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
    return np.where(y <= 1, 0.0, term)


def poisson_nll_loss(x, y, log_input=True, full=False, eps=1e-8, reduction="mean"):
    x, y = _f64(x, y)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if log_input:
            e = np.exp(x)
            loss, grad = e - y * x, e - y
        else:
            loss, grad = x - y * np.log(x + eps), 1 - y / (x + eps)
        if full:
            loss = loss + _stirling(y)
    return _reduce(loss, grad, reduction, x.size)


def gaussian_nll_loss(x, y, var, full=False, eps=1e-6, reduction="mean"):
    """var of x's shape, of x.shape[:-1], or broadcast along one dimension;
    its gradient summed back to its shape."""
    x, y, var = _f64(x, y, var)
    shaped = var if var.shape == x.shape or var.ndim == x.ndim else var[..., None]  # torch's unsqueeze(-1)
    v = np.maximum(np.broadcast_to(shaped, x.shape), eps)
    d = x - y
    loss = 0.5 * (np.log(v) + d * d / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    loss, grad = _reduce(loss, d / v, reduction, x.size)
    _, grad_v = _reduce(loss, 0.5 * (1 / v - d * d / (v * v)), reduction, x.size)
    shared = tuple(k for k in range(x.ndim) if shaped.shape[k] != x.shape[k])
    return loss, (grad, grad_v.sum(axis=shared, keepdims=True).reshape(var.shape))


def hinge_embedding_loss(x, y, margin=1.0, reduction="mean"):
    x, y = _f64(x, y)
    with np.errstate(invalid="ignore"):
        v = margin - x
        push = np.where(np.isnan(v), np.nan, np.maximum(v, 0.0))  # torch's clamp keeps NaN
        loss = np.where(y == 1, 0.0, push) + np.where(y == -1, 0.0, x)
        grad = np.where(y == -1, 0.0, 1.0) - np.where(y == 1, 0.0, (v >= 0).astype(np.float64))
    return _reduce(loss, grad, reduction, x.size)


def soft_margin_loss(x, y, reduction="mean"):
    x, y = _f64(x, y)
    with np.errstate(invalid="ignore", over="ignore"):
        z = -y * x
        loss = np.logaddexp(0.0, z)
        grad = -y * 0.5 * (1 + np.tanh(0.5 * z))
    return _reduce(loss, grad, reduction, x.size)


def margin_ranking_loss(x1, x2, y, margin=0.0, reduction="mean"):
    x1, x2, y = _f64(x1, x2, y)
    v = margin - y * (x1 - x2)
    grad = np.where(v >= 0, -y, 0.0)
    loss, grad1 = _reduce(np.maximum(v, 0.0), grad, reduction, v.size)
    return loss, (grad1, -grad1)
def _reduce_pair(loss, grads, reduction):
    """A pair loss's _reduce: every gradient scaled like the loss ('mean': by the sample count)."""
    reduced = [_reduce(loss, g, reduction, max(loss.size, 1) if loss.size else np.nan) for g in grads]
    return reduced[0][0], tuple(g for _, g in reduced)


COSINE_EPSILON = float(np.float32(1e-12))  # torch's EPSILON, a float


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """docs/losses.md#cosine_embedding_loss: rows of (N, D), or one (D,)."""
    x1, x2, y = _f64(input1, input2, target)
    m1 = (x1 * x1).sum(axis=-1) + COSINE_EPSILON
    m2 = (x2 * x2).sum(axis=-1) + COSINE_EPSILON
    denom = np.sqrt(m1 * m2)
    cos = (x1 * x2).sum(axis=-1) / denom
    h = cos - margin
    loss = np.where(y == 1, 1 - cos, np.where(y == -1, np.maximum(h, 0.0), 0.0))
    dcos = np.where(y == 1, -1.0, np.where((y == -1) & (h >= 0), 1.0, 0.0))[..., None]
    g1 = dcos * (x2 / denom[..., None] - (cos / m1)[..., None] * x1)
    g2 = dcos * (x1 / denom[..., None] - (cos / m2)[..., None] * x2)
    return _reduce_pair(loss, (g1, g2), reduction)


def _pnorm(v, p):
    """|v|_p over the last axis, and d/dv of it: sign(v) |v|^(p-1) / d^(p-1), 0 where d = 0."""
    a = np.abs(v)
    d = (a ** p).sum(axis=-1) ** (1 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(v == 0, 0.0, np.sign(v) * a ** (p - 1))
        scale = np.where(d == 0, 0.0, d ** (1 - p))
    return d, slope * scale[..., None]


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction="mean"):
    """docs/losses.md#triplet_margin_loss: rows along the last axis."""
    a, q, n = _f64(anchor, positive, negative)
    d_ap, s_ap = _pnorm(a - q + eps, p)
    d_an, s_an = _pnorm(a - n + eps, p)
    w_an, w_pn, d_neg = np.ones_like(d_an), np.zeros_like(d_an), d_an
    s_pn = np.zeros_like(s_an)
    if swap:
        d_pn, s_pn = _pnorm(q - n + eps, p)
        d_neg = np.minimum(d_an, d_pn)
        w_an = np.where(d_an < d_pn, 1.0, np.where(d_an == d_pn, 0.5, 0.0))
        w_pn = 1 - w_an
    h = margin + d_ap - d_neg
    loss = np.maximum(h, 0.0)
    r = (h >= 0).astype(np.float64)[..., None]
    k_an, k_pn = (r * w_an[..., None]), (r * w_pn[..., None])
    grads = (r * s_ap - k_an * s_an, -r * s_ap - k_pn * s_pn, k_an * s_an + k_pn * s_pn)
    return _reduce_pair(loss, grads, reduction)


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


def _logsumexp(values):
    """log sum exp of a list of float64 arrays, -inf where every one is -inf."""
    stacked = np.stack(values)
    m = np.max(stacked, axis=0)
    m = np.where(m == -np.inf, 0.0, m)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(stacked - m).sum(axis=0)) + m


def _shifted(v, k, fill=-np.inf):
    """v moved k places right (k < 0: left), `fill` in the places left empty."""
    out = np.full_like(v, fill)
    if abs(k) < v.size:
        if k >= 0:
            out[k:] = v[:v.size - k]
        else:
            out[:k] = v[-k:]
    return out


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """docs/losses.md#ctc_loss: alpha and beta over the extended target
    l' = (blank, l_1, blank, ..., l_S, blank), beta without the step's own
    log-probability; the gradient torch's, (exp(lp) - posteriors) r_b."""
    lp = np.asarray(log_probs, dtype=np.float64)
    batched = lp.ndim == 3
    if not batched:
        lp = lp[:, None]
    steps_all = np.atleast_1d(np.asarray(input_lengths)).astype(np.int64)
    lengths = np.atleast_1d(np.asarray(target_lengths)).astype(np.int64)
    targets = np.asarray(targets)
    rows = targets.reshape(1, -1) if not batched else targets
    starts = np.concatenate([[0], np.cumsum(lengths)])
    t_max, n, c = lp.shape
    losses = np.zeros(n)
    grad = np.zeros_like(lp)
    rate = np.ones(n)
    if reduction == "mean":
        rate = 1.0 / (n * np.maximum(lengths, 1))
    for b in range(n):
        steps, length = int(steps_all[b]), int(lengths[b])
        labels = rows[b, :length] if rows.ndim == 2 else rows[starts[b]:starts[b] + length]
        ext = np.full(2 * length + 1, blank, dtype=np.int64)
        ext[1::2] = labels
        states = ext.size
        # s - 2 -> s is allowed where l'_s is not blank and differs from l'_{s-2}
        jump = np.zeros(states, bool)
        jump[2:] = ext[2:] != ext[:-2]
        x = lp[:steps, b]
        if steps == 0:
            nll = -0.0 if length == 0 else np.inf
        else:
            alpha = np.full((steps, states), -np.inf)
            alpha[0, :min(2, states)] = x[0, ext[:2]]
            for t in range(1, steps):
                prev = alpha[t - 1]
                one, two = _shifted(prev, 1), np.where(jump, _shifted(prev, 2), -np.inf)
                alpha[t] = _logsumexp([prev, one, two]) + x[t, ext]
            nll = -_logsumexp([alpha[-1, -1], alpha[-1, -2] if states > 1 else np.float64(-np.inf)])
        if zero_infinity and nll == np.inf:
            losses[b] = 0.0
            continue  # and a zero gradient
        losses[b] = nll
        if steps == 0:
            continue
        if not np.isfinite(nll):
            grad[:steps, b] = np.nan
            continue
        beta = np.full((steps, states), -np.inf)
        beta[-1, -min(2, states):] = 0.0
        for t in range(steps - 2, -1, -1):
            after = beta[t + 1] + x[t + 1, ext]
            one, two = _shifted(after, -1), np.where(_shifted(jump, -2, False), _shifted(after, -2), -np.inf)
            beta[t] = _logsumexp([after, one, two])
        posterior = np.exp(alpha + beta + nll)
        collected = np.zeros((steps, c))
        for s in range(states):
            collected[:, ext[s]] += posterior[:, s]
        grad[:steps, b] = rate[b] * (np.exp(x) - collected)
    if not batched:
        losses, grad = losses.reshape(()), grad[:, 0]
    if reduction == "none":
        return losses, grad
    if reduction == "sum":
        return losses.sum(), grad
    with np.errstate(invalid="ignore"):
        return (losses / np.maximum(lengths, 1)).mean() if n else np.float64(np.nan), grad


def multilabel_margin_loss(x, y, reduction="mean"):
    """docs/losses.md#multilabel_margin_loss: per sample, its targets j (the
    entries of its target row before the first -1, a duplicate counted each
    time) and its non-target classes k, sum_j sum_k max(0, 1 - x_j + x_k) / C;
    gradient [z_jk > 0] / C added at k and subtracted at j for each pair."""
    x, = _f64(x)
    y = np.asarray(y)
    rows = x.reshape(-1, x.shape[-1] if x.ndim else 1)
    n, c = rows.shape
    labels = y.reshape(n, c)
    loss, grad = np.zeros(n), np.zeros((n, c))
    for i in range(n):
        ends = np.flatnonzero(labels[i] == -1)
        targets = labels[i, :ends[0] if ends.size else c]
        others = np.setdiff1d(np.arange(c), targets)
        for j in targets:
            z = 1 - rows[i, j] + rows[i, others]
            live = z > 0
            loss[i] += z[live].sum() / c
            grad[i, others] += live / c
            grad[i, j] -= live.sum() / c
    return _reduce(loss.reshape((n,) if x.ndim == 2 else ()), grad.reshape(x.shape), reduction, n)
