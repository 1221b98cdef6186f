"""Adagrad (torch.optim.Adagrad semantics; docs/optimizers.md#adagrad)."""

import numpy as np

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Adagrad", "adagrad_"]


def _hparams(lr, lr_decay, weight_decay, eps, maximize, initial_accumulator_value=0.0):
    """The Adagrad hyperparameters, checked like torch.optim.Adagrad (in its
    order), as the C fields (ok_adagrad_hparams) but step.
    initial_accumulator_value is checked only: it is where the sum starts."""
    lr_, lr_decay_ = real(lr, "lr"), real(lr_decay, "lr_decay")
    weight_decay_, eps_ = real(weight_decay, "weight_decay"), real(eps, "eps")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(lr_decay_ >= 0.0, "Invalid lr_decay value: {}", lr_decay)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    require(real(initial_accumulator_value, "initial_accumulator_value") >= 0.0,
            "Invalid initial_accumulator_value value: {}", initial_accumulator_value)
    require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    return {"lr": lr_, "lr_decay": lr_decay_, "weight_decay": weight_decay_, "eps": eps_, "maximize": bool(maximize)}


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1):

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        sum <- sum + g^2
        p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)

    State (torch's names): step, sum. As in torch, every parameter has its
    state from construction on (step 0, sum filled with
    initial_accumulator_value); a parameter that gets state later (added
    with add_param_group, or left out of a loaded state dict) starts its sum
    at the constructor's initial_accumulator_value too, whatever its group
    says.

    Raises ValueError for lr < 0, lr_decay < 0, weight_decay < 0,
    initial_accumulator_value < 0, eps < 0 (NaN included), both here and at
    each step. foreach, differentiable and fused are torch's implementation
    switches: see optkern.optim.optimizer.torch_flags.
    """

    _kind = "adagrad"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), lr_decay, weight_decay, eps, maximize, initial_accumulator_value)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
            **torch_flags(foreach=foreach, differentiable=differentiable, fused=fused),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)
        self._create_state()

    def _new_state(self, shape, dtype):
        return np.full(shape, self.defaults["initial_accumulator_value"], dtype=dtype)

    def _hparams(self, group):
        return _hparams(group["lr"], group["lr_decay"], group["weight_decay"], group["eps"], group["maximize"],
                        group["initial_accumulator_value"])


def adagrad_(params, grads, state_sums, *, step, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
             maximize=False):
    """Adagrad step, in place (torch.optim.Adagrad's rule; see optkern.Adagrad).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    state_sums: the sums of squared gradients, filled with the
    initial_accumulator_value (torch's default 0) before the first step.
    """
    hp = _hparams(lr, lr_decay, weight_decay, eps, maximize)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("adagrad"), params, _engine.as_list(grads, "grads"),
                {"sum": _engine.as_list(state_sums, "state_sums")}, sets, hp_index)
