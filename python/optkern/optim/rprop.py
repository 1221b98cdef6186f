"""Rprop (torch.optim.Rprop semantics; docs/optimizers.md#rprop)."""

import numpy as np

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Rprop", "rprop_"]


def _pair(value, name):
    try:
        first, second = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair, got {value!r}") from None
    return real(first, f"{name}[0]"), real(second, f"{name}[1]")


def _hparams(lr, etas, step_sizes, maximize):
    """The Rprop hyperparameters, checked like torch.optim.Rprop, as the C
    fields (ok_rprop_hparams) but first_step. torch does not check
    step_sizes; optkern refuses a NaN there (torch's clamp and optkern's
    would treat it differently)."""
    lr_ = real(lr, "lr")
    etaminus, etaplus = _pair(etas, "etas")
    step_size_min, step_size_max = _pair(step_sizes, "step_sizes")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    if not 0.0 < etaminus < 1.0 < etaplus:
        raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
    if np.isnan(step_size_min) or np.isnan(step_size_max):
        raise ValueError(f"Invalid step_sizes values: {step_sizes[0]}, {step_sizes[1]}")
    return {"lr": lr_, "etaminus": etaminus, "etaplus": etaplus, "step_size_min": step_size_min,
            "step_size_max": step_size_max, "maximize": bool(maximize)}


class Rprop(Optimizer):
    """Rprop, as torch.optim.Rprop: same arguments, defaults, checks and numbers.

    Per element, with prev = 0 and step_size = lr before the first step:

        g <- -g if maximize
        s = etaplus where g*prev > 0, etaminus where g*prev < 0, else 1
        step_size <- clamp(step_size * s, *step_sizes)
        g <- 0 where s is etaminus (the gradient flipped its sign)
        p <- p - sign(g) * step_size;  prev <- g

    State (torch's names): step, prev, step_size.

    Raises ValueError for lr < 0 or NaN, etas not with 0 < etaminus < 1 <
    etaplus, a NaN step size bound, both here and at each step. foreach,
    capturable and differentiable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "rprop"
    _phase = "first_step"
    _has_step = True
    # The first step writes prev and step_size before reading them.
    _new_state = staticmethod(np.empty)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), etas, step_sizes, maximize)
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "maximize": maximize,
            **torch_flags(foreach=foreach, differentiable=differentiable, capturable=capturable),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["etas"], group["step_sizes"], group["maximize"])


def rprop_(params, grads, prevs, step_size_states, *, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50),
           maximize=False):
    """Rprop step, in place (torch.optim.Rprop's rule; see optkern.Rprop).

    prevs, step_size_states: the state arrays prev and step_size, one per
    parameter in each list, or None in both for a parameter's first step:
    its arrays are created (prev = 0 and step_size = lr, as torch starts
    them) and put into the lists, which must then be lists. step_sizes is
    the hyperparameter, the (min, max) bounds of the step sizes.
    """
    hp = _hparams(lr, etas, step_sizes, maximize)
    params = _engine.as_list(params, "params")
    lists = {"prev": ("prevs", prevs), "step_size": ("step_size_states", step_size_states)}
    _engine.run_first_steps(_engine.kind("rprop"), params, _engine.as_list(grads, "grads"), hp, lists,
                            Rprop._new_state)
