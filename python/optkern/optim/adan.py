"""Adan (the official implementation of Xie et al.'s Adan, sail-sg/Adan;
pytorch-optimizer 4.1.0's Adan computes the same; docs/optimizers.md#adan)."""

import numbers

import numpy as np

from optkern._checks import betas_of, real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Adan", "adan_"]


def _hparams(lr, betas, eps, weight_decay, no_prox):
    """The Adan hyperparameters, checked like the official Adan (and
    weight_decay >= 0, as pytorch-optimizer checks it), as the C fields
    (ok_adan_hparams) but step and first_step."""
    lr_, eps_, weight_decay_ = real(lr, "lr"), real(eps, "eps"), real(weight_decay, "weight_decay")
    beta1, beta2, beta3 = betas_of(betas, 3)
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    require(0.0 <= beta1 < 1.0, "Invalid beta parameter at index 0: {}", beta1)
    require(0.0 <= beta2 < 1.0, "Invalid beta parameter at index 1: {}", beta2)
    require(0.0 <= beta3 < 1.0, "Invalid beta parameter at index 2: {}", beta3)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    return {"lr": lr_, "beta1": beta1, "beta2": beta2, "beta3": beta3, "eps": eps_, "weight_decay": weight_decay_,
            "no_prox": bool(no_prox)}


class Adan(Optimizer):
    """Adan, as the official implementation (sail-sg/Adan): same arguments,
    defaults, checks and numbers.

    Per parameter, at step t of its param group (counted from 1), with
    g_prev the gradient of its step before (g_prev = g on its first step):

        m <- beta1 m + (1 - beta1) g
        d <- beta2 d + (1 - beta2) (g - g_prev)
        n <- beta3 n + (1 - beta3) (g + beta2 (g - g_prev))^2
        u = (m / (1 - beta1^t) + beta2 d / (1 - beta2^t)) / (sqrt(n) / sqrt(1 - beta3^t) + eps)
        no_prox:  p <- p (1 - lr wd) - lr u
        else:     p <- (p - lr u) / (1 + lr wd)

    State: exp_avg (m), exp_avg_sq (n), exp_avg_diff (d), neg_pre_grad
    (-g of the step before); the step count t is the param group's "step",
    as the official implementation keeps it.

    max_grad_norm is the official one, not optkern's clip_grad_norm_'s: 0
    (the default) does not clip; > 0 multiplies every gradient by
    min(max_grad_norm / (norm + eps), 1), norm the L2 norm of all the step's
    gradients, eps the constructor's (docs/optimizers.md#adan). As with
    optkern's max_grad_norm, the factor is applied as the kernel reads the
    gradients, which are not written; the norm is in last_grad_norm.

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0 (NaN included), here and at each step, and
    max_grad_norm < 0. foreach and fused are the official implementation
    switches: they change nothing (a step is always one fused kernel).
    """

    _kind = "adan"
    _phase = "first_step"
    _group_step = True
    # The first step writes every state before reading it.
    _new_state = staticmethod(np.empty)

    def __init__(self, params, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, max_grad_norm=0.0,
                 no_prox=False, foreach=True, fused=False, **precision):
        _hparams(scheduled_lr(lr), betas, eps, weight_decay, no_prox)
        clip = 0.0 if max_grad_norm is None else real(max_grad_norm, "max_grad_norm")
        require(clip >= 0.0, "Invalid Max grad norm: {}", max_grad_norm)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "max_grad_norm": max_grad_norm,
            "no_prox": no_prox,
            **torch_flags(foreach=foreach, fused=fused),
        }
        super().__init__(params, defaults, clip if clip > 0.0 else None, **precision)

    def _hparams(self, group):
        return {**_hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["no_prox"]),
                "step": self._next_group_step(group)}

    def _clip_coefficient(self, total, dtype):
        """The official clip factor, min(max_grad_norm / (norm + eps), 1),
        with the constructor's eps, in the norm's dtype."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            norm = dtype.type(total)
            bound = dtype.type(self._max_grad_norm) / (norm + dtype.type(self.defaults["eps"]))
            return norm, np.minimum(bound, dtype.type(1.0))


def adan_(params, grads, exp_avgs, exp_avg_sqs, exp_avg_diffs, neg_pre_grads, *, step, lr=1e-3,
          betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False):
    """Adan step, in place (the official rule; see optkern.Adan), without
    gradient clipping (scale the gradients first, or use the class).

    step: the number of the step being taken, counted from 1 (the param
    group's "step" after its increment). The four state lists hold one
    array per parameter, or None in all four for a parameter's first step:
    its arrays are made and put into the lists, which must then be lists.
    """
    hp = _hparams(lr, betas, eps, weight_decay, no_prox)
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 1:
        raise ValueError(f"step must be an int >= 1 (the number of the step being taken), got {step!r}")
    params = _engine.as_list(params, "params")
    lists = {"exp_avg": ("exp_avgs", exp_avgs), "exp_avg_sq": ("exp_avg_sqs", exp_avg_sqs),
             "exp_avg_diff": ("exp_avg_diffs", exp_avg_diffs), "neg_pre_grad": ("neg_pre_grads", neg_pre_grads)}
    _engine.run_first_steps(_engine.kind("adan"), params, _engine.as_list(grads, "grads"), {**hp, "step": int(step)},
                            lists, Adan._new_state)
