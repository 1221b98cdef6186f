"""Muon (torch.optim.Muon semantics; docs/optimizers.md#muon).

A step is two C calls over the whole parameter list around a Newton-Schulz
orthogonalisation of each matrix, which is matrix products through NumPy
(its BLAS) in the parameter's dtype, where torch runs it in bfloat16:

    stage 0 (C):  b <- lerp(b, g, 1 - momentum);  u <- nesterov ? lerp(g, b, momentum) : b
    NumPy:        u <- NS(u), per matrix
    stage 1 (C):  p <- p (1 - lr wd) - lr r u      (r: torch's lr adjustment for p's shape)

u is a work array of the C descriptor (one per matrix, made for the step),
not part of the state.
"""

import math
import numbers

import numpy as np

from optkern import _backend
from optkern.clip import _is_array, _ops
from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr

__all__ = ["Muon", "muon_"]

_ADJUST_LR_FNS = ("original", "match_rms_adamw")


def _hparams(lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn):
    """The Muon hyperparameters, checked like torch.optim.Muon (its
    construction checks and those its step makes, plus eps >= 0 and
    ns_steps >= 0), as the C fields (ok_muon_hparams) of stage 0, with
    lr_ratio 1: a step sets the stage, and each matrix's lr_ratio."""
    lr_, weight_decay_, momentum_ = real(lr, "lr"), real(weight_decay, "weight_decay"), real(momentum, "momentum")
    require(lr_ >= 0.0, "Learning rate should be >= 0 but is: {}", lr)
    require(momentum_ >= 0.0, "momentum should be >= 0 but is: {}", momentum)
    require(weight_decay_ >= 0.0, "weight decay should be >= 0 but is: {}", weight_decay)
    if adjust_lr_fn is not None and adjust_lr_fn not in _ADJUST_LR_FNS:
        raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
    require(real(eps, "eps") >= 0.0, "Invalid epsilon value: {}", eps)
    if not isinstance(ns_steps, numbers.Integral) or isinstance(ns_steps, bool) or ns_steps < 0:
        raise ValueError(f"ns_steps must be a non-negative int, got {ns_steps!r}")
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if isinstance(ns_coefficients, (str, bytes)) or not hasattr(ns_coefficients, "__len__") \
            or len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    for k, c in enumerate(ns_coefficients):
        real(c, f"ns_coefficients[{k}]")
    return {"lr": lr_, "weight_decay": weight_decay_, "momentum": momentum_, "lr_ratio": 1.0,
            "nesterov": bool(nesterov), "stage": 0}


def _require_matrices(params):
    """torch's check: Muon takes 2-D parameters only (a non-array is left to
    the array checks, which say what it is)."""
    for p in params:
        if _is_array(p) and p.ndim != 2:
            raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: {p.shape}")


def _lr_ratio(shape, adjust_lr_fn):
    """torch's learning-rate adjustment for a rows x cols matrix: sqrt(max(1,
    rows/cols)) ("original", the default), or 0.2 sqrt(max(rows, cols))
    ("match_rms_adamw"). 1 for a matrix without columns (nothing to update)."""
    rows, cols = shape
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return math.sqrt(max(1, rows / cols)) if cols else 1.0


def _orthogonalize(u, ns_coefficients, ns_steps, eps):
    """u <- NS(u) in place, in u's dtype (docs/optimizers.md#muon): with X = u
    (u transposed when it has more rows than columns),

        X <- X / max(|X|_F, eps)
        ns_steps times:  A = X X^T;  B = b A + c A A;  X <- a X + B X

    The products go through NumPy's matmul (BLAS) into buffers made once;
    the two combinations through optkern's axpby (one pass each, no
    temporaries). Working on u itself, the transposed case computes
    A = u^T u and u <- a u + u B^T, which is X's iteration transposed.
    """
    if u.size == 0:
        return
    a, b, c = (float(x) for x in ns_coefficients)
    rows, cols = u.shape
    tall = rows > cols
    xp, ops = _backend.namespace(u), _ops([u])  # NumPy and the C kernels, or CuPy and the GPU's
    norm = math.sqrt(ops.vec_dot([u], [u]))
    u /= u.dtype.type(max(norm, eps))
    m = min(rows, cols)
    gram, gram_sq, product = xp.empty((m, m), u.dtype), xp.empty((m, m), u.dtype), xp.empty_like(u)
    for _ in range(ns_steps):
        xp.matmul(u.T, u, out=gram) if tall else xp.matmul(u, u.T, out=gram)
        xp.matmul(gram, gram, out=gram_sq)
        ops.vec_axpby(c, [gram_sq], b, [gram])        # B = b A + c A A
        xp.matmul(u, gram.T, out=product) if tall else xp.matmul(gram, u, out=product)
        ops.vec_axpby(1.0, [product], a, [u])         # X <- a X + B X


def _work_array(p):
    """A matrix's update for one step: its shape and dtype. (A parameter that
    is no float array gets a placeholder: the C call refuses the parameter.)"""
    return _backend.namespace(p).empty(p.shape, p.dtype) if _is_array(p) and p.dtype.kind == "f" else np.empty(0)


def _step(params, grads, buffers, groups, options, group_of=None, written=None, scaling=None):
    """One Muon step over a parameter list (the class and muon_ alike).

    buffers   the momentum buffers (a list or a StateTable), present for
              every parameter with a gradient
    groups    each param group's C fields (_hparams), options its
              (ns_coefficients, ns_steps, eps, adjust_lr_fn)
    group_of  the group of each parameter (None: one group)
    scaling   None, or the (unscale, clip) factors of the gradients (the
              first C call reads them)
    """
    kind = _engine.kind("muon")
    sets, where = [], {}
    hp_index = np.zeros(len(params), dtype=np.uint32)
    updates = [None] * len(params)
    for i, (p, g) in enumerate(zip(params, grads)):
        if g is None:
            continue
        k = 0 if group_of is None else int(group_of[i])
        ratio = _lr_ratio(p.shape, options[k][3]) if _is_array(p) and p.ndim == 2 else 1.0
        if (k, ratio) not in where:
            where[k, ratio] = len(sets)
            sets.append({**groups[k], "lr_ratio": ratio})
        hp_index[i] = where[k, ratio]
        updates[i] = _work_array(p)
    if not sets:
        return
    _engine.run(kind, params, grads, {"momentum_buffer": buffers}, sets, hp_index, written, {"update": updates},
                scaling)
    for i, u in enumerate(updates):
        if u is not None:
            _orthogonalize(u, *options[0 if group_of is None else int(group_of[i])][:3])
    _engine.run(kind, params, grads, {}, [{**s, "stage": 1} for s in sets], hp_index, written, {"update": updates})


class Muon(Optimizer):
    """Muon, as torch.optim.Muon: same arguments, defaults, checks and
    algorithm, for 2-D parameters only. Per matrix p with gradient g:

        b <- lerp(b, g, 1 - momentum)                     (b: momentum_buffer)
        u <- lerp(g, b, momentum) if nesterov, else b
        O <- Newton-Schulz(u; ns_coefficients, ns_steps, eps)
        p <- p (1 - lr weight_decay)
        p <- p - lr r O,  r = sqrt(max(1, rows/cols)) (adjust_lr_fn None or
                            "original"), 0.2 sqrt(max(rows, cols)) ("match_rms_adamw")

    The Newton-Schulz iteration runs in the parameter's dtype (float32 or
    float64) through NumPy's matmul; torch runs it in bfloat16, so optkern
    agrees with torch to bfloat16's precision, and exactly with torch's
    algorithm run in the parameter's dtype (docs/optimizers.md#muon).

    State (torch's name): momentum_buffer.

    Raises ValueError for lr < 0, momentum < 0, weight_decay < 0 (NaN
    included), an adjust_lr_fn other than None, "original" and
    "match_rms_adamw", ns_steps not an int in [0, 100), ns_coefficients not
    three numbers, eps < 0, and a parameter that is not 2-D; both here and
    at each step (torch checks ns_steps and ns_coefficients at its step).
    """

    _kind = "muon"

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None, *,
                 max_grad_norm=None):
        _hparams(scheduled_lr(lr), weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn)
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults, max_grad_norm)

    def _hparams(self, group):
        hp = _hparams(group["lr"], group["weight_decay"], group["momentum"], group["nesterov"],
                      group["ns_coefficients"], group["eps"], group["ns_steps"], group["adjust_lr_fn"])
        _require_matrices(group["params"])
        return hp

    def _update(self, plan, grads, present, hparams, scaling=None):
        buffers, _ = self._with_new_state(plan, present, "momentum_buffer")
        tables, written = plan.prepare({"momentum_buffer": buffers}, _engine.kind(self._kind))
        options = [(g["ns_coefficients"], g["ns_steps"], g["eps"], g["adjust_lr_fn"]) for g in self.param_groups]
        _step(plan.params, grads, tables["momentum_buffer"], hparams, options, plan.group_of, written, scaling)
        plan.states["momentum_buffer"] = buffers


def muon_(params, grads, momentum_buffers, *, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
          ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
    """Muon step, in place (torch.optim.Muon's rule; see optkern.Muon).

    params: 2-D arrays. momentum_buffers: one array per parameter, zeros
    before the first step (torch's start), updated in place.
    """
    hp = _hparams(lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn)
    params = _engine.as_list(params, "params")
    _require_matrices(params)
    _step(params, _engine.as_list(grads, "grads"), _engine.as_list(momentum_buffers, "momentum_buffers"), [hp],
          [(ns_coefficients, ns_steps, eps, adjust_lr_fn)])
