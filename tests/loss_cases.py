"""The loss registry: one record per optkern loss, which every generic loss
suite iterates (as scikit-learn's _LOSSES drives its test_loss.py):

    test_losses.py        reference values, finite differences, out= and
                          in place, thread determinism, bad shapes and dtypes
                          (raising with nothing written), NaN and inf
    test_losses_torch.py  parity with torch.nn.functional (autograd)
    test_bounds.py        no write past the end of any array

A new loss is enrolled in all of them by adding its record to LOSSES.

A record holds the optkern function, its float64 NumPy reference
(loss_reference.py), its torch oracle, a data maker, and option grids.
Options are plain values (readable test ids) that the data maker turns into
call arguments: make(shape, dtype, seed, **options) -> (x, target, kwargs),
the call being fn(x, target, reduction=..., **kwargs). Data options (weight=True,
probs=True, ...) become arrays or target kinds; the others pass through.
"""

import itertools
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

import loss_reference as ref
from helpers import REDUCTIONS, rng_for
from optkern import losses as L

try:
    import torch
except ImportError:  # test_losses_torch.py skips itself; nothing else needs torch
    torch = None


@dataclass(frozen=True)
class Variant:
    """One option set, and the input shapes it runs on."""
    options: dict
    shapes: tuple

    @property
    def id(self):
        return ",".join(f"{k}={v}" for k, v in self.options.items()) or "default"


def grid(options, shapes):
    """Every option set on every shape."""
    return [Variant(dict(o), tuple(shapes)) for o in options]


def product(**axes):
    """The option sets of the product of `axes` ({key: values}); entries at
    a value of None or False are left out (the default)."""
    keys = list(axes)
    return [{k: v for k, v in zip(keys, values) if v is not None and v is not False}
            for values in itertools.product(*axes.values())]


@dataclass(frozen=True)
class LossCase:
    name: str
    fn: Callable                  # the optkern function
    ref: Callable                 # its float64 NumPy reference (loss_reference.py)
    oracle: Callable              # torch: oracle(x, target, **kwargs) on tensors
    make: Callable                # make(shape, dtype, seed, **options) -> (x, target, kwargs)
    grid: list                    # Variants: reference values, every reduction
    torch_grid: list              # Variants: torch parity, every reduction
    fd: list                      # Variants (float64; may fix "reduction"): finite differences
    examples: list                # option sets for out=, threads, bad input, bounds
    reductions: tuple = tuple(REDUCTIONS)
    rows: bool = False            # (N, C, d...) logits with class axis 1, not elementwise
    unit: Optional[Callable] = None  # unit(target, kwargs, reduction): see helpers.assert_close
    grads: tuple = ("input",)  # what the gradient holds, in order: "input", "target" or a kwarg of make's
    gpu: bool = True           # a GPU (CuPy) form; False: CuPy arrays raise NotImplementedError
    half: bool = True          # bfloat16/float16 inputs; False: float32/float64 only (others: TypeError)
    sequences: bool = False       # (T, N, C) sequences (ctc_loss): neither elementwise nor rows

    @property
    def elementwise(self):
        """input and target of one shape, loss element by element."""
        return not self.rows and not self.sequences

    def unit_of(self, target, kwargs, reduction):
        return 0.0 if self.unit is None else self.unit(target, kwargs, reduction)


# ----------------------------------------------------------------- data makers

def regression_data(shape, dtype, seed=0, weight=False, **kwargs):
    rng = rng_for("regression", shape, seed)
    x = (2 * rng.standard_normal(shape)).astype(dtype)
    y = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.1, 2.0, shape).astype(dtype)
    if weight:
        kwargs["weight"] = np.asarray(w)
    return np.asarray(x), np.asarray(y), kwargs


def kl_data(shape, dtype, seed=0, **kwargs):
    rng = rng_for("kl", shape, seed)
    x = np.log(rng.uniform(0.01, 1, shape))
    y = rng.uniform(0, 1, shape)
    y = np.where(rng.uniform(size=shape) < 0.2, 0.0, y)  # exact zeros: 0 log 0 = 0
    if kwargs.get("log_target"):
        y = np.log(rng.uniform(0.01, 1, shape))
    return np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype), kwargs


def _operand_shape(spec, shape):
    """An operand shape: a tuple, "last" (the input's last dimension) or "full"."""
    return {"last": shape[-1:], "full": shape}.get(spec, spec) if isinstance(spec, str) else spec


def bce_data(shape, dtype, seed=0, weight=None, pos_weight=None, **kwargs):
    """weight, pos_weight: the operands' shapes (None: absent)."""
    rng = rng_for("bce", shape, weight, pos_weight, seed)
    x = np.asarray(3 * rng.standard_normal(shape), dtype=dtype)
    y = np.asarray(rng.uniform(0, 1, shape), dtype=dtype)
    for name, spec, high in (("weight", weight, 2.0), ("pos_weight", pos_weight, 3.0)):
        if spec is not None:
            kwargs[name] = np.asarray(rng.uniform(0.2, high, _operand_shape(spec, shape)), dtype=dtype)
    return x, y, kwargs


def ce_data(shape, dtype, seed=0, probs=False, ignored=False, weight=False, **kwargs):
    """Logits of `shape`; class targets (with every third sample set to -100
    when `ignored`) or probabilities (probs); weight: per-class weights."""
    rng = rng_for("ce", shape, probs, ignored, seed)
    x = np.asarray(2 * rng.standard_normal(shape), dtype=dtype)
    c = shape[0] if len(shape) == 1 else shape[1]
    if probs:
        t = rng.uniform(0, 1, shape)
        t = np.asarray(t / t.sum(axis=0 if len(shape) == 1 else 1, keepdims=True), dtype=dtype)
    else:
        samples = () if len(shape) == 1 else (shape[0],) + shape[2:]
        t = rng.integers(0, c, samples)
        if ignored and t.ndim:
            t.flat[::3] = -100
        t = np.asarray(t, dtype=np.int64)
    if weight:
        kwargs["weight"] = np.asarray(rng_for("w", c).uniform(0.2, 2, c), dtype=dtype)
    return x, t, kwargs


def gradient_unit(target, kwargs, reduction):
    """r max(w): the size of the terms of a cross-entropy gradient."""
    w = kwargs.get("weight")
    wmax = 1.0 if w is None else float(np.max(w))
    if reduction != "mean":
        return wmax
    if np.issubdtype(target.dtype, np.floating):
        samples = target.size // (target.shape[0] if target.ndim == 1 else target.shape[1])
        return wmax / samples
    live = target[target != kwargs.get("ignore_index", -100)]
    return wmax / max(float(live.size if w is None else np.asarray(w, np.float64)[live].sum()), 1e-300)


def ctc_data(shape, dtype, seed=0, batch=None, concatenated=False, blank=0, short=False, repeats=False,
             impossible=False, raw=False, **kwargs):
    """ctc_loss's data for `shape`: (T, N, C) as it is; (T, C) and (C,) (T =
    6) unbatched, or batched with N = `batch` when given. Log-softmax
    log_probs (raw: standard normal values, not normalised); the blank
    min(blank, C - 1); target lengths up to T // 2 (every alignment fits),
    sequence 0's the longest, the padded width; padding entries -1 (never
    read). short: input lengths below T; repeats: runs of a repeated label
    (which need a blank between them); impossible: sequence 0's input
    length below its target length (an infinite loss)."""
    rng = rng_for("ctc", shape, batch, concatenated, blank, short, repeats, impossible, seed)
    dims = tuple(shape) if len(shape) == 3 else (((shape[0] if len(shape) == 2 else 6),) + ((batch,) if batch else ())
                                                 + (shape[-1],))
    batched = len(dims) == 3
    t, n, c = dims if batched else (dims[0], 1, dims[1])
    blank = min(blank, c - 1)
    x = 2 * rng.standard_normal((t, n, c))
    if not raw:
        x = x - np.log(np.exp(x).sum(axis=2, keepdims=True))
    labels = [k for k in range(c) if k != blank]
    width = t // 2 if labels else 0
    lengths = rng.integers(0, width + 1, n)
    if n:
        lengths[0] = width
    targets = np.full((n, width), -1, np.int64)
    for b in range(n):
        row = rng.choice(labels, lengths[b]) if lengths[b] else np.zeros(0, np.int64)
        if repeats and lengths[b] > 1:
            row[1::3] = row[0::3][:len(row[1::3])]
        targets[b, :lengths[b]] = row
    steps = np.full(n, t, np.int64)
    if short:
        steps = np.array([rng.integers(min(2 * k, t), t + 1) for k in lengths], np.int64)
    if impossible and n and width:
        steps[0] = width - 1
    if concatenated and batched:
        target = np.concatenate([targets[b, :lengths[b]] for b in range(n)] or [np.zeros(0, np.int64)])
    else:
        target = targets if batched else targets[0]
    if batched:
        kwargs["input_lengths"], kwargs["target_lengths"] = steps, lengths
    else:
        kwargs["input_lengths"], kwargs["target_lengths"] = int(steps[0]), int(lengths[0])
    kwargs["blank"] = blank
    return np.asarray(x if batched else x[:, 0], dtype=dtype), target, kwargs


def ctc_unit(target, kwargs, reduction):
    """The largest reduction factor r_b: each gradient entry is r_b times
    terms of size at most 1 (a probability and a posterior sum)."""
    if reduction != "mean":
        return 1.0
    lengths = np.atleast_1d(kwargs["target_lengths"])
    return float(np.max(1.0 / (lengths.size * np.maximum(lengths, 1)))) if lengths.size else 1.0


# ---------------------------------------------------------------- torch oracles

def torch_function(name):
    """torch.nn.functional.<name>, looked up when called (torch is optional)."""
    return lambda *args, **kwargs: getattr(torch.nn.functional, name)(*args, **kwargs)


def torch_z_loss_softcap(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                         z_loss=0.0, softcap=None):
    """optkern's extensions, built from torch: soft-cap the logits, then add
    z_loss * w[y] * lse^2 per sample (w[y] = 1 for probabilities) to torch's
    per-sample cross-entropy; 'mean' keeps torch's denominator."""
    F = torch.nn.functional
    logits = x if softcap is None else softcap * torch.tanh(x / softcap)
    per_sample = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction="none",
                                 label_smoothing=label_smoothing)
    lse = torch.logsumexp(logits, dim=1 if logits.dim() > 1 else 0)
    if target.dtype == torch.int64:
        live = target != ignore_index
        rho = torch.ones_like(lse) if weight is None else weight[torch.where(live, target, 0)]
        rho = torch.where(live, rho, torch.zeros_like(rho))
        denominator = rho.sum()
    else:
        rho = torch.ones_like(lse)
        denominator = torch.tensor(float(lse.numel()), dtype=lse.dtype)
    total = per_sample + z_loss * rho * lse * lse
    if reduction == "none":
        return total
    return total.sum() if reduction == "sum" else total.sum() / denominator


def torch_cross_entropy(x, target, **kwargs):
    """torch's cross_entropy itself; the composition for z_loss and softcap."""
    if kwargs.get("z_loss") or kwargs.get("softcap") is not None:
        return torch_z_loss_softcap(x, target, **kwargs)
    kwargs.pop("z_loss", None)
    kwargs.pop("softcap", None)
    return torch.nn.functional.cross_entropy(x, target, **kwargs)


def torch_ctc_loss(x, target, input_lengths, target_lengths, **kwargs):
    """torch's ctc_loss; its lengths as tensors (an unbatched int: 0-d)."""
    return torch.nn.functional.ctc_loss(x, target, torch.as_tensor(input_lengths), torch.as_tensor(target_lengths),
                                        **kwargs)


# ------------------------------------------------------------------- registry

SIZES = [(1,), (7,), (16,), (17,), (1023,), (5, 13), ()]
TORCH_SHAPE = [(6, 9)]
FD_SHAPE = [(4, 3)]
CE_SHAPES = [(4, 1), (5, 3), (3, 16), (6, 17), (4, 100), (2, 1000), (9,), (3, 4, 5), (2, 3, 4, 6), (2, 5, 19)]
TORCH_CE_SHAPES = [(6, 5), (4, 37), (7,), (3, 4, 5), (2, 3, 4, 5)]
FD_CE_SHAPES = [(3, 5), (2, 5, 3)]
# torch's ignore_index cases: none given, -100 with ignored samples, a class
IGNORE = [{}, {"ignored": True, "ignore_index": -100}, {"ignore_index": 1}]
# ctc_loss: (T, N, C) batched, (T, C) unbatched
CTC_SHAPES = [(12, 3, 6), (9, 17), (20, 1, 2), (7, 5, 1), (16, 7, 33), (1, 2, 4), (0, 2, 3)]
TORCH_CTC_SHAPES = [(14, 4, 7), (11, 9)]
CE_EXTENSIONS = [{"z_loss": 1e-2}, {"softcap": 2.0}, {"z_loss": 1e-2, "softcap": 2.0}]


def _bce_operands(*cases):
    """(input shape, weight shape, pos_weight shape) -> Variants."""
    return [Variant(product(weight=[w], pos_weight=[p])[0], (shape,)) for shape, w, p in cases]


def _ce_torch_grid():
    native = ([dict(o, **i) for o in product(weight=[False, True], label_smoothing=[None, 0.15, 1.0]) for i in IGNORE]
              + product(probs=[True], weight=[False, True], label_smoothing=[None, 0.15, 1.0]))
    extended = [dict(o, **e) for o in product(probs=[False, True], weight=[False, True], label_smoothing=[None, 0.1])
                for e in CE_EXTENSIONS]
    return grid([dict(o, ignored=True) if "probs" not in o and "ignore_index" not in o else o for o in extended]
                + native, TORCH_CE_SHAPES)


LOSSES = [
    LossCase(
        "mse_loss", L.mse_loss, ref.mse_loss, torch_function("mse_loss"), regression_data,
        grid=grid(product(weight=[False, True]), SIZES),
        torch_grid=grid(product(weight=[False, True]), TORCH_SHAPE),
        fd=grid([{}], FD_SHAPE),
        examples=[{}, {"weight": True}]),
    LossCase(
        "l1_loss", L.l1_loss, ref.l1_loss, torch_function("l1_loss"), regression_data,
        grid=grid(product(weight=[False, True]), SIZES),
        torch_grid=grid(product(weight=[False, True]), TORCH_SHAPE),
        fd=grid([{"reduction": "sum"}], FD_SHAPE),
        examples=[{}]),
    LossCase(
        "huber_loss", L.huber_loss, ref.huber_loss, torch_function("huber_loss"), regression_data,
        grid=grid(product(delta=[1.0, 0.3], weight=[False, True]), SIZES),
        torch_grid=grid([{}, {"delta": 0.3, "weight": True}, {"delta": 2.5}], TORCH_SHAPE),
        fd=grid([{"delta": 0.7}], FD_SHAPE),
        examples=[{"delta": 0.5}]),
    LossCase(
        "smooth_l1_loss", L.smooth_l1_loss, ref.smooth_l1_loss, torch_function("smooth_l1_loss"), regression_data,
        grid=grid(product(beta=[1.0, 0.4, 0.0]), SIZES),
        torch_grid=grid([{}, {"beta": 0.4}, {"beta": 0.0}], TORCH_SHAPE),
        fd=grid([{"beta": 0.6, "reduction": "sum"}], FD_SHAPE),
        examples=[{"beta": 0.5}]),
    LossCase(
        "kl_div", L.kl_div, ref.kl_div, torch_function("kl_div"), kl_data,
        grid=grid(product(log_target=[False, True]), [(3, 17), (1,), (40,), ()]),
        torch_grid=grid(product(log_target=[False, True]), [(5, 8)]),
        fd=grid([{"reduction": "batchmean"}, {"log_target": True}], FD_SHAPE),
        examples=[{"reduction": "batchmean"}],
        reductions=tuple(REDUCTIONS) + ("batchmean",)),
    LossCase(
        "binary_cross_entropy_with_logits", L.binary_cross_entropy_with_logits,
        ref.binary_cross_entropy_with_logits, torch_function("binary_cross_entropy_with_logits"), bce_data,
        grid=_bce_operands(((6, 5), None, None), ((6, 5), (6, 5), None), ((6, 5), (5,), (5,)),
                           ((6, 5), (6, 1), (5,)), ((6, 5), (), (1,)),
                           ((4, 3, 5), (3, 1), (5,)),       # a block of adjacent dimensions
                           ((4, 3, 5), (4, 1, 5), (3, 1)),  # not adjacent: copied
                           ((37,), (37,), (1,)), ((), None, ())),
        torch_grid=_bce_operands(((7, 4), None, None), ((7, 4), (7, 4), (4,)), ((7, 4), (7, 1), None),
                                 ((2, 3, 4), (3, 1), (4,)), ((2, 3, 4), (2, 1, 4), (1,))),
        fd=grid([{"pos_weight": (3,)}], FD_SHAPE),
        examples=[{"pos_weight": "last"}, {"weight": "full", "pos_weight": "last"}]),
    LossCase(
        "cross_entropy", L.cross_entropy, ref.cross_entropy, torch_cross_entropy, ce_data,
        grid=grid([dict(o, ignored=True) if not o.get("probs") else o for o in product(
            probs=[False, True], weight=[False, True], label_smoothing=[None, 0.1, 1.0], z_loss=[None, 1e-3],
            softcap=[None, 4.0])], CE_SHAPES),
        torch_grid=_ce_torch_grid(),
        fd=grid([dict(p, **o) for p in product(probs=[False, True]) for o in (
            {}, {"label_smoothing": 0.2, "weight": True}, {"z_loss": 0.01, "softcap": 3.0},
            {"reduction": "sum"} if p else {"reduction": "sum", "ignore_index": 1})], FD_CE_SHAPES),
        examples=[{}, {"weight": True, "label_smoothing": 0.1, "z_loss": 1e-3, "softcap": 5.0},
                  {"probs": True, "label_smoothing": 0.2}],
        rows=True, unit=gradient_unit),
    LossCase(
        "nll_loss", L.nll_loss, ref.nll_loss, torch_function("nll_loss"), ce_data,
        grid=grid(product(ignored=[True], weight=[False, True]), CE_SHAPES),
        torch_grid=grid([dict(o, **i) for o in product(weight=[False, True]) for i in IGNORE], TORCH_CE_SHAPES),
        fd=grid([{}], FD_CE_SHAPES),
        examples=[{"weight": True}],
        rows=True, unit=gradient_unit),
    LossCase(
        "ctc_loss", L.ctc_loss, ref.ctc_loss, torch_ctc_loss, ctc_data,
        grid=grid(product(blank=[None, 3], concatenated=[False, True], short=[False, True], repeats=[True]),
                  CTC_SHAPES)
             + grid([{"impossible": True, "short": True}, {"impossible": True, "zero_infinity": True},
                     {"raw": True, "short": True}], CTC_SHAPES[:3]),
        torch_grid=grid(product(blank=[None, 4], concatenated=[False, True], short=[False, True], repeats=[True])
                        + [{"impossible": True, "short": True}, {"impossible": True, "zero_infinity": True},
                           {"zero_infinity": True, "short": True}, {"raw": True, "short": True}],
                        TORCH_CTC_SHAPES),
        fd=[],  # torch's gradient is not the loss's: tests/test_ctc.py differentiates through log_softmax
        examples=[{"batch": 3}, {"batch": 4, "concatenated": True, "blank": 2, "short": True, "repeats": True}],
        unit=ctc_unit, gpu=False, half=False, sequences=True),
]


# ---------------------------------------------------------- pytest parameters

def variants(attribute, with_reductions=True, where=lambda case: True):
    """pytest.params (case, variant[, reduction]) of every loss's `attribute`
    grid, of the losses `where` holds for (e.g. lambda case: case.half)."""
    out = []
    for case in filter(where, LOSSES):
        for v in getattr(case, attribute):
            for r in case.reductions if with_reductions else [None]:
                values = (case, v, r) if with_reductions else (case, v)
                out.append(pytest.param(*values, id="-".join([case.name, v.id] + ([r] if r else []))))
    return out


def examples(predicate=lambda case, options: True):
    """pytest.params (case, options) of every loss's examples."""
    return [pytest.param(case, options, id=f"{case.name}-{Variant(options, ()).id}")
            for case in LOSSES for options in case.examples if predicate(case, options)]
