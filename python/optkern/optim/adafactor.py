"""Adafactor (torch.optim.Adafactor semantics; docs/optimizers.md#adafactor)."""

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["Adafactor", "adafactor_"]


def _hparams(lr, beta2_decay, eps, d, weight_decay, maximize):
    """The Adafactor hyperparameters, checked like torch.optim.Adafactor,
    as the C fields (ok_adafactor_hparams) but step. eps1 None is the
    machine epsilon of each parameter's dtype (eps1_machine)."""
    try:
        eps1, eps2 = eps
    except (TypeError, ValueError):
        raise ValueError(f"eps must be a pair (eps1, eps2), got {eps!r}") from None
    lr_, beta2_decay_ = real(lr, "lr"), real(beta2_decay, "beta2_decay")
    eps1_ = None if eps1 is None else real(eps1, "eps[0]")
    eps2_, d_, weight_decay_ = real(eps2, "eps[1]"), real(d, "d"), real(weight_decay, "weight_decay")
    require(lr_ >= 0.0, "Learning rate should be >= 0 but is: {}", lr)
    require(beta2_decay_ <= 0.0, "beta2_decay should be <= 0 but is: {}", beta2_decay)
    require(eps1_ is None or eps1_ >= 0.0, "epsilon1 should be >= 0 but is: {}", eps1)
    require(eps2_ >= 0.0, "epsilon2 should be >= 0 but is: {}", eps2)
    require(d_ >= 1.0, "Clipping threshold d should be >= 1 but is: {}", d)
    require(weight_decay_ >= 0.0, "weight_decay should be >= 0 but is: {}", weight_decay)
    return {"lr": lr_, "beta2_decay": beta2_decay_, "eps1": 0.0 if eps1_ is None else eps1_, "eps2": eps2_,
            "d": d_, "weight_decay": weight_decay_, "maximize": bool(maximize), "eps1_machine": eps1_ is None}


class Adafactor(Optimizer):
    """Adafactor, as torch.optim.Adafactor: same arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1), w = t^beta2_decay:

        g <- -g if maximize
        alpha = max(eps2, RMS(p)) min(lr, 1/sqrt(t))
        p <- p (1 - lr weight_decay)
        ndim >= 2 (factored over the last two dims, leading dims a batch):
            row_var <- lerp(row_var, mean of g^2 over the last dim, w)
            col_var <- lerp(col_var, mean of g^2 over the second-to-last dim, w)
            V = row_var col_var / max(mean(row_var), eps1)
        ndim < 2:
            variance <- lerp(variance, g^2, w);  V = variance
        U = g / sqrt(max(V, eps1^2))
        p <- p - alpha / max(1, RMS(U) / d) U

    eps = (eps1, eps2); eps1 None is the machine epsilon of the parameter's
    dtype. State (torch's names): step, and row_var (shape (..., rows, 1))
    and col_var ((..., 1, cols)) for a parameter of ndim >= 2, variance (its
    shape) otherwise.

    Raises ValueError for lr < 0, beta2_decay > 0, eps1 < 0, eps2 < 0,
    d < 1, weight_decay < 0 (NaN included), both here and at each step.
    foreach is torch's implementation switch: see torch_flags.
    """

    _kind = "adafactor"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False, max_grad_norm=None):
        _hparams(scheduled_lr(lr), beta2_decay, eps, d, weight_decay, maximize)
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            **torch_flags(foreach=foreach),
            "maximize": maximize,
        }
        super().__init__(params, defaults, max_grad_norm)

    def _hparams(self, group):
        return _hparams(group["lr"], group["beta2_decay"], group["eps"], group["d"], group["weight_decay"],
                        group["maximize"])


def adafactor_(params, grads, row_vars, col_vars, variances, *, step, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3),
               d=1.0, weight_decay=0.0, maximize=False):
    """Adafactor step, in place (torch.optim.Adafactor's rule; see optkern.Adafactor).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    row_vars and col_vars: for each parameter of ndim >= 2, its factors
    (shapes (..., rows, 1) and (..., 1, cols)); variances: for each of
    ndim < 2, an array of its shape; zeros before the first step. Each list
    has None where the parameter has no such state (or is None when no
    parameter has it).
    """
    hp = _hparams(lr, beta2_decay, eps, d, weight_decay, maximize)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {name: None if lst is None else _engine.as_list(lst, name + "s")
              for name, lst in (("row_var", row_vars), ("col_var", col_vars), ("variance", variances))}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("adafactor"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
