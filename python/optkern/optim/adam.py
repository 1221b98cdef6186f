"""Adam and AdamW (torch.optim.Adam / AdamW semantics; docs/optimizers.md#adam-and-adamw)."""

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Adam", "AdamW", "adam_", "adamw_"]


def adam_checked(lr, betas, eps, weight_decay, beta1_positive=False):
    """(lr, beta1, beta2, eps, weight_decay) as floats, checked as torch
    checks Adam's, in its order; beta1_positive: beta1 in (0, 1), not
    [0, 1) (an optimizer that divides by it)."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    lr_, eps_, weight_decay_ = real(lr, "lr"), real(eps, "eps"), real(weight_decay, "weight_decay")
    beta1_, beta2_ = real(beta1, "betas[0]"), real(beta2, "betas[1]")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    require((0.0 < beta1_ if beta1_positive else 0.0 <= beta1_) and beta1_ < 1.0,
            "Invalid beta parameter at index 0: {}", beta1)
    require(0.0 <= beta2_ < 1.0, "Invalid beta parameter at index 1: {}", beta2)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    return lr_, beta1_, beta2_, eps_, weight_decay_


def moments_hparams(lr, betas, eps, weight_decay, maximize, decoupled_weight_decay):
    """The hyperparameters Adam, RAdam and NAdam share, checked as torch
    checks them in each, as their C fields."""
    lr_, beta1_, beta2_, eps_, weight_decay_ = adam_checked(lr, betas, eps, weight_decay)
    return {"lr": lr_, "beta1": beta1_, "beta2": beta2_, "eps": eps_, "weight_decay": weight_decay_,
            "maximize": bool(maximize), "decoupled_weight_decay": bool(decoupled_weight_decay)}


def _hparams(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """The Adam hyperparameters, checked like torch.optim.Adam, as the C
    fields (ok_adam_hparams) but step."""
    return {**moments_hparams(lr, betas, eps, weight_decay, maximize, decoupled_weight_decay),
            "amsgrad": bool(amsgrad)}


class Adam(Optimizer):
    """Adam, as torch.optim.Adam: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1):

        g <- -g if maximize
        weight_decay != 0:  decoupled_weight_decay ? p <- p(1 - lr wd) : g <- g + wd p
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        amsgrad:  vmax <- max(vmax, v), used for v below
        p <- p - lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps)

    State (torch's names): step, exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad).

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0 (NaN included), both here and at each step. foreach,
    capturable, differentiable and fused are torch's implementation
    switches: see optkern.optim.optimizer.torch_flags.
    """

    _kind = "adam"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            **torch_flags(foreach=foreach, fused=fused, capturable=capturable, differentiable=differentiable),
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["amsgrad"],
                        group["maximize"], group["decoupled_weight_decay"])


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: Adam with decoupled weight decay
    (p <- p(1 - lr wd) before the Adam step) and weight_decay=1e-2 by default."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None,
                 max_grad_norm=None, **precision):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True, max_grad_norm=max_grad_norm, **precision)


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3, betas=(0.9, 0.999),
          eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False):
    """Adam step, in place (torch.optim.Adam's rule; see optkern.Adam).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    exp_avgs, exp_avg_sqs (and max_exp_avg_sqs with amsgrad): the state
    arrays, zeros before the first step.
    """
    hp = _hparams(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    if amsgrad and max_exp_avg_sqs is None:
        raise ValueError("amsgrad=True needs max_exp_avg_sqs")
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"),
              "exp_avg_sq": _engine.as_list(exp_avg_sqs, "exp_avg_sqs")}
    if amsgrad:
        states["max_exp_avg_sq"] = _engine.as_list(max_exp_avg_sqs, "max_exp_avg_sqs")
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("adam"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)


def adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3, betas=(0.9, 0.999),
           eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
    """AdamW step, in place: adam_ with decoupled weight decay and
    weight_decay=1e-2 by default (torch.optim.AdamW's rule)."""
    adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step=step, lr=lr, betas=betas, eps=eps,
          weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
