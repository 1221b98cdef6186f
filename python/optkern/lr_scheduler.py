"""Learning-rate schedulers: torch.optim.lr_scheduler 2.13 over optkern's optimizers (docs/schedules.md).

Every scheduler of torch's, with its name, arguments, defaults, checks,
messages and numbers. A scheduler acts on its optimizer's param_groups
only: it writes each group's "lr" (CyclicLR and OneCycleLR also "momentum",
or the first of "betas", whichever the optimizer has) exactly as torch's
does, so the learning rates are torch's bit for bit, and it works with every
optkern optimizer.

    opt = optkern.SGD(params, lr=0.1, momentum=0.9)
    sched = optkern.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        ...                      # opt.step(grads) for each batch
        sched.step()

state_dict() holds what torch's holds, under the same keys (every attribute
but the optimizer; functions given as lr_lambda or scale_fn are left out,
callable objects are saved by their __dict__), so a state dict of torch's
loads here and the other way round. step(epoch), deprecated in torch, works
as torch's does, with its warning.

Where optkern differs, it is safer: a scheduler whose construction raises
has written nothing into the param groups, and a step that raises leaves
last_epoch as it was. A param group's lr must be a number here: a schedule
given as lr (optkern.schedules) already is a schedule.
"""

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager

from optkern.optim.optimizer import Optimizer
from optkern.schedules import Schedule

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
]

_EPOCH_DEPRECATED = ("The epoch argument of `scheduler.step()` is deprecated (as in torch): call `scheduler.step()` "
                     "without it. Given an epoch, a scheduler with a closed form uses it instead of stepping from "
                     "the current learning rate.")
_STEP_ORDER = ("Detected call of `lr_scheduler.step()` before `optimizer.step()`: call `optimizer.step()` first, "
               "or the first value of the learning rate schedule is skipped.")
_GET_LR_OUTSIDE_STEP = "To get the last learning rate computed by the scheduler, please use `get_last_lr()`."
_NO_MOMENTUM = "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"


def _check_optimizer(optimizer, scheduler):
    """An optkern optimizer whose lrs are numbers (a scheduler sets them)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer (optkern.optim.Optimizer)")
    for k, group in enumerate(optimizer.param_groups):
        if callable(group.get("lr")):
            raise TypeError(f"param group {k} has a schedule (a callable) as its lr, and {type(scheduler).__name__} "
                            f"sets the lr itself: give the optimizer a number as lr")


def _per_group(name, optimizer, value):
    """value as one entry per param group: a list or tuple must have one,
    anything else is repeated."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {count}.")
        return list(value)
    return [value] * count


def _group_values(optimizer, key):
    return [group[key] for group in optimizer.param_groups]


def _momentum_key(optimizer):
    """Where a group's momentum is, for CyclicLR and OneCycleLR: True for
    betas[0] (Adam and its kin), False for "momentum" (SGD and its kin)."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(_NO_MOMENTUM)
    return "betas" in optimizer.defaults


def _set_momentum(group, use_beta1, momentum):
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _start_momentum_cycle(optimizer, use_beta1, max_momentums, base_momentums):
    """CyclicLR's and OneCycleLR's start: momentum at its top, and both
    bounds recorded in the groups, as torch records them."""
    for high, low, group in zip(max_momentums, base_momentums, optimizer.param_groups):
        _set_momentum(group, use_beta1, high)
        group["max_momentum"] = high
        group["base_momentum"] = low


def _saved_callable(fn):
    """How torch saves a function-valued argument: nothing for a function or
    lambda, the attributes of a callable object. A Schedule is code too (a
    formula and its arguments, given again when the scheduler is made):
    nothing, which also keeps the state dict to plain values (optkern.save)."""
    return None if fn is None or isinstance(fn, (types.FunctionType, Schedule)) else fn.__dict__.copy()


@contextmanager
def _flag(scheduler, name):
    """scheduler.<name> is True inside the block (torch keeps these flags as
    attributes, so they are in its state dicts)."""
    setattr(scheduler, name, True)
    try:
        yield
    finally:
        setattr(scheduler, name, False)


class LRScheduler:
    """The base of the schedulers: torch.optim.lr_scheduler.LRScheduler.

    A subclass computes the next learning rates in get_lr() (torch's
    "chainable" form, from the groups' current lr, where torch's does) and,
    where torch's has one, in _get_closed_form_lr() (from base_lrs, for
    step(epoch)). last_epoch counts the steps; base_lrs are the groups'
    "initial_lr", which the first scheduler of an optimizer records.

    Making a scheduler sets the groups' lr to its first value: when resuming,
    make the scheduler before loading the optimizer's state dict.
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer, self)
        groups = optimizer.param_groups
        if last_epoch != -1:
            for k, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{k}] when resuming "
                                   f"scheduler with last_epoch >= 0.\nA resumed scheduler reads it from the "
                                   f"optimizer: load the optimizer's state dict first; last_epoch >= 0 is for "
                                   f"resuming only.")
        self.optimizer = optimizer
        for group in groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The step a scheduler takes when it is made: last_epoch -1 -> 0."""
        self._step_count = 0
        with _flag(self, "_is_initial"):
            self.step()

    def state_dict(self):
        """The scheduler's state: every attribute but the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Load a state_dict() (optkern's or torch's)."""
        self.__dict__.update(state_dict)

    def get_last_lr(self):
        """The learning rates of the groups after the last step, one per group."""
        return self._last_lr

    def get_lr(self):
        """The next learning rates (called by step(); use get_last_lr() to
        read them). A chainable scheduler multiplies each group's lr by
        _factor(): a number, a list with one per group, or None to leave
        the lrs as they are."""
        self._warn_outside_step()
        factor = self._factor()
        if factor is None:
            return _group_values(self.optimizer, "lr")
        groups = self.optimizer.param_groups
        factors = factor if isinstance(factor, list) else [factor] * len(groups)
        return [group["lr"] * f for group, f in zip(groups, factors)]

    def _factor(self):
        raise NotImplementedError

    def _warn_outside_step(self):
        if not self._get_lr_called_within_step:
            warnings.warn(_GET_LR_OUTSIDE_STEP, UserWarning, stacklevel=3)

    def step(self, epoch=None):
        """Advance the schedule by one (call it after optimizer.step()).
        epoch (deprecated): jump to that epoch instead, by the closed form
        where the scheduler has one."""
        if self._step_count == 1 and not self.optimizer._steps_taken:
            warnings.warn(_STEP_ORDER, UserWarning, stacklevel=2)
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        before = (self._step_count, self.last_epoch)
        self._step_count += 1
        try:
            self._update_lr(epoch)
        except BaseException:
            self._step_count, self.last_epoch = before
            raise

    def _update_lr(self, epoch=None):
        with _flag(self, "_get_lr_called_within_step"):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = self.get_lr() if closed_form is None else closed_form()
        self._set_lrs(values)

    def _set_lrs(self, values):
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise ValueError(f"the optimizer has {len(groups)} param groups but {type(self).__name__} computed "
                             f"{len(values)} learning rates: was a param group added after the scheduler was made?")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = _group_values(self.optimizer, "lr")


class _LambdaScheduler(LRScheduler):
    """LambdaLR and MultiplicativeLR: one function of the epoch per group."""

    #: whether the functions are checked to be callable (torch's LambdaLR does not)
    _check_callable = False

    def __init__(self, optimizer, lr_lambda, last_epoch):
        _check_optimizer(optimizer, self)
        count = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != count:
                raise ValueError(f"Expected {count} lr_lambdas, but got {len(lr_lambda)}")
            lr_lambdas = list(lr_lambda)
        else:
            lr_lambdas = [lr_lambda] * count
        for fn in lr_lambdas if self._check_callable else ():
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        self.lr_lambdas = lr_lambdas
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """As LRScheduler's; lr_lambdas holds None for each function or
        lambda (given again when the scheduler is made), and the attributes
        of each callable object."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [_saved_callable(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        saved = state_dict["lr_lambdas"]
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "lr_lambdas"})
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaScheduler):
    """lr = initial_lr * lr_lambda(epoch); lr_lambda: a function, or a list
    with one per param group (docs/schedules.md#lambdalr)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self):
        self._warn_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """lr *= lr_lambda(epoch) at each step (docs/schedules.md#multiplicativelr)."""

    _check_callable = True

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        super().__init__(optimizer, lr_lambda, last_epoch)

    def _factor(self):
        return None if self._is_initial else [fn(self.last_epoch) for fn in self.lr_lambdas]


class StepLR(LRScheduler):
    """lr *= gamma every step_size epochs (docs/schedules.md#steplr)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self):
        return None if self.last_epoch == 0 or self.last_epoch % self.step_size != 0 else self.gamma

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr *= gamma at each milestone (twice at one listed twice) (docs/schedules.md#multisteplr)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self):
        if self.last_epoch not in self.milestones:
            return None
        return self.gamma ** self.milestones[self.last_epoch]

    def state_dict(self):
        """As LRScheduler's, with the milestones as a plain dict {milestone:
        count} (equal to torch's Counter), which optkern.save can write."""
        state = super().state_dict()
        state["milestones"] = dict(self.milestones)
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)

    def _get_closed_form_lr(self):
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor for total_iters epochs, then initial_lr (docs/schedules.md#constantlr)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _factor(self):
        # On at the first step, off (its inverse) at total_iters.
        e = self.last_epoch
        return self.factor if e == 0 else (1.0 / self.factor if e == self.total_iters else None)

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor of initial_lr goes in a straight line from start_factor to
    end_factor over total_iters epochs: the usual warm-up (docs/schedules.md#linearlr)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _factor(self):
        if self.last_epoch == 0:
            return self.start_factor
        if self._is_initial or self.last_epoch > self.total_iters:
            return None
        # The ratio of this epoch's factor of initial_lr to the previous one's.
        change = self.end_factor - self.start_factor
        return 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)

    def _get_closed_form_lr(self):
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr *= gamma at every epoch (docs/schedules.md#exponentiallr)."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self):
        return None if self._is_initial else self.gamma  # a resumed scheduler does not step ahead of itself

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - epoch / total_iters) ** power, reached step by
    step, then constant (docs/schedules.md#polynomiallr)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def _factor(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return None
        return ((1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)) \
            ** self.power

    def _get_closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from initial_lr to eta_min over T_max epochs, and
    back over the next T_max, stepped as torch steps it: each lr from the
    previous one (docs/schedules.md#cosineannealinglr), which drifts from the
    closed form by rounding and follows changes made to lr from outside."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_outside_step()
        e, groups = self.last_epoch, self.optimizer.param_groups
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        if self._step_count == 1 and e > 0:  # made with last_epoch > 0: start from the closed form
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(e * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (e - 1 - self.T_max) % (2 * self.T_max) == 0:  # leaving the minimum, where the ratio below is 0/0
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * e / self.T_max)) / (1 + math.cos(math.pi * (e - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine annealing from initial_lr to eta_min over T_i epochs,
    then a restart at initial_lr with T_i *= T_mult, T_i = T_0 at first
    (docs/schedules.md#cosineannealingwarmrestarts). step(epoch) takes
    fractional epochs (a step per batch: step(epoch + i / iters))."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_outside_step()
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """One epoch on, or to `epoch` (not deprecated here: it may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch < self.T_0:
            self.T_i = self.T_0
            self.T_cur = epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # The restart this epoch falls after: T_0 (T_mult^n - 1) / (T_mult - 1) <= epoch.
            n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** n
        self.last_epoch = math.floor(epoch)
        with _flag(self, "_get_lr_called_within_step"):
            values = self.get_lr()
        self._set_lrs(values)


class CyclicLR(LRScheduler):
    """The cyclical learning rate (CLR): lr goes from base_lr up to max_lr
    over step_size_up steps and back over step_size_down, its amplitude
    scaled by mode ('triangular', 'triangular2', 'exp_range') or scale_fn;
    with cycle_momentum, momentum (or betas[0]) goes the other way between
    max_momentum and base_momentum (docs/schedules.md#cycliclr). Step it
    after every batch."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer, self)
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if cycle_momentum:
            use_beta1 = _momentum_key(optimizer)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        # Checked: now the param groups may be written.
        self.optimizer = optimizer
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = use_beta1
            self.base_momentums = base_momentums
            self.max_momentums = max_momentums
            if last_epoch == -1:
                _start_momentum_cycle(optimizer, use_beta1, max_momentums, base_momentums)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        """A built-in mode fixes what its scale is a function of."""
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """The amplitude's scale at x (the cycle number or the iteration, by scale_mode)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x  # exp_range

    def get_lr(self):
        """The next learning rates; also writes the next momentums into the
        param groups when cycle_momentum."""
        self._warn_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # where in the cycle, in [0, 1)
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * height * scale for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for low, high, group in zip(self.base_momentums, self.max_momentums, self.optimizer.param_groups):
                _set_momentum(group, self.use_beta1, high - (high - low) * height * scale)
        return lrs

    def state_dict(self):
        """As LRScheduler's; scale_fn is saved as LambdaLR saves its lambdas."""
        state = super().state_dict()
        state["_scale_fn_custom"] = _saved_callable(self._scale_fn_custom)
        return state

    def load_state_dict(self, state_dict):
        saved = state_dict["_scale_fn_custom"]
        super().load_state_dict({key: value for key, value in state_dict.items() if key != "_scale_fn_custom"})
        if saved is not None:
            self._scale_fn_custom.__dict__.update(saved)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    """The 1cycle policy: lr from max_lr / div_factor up to max_lr over the
    first pct_start of total_steps, then down to initial_lr / final_div_factor
    (three_phase: back to initial_lr first, then down), by cosine or linear
    annealing; with cycle_momentum, momentum (or betas[0]) goes the other way
    (docs/schedules.md#onecyclelr). Step it after every batch; a step past
    total_steps raises."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer, self)
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if cycle_momentum:
            use_beta1 = _momentum_key(optimizer)
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
        # Checked: now the param groups may be written.
        self.optimizer = optimizer
        self.total_steps = total_steps
        # Each phase ends at a step and goes from one group entry to another.
        up = float(pct_start * total_steps) - 1
        if three_phase:
            phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                       "max_momentum"),
                      (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        self._schedule_phases = [dict(zip(("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum"), p))
                                 for p in phases]
        self._anneal_func_type = anneal_strategy
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = use_beta1
            if last_epoch == -1:
                _start_momentum_cycle(optimizer, use_beta1, max_momentums, base_momentums)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        """From start (pct 0) to end (pct 1)."""
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        """The next learning rates; also writes the next momentums into the
        param groups when cycle_momentum."""
        self._warn_outside_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        phases = self._schedule_phases
        start = 0.0
        for k, phase in enumerate(phases):  # the phase this step is in
            if step <= phase["end_step"] or k == len(phases) - 1:
                break
            start = phase["end_step"]
        pct = (step - start) / (phase["end_step"] - start)
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                _set_momentum(group, self.use_beta1, momentum)
        return lrs


class _SchedulerList(LRScheduler):
    """SequentialLR and ChainedScheduler: schedulers of one optimizer, run
    by one; their state dicts hold the schedulers' ones."""

    def _check_schedulers(self, optimizer, schedulers):
        name = type(self).__name__
        for k, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {k} should have `optimizer` as its attribute.")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it requires additional "
                                 f"kwargs to be specified when calling `step`, but got one at index {k} in the given "
                                 f"schedulers sequence.")
            if optimizer != scheduler.optimizer:
                raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, but got scheduler "
                                 f"{type(scheduler).__name__} at index {k} has {scheduler.optimizer}, which is "
                                 f"different from {type(optimizer).__name__}.")

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "_schedulers"})
        for scheduler, saved in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(saved)


class SequentialLR(_SchedulerList):
    """schedulers[i] runs from milestones[i - 1] on (the first from the
    start), each restarting from its own epoch 0 (docs/schedules.md#sequentiallr)."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler, but got no scheduler.")
        self._check_schedulers(optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                             f"number of milestones to be equal to {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Making the schedulers stepped each of them once: back to the
        # initial learning rates, and to the epoch before.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def recursive_undo(self, sched=None):
        """Take back the initial step of every scheduler in `sched` (default:
        this one's), into nested SequentialLRs and ChainedSchedulers."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for scheduler in scheds._schedulers:
                self.recursive_undo(scheduler)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # its first epoch: restart it there
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerList):
    """Steps every scheduler at each step, in order, each acting on the lr
    the previous one left (docs/schedules.md#chainedscheduler)."""

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be chained, but got no "
                             f"scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        self._check_schedulers(optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")


class ReduceLROnPlateau(LRScheduler):
    """lr *= factor (not below min_lr) once a metric has not improved for
    more than `patience` steps, then waits `cooldown` steps; step(metric)
    (docs/schedules.md#reducelronplateau)."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        _check_optimizer(optimizer, self)
        count = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != count:
                raise ValueError(f"expected {count} min_lrs, got {len(min_lr)}")
            default_min_lr, min_lrs = None, list(min_lr)
        else:
            default_min_lr, min_lrs = min_lr, [min_lr] * count
        _check_modes(mode, threshold_mode)
        self.factor = factor
        self.optimizer = optimizer
        self.default_min_lr = default_min_lr
        self.min_lrs = min_lrs
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record one value of the metric (a number, or anything float()
        takes), and lower the learning rates if it has stopped improving."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATED, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self, epoch):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the `optimizer` ({len(groups)}) differs from when "
                                   f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due to a new "
                                   f"param group being added to the optimizer. Please modify the `min_lrs` field to "
                                   f"match the length of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:  # smaller changes are not worth making
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold)

    def _init_is_better(self, mode, threshold, threshold_mode):
        _check_modes(mode, threshold_mode)
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)


def _check_modes(mode, threshold_mode):
    if mode not in {"min", "max"}:
        raise ValueError(f"mode {mode} is unknown!")
    if threshold_mode not in {"rel", "abs"}:
        raise ValueError(f"threshold mode {threshold_mode} is unknown!")
