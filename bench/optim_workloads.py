"""The optimizer benchmark workloads and the implementations compared on them.

Shared by the pytest-benchmark suite (test_bench_optim.py) and the report
(report_optim.py). Each implementation is built by a factory that takes a
workload and returns a zero-argument callable doing one optimizer step on
its own copy of the data (so implementations never share arrays), or None
where that implementation does not exist.

Every optimizer optkern has (optkern.optim.Optimizer.registry()) is
benchmarked, with the keyword arguments of SETTINGS (else lr 1e-3 and
torch's defaults), against torch.optim's class of the same name where torch
has one and against a NumPy implementation where NUMPY_STEPS has one.
"""

import inspect
import math

import numpy as np

import optkern
from optkern.optim import _engine

try:
    import torch
except ImportError:  # torch is optional: its columns are then left out
    torch = None


def vit_s_shapes():
    """A ViT-S/16-like parameter list: 200 arrays, 22.05M parameters.

    ViT-S/16 (patch 16, width 384, depth 12, 6 heads, MLP 1536, 1000
    classes) with the attention's query, key and value projections kept as
    separate arrays, as some implementations do: per block 2 LayerNorms,
    q/k/v/out projections and the two MLP layers, each weight with a bias.
    """
    d, mlp = 384, 1536
    shapes = [(d, 3, 16, 16), (d,), (1, 1, d), (1, 197, d)]
    for _ in range(12):
        shapes += [(d,), (d,)]                    # norm1
        for _ in range(4):
            shapes += [(d, d), (d,)]              # q, k, v, out projections
        shapes += [(d,), (d,)]                    # norm2
        shapes += [(mlp, d), (mlp,), (d, mlp), (d,)]
    shapes += [(d,), (d,), (1000, d), (1000,)]    # final norm, head
    return shapes


WORKLOADS = {
    "64K": [(1 << 16,)],
    "1M": [(1 << 20,)],
    "16M": [(1 << 24,)],
    "1000x1024": [(1024,)] * 1000,
    "ViT-S (200 arrays)": vit_s_shapes(),
}

# class name: (the label of its rows, its kwargs)
SETTINGS = {
    "SGD": ("SGD momentum", {"lr": 1e-3, "momentum": 0.9}),
    "AdamW": ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
}


def _optimizers():
    """{label: (class name, kwargs, bytes moved per float32 element,
    (streams read and written back, streams only read))} of every
    elementwise optimizer (OWN_WORKLOADS has the others)."""
    table = {}
    for name, cls in optkern.optim.Optimizer.registry().items():
        if name in OWN_WORKLOADS:
            continue
        label, kwargs = SETTINGS.get(name, (name, {"lr": 1e-3}))
        probe = cls([np.zeros(1, np.float32)], **kwargs)
        hparams = probe._hparams(probe.param_groups[0])
        kind = _engine.kind(cls._kind)
        # the state arrays: a scalar state (NAdam's mu_product) is 4 bytes per tensor, not per element
        states = len([s for s in _engine.required_states(kind, hparams, cls._phase) if s not in kind.scalars])
        # reads the parameter, the gradient and each state; writes all but the gradient back
        table[label] = (name, kwargs, 4 * (3 + 2 * states), (1 + states, 1))
    return table


# Optimizers that are not an elementwise update of any array, timed on
# workloads of their own (the block at the end): {class name: {workload: its
# argument}}.
OWN_WORKLOADS = {
    "Muon": {"4096x4096": (4096, 4096)},
    "LBFGS": {"10M, 10 arrays": 10_000_000},
}

OPTIMIZERS = _optimizers()

def make_data(shapes, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s, dtype=np.float32).astype(dtype) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32).astype(dtype) * 1e-2 for s in shapes]
    return params, grads


def elements(shapes):
    return sum(math.prod(s) for s in shapes)


def optkern_step(opt_name, shapes):
    cls, kwargs, _, _ = OPTIMIZERS[opt_name]
    params, grads = make_data(shapes)
    opt = getattr(optkern, cls)(params, **kwargs)
    return lambda: opt.step(grads)


def torch_step(opt_name, shapes, variant):
    """variant: "fused", "foreach" or "for-loop"."""
    cls, kwargs, _, _ = OPTIMIZERS[opt_name]
    if not hasattr(torch.optim, cls):
        return None
    if variant == "fused" and "fused" not in inspect.signature(getattr(torch.optim, cls)).parameters:
        return None
    params, grads = make_data(shapes)
    tensors = [torch.from_numpy(p) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g)
    impl = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for-loop": {"foreach": False}}[variant]
    opt = getattr(torch.optim, cls)(tensors, **kwargs, **impl)
    return opt.step


def numpy_sgd(params, grads, kwargs):
    """SGD with momentum (no dampening) in the best plain NumPy: in-place
    ufuncs with out=, one scratch array per parameter, a loop over the list."""
    scratch = [np.empty_like(p) for p in params]
    lr, mu = kwargs["lr"], kwargs["momentum"]
    bufs = [g.copy() for g in grads]

    def step():
        for p, g, b, tmp in zip(params, grads, bufs, scratch):
            b *= mu
            b += g
            np.multiply(b, lr, out=tmp)
            p -= tmp
    return step


def numpy_adam(params, grads, kwargs, decoupled=False):
    """Adam (AdamW when decoupled) in the best plain NumPy, as numpy_sgd."""
    scratch = [np.empty_like(p) for p in params]
    lr = kwargs["lr"]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    decay = 1 - lr * kwargs.get("weight_decay", 0.0) if decoupled else None
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    t = [0]

    def step():
        t[0] += 1
        step_size = lr / (1 - beta1 ** t[0])
        inv_bc2 = 1 / math.sqrt(1 - beta2 ** t[0])
        for p, g, m, v, tmp in zip(params, grads, ms, vs, scratch):
            if decay is not None:
                p *= decay
            m *= beta1
            np.multiply(g, 1 - beta1, out=tmp)
            m += tmp
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= inv_bc2
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp
    return step


# The NumPy peers: class name -> factory(params, grads, kwargs).
NUMPY_STEPS = {
    "SGD": numpy_sgd,
    "Adam": numpy_adam,
    "AdamW": lambda params, grads, kwargs: numpy_adam(params, grads, kwargs, decoupled=True),
}


def numpy_step(opt_name, shapes):
    cls, kwargs, _, _ = OPTIMIZERS[opt_name]
    if cls not in NUMPY_STEPS:
        return None
    params, grads = make_data(shapes)
    return NUMPY_STEPS[cls](params, grads, kwargs)


def roofline_step(opt_name, shapes):
    """The bandwidth limit: the same streams read and written back, no arithmetic."""
    _, _, _, (inplace, readonly) = OPTIMIZERS[opt_name]
    arrays = [make_data(shapes, seed=s)[0] for s in range(inplace + readonly)]
    return lambda: optkern._core.roofline(arrays, inplace, 0)


FACTORIES = {
    "optkern": optkern_step,
    "roofline": roofline_step,
    "numpy": numpy_step,
}
if torch is not None:
    for _variant in ("fused", "foreach", "for-loop"):
        FACTORIES[f"torch {_variant}"] = lambda o, s, v=_variant: torch_step(o, s, v)


# ------------------------------------------------------- Muon and LBFGS
#
# Muon's step is mostly matrix products (its Newton-Schulz iteration) and
# LBFGS's takes a closure: each is timed on its own workload (OWN_WORKLOADS)
# against torch's class, by factories of the same kind as above: (workload
# argument) -> a zero-argument callable doing one step, or None.

def muon_optkern(shape):
    params, grads = make_data([shape])
    opt = optkern.Muon(params, lr=0.02)
    return lambda: opt.step(grads)


def muon_torch(shape):
    """torch.optim.Muon as it ships: Newton-Schulz in bfloat16 (optkern runs
    it in the parameters' dtype, here float32)."""
    if not hasattr(torch.optim, "Muon"):
        return None
    params, grads = make_data([shape])
    tensors = [torch.from_numpy(p) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g)
    return torch.optim.Muon(tensors, lr=0.02).step


LBFGS_ARRAYS = 10
LBFGS_SETTINGS = {"lr": 0.5, "max_iter": 1, "history_size": 10}


def _quadratic(n, seed=1):
    """A separable quadratic f(x) = sum(h x^2) / 2 - b.x over n float32
    elements in LBFGS_ARRAYS arrays: its curvatures h, its b, and the start x."""
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.5, 2.0, n).astype(np.float32)
    b, x = rng.standard_normal((2, n), dtype=np.float32)
    return [np.array_split(a, LBFGS_ARRAYS) for a in (h, b, x)]


def lbfgs_optkern(n):
    """One L-BFGS iteration (max_iter=1: one closure call and one two-loop
    recursion over a full history of 10 pairs) on a 10M-element quadratic,
    its gradient written into arrays made once."""
    h, b, x = _quadratic(n)
    grads = [np.empty_like(a) for a in x]

    def closure():
        loss = 0.0
        for hi, bi, xi, gi in zip(h, b, x, grads):
            np.multiply(hi, xi, out=gi)
            loss += 0.5 * float(np.dot(xi, gi)) - float(np.dot(bi, xi))
            gi -= bi
        return loss, grads

    opt = optkern.LBFGS(x, **LBFGS_SETTINGS)
    for _ in range(LBFGS_SETTINGS["history_size"] + 2):  # a full history
        opt.step(closure)
    return lambda: opt.step(closure)


def lbfgs_torch(n):
    """The same iteration with torch.optim.LBFGS and a closure doing the
    same work in torch (no autograd: the gradient is written into .grad)."""
    h, b, x = (list(map(torch.from_numpy, arrays)) for arrays in _quadratic(n))
    for xi in x:
        xi.grad = torch.empty_like(xi)

    def closure():
        loss = 0.0
        for hi, bi, xi in zip(h, b, x):
            torch.mul(hi, xi, out=xi.grad)
            loss += 0.5 * float(xi.dot(xi.grad)) - float(bi.dot(xi))
            xi.grad.sub_(bi)
        return loss

    opt = torch.optim.LBFGS(x, **LBFGS_SETTINGS)
    for _ in range(LBFGS_SETTINGS["history_size"] + 2):
        opt.step(closure)
    return lambda: opt.step(closure)


# {class name: {implementation: factory(workload argument)}}
OWN_FACTORIES = {"Muon": {"optkern": muon_optkern}, "LBFGS": {"optkern": lbfgs_optkern}}
if torch is not None:
    OWN_FACTORIES["Muon"]["torch"] = muon_torch
    OWN_FACTORIES["LBFGS"]["torch"] = lbfgs_torch
