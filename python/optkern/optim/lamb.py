"""LAMB (NVIDIA apex's FusedLAMB semantics; docs/optimizers.md#lamb)."""

import math

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.adam import moments_hparams
from optkern.optim.optimizer import Optimizer, scheduled_lr

__all__ = ["LAMB", "lamb_"]


def _hparams(lr, bias_correction, betas, eps, weight_decay, adam_w_mode, grad_averaging, max_grad_norm, use_nvlamb):
    """The LAMB hyperparameters, checked with Adam's ranges and messages (apex
    checks none), as the C fields (ok_lamb_hparams) but step. A
    max_grad_norm of None clips nothing."""
    moments = moments_hparams(lr, betas, eps, weight_decay, False, False)
    if max_grad_norm is None:
        clip = math.inf
    else:
        clip = real(max_grad_norm, "max_grad_norm")
        require(clip > 0.0, "max_grad_norm must be positive (or None), got {}", max_grad_norm)
    return {**{name: moments[name] for name in ("lr", "beta1", "beta2", "eps", "weight_decay")},
            "max_grad_norm": clip, "bias_correction": bool(bias_correction), "adam_w_mode": bool(adam_w_mode),
            "grad_averaging": bool(grad_averaging), "use_nvlamb": bool(use_nvlamb)}


class LAMB(Optimizer):
    """LAMB, as NVIDIA apex's FusedLAMB: its arguments, defaults and numbers
    (in float64 too), on the CPU.

    Each step, with G the L2 norm of every gradient of the step (all param
    groups) and, per parameter, t its step count (from 1):

        g <- g / (G / max_grad_norm)           if G > max_grad_norm
        g <- g + wd p                          if not adam_w_mode
        m <- beta1 m + (1 - beta1) g           (beta1 m + g without grad_averaging)
        v <- beta2 v + (1 - beta2) g^2
        u  = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)    (no division without bias_correction)
        u <- u + wd p                          if adam_w_mode
        p <- p - lr (|p| / |u|) u              the trust ratio 1 where |p| or |u| is 0, or where
                                               weight_decay == 0 and not use_nvlamb

    The norms (G, and |p| and |u| per parameter) are taken inside the one C
    call, bitwise the same for any thread count.

    State: step, exp_avg, exp_avg_sq. max_grad_norm is apex's, a param-group
    hyperparameter like the others (None: no clipping), not the fused
    clip_grad_norm_ of the torch family's keyword; so are adam_w_mode and
    use_nvlamb. set_grad_none is accepted (optkern has no zero_grad: a
    step takes its gradients). amsgrad must be False, as in apex.

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0, max_grad_norm <= 0 (NaN included), both here and at
    each step.
    """

    _kind = "lamb"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01,
                 amsgrad=False, adam_w_mode=True, grad_averaging=True, set_grad_none=True, max_grad_norm=1.0,
                 use_nvlamb=False, **precision):
        if amsgrad:
            raise ValueError("LAMB does not support the AMSGrad variant (apex's FusedLAMB neither): amsgrad must be False")
        _hparams(scheduled_lr(lr), bias_correction, betas, eps, weight_decay, adam_w_mode, grad_averaging,
                 max_grad_norm, use_nvlamb)
        defaults = {
            "lr": lr,
            "bias_correction": bias_correction,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "adam_w_mode": adam_w_mode,
            "grad_averaging": grad_averaging,
            "max_grad_norm": max_grad_norm,
            "use_nvlamb": use_nvlamb,
        }
        self.set_grad_none = set_grad_none
        super().__init__(params, defaults, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["bias_correction"], group["betas"], group["eps"], group["weight_decay"],
                        group["adam_w_mode"], group["grad_averaging"], group["max_grad_norm"], group["use_nvlamb"])


def lamb_(params, grads, exp_avgs, exp_avg_sqs, *, step, lr=1e-3, bias_correction=True, betas=(0.9, 0.999),
          eps=1e-6, weight_decay=0.01, adam_w_mode=True, grad_averaging=True, max_grad_norm=1.0, use_nvlamb=False):
    """LAMB step, in place (apex's FusedLAMB rule; see optkern.LAMB). G, the
    norm clipped to max_grad_norm, is that of every gradient of the call.

    step: the number of the step being taken, counted from 1: an int, or
    one int per parameter. exp_avgs, exp_avg_sqs: the state arrays, zeros
    before the first step.
    """
    hp = _hparams(lr, bias_correction, betas, eps, weight_decay, adam_w_mode, grad_averaging, max_grad_norm,
                  use_nvlamb)
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"), "exp_avg_sq": _engine.as_list(exp_avg_sqs, "exp_avg_sqs")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("lamb"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
