"""Adam and AdamW (torch.optim.Adam / AdamW semantics)."""

import numpy as np

from optkern import _core
from optkern.optim._checks import check_adam
from optkern.optim.optimizer import Optimizer, torch_flags

__all__ = ["Adam", "AdamW"]


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

    _state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _has_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            **torch_flags(foreach, fused, capturable, differentiable),
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group):
        return check_adam(group["lr"], group["betas"], group["eps"], group["weight_decay"],
                          group["amsgrad"], group["maximize"], group["decoupled_weight_decay"])

    @staticmethod
    def _set(checked, step):
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = checked
        return (lr, beta1, beta2, eps, weight_decay, step, amsgrad, maximize, decoupled)

    def _update(self, plan, grads, present, checked):
        exp_avgs = self._with_new_state(plan, present, "exp_avg")
        exp_avg_sqs = self._with_new_state(plan, present, "exp_avg_sq")
        amsgrad = [c[5] for c in checked]
        max_exp_avg_sqs = None
        if any(amsgrad):
            only = None if all(amsgrad) else np.repeat(np.array(amsgrad), plan.sizes)
            max_exp_avg_sqs = self._with_new_state(plan, present, "max_exp_avg_sq", only)
        if present is None and plan.group_steps is not None:
            sets = [self._set(c, t + 1) for c, t in zip(checked, plan.group_steps)]
            hp_index = plan.group_of if len(sets) > 1 else None
        else:
            sets, hp_index = self._sets_by_group_and(
                plan, present, plan.step_counts() + 1, lambda k, t: self._set(checked[k], t))
        states = {"exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs}
        if max_exp_avg_sqs is not None:
            states["max_exp_avg_sq"] = max_exp_avg_sqs
        tables, written = plan.prepare(states)
        _core.adam(plan.params, grads, tables["exp_avg"], tables["exp_avg_sq"], tables.get("max_exp_avg_sq"),
                   sets, hp_index, written)
        plan.states["exp_avg"] = exp_avgs
        plan.states["exp_avg_sq"] = exp_avg_sqs
        if max_exp_avg_sqs is not None:
            plan.states["max_exp_avg_sq"] = max_exp_avg_sqs


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: Adam with decoupled weight decay
    (p <- p(1 - lr wd) before the Adam step) and weight_decay=1e-2 by default."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
