"""The optimizer benchmark: its workloads, and each implementation's step.

Shared by `optkern bench`, bench/report_optim.py and the pytest-benchmark
suite bench/test_bench_optim.py. step(impl, name, shapes) builds one
implementation's optimizer over its own copy of the data (implementations
never share arrays) and returns a zero-argument callable doing one step,
or None where that implementation has no such optimizer.

Every optimizer optkern has (optkern.optim.Optimizer.registry()) but the
8-bit ones (bench/eightbit.py compares those with bitsandbytes and torchao)
is benchmarked, with the keyword arguments of SETTINGS (else lr 1e-3 and
torch's defaults), against the peers (optkern.benchmark.peers) that have
it: torch.optim's class of the same name, optax's transformation of that
name, DeepSpeedCPUAdam for Adam and AdamW, and a NumPy implementation where
NUMPY_STEPS has one. torch, optax and deepspeed are imported only when
their step is built.
"""

import gc
import importlib
import inspect
import math
from collections import namedtuple

import numpy as np

import optkern
from optkern.benchmark.peers import Unavailable, first_line, stdout_to_stderr
from optkern.benchmark.timing import interleaved
from optkern.optim import _engine, eightbit

__all__ = ["OPTIMIZERS", "ELEMENTWISE", "SETTINGS", "WORKLOADS", "OWN_WORKLOADS", "IMPLEMENTATIONS", "step",
           "measure", "shapes_for", "make_data", "elements", "vit_s_shapes"]


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


# The workloads of the elementwise optimizers in bench/'s report and suite.
WORKLOADS = {
    "64K": [(1 << 16,)],
    "1M": [(1 << 20,)],
    "16M": [(1 << 24,)],
    "1000x1024": [(1024,)] * 1000,
    "ViT-S (200 arrays)": vit_s_shapes(),
}

# Optimizers that are not an elementwise update of any array, with
# workloads of their own: Muon's step is mostly matrix products (its
# Newton-Schulz iteration), LBFGS's takes a closure and Adafactor's sums
# over rows and columns before its update (three passes). Muon and
# Adafactor take matrices (shapes_for makes square ones).
OWN_WORKLOADS = {
    "Muon": {"4096x4096": [(4096, 4096)]},
    "LBFGS": {"10M, 10 arrays": [(1_000_000,)] * 10},
    "Adafactor": {"4096x4096": [(4096, 4096)]},
}
_MATRICES = ("Muon", "Adafactor")

# class name: (the label of its rows, its kwargs)
SETTINGS = {
    "SGD": ("SGD momentum", {"lr": 1e-3, "momentum": 0.9}),
    "AdamW": ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
    "Muon": ("Muon", {"lr": 0.02}),
    "LBFGS": ("LBFGS", {"lr": 0.5, "max_iter": 1, "history_size": 10}),
    "Adafactor": ("Adafactor", {"lr": 1e-2}),
}

# One optimizer as benchmarked: its class name, its kwargs, and for an
# elementwise update the bytes it must move per float32 element and its
# (streams read and written back, streams only read); None for the others.
Spec = namedtuple("Spec", "cls kwargs bytes_per_element streams")

# The optimizers that take norms of whole tensors inside the step make more
# than one pass (docs/optimizers.md#norms-inside-the-step): their traffic
# per element as (streams read and written back, streams only read) of one
# pass that moves the same bytes. LAMB: g for the global norm; p, g, m, v
# read and m, v written; p, m, v read and p written (11 arrays). LARS: p and
# g for the norms; p, g, b read and p, b written (7).
_PASSES = {"LAMB": (4, 3), "LARS": (2, 3)}


def _optimizers():
    """{label: Spec} of every optimizer, the elementwise ones first."""
    table, own = {}, {}
    for name, cls in optkern.optim.Optimizer.registry().items():
        if name in eightbit.__all__:  # no torch peer: bench/eightbit.py measures them against theirs
            continue
        label, kwargs = SETTINGS.get(name, (name, {"lr": 1e-3}))
        if name in OWN_WORKLOADS:
            own[label] = Spec(name, kwargs, None, None)
            continue
        probe = cls([np.zeros(1, np.float32)], **kwargs)
        hparams = probe._hparams(probe.param_groups[0])
        kind = _engine.kind(cls._kind)
        # the state arrays: a scalar state (NAdam's mu_product) is 4 bytes per tensor, not per element
        states = len([s for s in _engine.required_states(kind, hparams, cls._phase) if s not in kind.scalars])
        # reads the parameter, the gradient and each state; writes all but the gradient back
        inplace, readonly = _PASSES.get(name, (1 + states, 1))
        table[label] = Spec(name, kwargs, 4 * (2 * inplace + readonly), (inplace, readonly))
    return {**table, **own}


OPTIMIZERS = _optimizers()
ELEMENTWISE = [label for label, spec in OPTIMIZERS.items() if spec.streams is not None]


def shapes_for(label, size, tensors):
    """The shapes of `tensors` tensors of about `size` elements each for
    optimizer `label`: vectors, or square matrices (the largest that fit,
    at least 1x1) for the optimizers that take matrices."""
    if OPTIMIZERS[label].cls in _MATRICES:
        side = max(1, math.isqrt(size))
        return [(side, side)] * tensors
    return [(size,)] * tensors


def make_data(shapes, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s, dtype=np.float32).astype(dtype) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32).astype(dtype) * 1e-2 for s in shapes]
    return params, grads


def elements(shapes):
    return sum(math.prod(s) for s in shapes)


# ------------------------------------------------------------------ optkern

def _optkern_step(spec, shapes):
    params, grads = make_data(shapes)
    opt = getattr(optkern, spec.cls)(params, **spec.kwargs)
    if hasattr(opt, "train"):  # schedule-free: steps are taken in train mode
        opt.train()
    return lambda: opt.step(grads)


def _roofline_step(spec, shapes):
    """The bandwidth limit: the same streams read and written back, no arithmetic."""
    if spec.streams is None:
        return None
    inplace, readonly = spec.streams
    arrays = [make_data(shapes, seed=s)[0] for s in range(inplace + readonly)]
    return lambda: optkern._core.roofline(arrays, inplace, 0)


# -------------------------------------------------------------------- numpy

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


def _numpy_step(spec, shapes):
    if spec.cls not in NUMPY_STEPS:
        return None
    params, grads = make_data(shapes)
    return NUMPY_STEPS[spec.cls](params, grads, spec.kwargs)


# -------------------------------------------------------------------- torch

def _torch_tensors(shapes):
    """Parameters as torch tensors with their .grad set (sharing the arrays)."""
    import torch

    params, grads = make_data(shapes)
    tensors = [torch.from_numpy(p) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g)
    return tensors


def _torch_step(spec, shapes, variant):
    """variant: "fused", "foreach" or "for-loop". Muon, which has no such
    switch, runs as torch ships it (a loop over the parameters) as the
    for-loop; torch's Muon runs its Newton-Schulz iteration in bfloat16
    (optkern's runs in the parameters' dtype, here float32)."""
    import torch

    cls = getattr(torch.optim, spec.cls, None)
    if cls is None:
        return None
    switches = inspect.signature(cls).parameters
    impl = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for-loop": {"foreach": False}}[variant]
    if not set(impl) <= set(switches):
        if variant != "for-loop":
            return None
        impl = {}
    opt = cls(_torch_tensors(shapes), **spec.kwargs, **impl)
    return opt.step


# -------------------------------------------------------------------- optax

# class name -> optax transformation with torch's hyperparameters (where
# optax's formula differs in a detail, as RMSprop's eps inside the square
# root by default, the torch placement is chosen).
_OPTAX = {
    "SGD": lambda optax, kw: optax.sgd(kw["lr"], momentum=kw.get("momentum") or None),
    "Adam": lambda optax, kw: optax.adam(kw["lr"]),
    "AdamW": lambda optax, kw: optax.adamw(kw["lr"], weight_decay=kw["weight_decay"]),
    "Adagrad": lambda optax, kw: optax.adagrad(kw["lr"], initial_accumulator_value=0.0, eps=1e-10),
    "RMSprop": lambda optax, kw: optax.rmsprop(kw["lr"], decay=0.99, eps=1e-8, eps_in_sqrt=False),
    "Adamax": lambda optax, kw: optax.adamax(kw["lr"]),
    "NAdam": lambda optax, kw: optax.nadam(kw["lr"]),
    "RAdam": lambda optax, kw: optax.radam(kw["lr"]),
    "Adadelta": lambda optax, kw: optax.adadelta(kw["lr"], rho=0.9, eps=1e-6),
    "Rprop": lambda optax, kw: optax.rprop(kw["lr"], eta_minus=0.5, eta_plus=1.2, min_step_size=1e-6,
                                           max_step_size=50.0),
}


def _optax_step(spec, shapes):
    """optax's transformation of that name, its update and apply_updates in
    one jitted function whose old parameters and state are donated (so XLA
    may update them in place). jax runs on its own thread pool."""
    if spec.cls not in _OPTAX:
        return None
    import jax
    import optax

    tx = _OPTAX[spec.cls](optax, spec.kwargs)
    params, grads = make_data(shapes)
    carry = [[jax.numpy.asarray(p) for p in params], None]
    carry[1] = tx.init(carry[0])
    grads = [jax.numpy.asarray(g) for g in grads]

    def update(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    update = jax.jit(update, donate_argnums=(0, 1))

    def step():
        carry[0], carry[1] = update(carry[0], carry[1], grads)
        jax.block_until_ready(carry[0])
    return step


# ---------------------------------------------------------------- deepspeed

def _deepspeed_step(spec, shapes):
    """DeepSpeedCPUAdam, Adam with L2 weight decay or AdamW (adamw_mode).
    Its C++ op is compiled on first use; a failure there (no compiler, a
    torch it was not built for) makes the peer Unavailable."""
    if spec.cls not in ("Adam", "AdamW"):
        return None
    try:
        with stdout_to_stderr():  # its build log
            from deepspeed.ops.adam import DeepSpeedCPUAdam

            opt = DeepSpeedCPUAdam(_torch_tensors(shapes), lr=spec.kwargs["lr"],
                                   weight_decay=spec.kwargs.get("weight_decay", 0.0),
                                   adamw_mode=spec.cls == "AdamW")
    except Exception as e:
        raise Unavailable(f"DeepSpeedCPUAdam cannot run here: {first_line(e)}") from e
    return opt.step


# --------------------------------------------------- Muon, LBFGS, Adafactor

def _quadratic(shapes, seed=1):
    """A separable quadratic f(x) = sum(h x^2) / 2 - b.x over float32 arrays
    of the given shapes: its curvatures h, its b, and the start x."""
    n = elements(shapes)
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.5, 2.0, n).astype(np.float32)
    b, x = rng.standard_normal((2, n), dtype=np.float32)
    cuts = np.cumsum([math.prod(s) for s in shapes])[:-1]
    return [[part.reshape(s) for part, s in zip(np.split(a, cuts), shapes)] for a in (h, b, x)]


def _lbfgs_optkern(spec, shapes):
    """One L-BFGS iteration (max_iter=1: one closure call and one two-loop
    recursion over a full history) on a quadratic, its gradient written
    into arrays made once."""
    h, b, x = _quadratic(shapes)
    grads = [np.empty_like(a) for a in x]

    def closure():
        loss = 0.0
        for hi, bi, xi, gi in zip(h, b, x, grads):
            np.multiply(hi, xi, out=gi)
            loss += 0.5 * float(np.vdot(xi, gi)) - float(np.vdot(bi, xi))
            gi -= bi
        return loss, grads

    opt = optkern.LBFGS(x, **spec.kwargs)
    for _ in range(spec.kwargs["history_size"] + 2):  # a full history
        opt.step(closure)
    return lambda: opt.step(closure)


def _lbfgs_torch(spec, shapes):
    """The same iteration with torch.optim.LBFGS (its only implementation,
    a loop over the parameters, is the for-loop) and a closure doing the
    same work in torch (no autograd: the gradient is written into .grad)."""
    import torch

    h, b, x = (list(map(torch.from_numpy, arrays)) for arrays in _quadratic(shapes))
    for xi in x:
        xi.grad = torch.empty_like(xi)

    def closure():
        loss = 0.0
        for hi, bi, xi in zip(h, b, x):
            torch.mul(hi, xi, out=xi.grad)
            loss += 0.5 * float(xi.view(-1).dot(xi.grad.view(-1))) - float(bi.view(-1).dot(xi.view(-1)))
            xi.grad.sub_(bi)
        return loss

    opt = torch.optim.LBFGS(x, **spec.kwargs)
    for _ in range(spec.kwargs["history_size"] + 2):
        opt.step(closure)
    return lambda: opt.step(closure)


# ---------------------------------------------------------------- reference

# The reference implementations, on torch, of the optimizers beyond
# torch.optim: class name -> (module, class, pip package). pytorch-optimizer's
# Lamb and ADOPT deviate from apex's and the official algorithms that
# optkern's follow (docs/optimizers.md): they stand in as the packages
# users compare with.
REFERENCES = {
    "Lion": ("lion_pytorch", "Lion", "lion-pytorch"),
    "Adan": ("pytorch_optimizer", "Adan", "pytorch-optimizer"),
    "AdEMAMix": ("pytorch_optimizer", "AdEMAMix", "pytorch-optimizer"),
    "ADOPT": ("pytorch_optimizer", "ADOPT", "pytorch-optimizer"),
    "LAMB": ("pytorch_optimizer", "Lamb", "pytorch-optimizer"),
    "LARS": ("pytorch_optimizer", "LARS", "pytorch-optimizer"),
    "SGDScheduleFree": ("schedulefree", "SGDScheduleFree", "schedulefree"),
    "AdamWScheduleFree": ("schedulefree", "AdamWScheduleFree", "schedulefree"),
}


def _reference_step(spec, shapes):
    if spec.cls not in REFERENCES:
        return None
    module, name, package = REFERENCES[spec.cls]
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError:
        raise Unavailable(f"not installed: pip install {package}") from None
    opt = cls(_torch_tensors(shapes), **spec.kwargs)
    if hasattr(opt, "train"):  # schedulefree's: steps are taken in train mode
        opt.train()
    return opt.step


# {implementation: factory(spec, shapes)}; the peers' names are those of
# optkern.benchmark.peers.PEERS.
IMPLEMENTATIONS = {
    "optkern": _optkern_step,
    "roofline": _roofline_step,
    "numpy": _numpy_step,
    "torch for-loop": lambda spec, shapes: _torch_step(spec, shapes, "for-loop"),
    "torch foreach": lambda spec, shapes: _torch_step(spec, shapes, "foreach"),
    "torch fused": lambda spec, shapes: _torch_step(spec, shapes, "fused"),
    "optax": _optax_step,
    "deepspeed": _deepspeed_step,
    "reference": _reference_step,
}

# Where an optimizer's step is built otherwise: {class name: {implementation: factory}}
_OWN_STEPS = {
    "LBFGS": {"optkern": _lbfgs_optkern, "torch for-loop": _lbfgs_torch},
}


def step(impl, name, shapes):
    """A zero-argument callable doing one step of optimizer `name` (a label
    of OPTIMIZERS) by implementation `impl` (of IMPLEMENTATIONS) on float32
    data of the given shapes, or None where `impl` has no such optimizer.
    Raises peers.Unavailable where the peer is installed but cannot run."""
    spec = OPTIMIZERS[name]
    make = _OWN_STEPS.get(spec.cls, {}).get(impl, IMPLEMENTATIONS[impl])
    return make(spec, shapes)


def measure(name, shapes, impls, rounds=15, warmup=2):
    """One step of optimizer `name` on float32 data of `shapes` by each of
    `impls`, timed interleaved (timing.interleaved): ({impl: [seconds, one
    per round]}, {impl: why it cannot run here}). An implementation that
    has no such optimizer is in neither."""
    fns, unavailable = {}, {}
    for impl in impls:
        try:
            fn = step(impl, name, shapes)
        except Unavailable as e:
            unavailable[impl] = str(e)
            continue
        if fn is not None:
            fns[impl] = fn
    times = interleaved(fns, rounds=rounds, warmup=warmup)
    del fns
    gc.collect()  # the arrays of this measurement go before the next one's are made
    return times, unavailable
