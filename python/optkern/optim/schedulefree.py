"""Schedule-free SGD and AdamW, as facebookresearch's schedulefree package
computes them (1.4.1: SGDScheduleFree, AdamWScheduleFree; the method of
Defazio et al. 2024), docs/optimizers.md#schedule-free-sgd-and-adamw.

Three sequences take the place of a learning-rate schedule: z, the plain
SGD (or AdamW) iterate, the state "z"; x, a weighted average of the z's,
the point to evaluate; and y = (1 - beta) z + beta x, where gradients are
taken. The parameters hold y in train mode and x in eval mode: train() and
eval() move them, each one C call over every parameter that has a z, and a
step refuses to run in eval mode, as the reference's does.

Each param group keeps, as the reference keeps them there, its step count
k, lr_max, weight_sum, scheduled_lr and train_mode: they are in
param_groups and state_dict(), and the weight of a step's z in the average
(ckp1) follows from them (_weighting). The kernels take ckp1 and the step's
lr; everything else of a step is elementwise.
"""

import math
import numbers
from collections.abc import MutableMapping

import numpy as np

from optkern._checks import real, require
from optkern.optim import _engine
from optkern.optim.adam import adam_checked
from optkern.optim.optimizer import Optimizer, scheduled_lr, torch_flags

__all__ = ["SGDScheduleFree", "AdamWScheduleFree", "sgdschedulefree_", "adamwschedulefree_"]

# What a call of the kernels does (OK_SCHEDULEFREE_* in optkern/optim.h).
_STEP, _TO_Y, _TO_X = 0, 1, 2

# The reference's message: a step in eval mode would take its gradient at x.
_EVAL_MODE = ("Optimizer was not in train mode when step is called. Please insert .train() and .eval() calls on the "
              "optimizer. See documentation for details.")

# A new param group's running values, as the reference starts them.
_START = {"k": 0, "lr_max": -1.0, "weight_sum": 0.0}


def _count(value, what):
    """value as an int >= 0; ValueError otherwise (a bool is not a count)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be an int >= 0, got {value!r}")
    return int(value)


def _weighting(lr, warmup_steps, r, weight_lr_power, running):
    """Step k + 1 of a param group whose running values are `running` (a
    dict with the reference's k, lr_max and weight_sum), as the reference
    weighs it:

        lr_t       = lr * (k + 1) / warmup_steps while k < warmup_steps, else lr
        lr_max     = max(lr_t, lr_max)
        weight     = (k + 1)^r * lr_max^weight_lr_power
        weight_sum = weight_sum + weight
        ckp1       = weight / weight_sum               (0 when weight_sum is 0)

    Returns (lr_t, ckp1, the group's running values after the step). lr is
    a checked float; the other values are checked here.
    """
    k = _count(running["k"], "k (the param group's step count)")
    lr_max, weight_sum = real(running["lr_max"], "lr_max"), real(running["weight_sum"], "weight_sum")
    require(not math.isnan(lr_max), "Invalid lr_max value: {}", running["lr_max"])
    require(weight_sum >= 0.0, "Invalid weight_sum value: {}", running["weight_sum"])
    warmup_steps = _count(warmup_steps, "warmup_steps")
    r_, power = real(r, "r"), real(weight_lr_power, "weight_lr_power")
    require(not math.isnan(r_), "Invalid r value: {}", r)
    require(power >= 0.0, "Invalid weight_lr_power value: {}", weight_lr_power)
    lr = lr * ((k + 1) / warmup_steps if k < warmup_steps else 1.0)
    lr_max = max(lr, lr_max)
    weight = (k + 1) ** r_ * lr_max ** power
    weight_sum = weight_sum + weight
    ckp1 = weight / weight_sum if weight_sum else 0.0
    return lr, ckp1, {"k": k + 1, "lr_max": lr_max, "weight_sum": weight_sum, "scheduled_lr": lr}


def _sgd_hparams(lr, momentum, weight_decay, warmup_steps, r, weight_lr_power, running):
    """The SGDScheduleFree hyperparameters of a param group's next step,
    checked as the reference checks them (and NaN), as the C fields
    (ok_sgd_schedulefree_hparams) but first_step; and the group's running
    values after that step (_weighting)."""
    lr_, momentum_, weight_decay_ = real(lr, "lr"), real(momentum, "momentum"), real(weight_decay, "weight_decay")
    require(lr_ >= 0.0, "Invalid learning rate: {}", lr)
    require(weight_decay_ >= 0.0, "Invalid weight_decay value: {}", weight_decay)
    require(0.0 < momentum_ < 1.0, "Momentum must be between 0 and 1 exclusive: {}", momentum)
    step_lr, ckp1, after = _weighting(lr_, warmup_steps, r, weight_lr_power, running)
    return {"lr": step_lr, "momentum": momentum_, "weight_decay": weight_decay_, "ckp1": ckp1, "mode": _STEP}, after


def _adamw_hparams(lr, betas, eps, weight_decay, warmup_steps, r, weight_lr_power, running):
    """The AdamWScheduleFree hyperparameters of a param group's next step,
    checked as Adam's are (the reference checks none; beta1 > 0, as eval()
    divides by it), as the C fields (ok_adamw_schedulefree_hparams) but
    first_step; and the group's running values after that step."""
    lr_, beta1_, beta2_, eps_, weight_decay_ = adam_checked(lr, betas, eps, weight_decay, beta1_positive=True)
    step_lr, ckp1, after = _weighting(lr_, warmup_steps, r, weight_lr_power, running)
    return {"lr": step_lr, "beta1": beta1_, "beta2": beta2_, "eps": eps_, "weight_decay": weight_decay_,
            "ckp1": ckp1, "step": after["k"], "mode": _STEP}, after


def _defaults(lr, hyperparameters, warmup_steps, r, weight_lr_power, weight_decay, foreach):
    """A param group's entries, in the reference's order: its
    hyperparameters and its running values, as a new group starts them."""
    return {"lr": lr, **hyperparameters, "r": r, "k": 0, "warmup_steps": warmup_steps, "train_mode": False,
            "weight_sum": 0.0, "lr_max": -1.0, "scheduled_lr": 0.0, "weight_lr_power": weight_lr_power,
            "weight_decay": weight_decay, **torch_flags(foreach=foreach)}


class _ScheduleFree(Optimizer):
    """What SGDScheduleFree and AdamWScheduleFree share: the modes, and a
    step that advances each group's running values. A subclass gives
    _fields(group): its C fields for the group's next step and the group's
    running values after it."""

    _phase = "first_step"
    # A first step writes z (y's copy, updated) and exp_avg_sq before reading them.
    _new_state = staticmethod(np.empty)

    def _fields(self, group):
        raise NotImplementedError

    def _hparams(self, group):
        return self._fields(group)[0]

    def _add_param_group(self, param_group):
        # A group added later joins the optimizer in its mode (the reference
        # adds it in eval mode, and its step then runs on it all the same).
        if self.param_groups and isinstance(param_group, dict) and "train_mode" not in param_group:
            param_group = {**param_group, "train_mode": self.param_groups[0]["train_mode"]}
        super()._add_param_group(param_group)

    def train(self):
        """Train mode: move each group's parameters from x to y, where the
        gradients of the next steps are taken (p <- lerp(p, z, 1 - beta)). A
        group in train mode already, and a parameter without z yet (x = y),
        are left alone."""
        self._switch(True)

    def eval(self):
        """Eval mode: move each group's parameters from y to x, the average
        to evaluate and to save (p <- lerp(p, z, 1 - 1/beta)). A group in
        eval mode already, and a parameter without z yet, are left alone."""
        self._switch(False)

    def _switch(self, train):
        with self._lock:
            groups = self.param_groups
            moving = [bool(g["train_mode"]) != train for g in groups]
            if not any(moving):
                return
            plan = self._sync()
            sets = [{**self._checked(g), "first_step": False, "mode": _TO_Y if train else _TO_X} for g in groups]
            # z goes in the gradient's place, the stream a call only reads
            zs = [z if moving[k] else None for z, k in zip(plan.states["z"], plan.group_of.tolist())]
            _engine.run(_engine.kind(self._kind), plan.params, zs, {}, sets, plan.group_of)
            for g, m in zip(groups, moving):
                if m:
                    g["train_mode"] = train

    def _after_step(self, group):
        """The group's running values after its next step (a schedule given
        as its lr evaluated as _checked evaluates it)."""
        lr = group["lr"]
        return self._fields({**group, "lr": scheduled_lr(lr, self._steps_taken)} if callable(lr) else group)[1]

    def _step(self, grads, unscale=None):
        """A step in train mode, as the base class takes it; each group's
        running values then advance, as the reference's do at every step it
        takes, a step on which no parameter has a gradient included."""
        groups = self.param_groups
        after = [self._after_step(g) for g in groups]  # checks every group: a bad value is named before the mode
        if not all(g["train_mode"] for g in groups):
            raise RuntimeError(_EVAL_MODE)
        skipped = super()._step(grads, unscale)
        if not skipped:
            for g, values in zip(groups, after):
                g.update(values)
        return skipped


class SGDScheduleFree(_ScheduleFree):
    """Schedule-free SGD, as schedulefree.SGDScheduleFree: same arguments,
    defaults, param-group entries, state and numbers. Per parameter (y, in
    train mode) with gradient g, at its group's step k + 1:

        lr_t, ckp1 from the group's running values (docs: the weighting)
        g <- g + weight_decay * y
        y <- lerp(y, z, ckp1) + lr_t (momentum (1 - ckp1) - 1) g
        z <- z - lr_t g                   (z: a copy of y before its first step)

    Call train() before training (step() refuses to run in eval mode, as
    the reference's does) and eval() before evaluating or saving: they move
    the parameters between y and x = (y - (1 - momentum) z) / momentum.

    State (the reference's name): z. Param-group entries besides the
    arguments: k, train_mode, weight_sum, lr_max, scheduled_lr.

    Raises ValueError for lr < 0, weight_decay < 0, momentum outside (0, 1)
    (the reference's checks, NaN included), warmup_steps not an int >= 0,
    a NaN r and weight_lr_power < 0, here and at each step; RuntimeError
    for a step in eval mode. foreach is the reference's switch: kept in the
    param groups, it changes nothing.
    """

    _kind = "sgd_schedulefree"

    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0, warmup_steps=0, r=0.0, weight_lr_power=2,
                 foreach=True, *, max_grad_norm=None):
        _sgd_hparams(scheduled_lr(lr), momentum, weight_decay, warmup_steps, r, weight_lr_power, _START)
        super().__init__(params, _defaults(lr, {"momentum": momentum}, warmup_steps, r, weight_lr_power,
                                           weight_decay, foreach), max_grad_norm)

    def _fields(self, group):
        return _sgd_hparams(group["lr"], group["momentum"], group["weight_decay"], group["warmup_steps"], group["r"],
                            group["weight_lr_power"], group)


class AdamWScheduleFree(_ScheduleFree):
    """Schedule-free AdamW, as schedulefree.AdamWScheduleFree: same
    arguments, defaults, param-group entries, state and numbers. Per
    parameter (y, in train mode) with gradient g, at its group's step
    t = k + 1:

        lr_t, ckp1 from the group's running values (docs: the weighting)
        v <- beta2 v + (1 - beta2) g^2
        u  = g / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay * y
        y <- lerp(y, z, ckp1) + lr_t (beta1 (1 - ckp1) - 1) u
        z <- z - lr_t u                   (z: a copy of y before its first step)

    Call train() before training and eval() before evaluating or saving, as
    with SGDScheduleFree (beta1 in place of momentum).

    State (the reference's names): z, exp_avg_sq. Param-group entries
    besides the arguments: k, train_mode, weight_sum, lr_max, scheduled_lr.

    Raises ValueError for lr < 0, eps < 0, beta1 outside (0, 1), beta2
    outside [0, 1), weight_decay < 0 (NaN included; the reference checks
    none of them), and as SGDScheduleFree for warmup_steps, r and
    weight_lr_power, here and at each step; RuntimeError for a step in
    eval mode.
    """

    _kind = "adamw_schedulefree"

    def __init__(self, params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0, foreach=True, *, max_grad_norm=None):
        _adamw_hparams(scheduled_lr(lr), betas, eps, weight_decay, warmup_steps, r, weight_lr_power, _START)
        super().__init__(params, _defaults(lr, {"betas": betas, "eps": eps}, warmup_steps, r, weight_lr_power,
                                           weight_decay, foreach), max_grad_norm)

    def _fields(self, group):
        return _adamw_hparams(group["lr"], group["betas"], group["eps"], group["weight_decay"], group["warmup_steps"],
                              group["r"], group["weight_lr_power"], group)


def _running(group_state):
    """A functional form's group_state, with the values of a new group where
    it has none."""
    if not isinstance(group_state, MutableMapping):
        raise TypeError(f"group_state must be a dict (the param group's running values k, lr_max, weight_sum; "
                        f"{{}} before the first step), got {type(group_state).__name__}")
    return {**_START, **group_state}


def _first_steps(kind, params, grads, fields, lists, group_state, after):
    """Run a functional step (its first steps make the state arrays), then
    advance group_state."""
    _engine.run_first_steps(_engine.kind(kind), _engine.as_list(params, "params"), _engine.as_list(grads, "grads"),
                            fields, lists, _ScheduleFree._new_state)
    group_state.update(after)


def sgdschedulefree_(params, grads, zs, *, group_state, lr=1.0, momentum=0.9, weight_decay=0, warmup_steps=0, r=0.0,
                     weight_lr_power=2):
    """Schedule-free SGD step, in place (schedulefree.SGDScheduleFree's rule;
    see optkern.SGDScheduleFree), on parameters in train mode (y).

    zs: one array or None per parameter. A None entry is the parameter's
    first step: its z starts as a copy of the parameter and is put into the
    list, which must then be a list.
    group_state: the param group's running values, a dict with the
    reference's k, lr_max and weight_sum ({} before the first step), which
    the step advances in place (and sets scheduled_lr); a param group of
    the class is such a dict.
    """
    fields, after = _sgd_hparams(lr, momentum, weight_decay, warmup_steps, r, weight_lr_power, _running(group_state))
    _first_steps("sgd_schedulefree", params, grads, fields, {"z": ("zs", zs)}, group_state, after)


def adamwschedulefree_(params, grads, zs, exp_avg_sqs, *, group_state, lr=0.0025, betas=(0.9, 0.999), eps=1e-8,
                       weight_decay=0, warmup_steps=0, r=0.0, weight_lr_power=2.0):
    """Schedule-free AdamW step, in place (schedulefree.AdamWScheduleFree's
    rule; see optkern.AdamWScheduleFree), on parameters in train mode (y).

    zs, exp_avg_sqs: one array or None per parameter, None in both lists at
    a parameter's first step (its z starts as its copy, its exp_avg_sq as
    zeros; both are put into the lists). group_state: as sgdschedulefree_'s.
    """
    fields, after = _adamw_hparams(lr, betas, eps, weight_decay, warmup_steps, r, weight_lr_power,
                                   _running(group_state))
    lists = {"z": ("zs", zs), "exp_avg_sq": ("exp_avg_sqs", exp_avg_sqs)}
    _first_steps("adamw_schedulefree", params, grads, fields, lists, group_state, after)
