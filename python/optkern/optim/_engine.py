"""The one path every optimizer update takes.

An optimizer class's step() and its functional form (optkern.functional)
both end here: they check their hyperparameters, then hand this module the
tensors, the state lists and one hyperparameter dict per param group (the
fields of the C hyperparameter struct, optkern/optim.h), and it makes the
one C call. The C library describes each optimizer by data (optkern._core
.kinds(): its hyperparameter fields, its states, which states a set needs),
so nothing here is written per optimizer.

A set's "phase" is the one field that may differ between the tensors of a
group: "step" (the number of the step being taken, from 1: Adam's bias
corrections) or "first_step" (1 for a tensor whose state is created by this
step: SGD's momentum buffer becomes a copy of the gradient). A group's
field that depends on the phase is given as a function of it (ADOPT's clip,
a function of the step), evaluated for each set.
"""

import numbers
from itertools import chain

import numpy as np

from optkern import _backend, _core

__all__ = ["kind", "at_phase", "hyperparameter_sets", "required_states", "run", "run_first_steps", "as_list",
           "step_phase"]

def kind(name):
    """The C library's description of optimizer `name` ("sgd", "adam")."""
    return _core.kinds()[name]


def at_phase(group, phase_field, value):
    """The set of a group ({field: value} without its phase) at one value
    of its phase: the phase field added, and each field given as a
    function of the phase evaluated at it."""
    fields = {name: v(value) if callable(v) else v for name, v in group.items()}
    fields[phase_field] = value
    return fields


def required_states(kind, group, phase_field):
    """The states a tensor of a param group needs ({field: value} without
    its phase): the C descriptor's rule, asked with a placeholder phase."""
    return kind.required_states(group if phase_field is None else at_phase(group, phase_field, 1))


def hyperparameter_sets(groups, phase_field=None, phase=None, group_of=None, present=None):
    """The hyperparameter sets of one C call, and the set of each tensor.

    groups     one dict per param group: the C fields but the phase
    phase      None (no phase field), one value per group (a list), or one
               per tensor (an int64 array)
    group_of   uint32 array, the group of each tensor (None: one group)
    present    bool array, the tensors that take part (None: all)

    Returns (sets, hp_index): one set per (group, phase) pair in use, and a
    uint32 array of each tensor's set (None when there is one set).
    """
    if phase is None or type(phase) is list:
        sets = groups if phase is None else [at_phase(g, phase_field, p) for g, p in zip(groups, phase)]
        return sets, (None if len(sets) == 1 else group_of)
    n = len(phase)
    idx = None if present is None else np.flatnonzero(present)
    ph = phase if idx is None else phase[idx]
    if group_of is None:
        group = np.zeros(len(ph), dtype=np.uint32)
    else:
        group = group_of if idx is None else group_of[idx]
    # The distinct (group, phase) pairs, sorted, and each tensor's pair: a
    # sort on both columns (packing them into one integer would mix groups
    # up once a phase, a step count, reaches the bits of the group).
    order = np.lexsort((ph, group))
    g_sorted, p_sorted = group[order], ph[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (g_sorted[1:] != g_sorted[:-1]) | (p_sorted[1:] != p_sorted[:-1])
    inverse = np.empty(len(order), dtype=np.uint32)
    inverse[order] = np.cumsum(first) - 1
    sets = [at_phase(groups[g], phase_field, p) for g, p in zip(g_sorted[first].tolist(), p_sorted[first].tolist())]
    if idx is None:
        return sets, inverse
    hp_index = np.zeros(n, dtype=np.uint32)
    hp_index[idx] = inverse
    return sets, hp_index


def run(kind, params, grads, states, sets, hp_index=None, written=None, work=None, scaling=None, master=None,
        rounding=None):
    """One C call: states is {state name: list, StateTable or None}; a
    state missing from it is absent for every tensor. work, likewise, holds
    the lists of the kind's work arrays (kind.work: Muon's "update").
    scaling: None, or the (unscale, clip) factors the kernel multiplies
    each gradient by as it reads it. master, rounding: the float32 master
    copies and the stochastic rounding (seed, step numbers), as
    optkern._core.step takes them (docs/precision.md). CuPy arrays run on
    the GPU (optkern.cuda; docs/gpu.md), NumPy arrays on the C kernels;
    there `written` is an optkern.cuda._optim.Prepared (or None)."""
    device = _backend.device_for(chain(params, grads), "params and grads")
    if device is not None:
        from optkern.cuda import _optim

        _optim.step(device, kind, params, grads, tuple(states.get(name) for name in kind.states), sets, hp_index,
                    scaling, master, rounding, written,
                    None if work is None else tuple(work.get(name) for name in kind.work))
        return
    _core.step(kind, params, grads, tuple([states.get(name) for name in kind.states]), sets, hp_index, written,
               None if work is None else tuple([work.get(name) for name in kind.work]), scaling, master, rounding)


def run_first_steps(kind, params, grads, hp, lists, new_state):
    """A functional form's call for an optimizer whose first step writes its
    states before reading them (phase "first_step": SGD's momentum buffer,
    Rprop's prev and step_size).

    lists: {state name: (argument name, the caller's list)}, one array or
    None per parameter in each. A parameter whose entries are all None
    takes its first step: its arrays are made (new_state(shape, dtype=...))
    and put into the caller's lists, which must then be lists, once the
    kernel has run.
    """
    given = {}
    for name, (arg, items) in lists.items():
        given[name] = as_list(items, arg)
        if len(given[name]) != len(params):
            raise ValueError(f"expected {len(params)} {arg}, got {len(given[name])}")
    masks = [_core.present_mask(lst) for lst in given.values()]
    if all(m is None for m in masks):
        run(kind, params, grads, given, [{**hp, "first_step": False}])
        return
    present = [np.ones(len(params), dtype=bool) if m is None else m for m in masks]
    has = present[0]
    args = [arg for arg, _ in lists.values()]
    if any(not np.array_equal(has, m) for m in present[1:]):
        raise ValueError(f"{' and '.join(args)} must have their None entries (first steps) at the same places")
    for arg, items in lists.values():
        if not isinstance(items, list):
            raise TypeError(f"{arg} holds None entries to be created, so it must be a list")
    has_grad = _core.present_mask(grads)
    create = ~has if has_grad is None else ~has & has_grad
    made = {name: list(lst) for name, lst in given.items()}
    device = _backend.device_for(params, "params")
    for i in np.flatnonzero(create).tolist():
        p = params[i]
        if not isinstance(p, np.ndarray) and not _backend.is_device_array(p):
            raise TypeError(f"params[{i}] must be a numpy.ndarray (or a cupy.ndarray), got {type(p).__name__}")
        for lst in made.values():
            state = new_state(p.shape, dtype=p.dtype)
            lst[i] = state if device is None else device.xp.asarray(state)  # made on the host, copied once
    sets, hp_index = hyperparameter_sets([hp], "first_step", (~has).astype(np.int64))
    run(kind, params, grads, made, sets, hp_index)
    for name, (_, items) in lists.items():
        for i in np.flatnonzero(create).tolist():
            items[i] = made[name][i]


def as_list(items, name):
    """A functional form's list argument, as a list (TypeError for an array
    or a non-sequence)."""
    if isinstance(items, dict):
        raise TypeError(f"{name} must be a sequence of arrays (a list), not a dict (a dict is not a list of arrays)")
    if isinstance(items, np.ndarray) or not hasattr(items, "__len__"):
        raise TypeError(f"{name} must be a sequence of arrays (a list), not {type(items).__name__}")
    return items if type(items) is list else list(items)


def step_phase(step, n):
    """A functional form's `step` (the number of the step being taken, an
    int or one per tensor) as a phase for hyperparameter_sets."""
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        if step < 1:
            raise ValueError(f"step must be >= 1 (the number of the step being taken), got {step}")
        return [int(step)]
    steps = np.asarray(step)
    if steps.shape != (n,) or not np.issubdtype(steps.dtype, np.integer):
        raise ValueError(f"step must be an int or a sequence of {n} ints, one per parameter")
    if n and steps.min() < 1:
        raise ValueError("every step must be >= 1 (the number of the step being taken)")
    return steps.astype(np.int64)
