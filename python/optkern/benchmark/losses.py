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

__all__ = ["LOSSES", "ROW_LOSSES", "PEERS", "Case", "case", "ctc_case", "shape_for", "all_cases"]

# Every loss benchmarked; the row losses take (rows, classes) logits and class targets.
LOSSES = ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
          "binary_cross_entropy_with_logits", "kl_div")
ROW_LOSSES = ("cross_entropy", "nll_loss")
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


NUMPY = {
    "cross_entropy": numpy_cross_entropy,
    "nll_loss": numpy_nll,
    "mse_loss": numpy_mse,
    "l1_loss": numpy_l1,
    "huber_loss": numpy_huber,
    "smooth_l1_loss": numpy_huber,  # beta = delta = 1: the same function
    "binary_cross_entropy_with_logits": numpy_bce,
    "kl_div": numpy_kl,
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

    return {
        "cross_entropy": lambda x, y: jnp.mean(optax.losses.softmax_cross_entropy_with_integer_labels(x, y)),
        "nll_loss": nll,
        "mse_loss": lambda x, y: jnp.mean(optax.losses.squared_error(x, y)),
        "l1_loss": lambda x, y: jnp.mean(jnp.abs(x - y)),
        "huber_loss": lambda x, y: jnp.mean(optax.losses.huber_loss(x, y, delta=1.0)),
        "smooth_l1_loss": lambda x, y: jnp.mean(optax.losses.huber_loss(x, y, delta=1.0)),
        "binary_cross_entropy_with_logits": lambda x, y: jnp.mean(optax.losses.sigmoid_binary_cross_entropy(x, y)),
        "kl_div": lambda x, y: jnp.sum(optax.losses.kl_divergence(x, y)) / x.shape[0],  # batchmean
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
    if loss in ROW_LOSSES:
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
    else:  # x (and y, for the elementwise losses) read, the gradient written
        nbytes = (2 * x.nbytes + y.nbytes) if loss in ROW_LOSSES else 3 * x.nbytes
        streams = [[out], [x]] if loss in ROW_LOSSES else [[out], [x], [y]]
    fns["roofline"] = lambda: _core.roofline(streams, 0, 1)
    if "numpy" in peers:
        fns["numpy"] = lambda: NUMPY[loss](x, y)
    if "torch" in peers:
        shared = {k: v for k, v in options.items() if k == "label_smoothing"}  # torch has no z-loss
        fns["torch"] = _torch_call(loss, x, y, {**kwargs, **shared})
    if "optax" in peers and not options:
        fns["optax"] = _optax_call(loss, x, y)
    return Case(nbytes, shape, fns)


def ctc_case(t=500, n=32, c=64, s=100, peers=("torch",), seed=0):
    """ctc_loss on float32 log-probabilities (t, n, c) (log_softmax of
    normal logits) and padded targets of length s, every input t steps
    long; torch's peer is F.ctc_loss forward + backward through autograd
    (no NumPy peer: a NumPy recursion is a Python loop over the steps).
    nbytes: the log-probabilities read and the gradient written."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((t, n, c))
    x = (z - np.log(np.exp(z).sum(axis=2, keepdims=True))).astype(np.float32)
    y = rng.integers(1, c, (n, s))
    steps, lengths = np.full(n, t, np.int64), np.full(n, s, np.int64)
    out = np.empty_like(x)
    fns = {"optkern": lambda: L.ctc_loss(x, y, steps, lengths),
           "optkern out=": lambda: L.ctc_loss(x, y, steps, lengths, out=out),
           "roofline": lambda: _core.roofline([[out], [x]], 0, 1)}
    if "torch" in peers:
        import torch
        import torch.nn.functional as F

        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        st, lt = torch.from_numpy(steps), torch.from_numpy(lengths)

        def run():
            leaf = xt.detach().requires_grad_(True)
            F.ctc_loss(leaf, yt, st, lt).backward()
            return leaf.grad

        fns["torch"] = run
    return Case(2 * x.nbytes, x.shape, fns)


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
        *[(f"{loss} 16M", lambda loss=loss: case(loss, (16 * mb,), peers))
          for loss in LOSSES if loss not in ROW_LOSSES and loss != "mse_loss"],
        ("ctc_loss 500x32x64 S=100", lambda: ctc_case(peers=[p for p in peers if p != "numpy"])),
    ]
