"""The loss benchmark: its cases, and each implementation's call.

Shared by `optkern bench`, bench/report_losses.py and the pytest-benchmark
suite bench/test_bench_losses.py. A case builds its float32 inputs once and
holds callables, each computing the loss AND the gradient with respect to
the input:

    optkern variants   "optkern" (a new gradient array per call, the plain
                       call), "optkern out=" (into a preallocated array) and,
                       for row losses, "optkern out=input" (over the input);
    peers              "numpy" (a careful, numerically stable NumPy
                       implementation: no more temporaries than it needs,
                       one thread), "torch" (forward + backward through
                       autograd, torch as installed) and "optax" (jax's
                       value_and_grad of optax's loss, jitted);
    "roofline"         optkern._core.roofline over the same arrays: the
                       memory traffic of the plain/out= call with no
                       arithmetic, the bandwidth limit;
    "roofline in place" the same for out=input.

`nbytes` is what the operation must move: every input element read once
and every gradient element written once.
"""

import numpy as np

from optkern import _core
from optkern import losses as L
from optkern.benchmark.peers import missing

__all__ = ["LOSSES", "ROW_LOSSES", "PEERS", "Case", "case", "shape_for", "all_cases"]

# Every loss benchmarked; the row losses take (rows, classes) logits and class targets.
LOSSES = ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
          "binary_cross_entropy_with_logits", "kl_div", "multi_margin_loss", "multilabel_soft_margin_loss")
ROW_LOSSES = ("cross_entropy", "nll_loss", "multi_margin_loss", "multilabel_soft_margin_loss")
# the row losses whose target is not class indices but labels of the input's shape
LABEL_ROW_LOSSES = ("multilabel_soft_margin_loss",)
PEERS = ("numpy", "torch", "optax")


class Case:
    def __init__(self, nbytes, shape, fns):
        self.nbytes = nbytes  # what the operation must move
        self.shape = shape    # the input's
        self.fns = fns        # {variant or peer: callable}


def shape_for(loss, size, classes):
    """The input shape of `loss` over about `size` elements: a vector, or
    for a row loss (size // classes) rows of `classes` (at least one row)."""
    if loss in ROW_LOSSES:
        return (max(1, size // classes), classes)
    return (size,)


# -------------------------------------------------------------------- numpy

def numpy_cross_entropy(x, y):
    n = x.shape[0]
    rows = np.arange(n)
    m = x.max(axis=1, keepdims=True)
    g = np.subtract(x, m)  # the one full-size array: becomes the gradient
    np.exp(g, out=g)
    s = g.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - x[rows, y]))
    g /= s * n
    g[rows, y] -= 1.0 / n
    return loss, g


def numpy_nll(x, y):
    n = x.shape[0]
    g = np.zeros_like(x)
    g[np.arange(n), y] = -1.0 / n
    return -float(np.mean(x[np.arange(n), y])), g


def numpy_mse(x, y):
    d = np.subtract(x, y)
    loss = float(np.dot(d, d)) / d.size
    d *= 2.0 / d.size
    return loss, d


def numpy_l1(x, y):
    d = np.subtract(x, y)
    loss = float(np.abs(d).sum()) / d.size
    np.sign(d, out=d)
    d /= d.size
    return loss, d


def numpy_huber(x, y, delta=1.0):
    d = np.subtract(x, y)
    a = np.abs(d)
    inside = a < delta
    loss = float(np.where(inside, 0.5 * d * d, delta * (a - 0.5 * delta)).sum()) / d.size
    np.clip(d, -delta, delta, out=d)
    d /= d.size
    return loss, d


def numpy_bce(x, y):
    e = np.exp(-np.abs(x))
    softplus = np.log1p(e) + np.maximum(-x, 0)
    loss = float(((1 - y) * x + softplus).sum()) / x.size
    sig = np.where(x >= 0, 1.0, e) / (1 + e)
    sig -= y
    sig /= x.size
    return loss, sig.astype(x.dtype, copy=False)


def numpy_kl(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y), 0.0)
    loss = float((ylogy - y * x).sum()) / x.shape[0]
    return loss, np.negative(y) / x.shape[0]


def numpy_multi_margin(x, y):
    n, c = x.shape
    rows = np.arange(n)
    z = x - (x[rows, y] - 1.0)[:, None]  # margin 1, p 1; the one full-size array: becomes the gradient
    z[rows, y] = 0.0
    np.maximum(z, 0.0, out=z)
    loss = float(z.sum()) / (n * c)
    np.greater(z, 0.0, out=z)  # z's own memory: 1 where the hinge is active
    z /= n * c
    z[rows, y] = -z.sum(axis=1)
    return loss, z


def numpy_multilabel_soft_margin(x, y):
    loss, g = numpy_bce(x, y)  # the mean over every element is the mean over rows of the mean over classes
    return loss, g


NUMPY = {
    "cross_entropy": numpy_cross_entropy,
    "nll_loss": numpy_nll,
    "mse_loss": numpy_mse,
    "l1_loss": numpy_l1,
    "huber_loss": numpy_huber,
    "smooth_l1_loss": numpy_huber,  # beta = delta = 1: the same function
    "binary_cross_entropy_with_logits": numpy_bce,
    "kl_div": numpy_kl,
    "multi_margin_loss": numpy_multi_margin,
    "multilabel_soft_margin_loss": numpy_multilabel_soft_margin,
}


# -------------------------------------------------------------------- torch

def _torch_call(loss, x, y, kwargs):
    """Forward and backward through autograd, as a training step does."""
    import torch
    import torch.nn.functional as F

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    fn = getattr(F, loss)

    def run():
        leaf = xt.detach().requires_grad_(True)
        fn(leaf, yt, **kwargs).backward()
        return leaf.grad

    return run


# -------------------------------------------------------------------- optax

def _optax_losses():
    """{loss: f(x, y) -> the loss as torch defines it (mean reduction)}, in jax."""
    import jax.numpy as jnp
    import optax

    def nll(x, y):
        return -jnp.mean(jnp.take_along_axis(x, y[:, None], axis=1))

    def multi_margin(x, y):
        h = jnp.maximum(0.0, 1.0 - jnp.take_along_axis(x, y[:, None], axis=1) + x)
        return (jnp.sum(h) - x.shape[0]) / x.size  # less the target's own term, max(0, 1) = 1 per row

    return {
        "cross_entropy": lambda x, y: jnp.mean(optax.losses.softmax_cross_entropy_with_integer_labels(x, y)),
        "nll_loss": nll,
        "mse_loss": lambda x, y: jnp.mean(optax.losses.squared_error(x, y)),
        "l1_loss": lambda x, y: jnp.mean(jnp.abs(x - y)),
        "huber_loss": lambda x, y: jnp.mean(optax.losses.huber_loss(x, y, delta=1.0)),
        "smooth_l1_loss": lambda x, y: jnp.mean(optax.losses.huber_loss(x, y, delta=1.0)),
        "binary_cross_entropy_with_logits": lambda x, y: jnp.mean(optax.losses.sigmoid_binary_cross_entropy(x, y)),
        "kl_div": lambda x, y: jnp.sum(optax.losses.kl_divergence(x, y)) / x.shape[0],  # batchmean
        "multi_margin_loss": multi_margin,
        "multilabel_soft_margin_loss": lambda x, y: jnp.mean(optax.losses.sigmoid_binary_cross_entropy(x, y)),
    }


def _optax_call(loss, x, y):
    """jax.value_and_grad of optax's loss (as torch's: mean reduction), jitted."""
    import jax

    fn = jax.jit(jax.value_and_grad(_optax_losses()[loss]))
    xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)

    def run():
        return jax.block_until_ready(fn(xj, yj))

    return run


# -------------------------------------------------------------------- cases

def _inputs(loss, shape, rng):
    """The input x and the target y of `loss`, float32 (class indices for row losses)."""
    x = rng.standard_normal(shape, dtype=np.float32)
    if loss in LABEL_ROW_LOSSES:
        y = (rng.uniform(0, 1, shape) < 0.1).astype(np.float32)
    elif loss in ROW_LOSSES:
        y = rng.integers(0, shape[1], shape[0])
    elif loss == "binary_cross_entropy_with_logits":
        y = rng.uniform(0, 1, shape).astype(np.float32)
    elif loss == "kl_div":
        y = rng.uniform(0, 2.0 / x.size, shape).astype(np.float32)
    else:
        y = rng.standard_normal(shape, dtype=np.float32)
    return x, y


def case(loss, shape, peers=("numpy", "torch"), seed=0, **options):
    """The case of `loss` on inputs of `shape` with the given peers (of
    PEERS) and optkern `options` (cross_entropy's label_smoothing, z_loss:
    torch's peer gets those it has, optax's runs only without options)."""
    x, y = _inputs(loss, shape, np.random.default_rng(seed))
    kwargs = {"reduction": "batchmean"} if loss == "kl_div" else {}
    ours = getattr(L, loss)
    out = np.empty_like(x)
    fns = {"optkern": lambda: ours(x, y, **kwargs, **options),
           "optkern out=": lambda: ours(x, y, **kwargs, **options, out=out)}
    if loss in ROW_LOSSES:
        # overwrites a copy of x with its gradient at every call (the values stay finite)
        own = x.copy()
        fns["optkern out=input"] = lambda: ours(own, y, **options, out=own)
        fns["roofline in place"] = lambda: _core.roofline([[own]], 1, 0)
    if loss == "nll_loss":  # reads one logit per row: the gradient's write is its traffic
        nbytes, streams = x.nbytes + y.nbytes, [[out]]
    else:  # x (and y, for the elementwise losses and labels) read, the gradient written
        labels = loss not in ROW_LOSSES or loss in LABEL_ROW_LOSSES
        nbytes = 3 * x.nbytes if labels else 2 * x.nbytes + y.nbytes
        streams = [[out], [x], [y]] if labels else [[out], [x]]
    fns["roofline"] = lambda: _core.roofline(streams, 0, 1)
    if "numpy" in peers:
        fns["numpy"] = lambda: NUMPY[loss](x, y)
    if "torch" in peers:
        shared = {k: v for k, v in options.items() if k == "label_smoothing"}  # torch has no z-loss
        fns["torch"] = _torch_call(loss, x, y, {**kwargs, **shared})
    if "optax" in peers and not options:
        fns["optax"] = _optax_call(loss, x, y)
    return Case(nbytes, shape, fns)


def all_cases(peers=None):
    """(name, factory) of bench/'s cases: the headline cases of the speed
    targets first, then one of every other loss. The factory builds the
    inputs (costly). peers: default numpy, and torch where it is installed."""
    if peers is None:
        peers = ("numpy", "torch") if missing("torch") is None else ("numpy",)
    mb = 1 << 20
    ce = (4096, 32000)
    return [
        ("cross_entropy 4096x32000", lambda: case("cross_entropy", ce, peers)),
        ("cross_entropy 65536x10", lambda: case("cross_entropy", (65536, 10), peers)),
        ("mse_loss 16M", lambda: case("mse_loss", (16 * mb,), peers)),
        ("cross_entropy 4096x32000 smoothed, z-loss",
         lambda: case("cross_entropy", ce, peers, label_smoothing=0.1, z_loss=1e-4)),
        ("nll_loss 4096x32000", lambda: case("nll_loss", ce, peers)),
        ("multi_margin_loss 4096x1000", lambda: case("multi_margin_loss", (4096, 1000), peers)),
        ("multilabel_soft_margin_loss 4096x1000", lambda: case("multilabel_soft_margin_loss", (4096, 1000), peers)),
        *[(f"{loss} 16M", lambda loss=loss: case(loss, (16 * mb,), peers))
          for loss in LOSSES if loss not in ROW_LOSSES and loss != "mse_loss"],
    ]
