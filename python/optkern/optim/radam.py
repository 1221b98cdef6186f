"""RAdam (torch.optim.RAdam semantics; docs/optimizers.md#radam)."""

from optkern.optim import _engine
from optkern.optim.adam import moments_hparams
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["RAdam", "radam_"]


def _hparams(lr, betas, eps, weight_decay, maximize, decoupled_weight_decay):
    """The RAdam hyperparameters, checked like torch.optim.RAdam (Adam's
    checks), as the C fields (ok_radam_hparams) but step."""
    return moments_hparams(lr, betas, eps, weight_decay, maximize, decoupled_weight_decay)


class RAdam(Optimizer):
    """RAdam, as torch.optim.RAdam: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1), after Adam's moments (maximize,
    weight decay coupled or decoupled, m and v as optkern.Adam):

        rho_inf = 2/(1 - beta2) - 1;  rho_t = rho_inf - 2t beta2^t/(1 - beta2^t)
        rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                    p <- p - lr r sqrt(1 - beta2^t)/(1 - beta1^t) * m / (sqrt(v) + eps)
        else:       p <- p - lr/(1 - beta1^t) * m

    State (torch's names): step, exp_avg, exp_avg_sq.

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0 (NaN included), both here and at each step. foreach,
    capturable and differentiable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "radam"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), betas, eps, weight_decay, maximize, decoupled_weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
            **torch_flags(foreach=foreach, capturable=capturable, differentiable=differentiable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["maximize"],
                        group["decoupled_weight_decay"])


def radam_(params, grads, exp_avgs, exp_avg_sqs, *, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
           decoupled_weight_decay=False, maximize=False):
    """RAdam step, in place (torch.optim.RAdam's rule; see optkern.RAdam).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    exp_avgs, exp_avg_sqs: the state arrays, zeros before the first step.
    """
    hp = _hparams(lr, betas, eps, weight_decay, maximize, decoupled_weight_decay)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"), "exp_avg_sq": _engine.as_list(exp_avg_sqs, "exp_avg_sqs")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("radam"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
