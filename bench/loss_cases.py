"""The loss benchmark cases, shared by report_losses.py and test_bench_losses.py.

Each case builds its inputs once and returns callables, each computing the
loss AND the gradient with respect to the input:

    optkern variants   "optkern" (a new gradient array per call, the plain
                       call), "optkern out=" (into a preallocated array) and,
                       for row losses, "optkern out=input" (over the input);
    peers              "torch" (forward + backward through autograd, torch as
                       installed, same thread count) and "numpy" (a careful,
                       numerically stable NumPy implementation: no more
                       temporaries than it needs, one thread);
    "roofline"         optkern._core.roofline over the same arrays: the
                       memory traffic of the plain/out= call with no
                       arithmetic, the bandwidth limit;
    "roofline in place" the same for out=input.

`nbytes` is what the operation must move: every input element read once
and every gradient element written once.
"""

import numpy as np

import optkern
from optkern import _core
from optkern import losses as L

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the report then leaves the torch columns empty
    torch = None


class Case:
    def __init__(self, nbytes, fns):
        self.nbytes = nbytes  # what the operation must move
        self.fns = fns        # {variant or peer: callable}


def _torch_call(loss_fn, x, *args, **kwargs):
    """Forward and backward through autograd, as a training step does."""
    xt = torch.from_numpy(x)
    targs = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]

    def run():
        leaf = xt.detach().requires_grad_(True)
        loss_fn(leaf, *targs, **kwargs).backward()
        return leaf.grad

    return run


def _optkern_variants(f, x, in_place=False):
    """The plain call, out=, and (row losses) out=input, which overwrites a
    copy of x with its gradient at every call (the values stay finite)."""
    out = np.empty_like(x)
    fns = {"optkern": lambda: f(x), "optkern out=": lambda: f(x, out=out)}
    if in_place:
        own = x.copy()
        fns["optkern out=input"] = lambda: f(own, out=own)
        fns["roofline in place"] = lambda: _core.roofline([[own]], 1, 0)
    return fns, out


# ------------------------------------------------------------------ numpy peers

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


# ----------------------------------------------------------------------- cases

def _finish(nbytes, fns, torch_fn, numpy_fn, roofline):
    if torch is not None:
        fns["torch"] = torch_fn()
    fns["numpy"] = numpy_fn
    fns["roofline"] = roofline
    return Case(nbytes, fns)


def cross_entropy_case(n, c, seed=0, **options):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c), dtype=np.float32)
    y = rng.integers(0, c, n)
    fns, out = _optkern_variants(lambda z, **k: L.cross_entropy(z, y, **options, **k), x, in_place=True)
    # torch has no z-loss: its peer does the rest (label smoothing)
    return _finish(2 * x.nbytes + y.nbytes, fns,
                   lambda: _torch_call(F.cross_entropy, x, y,
                                       **{k: v for k, v in options.items() if k == "label_smoothing"}),
                   lambda: numpy_cross_entropy(x, y), lambda: _core.roofline([[x], [out]], 0, 1))


def nll_case(n, c, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c), dtype=np.float32)
    y = rng.integers(0, c, n)
    fns, out = _optkern_variants(lambda z, **k: L.nll_loss(z, y, **k), x, in_place=True)
    return _finish(x.nbytes + y.nbytes, fns, lambda: _torch_call(F.nll_loss, x, y),
                   lambda: numpy_nll(x, y), lambda: _core.roofline([[out]], 0, 1))


ELEMENTWISE = {
    "mse_loss": (L.mse_loss, lambda: F.mse_loss, numpy_mse),
    "l1_loss": (L.l1_loss, lambda: F.l1_loss, numpy_l1),
    "huber_loss": (L.huber_loss, lambda: F.huber_loss, numpy_huber),
    "smooth_l1_loss": (L.smooth_l1_loss, lambda: F.smooth_l1_loss, numpy_huber),
    "binary_cross_entropy_with_logits": (L.binary_cross_entropy_with_logits,
                                         lambda: F.binary_cross_entropy_with_logits, numpy_bce),
    "kl_div": (None, lambda: F.kl_div, numpy_kl),
}


def elementwise_case(name, n, seed=0):
    rng = np.random.default_rng(seed)
    ours, torch_fn, numpy_fn = ELEMENTWISE[name]
    x = rng.standard_normal(n, dtype=np.float32)
    if name == "binary_cross_entropy_with_logits":
        y = rng.uniform(0, 1, n).astype(np.float32)
    elif name == "kl_div":
        y = rng.uniform(0, 2.0 / n, n).astype(np.float32)
    else:
        y = rng.standard_normal(n, dtype=np.float32)
    kwargs = {"reduction": "batchmean"} if name == "kl_div" else {}
    if ours is None:
        ours = L.kl_div
    fns, out = _optkern_variants(lambda z, **k: ours(z, y, **kwargs, **k), x)
    return _finish(3 * x.nbytes, fns, lambda: _torch_call(torch_fn(), x, y, **kwargs),
                   lambda: numpy_fn(x, y), lambda: _core.roofline([[x], [out], [y]], 0, 1))


def all_cases():
    """(name, factory) of every case: the headline cases of the speed targets first, then
    one of every other loss. The factory builds the inputs (costly)."""
    mb = 1 << 20
    return [
        ("cross_entropy 4096x32000", lambda: cross_entropy_case(4096, 32000)),
        ("cross_entropy 65536x10", lambda: cross_entropy_case(65536, 10)),
        ("mse_loss 16M", lambda: elementwise_case("mse_loss", 16 * mb)),
        ("cross_entropy 4096x32000 smoothed, z-loss",
         lambda: cross_entropy_case(4096, 32000, label_smoothing=0.1, z_loss=1e-4)),
        ("nll_loss 4096x32000", lambda: nll_case(4096, 32000)),
        ("l1_loss 16M", lambda: elementwise_case("l1_loss", 16 * mb)),
        ("huber_loss 16M", lambda: elementwise_case("huber_loss", 16 * mb)),
        ("smooth_l1_loss 16M", lambda: elementwise_case("smooth_l1_loss", 16 * mb)),
        ("binary_cross_entropy_with_logits 16M", lambda: elementwise_case("binary_cross_entropy_with_logits", 16 * mb)),
        ("kl_div 16M", lambda: elementwise_case("kl_div", 16 * mb)),
    ]


def setup_threads():
    """Same thread count for optkern and torch."""
    if torch is not None:
        torch.set_num_threads(optkern.get_num_threads())
