"""LARS (You et al. 2017, with pytorch_optimizer.LARS's arguments; docs/optimizers.md#lars)."""

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["LARS", "lars_"]


def _hparams(lr, weight_decay, momentum, dampening, trust_coefficient, nesterov, maximize, lars_exclude):
    """The LARS hyperparameters, checked as pytorch_optimizer.LARS checks them
    (and NaN refused), as the C fields (ok_lars_hparams)."""
    lr_, weight_decay_ = real(lr, "lr"), real(weight_decay, "weight_decay")
    momentum_, dampening_ = real(momentum, "momentum"), real(dampening, "dampening")
    trust_coefficient_ = real(trust_coefficient, "trust_coefficient")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(weight_decay_ >= 0.0, "weight_decay must be non-negative, got {}", weight_decay)
    require(0.0 <= momentum_ < 1.0, "momentum must be in the range [0.0, 1.0), got {}", momentum)
    require(0.0 <= dampening_ < 1.0, "dampening must be in the range [0.0, 1.0), got {}", dampening)
    require(trust_coefficient_ >= 0.0, "trust_coefficient must be non-negative, got {}", trust_coefficient)
    return {"lr": lr_, "momentum": momentum_, "dampening": dampening_, "weight_decay": weight_decay_,
            "trust_coefficient": trust_coefficient_, "nesterov": bool(nesterov), "maximize": bool(maximize),
            "exclude": bool(lars_exclude)}


class LARS(Optimizer):
    """LARS (layer-wise adaptive rate scaling, You et al. 2017) with
    pytorch_optimizer.LARS's arguments and defaults: torch's SGD step of the
    gradient scaled per parameter by its trust ratio.

        g <- -g if maximize
        unless lars_exclude:  g <- (g + wd p) r,  r = trust_coefficient |p| / (|g| + wd |p|)
                              (1 unless |p| > 0 and that denominator > 0)
        momentum != 0:  b <- momentum b + (1 - dampening) g  (b starts at 0);
                        g <- g + momentum b if nesterov, else g <- b
        p <- p - lr g

    The norms are taken inside the one C call, bitwise the same for any
    thread count. A param group with "lars_exclude": True (biases, norms:
    pytorch_optimizer excludes every parameter of ndim <= 1 instead) takes
    plain SGD steps, with neither trust ratio nor weight decay.

    State: momentum_buffer, only when momentum != 0.

    Raises ValueError for lr < 0, weight_decay < 0, momentum or dampening
    outside [0, 1), trust_coefficient < 0 (NaN included), both here and at
    each step. foreach is pytorch_optimizer's switch: it changes nothing.
    """

    _kind = "lars"

    def __init__(self, params, lr=1e-3, weight_decay=0.0, momentum=0.9, dampening=0.0, trust_coefficient=1e-3,
                 nesterov=False, foreach=None, maximize=False, *, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), weight_decay, momentum, dampening, trust_coefficient, nesterov, maximize, False)
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "dampening": dampening,
            "trust_coefficient": trust_coefficient,
            "nesterov": nesterov,
            **torch_flags(foreach=foreach),
            "maximize": maximize,
            "lars_exclude": False,
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["weight_decay"], group["momentum"], group["dampening"],
                        group["trust_coefficient"], group["nesterov"], group["maximize"], group["lars_exclude"])


def lars_(params, grads, momentum_buffers=None, *, lr=1e-3, weight_decay=0.0, momentum=0.9, dampening=0.0,
          trust_coefficient=1e-3, nesterov=False, maximize=False, lars_exclude=False):
    """LARS step, in place (see optkern.LARS).

    momentum_buffers: the state arrays, zeros before the first step; needed
    when momentum != 0. lars_exclude applies to every parameter of the call.
    """
    hp = _hparams(lr, weight_decay, momentum, dampening, trust_coefficient, nesterov, maximize, lars_exclude)
    states = {}
    if hp["momentum"] != 0:
        if momentum_buffers is None:
            raise ValueError("momentum != 0 needs momentum_buffers")
        states["momentum_buffer"] = _engine.as_list(momentum_buffers, "momentum_buffers")
    _engine.run(_engine.kind("lars"), _engine.as_list(params, "params"), _engine.as_list(grads, "grads"), states, [hp])
