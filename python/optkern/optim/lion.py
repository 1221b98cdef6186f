"""Lion (lion-pytorch 0.2.5's Lion, Chen et al. 2023; docs/optimizers.md#lion)."""

from optkern._checks import betas_of, real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr

__all__ = ["Lion", "lion_"]


def _hparams(lr, betas, weight_decay):
    """The Lion hyperparameters, checked (lion-pytorch asserts betas in
    [0, 1]; it does not check weight_decay, which optkern refuses below 0),
    as the C fields (ok_lion_hparams)."""
    lr_, weight_decay_ = real(lr, "lr"), real(weight_decay, "weight_decay")
    beta1, beta2 = betas_of(betas, 2)
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(0.0 <= beta1 <= 1.0, "Invalid beta parameter at index 0: {}", beta1)
    require(0.0 <= beta2 <= 1.0, "Invalid beta parameter at index 1: {}", beta2)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    return {"lr": lr_, "beta1": beta1, "beta2": beta2, "weight_decay": weight_decay_}


class Lion(Optimizer):
    """Lion, as lion-pytorch's Lion: same arguments, defaults and numbers.

    Per parameter:

        p <- p (1 - lr wd)
        p <- p - lr sign(beta1 m + (1 - beta1) g)      (sign(0) = 0)
        m <- beta2 m + (1 - beta2) g

    State: exp_avg (m). decoupled_weight_decay=True divides weight_decay by
    the constructor's lr (its first value, for a schedule), as lion-pytorch
    does, so that the decay per step follows lr's changes but not its
    scale; like lion-pytorch, the optimizer keeps it (opt.decoupled_wd),
    not its param groups.

    Raises ValueError for lr < 0 (lion-pytorch asserts lr > 0 at
    construction; optkern takes 0, a step that changes nothing, as torch.optim
    does, but with decoupled_weight_decay, which divides by it), a beta
    outside [0, 1], weight_decay < 0 (NaN included), here and at each step;
    use_triton=True (a CUDA kernel) is refused.
    """

    _kind = "lion"

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, use_triton=False,
                 decoupled_weight_decay=False, *, max_grad_norm=None, **precision):
        first_lr = real(scheduled_lr(lr), "lr")
        _hparams(first_lr, betas, weight_decay)
        if decoupled_weight_decay:  # weight_decay is divided by it
            require(first_lr > 0.0, "Invalid learning rate: {} (decoupled_weight_decay needs lr > 0)", first_lr)
        if use_triton:
            raise ValueError("optkern has no Triton (CUDA) kernel; use_triton must be False")
        self._init_lr = first_lr
        self.decoupled_wd = bool(decoupled_weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay}, max_grad_norm,
                         **precision)

    def _hparams(self, group):
        hp = _hparams(group["lr"], group["betas"], group["weight_decay"])
        if self.decoupled_wd:
            hp["weight_decay"] /= self._init_lr
        return hp


def lion_(params, grads, exp_avgs, *, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
    """Lion step, in place (lion-pytorch's update_fn; see optkern.Lion):
    p <- p (1 - lr weight_decay) - lr sign(beta1 m + (1 - beta1) g), then
    m <- beta2 m + (1 - beta2) g. exp_avgs: the state arrays, zeros before
    the first step."""
    hp = _hparams(lr, betas, weight_decay)
    params = _engine.as_list(params, "params")
    _engine.run(_engine.kind("lion"), params, _engine.as_list(grads, "grads"),
                {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs")}, [hp])
