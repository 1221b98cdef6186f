"""Optimizer updates as functions, for code that keeps its own state.

Each function updates a list of parameters in place from a list of
gradients and explicit state arrays, in one call into C, with the same
rules, checks and numbers as the optimizer classes (torch.optim). All lists
are aligned: entry i of each belongs to params[i]. A None gradient skips its
parameter. Every array is checked before anything is written; on an
exception nothing has changed.

Raises TypeError for a non-array, an unsupported dtype (float32 and float64
are supported) or mixed dtypes within a tensor; ValueError for shape
mismatches, wrong list lengths, non-contiguous or read-only arrays that are
written, arrays that overlap one that is written, and hyperparameters out
of range.
"""

import numbers

import numpy as np

from optkern import _core
from optkern.optim._checks import check_adam, check_sgd

__all__ = ["sgd_", "adam_", "adamw_"]


def _as_list(items, name):
    if isinstance(items, np.ndarray) or not hasattr(items, "__len__"):
        raise TypeError(f"{name} must be a sequence of arrays (a list), not {type(items).__name__}")
    return items if type(items) is list else list(items)


def sgd_(params, grads, momentum_buffers=None, *, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
         nesterov=False, maximize=False):
    """SGD step, in place (torch.optim.SGD's rule; see optkern.SGD).

    momentum_buffers: needed when momentum != 0; a list with one array or
    None per parameter. A None entry is the first step of that parameter:
    its buffer is created (as a copy of the gradient, torch's rule) and put
    into the list, which must then be a list.
    """
    checked = check_sgd(lr, momentum, dampening, weight_decay, nesterov, maximize)
    params = _as_list(params, "params")
    grads = _as_list(grads, "grads")
    if checked[1] == 0:
        _core.sgd(params, grads, None, [checked + (False,)])
        return
    if momentum_buffers is None:
        raise ValueError("momentum != 0 needs momentum_buffers: a list with one array (or None) per parameter")
    buffers = _as_list(momentum_buffers, "momentum_buffers")
    if len(buffers) != len(params):
        raise ValueError(f"expected {len(params)} momentum_buffers, got {len(buffers)}")
    has = _core.present_mask(buffers)
    if has is None:
        _core.sgd(params, grads, buffers, [checked + (False,)])
        return
    if not isinstance(momentum_buffers, list):
        raise TypeError("momentum_buffers holds None entries to be created, so it must be a list")
    has_grad = _core.present_mask(grads)
    create = ~has if has_grad is None else ~has & has_grad
    buffers = list(buffers)
    for i in np.flatnonzero(create).tolist():
        p = params[i]
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{i}] must be a numpy.ndarray, got {type(p).__name__}")
        buffers[i] = np.empty(p.shape, dtype=p.dtype)  # the first step writes it before reading it
    hp_index = (~has).astype(np.uint32)  # set 1: first step
    _core.sgd(params, grads, buffers, [checked + (False,), checked + (True,)], hp_index)
    for i in np.flatnonzero(create).tolist():
        momentum_buffers[i] = buffers[i]


def _steps(step, n):
    """(hparam step values, hp_index) for a step given as an int or per tensor."""
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        if step < 1:
            raise ValueError(f"step must be >= 1 (the number of the step being taken), got {step}")
        return [int(step)], None
    steps = np.asarray(step)
    if steps.shape != (n,) or not np.issubdtype(steps.dtype, np.integer):
        raise ValueError(f"step must be an int or a sequence of {n} ints, one per parameter")
    if n and steps.min() < 1:
        raise ValueError("every step must be >= 1 (the number of the step being taken)")
    values, inverse = np.unique(steps, return_inverse=True)
    return values.tolist(), inverse.astype(np.uint32).reshape(-1)


def adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3, betas=(0.9, 0.999),
          eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled_weight_decay=False):
    """Adam step, in place (torch.optim.Adam's rule; see optkern.Adam).

    step: the number of the step being taken, counted from 1 (torch's state
    "step" after its increment): an int, or one int per parameter.
    exp_avgs, exp_avg_sqs (and max_exp_avg_sqs with amsgrad): the state
    arrays, zeros before the first step.
    """
    lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = check_adam(
        lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)
    params = _as_list(params, "params")
    values, hp_index = _steps(step, len(params))
    if amsgrad and max_exp_avg_sqs is None:
        raise ValueError("amsgrad=True needs max_exp_avg_sqs")
    sets = [(lr, beta1, beta2, eps, weight_decay, t, amsgrad, maximize, decoupled) for t in values]
    _core.adam(params, _as_list(grads, "grads"), _as_list(exp_avgs, "exp_avgs"),
               _as_list(exp_avg_sqs, "exp_avg_sqs"),
               _as_list(max_exp_avg_sqs, "max_exp_avg_sqs") if amsgrad else None, sets, hp_index)


def adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs=None, *, step, lr=1e-3, betas=(0.9, 0.999),
           eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
    """AdamW step, in place: adam_ with decoupled weight decay and
    weight_decay=1e-2 by default (torch.optim.AdamW's rule)."""
    adam_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step=step, lr=lr, betas=betas, eps=eps,
          weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
