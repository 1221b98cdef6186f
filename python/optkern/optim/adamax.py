"""Adamax (torch.optim.Adamax semantics; docs/optimizers.md#adamax)."""

from optkern.optim import _engine
from optkern.optim.adam import moments_hparams
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Adamax", "adamax_"]


def _hparams(lr, betas, eps, weight_decay, maximize):
    """The Adamax hyperparameters, checked like torch.optim.Adamax (Adam's
    checks, in its order), as the C fields (ok_adamax_hparams) but step."""
    hp = moments_hparams(lr, betas, eps, weight_decay, maximize, False)
    del hp["decoupled_weight_decay"]  # Adamax's weight decay is coupled only
    return hp


class Adamax(Optimizer):
    """Adamax, as torch.optim.Adamax: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1):

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        m <- beta1 m + (1 - beta1) g
        u <- maximum(beta2 u, |g| + eps)
        p <- p - lr/(1 - beta1^t) * m / u

    State (torch's names): step, exp_avg (m), exp_inf (u).

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0 (NaN included), both here and at each step. foreach,
    differentiable and capturable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "adamax"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), betas, eps, weight_decay, maximize)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            **torch_flags(foreach=foreach, differentiable=differentiable, capturable=capturable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["maximize"])


def adamax_(params, grads, exp_avgs, exp_infs, *, step, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
            maximize=False):
    """Adamax step, in place (torch.optim.Adamax's rule; see optkern.Adamax).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    exp_avgs, exp_infs: the state arrays, zeros before the first step.
    """
    hp = _hparams(lr, betas, eps, weight_decay, maximize)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"), "exp_inf": _engine.as_list(exp_infs, "exp_infs")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("adamax"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
