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
    any_values: bool = True    # fn(x, y) of any floats (NaN, inf) is a valid call: the NaN suites apply

    def unit_of(self, target, kwargs, reduction):
        return 0.0 if self.unit is None else self.unit(target, kwargs, reduction)

    # Several gradients: with more than one entry in `grads`, fn returns
    # (loss, (grad of grads[0], grad of grads[1], ...)) and out= is a tuple
    # of arrays in that order. These give every suite one form for both.

    def inputs(self, x, t, kw):
        """The arrays the gradients are of, in the order of `grads`."""
        return tuple(x if g == "input" else t if g == "target" else kw[g] for g in self.grads)

    def with_inputs(self, x, t, kw, arrays):
        """(x, t, kw) with the differentiated arrays replaced by `arrays`."""
        named = dict(zip(self.grads, arrays))
        kw = {k: named.get(k, v) for k, v in kw.items()}
        return named.get("input", x), named.get("target", t), kw

    def gradients(self, grad):
        """A call's gradient as a tuple, one array per entry of `grads`."""
        return tuple(grad) if len(self.grads) > 1 else (grad,)

    def out_of(self, arrays):
        """The out= argument that writes the gradients into `arrays`."""
        return tuple(arrays) if len(self.grads) > 1 else arrays[0]

    def new_out(self, x, t, kw, fill):
        """out= arrays for a call on (x, t, kw), filled with `fill`."""
        return self.out_of([np.full_like(a, fill) for a in self.inputs(x, t, kw)])


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


def probability_data(shape, dtype, seed=0, weight=None, **kwargs):
    """Probabilities x in (0, 1), targets y in [0, 1]; weight: its shape (None: absent)."""
    rng = rng_for("probabilities", shape, weight, seed)
    x = np.asarray(rng.uniform(0.02, 0.98, shape), dtype=dtype)
    y = np.asarray(rng.uniform(0, 1, shape), dtype=dtype)
    if weight is not None:
        kwargs["weight"] = np.asarray(rng.uniform(0.2, 2.0, _operand_shape(weight, shape)), dtype=dtype)
    return x, y, kwargs


def poisson_data(shape, dtype, seed=0, **kwargs):
    """Log-rates (or rates, log_input=False) and counts 0, 1, 2, ..."""
    rng = rng_for("poisson", shape, seed)
    x = rng.standard_normal(shape) if kwargs.get("log_input", True) else rng.uniform(0.1, 3.0, shape)
    return np.asarray(x, dtype=dtype), np.asarray(rng.poisson(2.5, shape), dtype=dtype), kwargs


def gaussian_data(shape, dtype, seed=0, var="full", **kwargs):
    """Means, targets and variances: var "full" (the input's shape), "short"
    (input.shape[:-1]), "last" or "first" (size 1 along that dimension)."""
    rng = rng_for("gaussian", shape, var, seed)
    x, y = (np.asarray(rng.standard_normal(shape), dtype=dtype) for _ in range(2))
    vshape = {"full": shape, "short": shape[:-1], "last": shape[:-1] + (1,), "first": (1,) + shape[1:]}[var]
    kwargs["var"] = np.asarray(rng.uniform(0.1, 2.0, vshape), dtype=dtype)
    return x, y, kwargs


def sign_data(shape, dtype, seed=0, others=False, **kwargs):
    """Scores and labels 1 / -1 (others: some labels 0 and 0.5 too)."""
    rng = rng_for("signs", shape, others, seed)
    x = np.asarray(2 * rng.standard_normal(shape), dtype=dtype)
    y = rng.choice([-1.0, 1.0] + ([0.0, 0.5] if others else []), shape)
    return x, np.asarray(y, dtype=dtype), kwargs


def ranking_data(shape, dtype, seed=0, **kwargs):
    """Two scores per pair and labels 1 / -1; input2 in kwargs."""
    x, y, kwargs = sign_data(shape, dtype, seed, **kwargs)
    kwargs["input2"] = np.asarray(2 * rng_for("ranking", shape, seed).standard_normal(shape), dtype=dtype)
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


def _pair_shape(shape):
    """A pair loss's input shape for a suite's `shape`: (D,) stays one
    sample (a 0-d target), () is one sample of one feature, and more
    dimensions are (N, D) rows, N the product of all but the last."""
    if len(shape) <= 1:
        return shape or (1,)
    return (int(np.prod(shape[:-1])), shape[-1])


def _row_norms(x, norms):
    """x with each row scaled to the given norm (a zero row stays zero)."""
    lengths = np.sqrt((x * x).sum(axis=-1, keepdims=True))
    return x * np.where(lengths > 0, norms / np.where(lengths > 0, lengths, 1.0), 0.0)


def cosine_unit(target, kwargs, reduction):
    """r / min |x1|, the size of the terms of a cosine gradient: cosine_data's
    rows have norms in [0.5, 2], so |x1| >= |x2| / 4."""
    x2 = np.asarray(kwargs["input2"], np.float64)
    least = np.sqrt((x2 * x2).sum(axis=-1)).min() / 4 if x2.size else 1.0
    return (1 / max(target.size, 1) if reduction == "mean" else 1.0) / least


def triplet_unit(target, kwargs, reduction):
    """r: every element of a p-norm's gradient is at most 1 in size."""
    samples = int(np.prod(target.shape[:-1])) if target.ndim else 1
    return 1 / max(samples, 1) if reduction == "mean" else 1.0


def cosine_data(shape, dtype, seed=0, other=False, **kwargs):
    """input1, the targets (1 / -1; with `other`, also 0 and 2, which count
    for nothing) and input2 in kwargs: rows more or less aligned with
    input1's, so that both sides of cos = margin occur, of norms in [0.5, 2]
    (cosine_unit)."""
    rng = rng_for("cosine", shape, other, seed)
    shape = _pair_shape(shape)
    x1 = rng.standard_normal(shape)
    x2 = rng.uniform(-1, 1, shape[:-1] + (1,)) * x1 + rng.standard_normal(shape)
    x1, x2 = (_row_norms(x, rng.uniform(0.5, 2.0, shape[:-1] + (1,))) for x in (x1, x2))
    t = rng.choice([1.0, -1.0, 0.0, 2.0] if other else [1.0, -1.0], size=shape[:-1])
    if shape[-1] == 1:  # cos = +-1: not a pair of cos = 1 and target 1, whose loss 1 - cos is all rounding
        x2 = np.where((t == 1)[..., None] & (x1 * x2 > 0), -x2, x2)
    kwargs["input2"] = np.asarray(x2, dtype=dtype)
    return np.asarray(x1, dtype=dtype), np.asarray(t, dtype=dtype), kwargs


def triplet_data(shape, dtype, seed=0, **kwargs):
    """anchor, positive (the target) and negative in kwargs: positives near
    their anchors, negatives at a random scale from the anchor (even rows)
    or from the positive (odd rows, where the swap picks d(p, n)), so that
    the hinge is active for some samples and not for others."""
    rng = rng_for("triplet", shape, seed)
    shape = _pair_shape(shape)
    a = rng.standard_normal(shape)
    q = a + rng.standard_normal(shape)
    rows = shape[:-1] + (1,)
    base = np.where(np.arange(int(np.prod(rows))).reshape(rows) % 2 == 0, a, q) if len(shape) > 1 else a
    n = base + rng.uniform(0.6, 1.5, rows) * rng.standard_normal(shape)
    kwargs["negative"] = np.asarray(n, dtype=dtype)
    return np.asarray(a, dtype=dtype), np.asarray(q, dtype=dtype), kwargs


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


def multilabel_data(shape, dtype, seed=0, weight=None, soft=False, **kwargs):
    """Logits of `shape` (classes last) and 0/1 labels (soft: in [0, 1]);
    weight: the class weights' shape, "C" for (C,), "1C" for (1, C) (for an
    input of two dimensions or more; (C,) for one)."""
    rng = rng_for("multilabel", shape, soft, seed)
    x = np.asarray(3 * rng.standard_normal(shape), dtype=dtype)
    y = rng.uniform(0, 1, shape) if soft else (rng.uniform(0, 1, shape) < 0.4).astype(np.float64)
    c = shape[-1] if shape else 1
    if weight is not None:
        kwargs["weight"] = np.asarray(rng_for("w", c).uniform(0.2, 2, {"C": (c,), "1C": (1, c)[-len(shape):]}[weight]), dtype=dtype)
    return x, np.asarray(y, dtype=dtype), kwargs


def margin_data(shape, dtype, seed=0, weight=False, **kwargs):
    """Scores (N, C), (C,) or () and class targets; these losses have no
    (N, C, d1, ...) layout: such a shape of the generic suites is taken as
    (N, C * d1 * ...). weight: (C,) class weights."""
    if len(shape) > 2:
        shape = (shape[0], int(np.prod(shape[1:])))
    rng = rng_for("margin", shape, seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    c = shape[-1] if shape else 1
    t = np.asarray(rng.integers(0, c, shape[:1] if len(shape) == 2 else ()), dtype=np.int64)
    if weight:
        kwargs["weight"] = np.asarray(rng_for("w", c).uniform(0.2, 2, c), dtype=dtype)
    return x, t, kwargs


def margin_unit(target, kwargs, reduction):
    """r max(w): the size of a margin loss's gradient terms."""
    w = kwargs.get("weight")
    wmax = 1.0 if w is None else float(np.max(w))
    return wmax / max(target.size, 1) if reduction == "mean" else wmax


def multilabel_margin_data(shape, dtype, seed=0, end=None, dups=False, **kwargs):
    """Scores (N, C), (C,) or () (a shape of more axes taken as (N, C * d1 *
    ...), as margin_data) and class targets of their shape: per row a target
    list (dups: drawn with repeats; else distinct classes) ended by -1 after
    at most 12 targets (the cost is C per target), or end="early" (after at
    most one target), "late" (at the last entry), "absent" (no -1: C
    targets, repeats allowed); the entries past the -1 hold any value of
    [-1, C)."""
    if len(shape) > 2:
        shape = (shape[0], int(np.prod(shape[1:])))
    rng = rng_for("multilabel_margin", shape, end, dups, seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    c = shape[-1] if shape else 1
    rows = np.empty((shape[0] if len(shape) == 2 else 1, c), dtype=np.int64)
    for row in rows:
        length = {"early": min(int(rng.integers(0, 2)), c - 1), "late": c - 1, "absent": c}.get(
            end, int(rng.integers(0, min(c, 12) + 1)) if c > 1 else 0)
        listed = rng.integers(0, c, length) if dups or end == "absent" else rng.permutation(c)[:length]
        row[:] = rng.integers(-1, c, c)
        row[:length] = listed
        if length < c:
            row[length] = -1
    return x, np.ascontiguousarray(rows.reshape(shape)), kwargs


def multilabel_margin_unit(target, kwargs, reduction):
    """r: the size of the gradient's terms (counts of hinges over C)."""
    return 1.0 / target.shape[0] if reduction == "mean" and target.ndim == 2 and target.shape[0] else 1.0


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


def torch_cosine_embedding_loss(x, target, input2, **kwargs):
    return torch.nn.functional.cosine_embedding_loss(x, input2, target, **kwargs)


def torch_triplet_margin_loss(x, target, negative, **kwargs):
    return torch.nn.functional.triplet_margin_loss(x, target, negative, **kwargs)


def torch_cross_entropy(x, target, **kwargs):
    """torch's cross_entropy itself; the composition for z_loss and softcap."""
    if kwargs.get("z_loss") or kwargs.get("softcap") is not None:
        return torch_z_loss_softcap(x, target, **kwargs)
    kwargs.pop("z_loss", None)
    kwargs.pop("softcap", None)
    return torch.nn.functional.cross_entropy(x, target, **kwargs)


def torch_margin_ranking(x, target, input2, **kwargs):
    return torch.nn.functional.margin_ranking_loss(x, input2, target, **kwargs)


def margin_ranking(x, target, input2, **kwargs):
    return L.margin_ranking_loss(x, input2, target, **kwargs)


def margin_ranking_reference(x, target, input2, **kwargs):
    return ref.margin_ranking_loss(x, input2, target, **kwargs)


def torch_ctc_loss(x, target, input_lengths, target_lengths, **kwargs):
    """torch's ctc_loss; its lengths as tensors (an unbatched int: 0-d)."""
    return torch.nn.functional.ctc_loss(x, target, torch.as_tensor(input_lengths), torch.as_tensor(target_lengths),
                                        **kwargs)


# ------------------------------------------------------------------- registry

MARGIN_SHAPES = [(4, 1), (5, 7), (3, 16), (6, 17), (2, 1023), (9,), (1,), ()]
MULTILABEL_SHAPES = [(4, 1), (5, 7), (3, 16), (6, 17), (2, 1023), (9,), (1,), (2, 3, 5)]

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
        "binary_cross_entropy", L.binary_cross_entropy, ref.binary_cross_entropy,
        torch_function("binary_cross_entropy"), probability_data,
        grid=grid([{}, {"weight": "full"}, {"weight": "last"}, {"weight": (1,)}], SIZES[:-1])
        + grid([{"weight": (5, 1)}], [(5, 13)]),
        torch_grid=grid([{}, {"weight": "full"}, {"weight": "last"}], TORCH_SHAPE),
        fd=grid([{}, {"weight": "last", "reduction": "sum"}], FD_SHAPE),
        examples=[{}, {"weight": "last"}],
        gpu=False, any_values=False),
    LossCase(
        "poisson_nll_loss", L.poisson_nll_loss, ref.poisson_nll_loss, torch_function("poisson_nll_loss"),
        poisson_data,
        grid=grid(product(log_input=[True, False], full=[False, True], eps=[None, 0.25]), SIZES),
        torch_grid=grid(product(log_input=[True, False], full=[False, True], eps=[None, 0.25]), TORCH_SHAPE),
        fd=grid([{}, {"log_input": False, "full": True, "reduction": "sum"}], FD_SHAPE),
        examples=[{}, {"log_input": False, "full": True}]),
    LossCase(
        "gaussian_nll_loss", L.gaussian_nll_loss, ref.gaussian_nll_loss, torch_function("gaussian_nll_loss"),
        gaussian_data,
        grid=grid(product(var=["full", "short", "last"], full=[False, True], eps=[None, 0.5]), SIZES[:-1])
        + grid([{"var": "first"}], [(5, 13), (3, 4, 5)]),
        torch_grid=grid(product(var=["full", "short", "last", "first"], full=[False, True], eps=[None, 0.5]),
                        TORCH_SHAPE + [(2, 3, 4)]),
        fd=grid([{}, {"var": "short", "full": True, "reduction": "sum"}, {"var": "first"}], FD_SHAPE),
        examples=[{"var": "last", "full": True}, {}],  # the last: its var gradients sum within float16's range
        reductions=tuple(REDUCTIONS), grads=("input", "var"), gpu=False, any_values=False),
    LossCase(
        "hinge_embedding_loss", L.hinge_embedding_loss, ref.hinge_embedding_loss,
        torch_function("hinge_embedding_loss"), sign_data,
        grid=grid(product(margin=[None, 0.5, -0.3], others=[False, True]), SIZES),
        torch_grid=grid(product(margin=[None, 2.0], others=[False, True]), TORCH_SHAPE),
        fd=grid([{"margin": 0.7}, {"others": True, "reduction": "sum"}], FD_SHAPE),
        examples=[{}, {"margin": 0.5, "others": True}]),
    LossCase(
        "soft_margin_loss", L.soft_margin_loss, ref.soft_margin_loss, torch_function("soft_margin_loss"), sign_data,
        grid=grid(product(others=[False, True]), SIZES),
        torch_grid=grid(product(others=[False, True]), TORCH_SHAPE),
        fd=grid([{}], FD_SHAPE),
        examples=[{}]),
    LossCase(
        "margin_ranking_loss", margin_ranking, margin_ranking_reference, torch_margin_ranking, ranking_data,
        grid=grid(product(margin=[None, 0.5, -0.2]), SIZES),
        torch_grid=grid(product(margin=[None, 0.5]), TORCH_SHAPE),
        fd=grid([{"margin": 0.3}], FD_SHAPE),
        examples=[{}, {"margin": 0.5}],
        grads=("input", "input2"), gpu=False, any_values=False),
    # Pair losses (make: the first array as x; cosine's targets as the
    # target, input2 in kwargs; triplet's positive as the target, negative
    # in kwargs), each with the gradients of all its arrays.
    LossCase(
        "cosine_embedding_loss", lambda x, t, input2, **kw: L.cosine_embedding_loss(x, input2, t, **kw),
        lambda x, t, input2, **kw: ref.cosine_embedding_loss(x, input2, t, **kw), torch_cosine_embedding_loss,
        cosine_data,
        grid=grid(product(margin=[None, 0.3, -0.2], other=[False, True]), SIZES),
        torch_grid=grid(product(margin=[None, 0.25, -0.5], other=[False, True]), [(6, 9), (9,)]),
        fd=grid([{}, {"margin": 0.2, "other": True, "reduction": "sum"}], FD_SHAPE + [(5,)]),
        examples=[{}, {"margin": 0.3, "other": True}],
        grads=("input", "input2"), gpu=False, any_values=False, unit=cosine_unit),
    LossCase(
        "triplet_margin_loss", lambda x, t, negative, **kw: L.triplet_margin_loss(x, t, negative, **kw),
        lambda x, t, negative, **kw: ref.triplet_margin_loss(x, t, negative, **kw), torch_triplet_margin_loss,
        triplet_data,
        grid=grid(product(p=[None, 1, 1.5, 3.0, 0.5], swap=[False, True]), SIZES),
        torch_grid=grid(product(p=[None, 1, 1.5, 3.0, 0.5], swap=[False, True]) + [
            {"margin": 0.5, "eps": 0.0}, {"margin": 3.0, "eps": 1e-3, "swap": True}], [(6, 9), (2, 3, 5), (9,)]),
        fd=grid([{}, {"p": 1.5, "swap": True, "reduction": "sum"}, {"p": 3.0, "margin": 2.0}], FD_SHAPE + [(5,)]),
        examples=[{}, {"p": 1.5, "swap": True, "margin": 0.5}],
        grads=("input", "target", "negative"), gpu=False, any_values=False, unit=triplet_unit),
    LossCase(
        "multi_margin_loss", L.multi_margin_loss, ref.multi_margin_loss, torch_function("multi_margin_loss"),
        margin_data,
        grid=grid(product(p=[1, 2], margin=[None, 0.4, 2.5], weight=[False, True]), MARGIN_SHAPES),
        torch_grid=grid(product(p=[1, 2], margin=[None, 0.3], weight=[False, True]), [(6, 5), (4, 37), (7,), ()]),
        fd=grid([{}, {"p": 2, "margin": 0.7, "weight": True}, {"reduction": "sum", "p": 2}], [(4, 3), (5,)]),
        examples=[{}, {"p": 2, "margin": 0.5, "weight": True}],
        rows=True, unit=margin_unit, gpu=False),
    LossCase(
        "multilabel_soft_margin_loss", L.multilabel_soft_margin_loss, ref.multilabel_soft_margin_loss,
        torch_function("multilabel_soft_margin_loss"), multilabel_data,
        grid=grid(product(weight=[None, "C", "1C"], soft=[False, True]), MULTILABEL_SHAPES),
        torch_grid=grid(product(weight=[None, "C"], soft=[False, True]), [(6, 5), (4, 37), (7,), (2, 3, 4)]),
        fd=grid([{}, {"weight": "C", "soft": True}, {"reduction": "sum"}], [(4, 3), (2, 2, 3)]),
        examples=[{}, {"weight": "C", "soft": True}],
        gpu=False),
    LossCase(
        "multilabel_margin_loss", L.multilabel_margin_loss, ref.multilabel_margin_loss,
        torch_function("multilabel_margin_loss"), multilabel_margin_data,
        grid=grid(product(end=[None, "early", "late", "absent"], dups=[False, True]),
                  [(4, 1), (5, 7), (3, 17), (6, 100), (2, 1023), (9,), (1,), ()]),
        torch_grid=grid(product(end=[None, "early", "late", "absent"], dups=[False, True]),
                        [(6, 5), (4, 17), (3, 100), (7,), (1,), ()]),
        fd=grid([{}, {"dups": True}, {"end": "absent", "reduction": "sum"}], [(4, 3), (5,)]),
        examples=[{}, {"dups": True}],
        rows=True, unit=multilabel_margin_unit, gpu=False),
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
        unit=ctc_unit, gpu=False, half=False, any_values=False),
]


# ------------------------------------------------------------ shared checks

def written(case, got, out, want, bits=lambda a: a):
    """got (a call's gradient) is the array(s) of out, holding want's values."""
    outs = case.gradients(out)
    return (all(g is o for g, o in zip(case.gradients(got), outs))
            and all(np.array_equal(bits(o), bits(w)) for o, w in zip(outs, case.gradients(want))))


def out_and_in_place(case, x, t, kw, bits=lambda a: a):
    """out= arrays, then the inputs themselves as out=: the same loss and gradients."""
    loss, grad = case.fn(x, t, **kw)
    out = case.new_out(x, t, kw, 7.0)
    loss_out, grad_out = case.fn(x, t, out=out, **kw)
    assert loss_out == loss and written(case, grad_out, out, grad, bits)
    buffers = [a.copy() for a in case.inputs(x, t, kw)]
    bx, bt, bkw = case.with_inputs(x, t, kw, buffers)
    loss_in, grad_in = case.fn(bx, bt, out=case.out_of(buffers), **bkw)
    assert loss_in == loss and written(case, grad_in, case.out_of(buffers), grad, bits), "in place"


# ---------------------------------------------------------- pytest parameters

def variants(attribute, with_reductions=True, where=lambda case: True):
    """pytest.params (case, variant[, reduction]) of the `attribute` grid of
    every loss `where` holds for."""
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
