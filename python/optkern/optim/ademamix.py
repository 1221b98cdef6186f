"""AdEMAMix (pytorch-optimizer 4.1.0's AdEMAMix, Pagliardini et al. 2024;
docs/optimizers.md#ademamix)."""

from optkern._checks import betas_of, real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["AdEMAMix", "ademamix_"]


def _hparams(lr, betas, weight_decay, weight_decouple, fixed_decay, alpha, t_alpha_beta3, eps, maximize):
    """The AdEMAMix hyperparameters, checked as pytorch-optimizer checks
    them, as the C fields (ok_ademamix_hparams) but step. A warm-up
    (t_alpha_beta3) interpolates the logarithms of beta1 and beta3 over
    t_alpha_beta3 steps: it needs both betas and its length > 0 (where
    pytorch-optimizer's fails at the step)."""
    lr_, weight_decay_ = real(lr, "lr"), real(weight_decay, "weight_decay")
    alpha_, eps_ = real(alpha, "alpha"), real(eps, "eps")
    beta1, beta2, beta3 = betas_of(betas, 3)
    require(lr_ >= 0.0, "learning rate must be positive. ({} > 0)", lr)
    require(0.0 <= beta1 < 1.0, "beta1 must be in the range [0.0, 1.0), got {}", beta1)
    require(0.0 <= beta2 < 1.0, "beta2 must be in the range [0.0, 1.0), got {}", beta2)
    require(0.0 <= beta3 <= 1.0, "beta3 must be in the range [0.0, 1.0], got {}", beta3)
    require(alpha_ >= 0.0, "alpha must be non-negative, got {}", alpha)
    require(weight_decay_ >= 0.0, "weight_decay must be non-negative, got {}", weight_decay)
    require(eps_ >= 0.0, "eps must be non-negative, got {}", eps)
    warmup = 0.0
    if t_alpha_beta3 is not None:
        warmup = real(t_alpha_beta3, "t_alpha_beta3")
        require(warmup > 0.0, "t_alpha_beta3 must be positive (or None), got {}", t_alpha_beta3)
        if not (beta1 > 0.0 and beta3 > 0.0):
            raise ValueError(f"t_alpha_beta3 interpolates log(beta1) and log(beta3): both must be > 0, got {betas!r}")
    return {"lr": lr_, "beta1": beta1, "beta2": beta2, "beta3": beta3, "alpha": alpha_, "t_alpha_beta3": warmup,
            "eps": eps_, "weight_decay": weight_decay_, "weight_decouple": bool(weight_decouple),
            "fixed_decay": bool(fixed_decay), "maximize": bool(maximize)}


class AdEMAMix(Optimizer):
    """AdEMAMix, as pytorch-optimizer's AdEMAMix: same arguments, defaults,
    checks and numbers.

    Per parameter, at step t of its param group (counted from 1):

        g <- -g if maximize
        weight_decay != 0:  weight_decouple ? p <- p (1 - lr wd) (1 - wd with fixed_decay) : g <- g + wd p
        m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
        s <- beta3_t s + (1 - beta3_t) g                   (the slow average)
        p <- p - lr (m / (1 - beta1^t) + alpha_t s) / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    alpha_t and beta3_t are alpha and beta3, or, with t_alpha_beta3 = T,
    the paper's warm-ups min(t alpha / T, alpha) and
    min(exp(ln beta1 ln beta3 / ((1 - t/T) ln beta3 + (t/T) ln beta1)), beta3).
    State: exp_avg (m), exp_avg_sq (v), exp_avg_slow (s); the step count t
    is the param group's "step", and maximize is kept by the optimizer
    (opt.maximize), as pytorch-optimizer keeps them. Its weight decay is
    coupled unless weight_decouple=True (the paper's AdamW-style decay).

    Raises ValueError for lr, alpha, eps or weight_decay < 0, beta1 or
    beta2 outside [0, 1), beta3 outside [0, 1] (NaN included), a warm-up
    of length <= 0 or with beta1 or beta3 at 0, here and at each step.
    foreach is pytorch-optimizer's implementation switch: it changes nothing.
    """

    _kind = "ademamix"
    _group_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999, 0.9999), weight_decay=0.0, weight_decouple=False,
                 fixed_decay=False, alpha=5.0, t_alpha_beta3=None, eps=1e-8, maximize=False, foreach=None, *,
                 max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), betas, weight_decay, weight_decouple, fixed_decay, alpha, t_alpha_beta3, eps,
                 maximize)
        self.maximize = bool(maximize)
        defaults = {
            "lr": lr,
            "betas": betas,
            "weight_decay": weight_decay,
            "weight_decouple": weight_decouple,
            "fixed_decay": fixed_decay,
            "alpha": alpha,
            "t_alpha_beta3": t_alpha_beta3,
            "eps": eps,
            **torch_flags(foreach=foreach),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return {**_hparams(group["lr"], group["betas"], group["weight_decay"], group["weight_decouple"],
                           group["fixed_decay"], group["alpha"], group["t_alpha_beta3"], group["eps"], self.maximize),
                "step": self._next_group_step(group)}


def ademamix_(params, grads, exp_avgs, exp_avg_sqs, exp_avg_slows, *, step, lr=1e-3, betas=(0.9, 0.999, 0.9999),
              weight_decay=0.0, weight_decouple=False, fixed_decay=False, alpha=5.0, t_alpha_beta3=None, eps=1e-8,
              maximize=False):
    """AdEMAMix step, in place (pytorch-optimizer's rule; see optkern.AdEMAMix).

    step: the number of the step being taken, counted from 1 (the param
    group's "step" after its increment): an int, or one int per parameter.
    exp_avgs, exp_avg_sqs, exp_avg_slows: the state arrays, zeros before
    the first step.
    """
    hp = _hparams(lr, betas, weight_decay, weight_decouple, fixed_decay, alpha, t_alpha_beta3, eps, maximize)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"),
              "exp_avg_sq": _engine.as_list(exp_avg_sqs, "exp_avg_sqs"),
              "exp_avg_slow": _engine.as_list(exp_avg_slows, "exp_avg_slows")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("ademamix"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
