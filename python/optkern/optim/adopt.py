"""ADOPT (the official implementation of Taniguchi et al. 2024; docs/optimizers.md#adopt)."""

from optkern._checks import betas_of, real, require
from optkern.optim import _engine
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["ADOPT", "adopt_"]


def default_clip_lambda(step):
    """ADOPT's default clip_lambda, the official step ** 0.25 (a named
    function, so that an optimizer using it can be pickled)."""
    return step**0.25


class _Clip:
    """The clip bound as a C field of a step: a function of the step t
    being taken (the phase), clip_lambda(t - 1), of the count before the
    step, as the official implementation calls it. The first step clips
    nothing and does not call it. Two are equal when they call the same
    clip_lambda (the hyperparameters of two steps compare equal)."""

    __slots__ = ("clip_lambda",)

    def __init__(self, clip_lambda):
        self.clip_lambda = clip_lambda

    def __call__(self, step):
        if step == 1:
            return 0.0
        bound = real(self.clip_lambda(step - 1), "clip_lambda(step)")
        if not bound >= 0.0:
            raise ValueError(f"clip_lambda({step - 1}) returned {bound}: the clip bound must be >= 0")
        return bound

    def __eq__(self, other):
        return isinstance(other, _Clip) and other.clip_lambda is self.clip_lambda

    __hash__ = None


def _clip(clip_lambda):
    """The clip's C fields (no clamp for a clip_lambda of None)."""
    if clip_lambda is None:
        return {"clip": 0.0, "clipped": False}
    if not callable(clip_lambda):
        raise TypeError(f"clip_lambda must be a function of the step count, or None; got {clip_lambda!r}")
    return {"clip": _Clip(clip_lambda), "clipped": True}


def _hparams(lr, betas, eps, weight_decay, decouple, maximize, clip):
    """The ADOPT hyperparameters, checked like the official ADOPT, as the C
    fields (ok_adopt_hparams) but step; clip: _clip's fields."""
    lr_, eps_, weight_decay_ = real(lr, "lr"), real(eps, "eps"), real(weight_decay, "weight_decay")
    beta1, beta2 = betas_of(betas, 2)
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(eps_ >= 0.0, "Invalid epsilon value: {}", eps)
    require(0.0 <= beta1 < 1.0, "Invalid beta parameter at index 0: {}", beta1)
    require(0.0 <= beta2 < 1.0, "Invalid beta parameter at index 1: {}", beta2)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    return {"lr": lr_, "beta1": beta1, "beta2": beta2, "eps": eps_, "weight_decay": weight_decay_,
            "decouple": bool(decouple), "maximize": bool(maximize), **clip}


class ADOPT(Optimizer):
    """ADOPT, as the official implementation (iShohei220/adopt): same
    arguments, defaults, checks and numbers.

    Per parameter, at step t (counted from 1):

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0 and not decouple
        t = 1: v <- g^2, and nothing else
        p <- p - lr wd p                                   if decouple
        n = clamp(g / max(sqrt(v), eps), -c, c)            c = clip_lambda(t - 1); no clamp for None
        m <- beta1 m + (1 - beta1) n
        p <- p - lr m
        v <- beta2 v + (1 - beta2) g^2

    g is normalised by the second moment of the steps BEFORE this one. State:
    step, exp_avg (m), exp_avg_sq (v). clip_lambda is a function of the step
    count (None: no clipping), kept by the optimizer (opt.clip_lambda), not
    its param groups, as the official implementation does.

    Raises ValueError for lr < 0, eps < 0, a beta outside [0, 1),
    weight_decay < 0 (NaN included), here and at each step, and a clip
    bound below 0 at the step that gets it. foreach, fused, capturable and
    differentiable are torch's implementation switches: see
    optkern.optim.optimizer.torch_flags.
    """

    _kind = "adopt"
    _phase = "step"
    _has_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, clip_lambda=default_clip_lambda,
                 weight_decay=0.0, decouple=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, max_grad_norm=None, **precision):
        _hparams(scheduled_lr(lr), betas, eps, weight_decay, decouple, maximize, _clip(clip_lambda))
        self.clip_lambda = clip_lambda
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decouple": decouple,
            "maximize": maximize,
            **torch_flags(foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused),
        }
        super().__init__(params, defaults, max_grad_norm, **precision)

    def _hparams(self, group):
        return _hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["decouple"],
                        group["maximize"], _clip(self.clip_lambda))


def adopt_(params, grads, exp_avgs, exp_avg_sqs, *, step, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6,
           clip_lambda=default_clip_lambda, weight_decay=0.0, decouple=False, maximize=False):
    """ADOPT step, in place (the official rule; see optkern.ADOPT).

    step: the number of the step being taken, counted from 1 (the official
    state "step" after its increment): an int, or one int per parameter;
    step 1 only starts exp_avg_sqs. exp_avgs, exp_avg_sqs: the state
    arrays, zeros before the first step.
    """
    hp = _hparams(lr, betas, eps, weight_decay, decouple, maximize, _clip(clip_lambda))
    params = _engine.as_list(params, "params")
    phase = _engine.step_phase(step, len(params))
    states = {"exp_avg": _engine.as_list(exp_avgs, "exp_avgs"),
              "exp_avg_sq": _engine.as_list(exp_avg_sqs, "exp_avg_sqs")}
    sets, hp_index = _engine.hyperparameter_sets([hp], "step", phase)
    _engine.run(_engine.kind("adopt"), params, _engine.as_list(grads, "grads"), states, sets, hp_index)
