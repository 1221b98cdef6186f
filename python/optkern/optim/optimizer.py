"""The optimizer base class: torch.optim.Optimizer's interface over NumPy arrays."""

import numbers
import threading
from collections.abc import Mapping
from itertools import chain

import numpy as np

from optkern import _backend, _core
from optkern._checks import real, require
from optkern.clip import step_factors
from optkern.optim import _engine

__all__ = ["Optimizer", "torch_flags", "scheduled_lr"]


def scheduled_lr(lr, count=0):
    """The learning rate of a step: lr itself, or, when lr is a schedule (a
    callable, as optkern.schedules makes), its value at `count`, the number
    of steps the optimizer took before this one (docs/schedules.md#schedules-as-lr).
    An optimizer's constructor checks scheduled_lr(lr): a schedule's first value."""
    return lr(count) if callable(lr) else lr

def torch_flags(**flags):
    """torch.optim's implementation switches, accepted so torch code runs
    unchanged, and kept in the param groups as torch keeps them: pass
    exactly the switches the torch optimizer has (as keywords). optkern
    always runs a step as one fused multi-tensor kernel, so `foreach` and
    `fused` change nothing; it has no capturable (CUDA graph) or
    differentiable (autograd through the step) mode, so those must be False."""
    for name in ("foreach", "fused"):
        value = flags.get(name)
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name} must be None or a bool, got {value!r}")
    for name, what in (("capturable", "capturable (CUDA graph)"),
                       ("differentiable", "differentiable (autograd through the step)")):
        if name in flags:
            if flags[name]:
                raise ValueError(f"optkern has no {what} mode; {name} must be False")
            flags[name] = False
    unknown = set(flags) - {"foreach", "fused", "capturable", "differentiable"}
    if unknown:
        raise TypeError(f"not a torch.optim implementation switch: {sorted(unknown)}")
    return flags


_SIXTEEN_BIT = ("bfloat16", "float16")


def _precision(state_dtype=None, master_weights=False, stochastic_rounding=False, seed=0):
    """The precision options every elementwise optimizer takes
    (docs/precision.md), checked."""
    if state_dtype not in (None, "float32", "bfloat16"):
        raise ValueError(f'state_dtype must be None (the parameter\'s dtype), "float32" or "bfloat16", '
                         f"got {state_dtype!r}")
    for name, value in (("master_weights", master_weights), ("stochastic_rounding", stochastic_rounding)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be an int in [0, 2**64), got {seed!r}")
    if state_dtype == "bfloat16" or stochastic_rounding:
        _core.require_bfloat16()
    return {"state_dtype": state_dtype, "master_weights": bool(master_weights),
            "stochastic_rounding": bool(stochastic_rounding), "seed": int(seed)}


def _state_dtype(param_dtype, state_dtype):
    """The dtype of a parameter's states: its own (None), or state_dtype
    where the kernels have that signature (TypeError otherwise)."""
    if state_dtype is None or state_dtype == param_dtype.name:
        return param_dtype
    if param_dtype.name in _SIXTEEN_BIT and state_dtype == "float32" or \
            param_dtype.name == "float32" and state_dtype == "bfloat16":
        return np.dtype(np.float32) if state_dtype == "float32" else _core.bfloat16()
    raise TypeError(f"state_dtype={state_dtype!r} is not available for {param_dtype.name} parameters: "
                    "a bfloat16 or float16 parameter's states may be float32, a float32 one's bfloat16 "
                    "(docs/precision.md)")


_UNORDERED = ("optimizer parameters need to be organized in ordered collections, but the ordering of "
              "tensors in sets will change between runs. Please use a list instead.")


_NOT_A_DICT = "{} must be a list of arrays, not a dict (a dict is not a list of arrays); pass {}"
_PARAMS_HINT = "list(d.values()), or list(d.items()) for named parameters"


class _Plan:
    """What a step needs, flattened across param groups and kept between steps.

    params        every parameter, group by group, in order (checked for
                  overlaps with one another when the plan is built)
    sizes         the number of parameters in each group
    group_of      uint32 array: the group of each parameter
    states        {name: list aligned with params; None where not created}
    group_steps   when every parameter of each group has taken the same
                  number of steps (the usual case), those numbers, one per
                  group; else None. step_counts() has them per parameter.
    """

    __slots__ = ("params", "sizes", "group_of", "group_steps", "_steps", "states", "_prepared", "needed",
                 "_shaped", "master", "device")

    def __init__(self, params, sizes, state_names):
        #: the GPU device the parameters live on (optkern._backend), or None
        self.device = _checked_params(params)  # refuses overlapping parameters
        self.params = params
        self.sizes = sizes
        self.group_of = np.repeat(np.arange(len(sizes), dtype=np.uint32), sizes)
        self.group_steps = [0] * len(sizes)
        self._steps = None
        self.states = {name: [None] * len(params) for name in state_names}
        self._prepared = None
        self.needed = None  # Optimizer._needed_states remembers its answer here
        self._shaped = {}
        #: the float32 master copy of each 16-bit parameter (master_weights)
        self.master = [None] * len(params)

    def with_state(self, kind, name):
        """None when every parameter's shape has state `name` of `kind`,
        else a bool array of those whose shape has it."""
        if name not in self._shaped:
            mask = np.array([kind.state_shape(name, p.shape) is not None for p in self.params], dtype=bool)
            self._shaped[name] = None if mask.all() else mask
        return self._shaped[name]

    def prepare(self, states, kind):
        """What a step of `kind` hands to C for the state lists `states`
        ({name: list}, the lists that become plan.states; its scalar states
        hold 0-d float32 arrays): a _core.StateTable of each (their pointers,
        checked once) and the _core.WrittenIndex of the parameters and those
        states, which every gradient is checked against; on a GPU the lists
        themselves and an optkern.cuda._optim.Prepared. Rebuilt only when
        one of the lists changes (when state is created or loaded).
        """
        lists = list(states.values())
        cached = self._prepared
        if cached is None or len(cached[0]) != len(lists) or any(a is not b for a, b in zip(cached[0], lists)):
            if self.device is not None:  # the GPU's checks and plans, kept between steps
                from optkern.cuda._optim import Prepared

                cached = self._prepared = (lists, dict(states), Prepared())
                return cached[1], cached[2]
            rules = dict(zip(kind.states, kind.state_shapes))
            tables = {name: _core.StateTable(self.params, lst, name, name in kind.scalars, rules[name])
                      for name, lst in states.items()}
            written = _core.WrittenIndex([("params", self.params)] +
                                         [(f"the {name} of params", lst) for name, lst in states.items()])
            cached = self._prepared = (lists, tables, written)
        elif self.device is None:
            for table in cached[1].values():
                table.check()  # a state array made read-only since (flags.writeable = False)
        return cached[1], cached[2]

    def __getstate__(self):
        # The prepared tables hold binding objects (not picklable, and bound
        # to the arrays' addresses): a copy prepares its own at its next step.
        return {name: getattr(self, name) for name in self.__slots__ if name != "_prepared"}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)
        self._prepared = None

    def bounds(self):
        """(start, stop) of each group in the flat lists."""
        stops = np.cumsum(self.sizes).tolist()
        return list(zip([0] + stops[:-1], stops))

    def step_counts(self):
        """int64 array: the steps each parameter has taken (0: no state yet)."""
        if self._steps is None:
            self._steps = np.repeat(np.array(self.group_steps, dtype=np.int64), self.sizes)
        return self._steps

    def set_step_counts(self, steps):
        self._steps = steps
        firsts = [int(steps[a]) if b > a else 0 for a, b in self.bounds()]
        uniform = all((steps[a:b] == f).all() for (a, b), f in zip(self.bounds(), firsts))
        self.group_steps = firsts if uniform else None

    def advance(self, present):
        """Count a step for every parameter that had a gradient (present:
        None for all). The usual case touches one number per group."""
        if present is None and self.group_steps is not None:
            self.group_steps = [s + 1 for s in self.group_steps]
            self._steps = None
            return
        steps = self.step_counts().copy()
        if present is None:
            steps += 1
        else:
            steps[present] += 1
        self.set_step_counts(steps)


class _StateView(Mapping):
    """opt.state: the state of each parameter, keyed by the parameter array
    itself (looked up by identity), as torch's opt.state. Iteration and len()
    cover the parameters that have state. The values are the live arrays; the
    dicts are fresh views."""

    def __init__(self, optimizer):
        self._opt = optimizer

    def _position(self, param):
        plan = self._opt._sync()
        for i, p in enumerate(plan.params):
            if p is param:
                return plan, i
        raise KeyError("not a parameter of this optimizer")

    def __getitem__(self, param):
        """The parameter's state; {} before its first step (torch's state is a
        defaultdict(dict)). KeyError for an array that is not a parameter."""
        plan, i = self._position(param)
        return self._opt._state_entry(plan, i) or {}

    def __contains__(self, param):
        try:
            plan, i = self._position(param)
        except KeyError:
            return False
        return self._opt._state_entry(plan, i) is not None

    def __iter__(self):
        plan = self._opt._sync()
        return iter([p for i, p in enumerate(plan.params) if self._opt._state_entry(plan, i) is not None])

    def __len__(self):
        return sum(1 for _ in self)


class Optimizer:
    """Base class of optkern's optimizers, with torch.optim.Optimizer's interface.

    params: a list of arrays, or a list of param-group dicts
    ({"params": [...], "lr": ..., ...}); a group's missing hyperparameters
    take the optimizer's defaults. lr may be a schedule (a callable, see
    optkern.schedules): a step uses schedule(t), t the number of steps taken
    before it. Arrays must be float32 or float64,
    C-contiguous, writeable, and may not overlap one another.

    step(grads) updates every parameter in place, in one call into C.

    A subclass is declarative: it names its C descriptor (_kind), says how
    its hyperparameters are checked (_hparams) and, where it differs from
    the defaults below, its phase field, whether torch's state has a "step"
    entry and how new state arrays start. Everything else (which states a
    group needs, creating them, building the hyperparameter sets, the C
    call) is shared, here and in optim/_engine.py, with the functional forms.
    Muon overrides _update (its step is two C calls around matrix
    products). LBFGS, whose step takes a closure and whose state is one for
    all parameters, keeps the param groups, the checks and the state view of
    this class and replaces step and the state handling.
    Every public subclass is registered (Optimizer.registry()) and exported
    by optkern.optim and optkern.
    """

    #: the name of the optimizer's C descriptor (optkern._core.kinds())
    _kind = None
    #: the C field that differs per tensor: "step", "first_step" or None
    #: (see optim/_engine.py)
    _phase = None
    #: whether torch's state has a "step" entry
    _has_step = False
    #: whether the step count is one per param group, its "step" entry,
    #: as the reference keeps it (Adan's and AdEMAMix's), instead of one
    #: per parameter: every step() that is not skipped counts one for
    #: every group, and _hparams reads _next_group_step(group)
    _group_step = False
    #: max_grad_norm's clipping factor: None for clip_grad_norm_'s
    #: (docs/clipping.md), else a method (total, dtype) -> (total_norm,
    #: coef) of the total L2 norm of a step's gradients (a Python float),
    #: in the norm's dtype, for a reference that clips otherwise (Adan)
    _clip_coefficient = None
    #: how a new state array starts, called as _new_state(shape, dtype=...);
    #: np.empty where the first step writes it before reading it, a method
    #: where the start depends on a hyperparameter (Adagrad's sum)
    _new_state = staticmethod(np.zeros)

    _registered = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("optkern.optim.") and not cls.__name__.startswith("_"):
            Optimizer._registered[cls.__name__] = cls

    @staticmethod
    def registry():
        """{name: class} of optkern's optimizers (those of optkern.optim's
        modules; a subclass defined elsewhere is not registered)."""
        return dict(Optimizer._registered)

    @property
    def max_grad_norm(self):
        """None, or the largest L2 norm a step lets the gradients have: a
        step first computes the total norm of its gradients, as
        clip_grad_norm_(grads, max_grad_norm) would, and its kernel
        multiplies each gradient element by the clipping factor as it reads
        it. The result is bitwise that of clip_grad_norm_ followed by step,
        but the gradients are not written and are read twice instead of
        three times (docs/clipping.md#fused-into-the-step). The norm is in
        last_grad_norm."""
        return self._max_grad_norm

    @max_grad_norm.setter
    def max_grad_norm(self, value):
        if value is not None:
            value = real(value, "max_grad_norm")
            require(value > 0.0, "max_grad_norm must be positive (or None), got {}", value)
        self._max_grad_norm = value

    @property
    def _state_names(self):
        """Torch's names of the state arrays, from the C descriptor."""
        return _engine.kind(self._kind).states

    def __init__(self, params, defaults, max_grad_norm=None, **precision):
        # step(), state_dict(), load_state_dict() and add_param_group() hold
        # it: concurrent calls on one optimizer take effect in some order.
        self._lock = threading.Lock()
        #: the precision options (docs/precision.md): state_dtype,
        #: master_weights, stochastic_rounding, seed
        self.precision = _precision(**precision)
        self.max_grad_norm = max_grad_norm
        #: the total L2 norm of the last step's gradients, before clipping
        #: (what clip_grad_norm_ returns); None without max_grad_norm
        self.last_grad_norm = None
        self.defaults = dict(defaults)
        self.param_groups = []
        self._plan = None
        # The steps taken (step() calls that updated something): the count
        # a schedule given as lr is evaluated at (optax's count).
        self._steps_taken = 0
        if isinstance(params, np.ndarray):
            raise TypeError("params argument given to the optimizer should be an iterable of arrays "
                            "or dicts, but got a single numpy.ndarray; wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_UNORDERED)
        if isinstance(params, Mapping):
            raise TypeError(_NOT_A_DICT.format("params", _PARAMS_HINT))
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        """The optimizer's attributes but its lock (a lock cannot be copied
        or pickled; __setstate__ makes a new one)."""
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self.__dict__.setdefault("precision", _precision())

    # ----------------------------------------------------------------- groups

    def _hparams(self, group):
        """The group's hyperparameters, checked with torch's messages, as a
        dict of the C hyperparameter fields (the phase field excepted)."""
        raise NotImplementedError

    def _checked(self, group, count=None):
        """_hparams of the group as a step sees it: a schedule given as its
        lr is evaluated at `count` (None: the number of steps taken)."""
        lr = group.get("lr")
        if callable(lr):
            group = {**group, "lr": scheduled_lr(lr, self._steps_taken if count is None else count)}
        return self._hparams(group)

    def add_param_group(self, param_group):
        """Add a param group (a dict with "params" and any hyperparameters)."""
        with self._lock:
            self._add_param_group(param_group)

    def _add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError('a param group needs a "params" entry')
        if isinstance(params, np.ndarray):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_UNORDERED)
        elif isinstance(params, Mapping):
            raise TypeError(_NOT_A_DICT.format('a param group\'s "params"', _PARAMS_HINT))
        else:
            params = list(params)
        if params and isinstance(params[0], tuple):  # named parameters, as torch allows
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._checked(group)
        for p in params:
            if hasattr(p, "dtype"):
                _state_dtype(p.dtype, self.precision["state_dtype"])
        # Checks every array and refuses overlaps with the existing groups.
        _checked_params([p for g in self.param_groups for p in g["params"]] + params)
        self.param_groups.append(group)

    def _sync(self):
        """The plan for the current param_groups, rebuilt when they changed
        (state follows its parameter, matched by identity)."""
        groups = self.param_groups
        flat = groups[0]["params"] if len(groups) == 1 else list(chain.from_iterable(g["params"] for g in groups))
        plan = self._plan
        if plan is not None and _core.same_objects(flat, plan.params) and \
                plan.sizes == [len(g["params"]) for g in groups]:
            return plan
        new = _Plan(list(flat), [len(g["params"]) for g in groups], self._state_names)
        if plan is not None:
            where = {id(p): i for i, p in enumerate(plan.params)}
            old_steps, steps = plan.step_counts(), np.zeros(len(new.params), dtype=np.int64)
            for j, p in enumerate(new.params):
                i = where.get(id(p))
                if i is not None:
                    steps[j] = old_steps[i]
                    new.master[j] = plan.master[i]
                    for name in self._state_names:
                        new.states[name][j] = plan.states[name][i]
            new.set_step_counts(steps)
        self._plan = new
        return new

    # ------------------------------------------------------------------- step

    def step(self, grads):
        """Update every parameter in place from its gradient.

        grads: a sequence with one array per parameter, group by group, in
        order (the same shape and dtype as its parameter), or None for a
        parameter that has no gradient this step (it is left alone, as torch
        leaves a parameter whose .grad is None). Everything is checked
        before anything is written: on an exception nothing has changed.
        Steps taken from several threads at once run one after another.
        """
        with self._lock:
            self._step(grads)

    def _step(self, grads, unscale=None, factor=None):
        """step(grads), with the gradients multiplied by unscale (a
        GradScaler's 1/scale; None: not scaled) as they are read. With
        unscale, a step whose gradients hold an inf or NaN changes nothing
        and returns True; else returns False. factor: a number the
        gradients are multiplied by as they are read, unchecked (the mean
        over ranks of optkern.distributed); only without max_grad_norm and
        unscale."""
        if isinstance(grads, Mapping):
            raise TypeError(_NOT_A_DICT.format("grads", "one array per parameter, in the order of the param groups"))
        if isinstance(grads, np.ndarray) or not hasattr(grads, "__len__"):
            raise TypeError("grads must be a sequence with one array per parameter")
        grads = grads if type(grads) is list else list(grads)
        plan = self._sync()
        if len(grads) != len(plan.params):
            raise ValueError(f"expected {len(plan.params)} grads, one per parameter; got {len(grads)}")
        hparams = [self._checked(g) for g in self.param_groups]
        present = _core.present_mask(grads)
        if present is not None and not present.any():
            self._count_group_steps()  # the references count such a step
            return False
        scaling = None if factor is None else (factor, 1.0)
        if self._max_grad_norm is not None or unscale is not None:
            found_inf, norm, coef = step_factors(grads, self._max_grad_norm, unscale, self._clip_coefficient)
            if self._max_grad_norm is not None:
                self.last_grad_norm = norm
            if found_inf:
                return True
            scaling = (1.0 if unscale is None else unscale, coef)
        self._update(plan, grads, present, hparams, scaling)
        plan.advance(present)
        self._count_group_steps()
        self._steps_taken += 1
        return False

    @staticmethod
    def _next_group_step(group):
        """The number of the step a param group is about to take, from 1
        (_group_step): its "step" + 1."""
        return _as_step(group.get("step", 0)) + 1

    def _count_group_steps(self):
        """One more step in every param group's "step" (_group_step)."""
        if self._group_step:
            for group in self.param_groups:
                group["step"] = group.get("step", 0) + 1

    def _update(self, plan, grads, present, hparams, scaling=None):
        """Create the states the groups need (as the C descriptor says) and
        make the one C call, with the gradients scaled by `scaling`
        ((unscale, clip) factors, or None)."""
        kind = _engine.kind(self._kind)
        states, created = {}, None
        for name, only in self._needed_states(plan, kind, hparams):
            states[name], new = self._with_new_state(plan, present, name, only)
            if new is not None:
                created = new if created is None else created | new
        if self._phase == "step":
            uniform = present is None and plan.group_steps is not None
            phase = [t + 1 for t in plan.group_steps] if uniform else plan.step_counts() + 1
        elif self._phase == "first_step":
            phase = [0] * len(hparams) if created is None else created.astype(np.int64)
        else:
            phase = None
        sets, hp_index = _engine.hyperparameter_sets(hparams, self._phase, phase, plan.group_of, present)
        tables, written = plan.prepare(states, kind)
        master = self._master_copies(plan, present)
        rounding = (self.precision["seed"], plan.step_counts() + 1) if self.precision["stochastic_rounding"] else None
        _engine.run(kind, plan.params, grads, tables, sets, hp_index, written, scaling=scaling, master=master,
                    rounding=rounding)
        plan.states.update(states)
        if master is not None:
            plan.master = master

    def _master_copies(self, plan, present):
        """With master_weights, the list of float32 copies of the 16-bit
        parameters, made for those that take their first step now (a new
        list, committed once the kernel ran); else None."""
        if not self.precision["master_weights"]:
            return None
        master = list(plan.master)
        for i, p in enumerate(plan.params):
            if master[i] is None and p.dtype.name in _SIXTEEN_BIT and (present is None or present[i]):
                master[i] = p.astype(np.float32)
        return master

    def _needed_states(self, plan, kind, hparams):
        """[(state, None or a bool array of the parameters that need it)]
        for the groups' hyperparameters and the parameters' shapes, by the
        C descriptor's rules: remembered in the plan while the groups'
        values stay the same."""
        if plan.needed is not None and plan.needed[0] == hparams:
            return plan.needed[1]
        needs = [_engine.required_states(kind, hp, self._phase) for hp in hparams]
        wanted = []
        for name in kind.states:
            users = [name in need for need in needs]
            if not any(users):
                continue
            # created only for the parameters of the groups that need it,
            # whose shape has it
            only = None if all(users) else np.repeat(np.array(users), plan.sizes)
            shaped = plan.with_state(kind, name) if kind.shaped else None
            if shaped is not None:
                only = shaped if only is None else only & shaped
            wanted.append((name, only))
        plan.needed = (hparams, wanted)
        return wanted

    def _create_state(self):
        """Give every parameter the states its group's update needs now,
        before its first step, as a step would make them (torch's Adagrad
        does so at construction); the step counts stay 0."""
        plan = self._sync()
        hparams = [self._checked(g) for g in self.param_groups]
        for name, only in self._needed_states(plan, _engine.kind(self._kind), hparams):
            plan.states[name] = self._with_new_state(plan, None, name, only)[0]

    def _with_new_state(self, plan, present, name, only=None):
        """plan.states[name], with a new array (self._new_state) for each
        present parameter that lacks one (`only`, a bool array, narrows that
        down), and the bool array of those parameters (None: none). A new
        list is returned when something was added, and the caller commits it
        only once the kernel has run, so a step that raises leaves no
        half-made state behind."""
        lst = plan.states[name]
        has = _core.present_mask(lst)
        if has is None:
            return lst, None
        want = ~has
        if present is not None:
            want &= present
        if only is not None:
            want &= only
        if not want.any():
            return lst, None
        lst = list(lst)
        kind = _engine.kind(self._kind)
        scalar = name in kind.scalars
        for i in np.flatnonzero(want).tolist():
            p = plan.params[i]
            # a scalar state's first step writes it before reading it
            lst[i] = np.zeros((), np.float32) if scalar else self._new_state(
                kind.state_shape(name, p.shape), dtype=_state_dtype(p.dtype, self.precision["state_dtype"]))
            if plan.device is not None:  # made on the host, copied once
                lst[i] = plan.device.xp.asarray(lst[i])
        return lst, want

    # ------------------------------------------------------------ state dicts

    def _state_entry(self, plan, i):
        """The state of parameter i as torch lays it out, or None. A
        parameter with state arrays has its step, 0 before its first step
        (torch's Adagrad makes its state at construction)."""
        arrays = {name: plan.states[name][i] for name in self._state_names if plan.states[name][i] is not None}
        if plan.master[i] is not None:
            arrays["master_param"] = plan.master[i]
        step = int(plan.step_counts()[i])
        if self._has_step and (step > 0 or arrays):
            return {"step": step, **arrays}
        return arrays or None

    @property
    def state(self):
        return _StateView(self)

    def state_dict(self):
        """All state, laid out as torch's: {"state": {index: {...}}, "param_groups": [...]}.

        Parameters are numbered in order across groups. As with torch, the
        arrays are the live state, not copies: deep-copy the dict to keep a
        snapshot while training goes on. A group whose lr is a schedule is
        saved with lr None, and the dict then also holds "schedule_count",
        the steps taken (docs/schedules.md#schedules-as-lr).
        """
        with self._lock:
            return self._state_dict()

    def _state_dict(self):
        plan = self._sync()
        state = {}
        for i in range(len(plan.params)):
            entry = self._state_entry(plan, i)
            if entry is not None:
                state[i] = entry
        groups, start, scheduled = [], 0, False
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            if callable(packed.get("lr")):
                # A schedule is code, not state: it is not saved (as torch's
                # LambdaLR saves no lambda) and must be given again.
                packed["lr"], scheduled = None, True
            packed["params"] = list(range(start, start + len(g["params"])))
            start += len(g["params"])
            groups.append(packed)
        packed = {"state": state, "param_groups": groups}
        if self.precision["stochastic_rounding"]:
            packed["rounding_seed"] = self.precision["seed"]
        if scheduled:
            packed["schedule_count"] = self._steps_taken
        return packed

    def load_state_dict(self, state_dict):
        """Load a state_dict() (optkern's, or torch's with its tensors as
        arrays). State arrays are copied and cast to their parameter's dtype
        (or the state_dtype this optimizer keeps them in); a master copy
        ("master_param") is kept by an optimizer with master_weights and
        dropped by one without.
        A group saved with a schedule as its lr (lr None) keeps this
        optimizer's schedule, which it must have. Everything is checked
        before anything changes."""
        with self._lock:
            self._load_state_dict(state_dict)

    def _load_state_dict(self, state_dict):
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError('state_dict must be a dict with "state" and "param_groups"')
        saved_state, saved_groups = state_dict["state"], state_dict["param_groups"]
        if not isinstance(saved_state, Mapping):
            raise ValueError(f'the state dict\'s "state" must be a dict {{parameter index: state dict}}, '
                             f"got {type(saved_state).__name__}")
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError(f'the state dict\'s "param_groups" must be a list of dicts, got {type(saved_groups).__name__}')
        for k, s in enumerate(saved_groups):
            if not isinstance(s, Mapping):
                raise ValueError(f'the state dict\'s "param_groups" must be a list of dicts; entry {k} is a '
                                 f"{type(s).__name__}")
            if not isinstance(s.get("params"), (list, tuple)):
                raise ValueError(f'param group {k} of the state dict has no "params" list (the indices of its parameters)')
            for name, what in (("capturable", "capturable (CUDA graph)"),
                               ("differentiable", "differentiable (autograd through the step)")):
                if s.get(name):
                    raise ValueError(f"param group {k} of the state dict has {name}={s[name]!r}, but optkern has "
                                     f"no {what} mode; set it to False before loading")
        for saved_id, entry in saved_state.items():
            if not isinstance(entry, Mapping):
                raise ValueError(f"the state of parameter {saved_id!r} must be a dict {{name: value}}, "
                                 f"got {type(entry).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved_groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        plan = self._sync()
        position = {}
        for s, g_start in zip(saved_groups, np.cumsum([0] + plan.sizes[:-1]).tolist()):
            for k, saved_id in enumerate(s["params"]):
                position[saved_id] = g_start + k
        count = _as_count(state_dict.get("schedule_count", 0))
        new_groups, required = [], []
        kind = _engine.kind(self._kind)
        for index, (s, g) in enumerate(zip(saved_groups, self.param_groups)):
            # A dict from an older torch may lack newer hyperparameters:
            # they take the defaults, as torch's __setstate__ gives them.
            group = {**self.defaults, **{k: v for k, v in s.items() if k != "params"}}
            group["params"] = g["params"]
            if "lr" in s and s["lr"] is None:  # a schedule, not saved: this group's own is kept
                if not callable(g.get("lr")):
                    raise ValueError(f"param group {index} of the state dict had a schedule as its lr, which a state "
                                     f"dict does not hold: give the optimizer's param group {index} that schedule "
                                     f"(a callable lr) before loading")
                group["lr"] = g["lr"]
            required.append(_engine.required_states(kind, self._checked(group, count), self._phase))
            new_groups.append(group)
        steps = np.zeros(len(plan.params), dtype=np.int64)
        states = {name: [None] * len(plan.params) for name in self._state_names}
        master = [None] * len(plan.params)
        seed = state_dict.get("rounding_seed", self.precision["seed"])
        if self.precision["stochastic_rounding"]:
            seed = _precision(seed=seed)["seed"]
        for saved_id, entry in saved_state.items():
            if saved_id not in position:
                raise ValueError(f"state for parameter {saved_id!r}, which no param group lists")
            i = position[saved_id]
            p = plan.params[i]
            entry = self._saved_entry(_unwrapped(entry), p, saved_id)
            if any(v is not None for v in entry.values()):  # else no state, as an absent entry
                # A partial state would restart the step with old moments, or
                # run the update without one of its arrays: refuse it.
                needed = (("step",) if self._has_step else ()) + self._kept_names(required[int(plan.group_of[i])], p)
                for name in needed:
                    if entry.get(name) is None:
                        raise ValueError(f"the state of parameter {saved_id!r} lacks {name!r}, which its "
                                         f"param group's update needs")
            for name, value in entry.items():
                if name == "step":
                    if self._has_step and value is not None:
                        steps[i] = _as_step(value)
                    continue
                if name == "master_param":
                    # kept by an optimizer with master weights for a 16-bit
                    # parameter; dropped by one without (the parameter holds
                    # its rounded value)
                    if value is not None and self.precision["master_weights"] and p.dtype.name in _SIXTEEN_BIT:
                        copy = _array_like(value, np.float32, p)
                        if copy.shape != p.shape:
                            raise ValueError(f"state 'master_param' of parameter {saved_id} has shape {copy.shape}, "
                                             f"but the parameter has shape {p.shape}")
                        master[i] = copy
                    continue
                if name not in states:
                    raise ValueError(f"unexpected state {name!r} for parameter {saved_id}")
                if value is not None:
                    states[name][i] = self._loaded_array(name, value, p, saved_id)
        self.param_groups[:] = new_groups
        plan.set_step_counts(steps)
        plan.states = states
        plan.master = master
        self.precision["seed"] = seed
        self._steps_taken = count

    def _saved_entry(self, entry, p, saved_id):
        """A saved state entry in this optimizer's state names. An 8-bit
        optimizer's entry (state1/absmax1, ..., docs/precision.md#8-bit-states)
        is dequantised into the states it stands for."""
        if "state1" not in entry or "state1" in self._state_names:
            return entry
        names = _engine.kind(self._kind).states
        entry = dict(entry)
        for k in range(1, len(names) + 1):
            entry.pop(f"qmap{k}", None)  # bitsandbytes' copy of the map
            if f"state{k}" in entry:
                entry[names[k - 1]] = _dequantized(entry.pop(f"state{k}"), entry.pop(f"absmax{k}", None), k,
                                                   saved_id)
        return entry

    def _kept_names(self, required, p):
        """The state names a parameter p needs saved, of those its group's
        update requires."""
        kind = _engine.kind(self._kind)
        return tuple(name for name in required if kind.state_shape(name, p.shape) is not None)

    def _loaded_array(self, name, value, p, saved_id):
        """A saved state array, as this optimizer keeps it for p: copied,
        cast, its shape checked."""
        kind = _engine.kind(self._kind)
        scalar = name in kind.scalars  # one float32 (torch's 0-d tensor), not an array like p
        shape = () if scalar else kind.state_shape(name, p.shape)
        if shape is None:
            raise ValueError(f"unexpected state {name!r} for parameter {saved_id}: a parameter of shape "
                             f"{p.shape} has none")
        dtype = np.float32 if scalar else _state_dtype(p.dtype, self.precision["state_dtype"])
        array = _array_like(value, dtype, p)
        if array.shape != shape:
            rule = ("a scalar state has shape ()" if scalar else f"the parameter has shape {p.shape}"
                    + ("" if shape == p.shape else f" and needs one of shape {shape}"))
            raise ValueError(f"state {name!r} of parameter {saved_id} has shape {array.shape}, but {rule}")
        return array

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for k, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {k}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _checked_params(params):
    """The GPU device of a parameter list (None: NumPy arrays, for the C
    kernels), once each parameter is checked and none overlaps another."""
    device = _backend.device_for(params, "params")
    if device is None:
        _core.WrittenIndex([("params", params)])
    else:
        from optkern.cuda import _optim

        _optim.check_no_overlap(device, [(f"params[{i}]", _optim.checked_array(device, p, f"params[{i}]"))
                                         for i, p in enumerate(params)])
    return device


def _array_like(value, dtype, like):
    """A C-contiguous copy of `value` as `dtype`, on the side `like` lives
    on: a state saved on the GPU loads on the CPU, and back."""
    device = _backend.device_for([like])
    if device is not None:
        return device.xp.array(value, dtype=dtype, copy=True, order="C")
    return np.array(_on_host(value), dtype=dtype, copy=True, order="C")


def _on_host(value):
    """value, a CuPy array copied to the host (anything else as it is)."""
    return value.get() if _backend.is_device_array(value) else value


def _unwrapped(entry):
    """A saved state entry with bitsandbytes' wrapping of its 8-bit states
    (one dict under "__bnb_optimizer_quant_state__", bitsandbytes >= 0.45)
    undone."""
    wrapped = entry.get("__bnb_optimizer_quant_state__")
    if wrapped is None:
        return entry
    if not isinstance(wrapped, Mapping):
        raise ValueError(f"__bnb_optimizer_quant_state__ must be a dict, got {type(wrapped).__name__}")
    return {**{k: v for k, v in entry.items() if k != "__bnb_optimizer_quant_state__"}, **wrapped}


def _dequantized(codes, absmax, k, saved_id):
    """State k (1 or 2) of an 8-bit optimizer's entry as float32: its
    codes decoded with their block scales (docs/precision.md#8-bit-states),
    or the float32 array a small tensor keeps."""
    codes = np.asarray(_on_host(codes))
    if codes.dtype != np.uint8:
        return codes
    if absmax is None:
        raise ValueError(f"the 8-bit state{k} of parameter {saved_id} has no absmax{k} (its block scales)")
    return _core.dequantize_8bit(codes, np.asarray(_on_host(absmax)), k == 2)


def _as_count(value):
    """A state dict's schedule_count: the steps taken, a non-negative int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"the state dict's schedule_count (the steps taken) must be a non-negative int, "
                         f"got {value!r}")
    return int(value)


def _as_step(value):
    step = float(np.asarray(value, dtype=np.float64))
    if not 0 <= step < 2.0 ** 53 or step != int(step):  # also refuses inf and nan
        raise ValueError(f"a state step must be a non-negative whole number, got {value!r}")
    return int(step)
