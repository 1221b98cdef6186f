"""NAdam (torch.optim.NAdam semantics; docs/optimizers.md#nadam)."""

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.adam import moments_hparams
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["NAdam", "nadam_"]


def _hparams(lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """The NAdam hyperparameters, checked like torch.optim.NAdam, as the C
    fields (ok_nadam_hparams) but step."""
    hp = moments_hparams(lr, betas, eps, weight_decay, maximize, decoupled_weight_decay)
    hp["momentum_decay"] = real(momentum_decay, "momentum_decay")
    require(hp["momentum_decay"] >= 0.0, "Invalid momentum_decay value: {}", momentum_decay)
    return hp


class NAdam(Optimizer):
    """NAdam, as torch.optim.NAdam: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1), after Adam's moments (maximize,
    weight decay coupled or decoupled, m and v as optkern.Adam):

        mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2)
        mu_product <- mu_product * mu_t       (1 before the first step; float32, as torch keeps it)
        denom = sqrt(v / (1 - beta2^t)) + eps
        p <- p - lr (1 - mu_t)/(1 - mu_product) * g / denom
               - lr mu_{t+1}/(1 - mu_product mu_{t+1}) * m / denom

    State (torch's names): step, mu_product (a 0-d float32 array, as
    torch's 0-d tensor), exp_avg, exp_avg_sq.

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0, momentum_decay < 0 (NaN included), both here and at
    each step. foreach, capturable and differentiable are torch's
    implementation switches: see optkern.optim.optimizer.torch_flags.
    """

    _kind = "nadam"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            **torch_flags(foreach=foreach, capturable=capturable, differentiable=differentiable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["momentum_decay"],
                        group["decoupled_weight_decay"], group["maximize"])


def nadam_(params, grads, exp_avgs, exp_avg_sqs, mu_products, *, step, lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
           weight_decay=0.0, momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    """NAdam step, in place (torch.optim.NAdam's rule; see optkern.NAdam).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    exp_avgs, exp_avg_sqs: the state arrays, zeros before the first step.
    mu_products: one 0-d float32 array per parameter (numpy.zeros((),
    numpy.float32)), updated in place; the step numbered 1 starts it (at
    1, as torch does) without reading it.
    """
    hp = _hparams(lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"), "exp_avg_sq": _engine.as_list(exp_avg_sqs, "exp_avg_sqs"),
              "mu_product": _engine.as_list(mu_products, "mu_products")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("nadam"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
