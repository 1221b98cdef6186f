"""Adadelta (torch.optim.Adadelta semantics; docs/optimizers.md#adadelta)."""

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Adadelta", "adadelta_"]


def _hparams(lr, rho, eps, weight_decay, maximize):
    """The Adadelta hyperparameters, checked like torch.optim.Adadelta (in
    its order), as the C fields (ok_adadelta_hparams)."""
    lr_, rho_, eps_ = real(lr, "lr"), real(rho, "rho"), real(eps, "eps")
    weight_decay_ = real(weight_decay, "weight_decay")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(0.0 <= rho_ <= 1.0, "Invalid rho value: {}", rho)
    require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    return {"lr": lr_, "rho": rho_, "eps": eps_, "weight_decay": weight_decay_, "maximize": bool(maximize)}


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta: same arguments, defaults, checks and numbers.

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        square_avg <- rho square_avg + (1 - rho) g^2
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta <- rho acc_delta + (1 - rho) delta^2
        p <- p - lr delta

    State (torch's names): step (counted, not used by the rule),
    square_avg, acc_delta.

    Raises ValueError for lr < 0, rho outside [0, 1], eps < 0,
    weight_decay < 0 (NaN included), both here and at each step. foreach,
    capturable and differentiable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "adadelta"
    _has_step = True

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), rho, eps, weight_decay, maximize)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **torch_flags(capturable=capturable, foreach=foreach, differentiable=differentiable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["rho"], group["eps"], group["weight_decay"], group["maximize"])


def adadelta_(params, grads, square_avgs, acc_deltas, *, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
              maximize=False):
    """Adadelta step, in place (torch.optim.Adadelta's rule; see optkern.Adadelta).

    square_avgs, acc_deltas: the state arrays, zeros before the first step.
    """
    hp = _hparams(lr, rho, eps, weight_decay, maximize)
    states = {"square_avg": _engine.as_list(square_avgs, "square_avgs"),
              "acc_delta": _engine.as_list(acc_deltas, "acc_deltas")}
    _engine.run(_engine.kind("adadelta"), _engine.as_list(params, "params"), _engine.as_list(grads, "grads"), states,
                [hp])
