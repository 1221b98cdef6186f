"""SGD with momentum (torch.optim.SGD semantics; docs/optimizers.md#sgd)."""

import math

import numpy as np

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["SGD", "sgd_"]


def _hparams(lr, momentum, dampening, weight_decay, nesterov, maximize):
    """The SGD hyperparameters, checked like torch.optim.SGD, as the C fields
    (ok_sgd_hparams) but first_step."""
    lr_, momentum_ = real(lr, "lr"), real(momentum, "momentum")
    dampening_, weight_decay_ = real(dampening, "dampening"), real(weight_decay, "weight_decay")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(momentum_ >= 0.0, "Invalid momentum value: {}", momentum)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    require(not math.isnan(dampening_), "Invalid dampening value: {}", dampening)
    if nesterov and (momentum_ <= 0 or dampening_ != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    return {"lr": lr_, "momentum": momentum_, "dampening": dampening_, "weight_decay": weight_decay_,
            "nesterov": bool(nesterov), "maximize": bool(maximize)}


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD: same arguments,
    defaults, checks and numbers.

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        momentum != 0:  b <- g on the first step (no dampening), else
                        b <- momentum b + (1 - dampening) g;
                        g <- g + momentum b if nesterov, else g <- b
        p <- p - lr g

    State (torch's name): momentum_buffer, only when momentum != 0.

    Raises ValueError for lr < 0 or NaN, momentum < 0, weight_decay < 0, and
    nesterov without momentum > 0 and dampening == 0. foreach, differentiable
    and fused are torch's implementation switches: see torch_flags.
    """

    _kind = "sgd"
    _phase = "first_step"
    # The first step writes the buffer (a copy of g) before reading it.
    _new_state = staticmethod(np.empty)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), momentum, dampening, weight_decay, nesterov, maximize)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            **torch_flags(foreach=foreach, differentiable=differentiable, fused=fused),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["momentum"], group["dampening"], group["weight_decay"],
                        group["nesterov"], group["maximize"])


def sgd_(params, grads, momentum_buffers=None, *, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
         nesterov=False, maximize=False):
    """SGD step, in place (torch.optim.SGD's rule; see optkern.SGD).

    momentum_buffers: needed when momentum != 0; a list with one array or
    None per parameter. A None entry is the first step of that parameter:
    its buffer is created (as a copy of the gradient, torch's rule) and put
    into the list, which must then be a list.
    """
    hp = _hparams(lr, momentum, dampening, weight_decay, nesterov, maximize)
    params = _engine.as_list(params, "params")
    grads = _engine.as_list(grads, "grads")
    kind = _engine.kind("sgd")
    if hp["momentum"] == 0:
        _engine.run(kind, params, grads, {}, [{**hp, "first_step": False}])
        return
    if momentum_buffers is None:
        raise ValueError("momentum != 0 needs momentum_buffers: a list with one array (or None) per parameter")
    _engine.run_first_steps(kind, params, grads, hp, {"momentum_buffer": ("momentum_buffers", momentum_buffers)},
                            SGD._new_state)
