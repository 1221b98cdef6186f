"""Hyperparameter checks with torch.optim's messages.

torch checks at construction only; optkern also checks at every step (a
changed param_groups entry is checked before anything is written), and
also rejects NaN where torch's comparison lets it through (SGD's lr).
These run at every step, so the common case (plain floats and ints) is kept
cheap and messages are only formatted on failure.
"""

import math
import numbers

__all__ = ["real", "check_sgd", "check_adam"]


def real(value, name):
    """value as a float; TypeError when it is not a real number."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:  # 0-d arrays and other numeric scalars
            if getattr(value, "ndim", 0) == 0 and not isinstance(value, (str, bytes, bool)):
                return float(value)
        except (TypeError, ValueError):
            pass
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _require(condition, message, value):
    """ValueError(message with value) unless condition (written so that NaN fails)."""
    if not condition:
        raise ValueError(message.format(value))


def check_sgd(lr, momentum, dampening, weight_decay, nesterov, maximize):
    """The SGD hyperparameters as floats and bools, checked like torch.optim.SGD."""
    lr_, momentum_ = real(lr, "lr"), real(momentum, "momentum")
    dampening_, weight_decay_ = real(dampening, "dampening"), real(weight_decay, "weight_decay")
    _require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    _require(momentum_ >= 0.0, "Invalid momentum value: {}", momentum)
    _require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    _require(not math.isnan(dampening_), "Invalid dampening value: {}", dampening)
    if nesterov and (momentum_ <= 0 or dampening_ != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    return lr_, momentum_, dampening_, weight_decay_, bool(nesterov), bool(maximize)


def check_adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """The Adam hyperparameters as floats and bools, checked like torch.optim.Adam."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    lr_, eps_, weight_decay_ = real(lr, "lr"), real(eps, "eps"), real(weight_decay, "weight_decay")
    beta1_, beta2_ = real(beta1, "betas[0]"), real(beta2, "betas[1]")
    _require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    _require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    _require(0.0 <= beta1_ < 1.0, "Invalid beta parameter at index 0: {}", beta1)
    _require(0.0 <= beta2_ < 1.0, "Invalid beta parameter at index 1: {}", beta2)
    _require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    return lr_, beta1_, beta2_, eps_, weight_decay_, bool(amsgrad), bool(maximize), bool(decoupled_weight_decay)
