"""RMSprop (torch.optim.RMSprop semantics; docs/optimizers.md#rmsprop)."""

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["RMSprop", "rmsprop_"]


def _hparams(lr, alpha, eps, weight_decay, momentum, centered, maximize):
    """The RMSprop hyperparameters, checked like torch.optim.RMSprop (in its
    order), as the C fields (ok_rmsprop_hparams)."""
    lr_, alpha_, eps_ = real(lr, "lr"), real(alpha, "alpha"), real(eps, "eps")
    weight_decay_, momentum_ = real(weight_decay, "weight_decay"), real(momentum, "momentum")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    require(momentum_ >= 0.0, "Invalid momentum value: {}", momentum)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    require(alpha_ >= 0.0, "Invalid alpha value: {}", alpha)
    return {"lr": lr_, "alpha": alpha_, "eps": eps_, "weight_decay": weight_decay_, "momentum": momentum_,
            "centered": bool(centered), "maximize": bool(maximize)}


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop: same arguments, defaults, checks and numbers.

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        square_avg <- alpha square_avg + (1 - alpha) g^2
        centered:  grad_avg <- alpha grad_avg + (1 - alpha) g
                   avg = sqrt(square_avg - grad_avg^2) + eps
        else:      avg = sqrt(square_avg) + eps
        momentum != 0:  b <- momentum b + g / avg;  p <- p - lr b
        else:           p <- p - lr g / avg

    State (torch's names): step (counted, not used by the rule),
    square_avg, momentum_buffer (momentum != 0), grad_avg (centered).

    Raises ValueError for lr < 0, eps < 0, momentum < 0, weight_decay < 0,
    alpha < 0 (NaN included), both here and at each step. capturable,
    foreach and differentiable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "rmsprop"
    _has_step = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False, *, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), alpha, eps, weight_decay, momentum, centered, maximize)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **torch_flags(capturable=capturable, foreach=foreach, differentiable=differentiable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"],
                        group["centered"], group["maximize"])


def rmsprop_(params, grads, square_avgs, grad_avgs=None, momentum_buffers=None, *, lr=1e-2, alpha=0.99, eps=1e-8,
             weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    """RMSprop step, in place (torch.optim.RMSprop's rule; see optkern.RMSprop).

    square_avgs (and grad_avgs when centered, momentum_buffers when
    momentum != 0): the state arrays, zeros before the first step.
    """
    hp = _hparams(lr, alpha, eps, weight_decay, momentum, centered, maximize)
    states = {"square_avg": _engine.as_list(square_avgs, "square_avgs")}
    for name, lst, needed, why in (("grad_avg", grad_avgs, hp["centered"], "centered=True"),
                                   ("momentum_buffer", momentum_buffers, hp["momentum"] != 0, "momentum != 0")):
        if needed:
            if lst is None:
                raise ValueError(f"{why} needs {name}s")
            states[name] = _engine.as_list(lst, f"{name}s")
    _engine.run(_engine.kind("rmsprop"), _engine.as_list(params, "params"), _engine.as_list(grads, "grads"), states,
                [hp])
