"""Learning-rate schedules as functions of the step count (docs/schedules.md#schedule-functions).

A schedule maps t, the number of optimizer steps taken before the current
one (optax's `count`: the first step has t = 0), to a value. Give one to an
optimizer wherever it takes lr, as optax takes one:

    sched = optkern.schedules.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 10_000)
    opt = optkern.AdamW(params, lr=sched)      # step t uses sched(t)

or call it: sched(t) is a float for a number t, and an array for an array
of counts (sched(np.arange(10_000)) for a plot). The functions that optax
has keep optax's names, arguments and edge cases; warmup_stable_decay_schedule
and inverse_sqrt_schedule are optkern's own. A schedule is a Schedule
object: picklable, with a repr that names its arguments.
"""

import math

import numpy as np

__all__ = [
    "Schedule",
    "constant_schedule",
    "linear_schedule",
    "polynomial_schedule",
    "piecewise_constant_schedule",
    "exponential_decay",
    "cosine_decay_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_stable_decay_schedule",
    "inverse_sqrt_schedule",
    "join_schedules",
]


class Schedule:
    """A schedule: schedule(t) is its value after t steps.

    `formula(t, **arguments)` computes it on a float64 array of counts. A
    Schedule keeps the name of the function that made it and the arguments
    it was given (`described`), so it pickles, copies, prints and compares
    as what it is.
    """

    def __init__(self, name, formula, arguments, described=None):
        self.name = name
        self.formula = formula
        self.arguments = arguments
        self.described = arguments if described is None else described

    def values(self, counts):
        """The values at `counts`, a float64 array, as an array."""
        return self.formula(counts, **self.arguments)

    def __call__(self, count):
        value = self.values(np.asarray(count, dtype=np.float64))
        return float(value) if np.ndim(value) == 0 else value

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.described.items())
        return f"{self.name}({arguments})"

    def __eq__(self, other):
        """Equal schedules: the same formula with the same arguments (a copy
        equals its original)."""
        if not isinstance(other, Schedule):
            return NotImplemented
        return (self.name, self.formula, self.arguments) == (other.name, other.formula, other.arguments)

    def __hash__(self):
        return hash((self.name, self.formula))


# --------------------------------------------------------------- formulas
# Each takes the counts t (a float64 array) first; docs/schedules.md has
# them written out.

def _constant(t, value):
    return np.full(np.shape(t), value, dtype=np.float64)


def _polynomial(t, init_value, end_value, power, transition_steps, transition_begin):
    done = np.clip(t - transition_begin, 0, transition_steps)
    return (init_value - end_value) * (1 - done / transition_steps) ** power + end_value


def _piecewise_constant(t, init_value, boundaries, scales):
    value = np.full(np.shape(t), init_value, dtype=np.float64)
    for boundary, scale in zip(boundaries, scales):
        value = np.where(t >= boundary, scale * value, value)
    return value


def _exponential(t, init_value, transition_steps, decay_rate, transition_begin, staircase, end_value):
    elapsed = t - transition_begin
    rate = elapsed / transition_steps
    if staircase:
        rate = np.floor(rate)
    # Before transition_begin the value is init_value exactly: the power is
    # taken of a clipped exponent, never of a negative one.
    value = np.where(elapsed <= 0, init_value, init_value * decay_rate ** np.maximum(rate, 0))
    if end_value is not None:
        value = (np.maximum if decay_rate < 1.0 else np.minimum)(value, end_value)
    return value


def _cosine(t, init_value, decay_steps, alpha, exponent):
    done = np.minimum(t, decay_steps)
    cosine = 0.5 * (1 + np.cos(math.pi * done / decay_steps))
    return init_value * ((1 - alpha) * cosine ** exponent + alpha)


def _decay(t, peak_value, end_value, decay_steps, decay_shape):
    done = np.clip(t, 0, decay_steps) / decay_steps
    if decay_shape == "linear":
        return peak_value + (end_value - peak_value) * done
    if decay_shape == "cosine":
        return end_value + (peak_value - end_value) * 0.5 * (1 + np.cos(math.pi * done))
    return end_value + (peak_value - end_value) * (1 - np.sqrt(done))  # "1-sqrt"


def _inverse_sqrt(t, peak_value, warmup_steps):
    # t counts from the end of the warm-up (join_schedules' boundary).
    return peak_value * np.sqrt(warmup_steps / (np.maximum(t, 0) + warmup_steps))


def _joined(t, schedules, boundaries):
    value = schedules[0].values(t)
    for boundary, schedule in zip(boundaries, schedules[1:]):
        value = np.where(t < boundary, value, schedule.values(t - boundary))
    return value


# ------------------------------------------------------------ schedules

def _named(name, schedule, **described):
    """`schedule` (a composite), printed as name(**described)."""
    return Schedule(name, schedule.formula, schedule.arguments, described)


def constant_schedule(value):
    """`value` at every step."""
    return Schedule("constant_schedule", _constant, dict(value=value))


def polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin=0):
    """init_value for transition_begin steps, then a polynomial of degree
    `power` to end_value over transition_steps, then end_value. As optax: a
    transition_steps <= 0 makes it constant at init_value, a negative
    transition_begin counts as 0."""
    if transition_steps <= 0:
        return constant_schedule(init_value)
    return Schedule("polynomial_schedule", _polynomial,
                    dict(init_value=init_value, end_value=end_value, power=power, transition_steps=transition_steps,
                         transition_begin=max(transition_begin, 0)))


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """polynomial_schedule with power 1: a straight line from init_value to
    end_value over transition_steps, from step transition_begin."""
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def piecewise_constant_schedule(init_value, boundaries_and_scales=None):
    """init_value, multiplied by `scale` from step `boundary` on for each
    {boundary: scale} (torch's MultiStepLR is {m: gamma for m in milestones}).
    Scales must be non-negative."""
    items = sorted((boundaries_and_scales or {}).items())
    if any(not scale >= 0.0 for _, scale in items):
        raise ValueError("`piecewise_constant_schedule` expects non-negative scale factors")
    return Schedule("piecewise_constant_schedule", _piecewise_constant,
                    dict(init_value=init_value, boundaries=tuple(b for b, _ in items),
                         scales=tuple(s for _, s in items)),
                    dict(init_value=init_value, boundaries_and_scales=boundaries_and_scales))


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0, staircase=False,
                      end_value=None):
    """init_value * decay_rate ** ((t - transition_begin) / transition_steps)
    from step transition_begin on (init_value before), the exponent floored
    with staircase=True (torch's StepLR: transition_steps=step_size,
    decay_rate=gamma, staircase=True). end_value bounds it: from below when
    decay_rate < 1, else from above. As optax: transition_steps <= 0 or
    decay_rate == 0 make it constant at init_value, a negative
    transition_begin counts as 0."""
    if transition_steps <= 0 or decay_rate == 0:
        return constant_schedule(init_value)
    return Schedule("exponential_decay", _exponential,
                    dict(init_value=init_value, transition_steps=transition_steps, decay_rate=decay_rate,
                         transition_begin=max(transition_begin, 0), staircase=bool(staircase), end_value=end_value))


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """Half a cosine from init_value down to alpha * init_value over
    decay_steps, then alpha * init_value; exponent raises the cosine factor
    to a power. torch's CosineAnnealingLR in closed form with
    eta_min = alpha * init_value."""
    if not decay_steps > 0:
        raise ValueError(f"The cosine_decay_schedule requires positive decay_steps, got decay_steps={decay_steps!r}.")
    return Schedule("cosine_decay_schedule", _cosine,
                    dict(init_value=init_value, decay_steps=decay_steps, alpha=alpha, exponent=exponent))


def join_schedules(schedules, boundaries):
    """schedules[0] before boundaries[0], then schedules[i + 1] from
    boundaries[i] on, each counting its steps from its own boundary."""
    schedules, boundaries = tuple(schedules), tuple(boundaries)
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(f"join_schedules needs one schedule more than boundaries; got {len(schedules)} "
                         f"schedules and {len(boundaries)} boundaries")
    for k, schedule in enumerate(schedules):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedules[{k}] must be a Schedule (made by optkern.schedules), "
                            f"got {type(schedule).__name__}")
    return Schedule("join_schedules", _joined, dict(schedules=schedules, boundaries=boundaries))


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0, exponent=1.0):
    """A straight line from init_value to peak_value over warmup_steps, then
    a cosine from peak_value to end_value that ends at step decay_steps (the
    warm-up included, as optax counts it)."""
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    joined = join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                             cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent)],
                            [warmup_steps])
    return _named("warmup_cosine_decay_schedule", joined, init_value=init_value, peak_value=peak_value,
                  warmup_steps=warmup_steps, decay_steps=decay_steps, end_value=end_value, exponent=exponent)


_DECAY_SHAPES = ("linear", "cosine", "1-sqrt")


def warmup_stable_decay_schedule(init_value, peak_value, warmup_steps, stable_steps, decay_steps, end_value=0.0,
                                 decay_shape="linear"):
    """Warm-up, stable, decay (WSD): a straight line from init_value to
    peak_value over warmup_steps, peak_value for stable_steps, then down to
    end_value over decay_steps, "linear", "cosine" or "1-sqrt" in shape,
    then end_value. optax has no WSD schedule: these arguments are optkern's."""
    for name, steps in (("warmup_steps", warmup_steps), ("stable_steps", stable_steps)):
        if not steps >= 0:
            raise ValueError(f"{name} must be >= 0, got {steps!r}")
    if not decay_steps > 0:
        raise ValueError(f"decay_steps must be > 0, got {decay_steps!r}")
    if decay_shape not in _DECAY_SHAPES:
        raise ValueError(f"decay_shape must be one of {_DECAY_SHAPES}, got {decay_shape!r}")
    decay = Schedule("decay", _decay, dict(peak_value=peak_value, end_value=end_value, decay_steps=decay_steps,
                                           decay_shape=decay_shape))
    joined = join_schedules([linear_schedule(init_value, peak_value, warmup_steps), constant_schedule(peak_value),
                             decay], [warmup_steps, warmup_steps + stable_steps])
    return _named("warmup_stable_decay_schedule", joined, init_value=init_value, peak_value=peak_value,
                  warmup_steps=warmup_steps, stable_steps=stable_steps, decay_steps=decay_steps, end_value=end_value,
                  decay_shape=decay_shape)


def inverse_sqrt_schedule(init_value, peak_value, warmup_steps):
    """A straight line from init_value to peak_value over warmup_steps, then
    peak_value * sqrt(warmup_steps / t) (the Transformer's schedule). optax
    has none: these arguments are optkern's. warmup_steps must be > 0."""
    if not warmup_steps > 0:
        raise ValueError(f"warmup_steps must be > 0, got {warmup_steps!r}")
    decay = Schedule("inverse_sqrt", _inverse_sqrt, dict(peak_value=peak_value, warmup_steps=warmup_steps))
    joined = join_schedules([linear_schedule(init_value, peak_value, warmup_steps), decay], [warmup_steps])
    return _named("inverse_sqrt_schedule", joined, init_value=init_value, peak_value=peak_value,
                  warmup_steps=warmup_steps)
