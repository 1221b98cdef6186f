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

__all__ = ["LOSSES", "ROW_LOSSES", "PEERS", "Case", "case", "pair_case", "ctc_case", "multilabel_margin_case",
           "shape_for", "all_cases"]

# Every loss benchmarked; the row losses take (rows, classes) logits and class targets.
LOSSES = ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
          "binary_cross_entropy_with_logits", "kl_div", "binary_cross_entropy", "poisson_nll_loss",
          "gaussian_nll_loss", "hinge_embedding_loss", "soft_margin_loss", "margin_ranking_loss",
          "multi_margin_loss", "multilabel_soft_margin_loss")
ROW_LOSSES = ("cross_entropy", "nll_loss", "multi_margin_loss", "multilabel_soft_margin_loss")
# the row losses whose target is not class indices but labels of the input's shape
LABEL_ROW_LOSSES = ("multilabel_soft_margin_loss",)
# The losses of two differentiated inputs: the name of the second, and the
# call's positional arguments (x, y and the second, z) in their order.
SECOND_INPUT = {"gaussian_nll_loss": ("var", lambda x, y, z: (x, y, z)),
                "margin_ranking_loss": ("input2", lambda x, y, z: (x, z, y))}
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

def _torch_call(loss, x, y, kwargs, z=None):
    """Forward and backward through autograd, as a training step does (z: a
    second differentiated input, SECOND_INPUT)."""
    import torch
    import torch.nn.functional as F

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    zt = None if z is None else torch.from_numpy(z)
    fn = getattr(F, loss)

    def run():
        leaf = xt.detach().requires_grad_(True)
        if zt is None:
            fn(leaf, yt, **kwargs).backward()
            return leaf.grad
        second = zt.detach().requires_grad_(True)
        fn(*SECOND_INPUT[loss][1](leaf, yt, second), **kwargs).backward()
        return leaf.grad, second.grad

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
    """The input x and the target y of `loss`, float32 (class indices for row
    losses), and its second input (SECOND_INPUT) or None."""
    x = rng.standard_normal(shape, dtype=np.float32)
    z = None
    if loss in LABEL_ROW_LOSSES:
        y = (rng.uniform(0, 1, shape) < 0.1).astype(np.float32)
    elif loss in ROW_LOSSES:
        y = rng.integers(0, shape[1], shape[0])
    elif loss in ("binary_cross_entropy_with_logits", "binary_cross_entropy"):
        y = rng.uniform(0, 1, shape).astype(np.float32)
        if loss == "binary_cross_entropy":
            x = rng.uniform(0.01, 0.99, shape).astype(np.float32)
    elif loss == "kl_div":
        y = rng.uniform(0, 2.0 / x.size, shape).astype(np.float32)
    elif loss == "poisson_nll_loss":
        y = rng.poisson(2.0, shape).astype(np.float32)
    elif loss in ("hinge_embedding_loss", "soft_margin_loss", "margin_ranking_loss"):
        y = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0).astype(np.float32)
    else:
        y = rng.standard_normal(shape, dtype=np.float32)
    if loss == "gaussian_nll_loss":
        z = rng.uniform(0.1, 2.0, shape).astype(np.float32)
    elif loss == "margin_ranking_loss":
        z = rng.standard_normal(shape, dtype=np.float32)
    return x, y, z


def case(loss, shape, peers=("numpy", "torch"), seed=0, **options):
    """The case of `loss` on inputs of `shape` with the given peers (of
    PEERS) and optkern `options` (cross_entropy's label_smoothing, z_loss:
    torch's peer gets those it has, optax's runs only without options)."""
    x, y, z = _inputs(loss, shape, np.random.default_rng(seed))
    kwargs = {"reduction": "batchmean"} if loss == "kl_div" else {}
    ours = getattr(L, loss)
    out = np.empty_like(x)
    args, outs = (x, y), out
    if z is not None:
        args, outs = SECOND_INPUT[loss][1](x, y, z), (out, np.empty_like(z))
    fns = {"optkern": lambda: ours(*args, **kwargs, **options),
           "optkern out=": lambda: ours(*args, **kwargs, **options, out=outs)}
    if loss in ROW_LOSSES:
        # overwrites a copy of x with its gradient at every call (the values stay finite)
        own = x.copy()
        fns["optkern out=input"] = lambda: ours(own, y, **options, out=own)
        fns["roofline in place"] = lambda: _core.roofline([[own]], 1, 0)
    if loss == "nll_loss":  # reads one logit per row: the gradient's write is its traffic
        nbytes, streams = x.nbytes + y.nbytes, [[out]]
    elif z is not None:  # x, y and z read, both gradients written
        nbytes, streams = 5 * x.nbytes, [[out], [outs[1]], [x], [y], [z]]
    else:  # x (and y, for the elementwise losses and labels) read, the gradient written
        labels = loss not in ROW_LOSSES or loss in LABEL_ROW_LOSSES
        nbytes = 3 * x.nbytes if labels else 2 * x.nbytes + y.nbytes
        streams = [[out], [x], [y]] if labels else [[out], [x]]
    written = 2 if z is not None else 1
    fns["roofline"] = lambda: _core.roofline(streams, 0, written)
    if "numpy" in peers and loss in NUMPY:
        fns["numpy"] = lambda: NUMPY[loss](x, y)
    if "torch" in peers:
        shared = {k: v for k, v in options.items() if k == "label_smoothing"}  # torch has no z-loss
        fns["torch"] = _torch_call(loss, x, y, {**kwargs, **shared}, z)
    if "optax" in peers and not options:
        fns["optax"] = _optax_call(loss, x, y)
    return Case(nbytes, shape, fns)


# --------------------------------------------------------------- pair losses

def numpy_cosine(x1, x2, y, eps=1e-12):
    """cosine_embedding_loss, margin 0, mean: loss and both gradients."""
    dot = np.einsum("ij,ij->i", x1, x2)
    m1 = np.einsum("ij,ij->i", x1, x1) + eps
    m2 = np.einsum("ij,ij->i", x2, x2) + eps
    denom = np.sqrt(m1 * m2)
    cos = dot / denom
    loss = np.where(y == 1, 1 - cos, np.maximum(cos, 0))
    r = np.where(y == 1, -1.0, (cos >= 0).astype(cos.dtype)) / len(y)
    c, k = (r / denom)[:, None], (r * cos)[:, None]
    return float(loss.mean()), (c * x2 - k / m1[:, None] * x1, c * x1 - k / m2[:, None] * x2)


def numpy_triplet(a, q, n, margin=1.0, eps=1e-6):
    """triplet_margin_loss, p = 2, mean: loss and the three gradients."""
    ap, an = a - q + eps, a - n + eps
    d_ap, d_an = np.linalg.norm(ap, axis=1), np.linalg.norm(an, axis=1)
    h = margin + d_ap - d_an
    r = (h >= 0) / len(h)
    u = ap * (r / np.where(d_ap > 0, d_ap, np.inf))[:, None]
    w = an * (r / np.where(d_an > 0, d_an, np.inf))[:, None]
    return float(np.maximum(h, 0).mean()), (u - w, -u, w)


def _torch_pair_call(loss, arrays):
    """Forward and backward through autograd with every array a leaf."""
    import torch
    import torch.nn.functional as F

    tensors = [torch.from_numpy(a) for a in arrays]
    fn = getattr(F, loss)

    def run():
        if loss == "cosine_embedding_loss":
            leaves = [t.detach().requires_grad_(True) for t in tensors[:2]]
            fn(*leaves, tensors[2]).backward()
        else:
            leaves = [t.detach().requires_grad_(True) for t in tensors]
            fn(*leaves).backward()
        return [t.grad for t in leaves]

    return run


def pair_case(loss, shape, peers=("numpy", "torch"), seed=0):
    """The case of a pair loss (cosine_embedding_loss: input1, input2 and
    targets of 1 / -1; triplet_margin_loss: anchor, positive, negative), all
    float32 (N, D): every input read, every gradient written."""
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(shape, dtype=np.float32) for _ in range(2 if loss == "cosine_embedding_loss" else 3)]
    if loss == "cosine_embedding_loss":
        y = rng.choice(np.array([1.0, -1.0], np.float32), shape[0])
        call, numpy_fn, args = L.cosine_embedding_loss, numpy_cosine, (*inputs, y)
    else:
        inputs[1] = inputs[0] + inputs[1]  # positives nearer than negatives: both sides of the hinge
        inputs[2] = inputs[0] + 1.2 * inputs[2]
        call, numpy_fn, args = L.triplet_margin_loss, numpy_triplet, tuple(inputs)
    outs = tuple(np.empty_like(x) for x in inputs)
    own = [x.copy() for x in inputs]  # overwritten with their gradients at every call (they stay finite)
    own_args = (*own, *args[len(own):])
    fns = {"optkern": lambda: call(*args),
           "optkern out=": lambda: call(*args, out=outs),
           "optkern out=input": lambda: call(*own_args, out=tuple(own)),
           "roofline": lambda: _core.roofline([[o] for o in outs] + [[x] for x in inputs], 0, len(outs)),
           "roofline in place": lambda: _core.roofline([[x] for x in own], len(own), 0)}
    if "numpy" in peers:
        fns["numpy"] = lambda: numpy_fn(*args)
    if "torch" in peers:
        fns["torch"] = _torch_pair_call(loss, args)
    return Case(2 * sum(x.nbytes for x in inputs), shape, fns)


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


def multilabel_margin_case(shape=(1024, 100), targets=10, peers=("torch",), seed=0):
    """multilabel_margin_loss on float32 scores `shape` (N, C), each row's
    target list `targets` distinct classes ended by -1; torch's peer is
    F.multilabel_margin_loss forward + backward through autograd (no NumPy
    peer: its pairs of target and non-target are a loop). nbytes: the
    scores read and the gradient written (the targets besides)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    y = np.full(shape, -1, np.int64)
    y[:, :targets] = np.argsort(rng.uniform(size=shape), axis=1)[:, :targets]
    out, own = np.empty_like(x), x.copy()  # own: overwritten with its gradient at every call (it stays finite)
    fns = {"optkern": lambda: L.multilabel_margin_loss(x, y),
           "optkern out=": lambda: L.multilabel_margin_loss(x, y, out=out),
           "optkern out=input": lambda: L.multilabel_margin_loss(own, y, out=own),
           "roofline": lambda: _core.roofline([[out], [x]], 0, 1),
           "roofline in place": lambda: _core.roofline([[own]], 1, 0)}
    if "torch" in peers:
        fns["torch"] = _torch_call("multilabel_margin_loss", x, y, {})
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
        ("multi_margin_loss 4096x1000", lambda: case("multi_margin_loss", (4096, 1000), peers)),
        ("multilabel_soft_margin_loss 4096x1000", lambda: case("multilabel_soft_margin_loss", (4096, 1000), peers)),
        *[(f"{loss} 16M", lambda loss=loss: case(loss, (16 * mb,), peers))
          for loss in LOSSES if loss not in ROW_LOSSES and loss != "mse_loss"],
        *[(f"{loss} 4096x1024", lambda loss=loss: pair_case(loss, (4096, 1024), peers))
          for loss in ("cosine_embedding_loss", "triplet_margin_loss")],
        ("ctc_loss 500x32x64 S=100", lambda: ctc_case(peers=[p for p in peers if p != "numpy"])),
        ("multilabel_margin_loss 1024x100 10 targets",
         lambda: multilabel_margin_case(peers=[p for p in peers if p != "numpy"])),
    ]
