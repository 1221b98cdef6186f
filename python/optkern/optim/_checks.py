"""Hyperparameter checks with torch.optim's messages.

torch checks at construction only; optkern also checks at every step (a
changed param_groups entry is checked before anything is written), and
also rejects NaN where torch's comparison lets it through (SGD's lr).
"""

import math
import numbers

__all__ = ["real", "check_sgd", "check_adam"]


def real(value, name):
    """value as a float; TypeError when it is not a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:  # 0-d arrays and other numeric scalars
            if getattr(value, "ndim", 0) == 0 and not isinstance(value, (str, bytes, bool)):
                return float(value)
        except (TypeError, ValueError):
            pass
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _at_least_zero(value, message):
    if not value >= 0.0:  # NaN fails too
        raise ValueError(message)


def check_sgd(lr, momentum, dampening, weight_decay, nesterov, maximize):
    """The SGD hyperparameters as floats and bools, checked like torch.optim.SGD."""
    lr = real(lr, "lr")
    momentum = real(momentum, "momentum")
    dampening = real(dampening, "dampening")
    weight_decay = real(weight_decay, "weight_decay")
    _at_least_zero(lr, f"Invalid learning rate: {lr}")
    _at_least_zero(momentum, f"Invalid momentum value: {momentum}")
    _at_least_zero(weight_decay, f"Invalid weight_decay value: {weight_decay}")
    if math.isnan(dampening):
        raise ValueError(f"Invalid dampening value: {dampening}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    return lr, momentum, dampening, weight_decay, bool(nesterov), bool(maximize)


def check_adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """The Adam hyperparameters as floats and bools, checked like torch.optim.Adam."""
    lr = real(lr, "lr")
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    beta1 = real(beta1, "betas[0]")
    beta2 = real(beta2, "betas[1]")
    eps = real(eps, "eps")
    weight_decay = real(weight_decay, "weight_decay")
    _at_least_zero(lr, f"Invalid learning rate: {lr}")
    _at_least_zero(eps, f"Invalid epsilon value: {eps}")
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    _at_least_zero(weight_decay, f"Invalid weight_decay value: {weight_decay}")
    return lr, beta1, beta2, eps, weight_decay, bool(amsgrad), bool(maximize), bool(decoupled_weight_decay)
