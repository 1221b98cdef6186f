"""ASGD, averaged SGD (torch.optim.ASGD semantics; docs/optimizers.md#asgd)."""

import math

import numpy as np

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["ASGD", "asgd_"]


def _hparams(lr, lambd, alpha, t0, weight_decay, maximize):
    """The ASGD hyperparameters, checked like torch.optim.ASGD, as the C
    fields (ok_asgd_hparams) but step. torch does not check lambd, alpha
    and t0; optkern refuses NaN there, as it refuses every NaN
    hyperparameter."""
    lr_, weight_decay_ = real(lr, "lr"), real(weight_decay, "weight_decay")
    lambd_, alpha_, t0_ = real(lambd, "lambd"), real(alpha, "alpha"), real(t0, "t0")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    require(not math.isnan(lambd_), "Invalid lambd value: {}", lambd)
    require(not math.isnan(alpha_), "Invalid alpha value: {}", alpha)
    require(not math.isnan(t0_), "Invalid t0 value: {}", t0)
    return {"lr": lr_, "lambd": lambd_, "alpha": alpha_, "t0": t0_, "weight_decay": weight_decay_,
            "maximize": bool(maximize)}


class ASGD(Optimizer):
    """Averaged SGD, as torch.optim.ASGD: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1), with its eta (lr before the
    first step) and mu (1 before the first step):

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        p <- p (1 - lambd eta) - eta g
        ax <- ax + (p - ax) mu if mu != 1, else ax <- p
        eta <- lr / (1 + lambd lr t)^alpha;  mu <- 1 / max(1, t - t0)

    State (torch's names): step, eta and mu (0-d float32 arrays, as torch's
    0-d tensors), ax: the averaged parameters, opt.state[p]["ax"].

    Raises ValueError for lr < 0, weight_decay < 0, NaN in any
    hyperparameter, both here and at each step. foreach, differentiable and
    capturable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "asgd"
    _phase = "step"
    _has_step = True
    # The first step (mu = 1) writes ax before reading it.
    _new_state = staticmethod(np.empty)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False, *, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), lambd, alpha, t0, weight_decay, maximize)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **torch_flags(foreach=foreach, differentiable=differentiable, capturable=capturable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"],
                        group["maximize"])


def asgd_(params, grads, axs, mus, etas, *, step, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
          maximize=False):
    """ASGD step, in place (torch.optim.ASGD's rule; see optkern.ASGD).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    axs: the averaged parameters, arrays like params (the step numbered 1
    sets them to the parameters). mus, etas: one 0-d float32 array per
    parameter each (numpy.zeros((), numpy.float32)), updated in place; the
    step numbered 1 starts them (at 1 and lr, as torch does) without
    reading them.
    """
    hp = _hparams(lr, lambd, alpha, t0, weight_decay, maximize)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"ax": _engine.as_list(axs, "axs"), "mu": _engine.as_list(mus, "mus"),
              "eta": _engine.as_list(etas, "etas")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("asgd"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
