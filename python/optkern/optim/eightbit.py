"""8-bit optimizer states (docs/precision.md#8-bit-states): bitsandbytes'
Adam8bit, AdamW8bit, SGD8bit, Lion8bit, RMSprop8bit and Adagrad8bit.

Each keeps its states as bitsandbytes does, under its names: state1 (and
state2), uint8 codes of the parameter's shape, and absmax1 (and absmax2),
one float32 scale per block of 256 elements; a parameter with fewer than
min_8bit_size elements keeps float32 state1 (and state2) instead. A step
runs the update of optkern's 32-bit optimizer (its kernel's per-element
rule, on the states dequantised block by block in L1) and quantises the
states again, in one pass (ok_optimizer_step_8bit).

bitsandbytes' arguments that optkern cannot honour are refused, with the
reason: optim_bits other than 8 (use the 32-bit optimizer), percentile
clipping other than 100, max_unorm other than 0, block_wise=False, skip_zeros;
is_paged is accepted and does nothing, as bitsandbytes' own CPU path does.
"""

import numpy as np

from optkern import _core
from optkern.optim import _engine
from optkern.optim.adagrad import _hparams as _adagrad
from optkern.optim.adam import _hparams as _adam
from optkern.optim.lion import _hparams as _lion
from optkern.optim.optimizer import Optimizer, _array_like, _dequantized, _on_host, scheduled_lr
from optkern.optim.rmsprop import _hparams as _rmsprop
from optkern.optim.sgd import _hparams as _sgd

__all__ = ["Adam8bit", "AdamW8bit", "SGD8bit", "Lion8bit", "RMSprop8bit", "Adagrad8bit"]

BLOCK = 256


def _bnb_options(optim_bits=8, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True,
                 is_paged=False, max_unorm=0.0, skip_zeros=False):
    """bitsandbytes' common arguments, checked: what optkern does not have
    is refused; min_8bit_size is kept."""
    if optim_bits != 8:
        raise ValueError(f"optim_bits={optim_bits!r}: the 8-bit optimizers keep 8-bit states; use the 32-bit "
                         "optimizer (optkern.Adam, ...) for 32-bit ones")
    if args is not None:
        raise ValueError("args (bitsandbytes' GlobalOptimManager arguments) is not supported; pass the keywords")
    if percentile_clipping != 100:
        raise ValueError(f"percentile_clipping={percentile_clipping!r} is not supported (only 100: no clipping); "
                         "clip with optkern.clip_grad_norm_")
    if not block_wise:
        raise ValueError("block_wise=False is not supported: the states are quantised in blocks of 256")
    if max_unorm != 0.0:
        raise ValueError(f"max_unorm={max_unorm!r} is not supported (only 0.0)")
    if skip_zeros:
        raise ValueError("skip_zeros=True is not supported")
    if not isinstance(min_8bit_size, int) or isinstance(min_8bit_size, bool) or min_8bit_size < 0:
        raise ValueError(f"min_8bit_size must be an int >= 0, got {min_8bit_size!r}")
    return {"min_8bit_size": min_8bit_size, "is_paged": bool(is_paged)}


def quantize(x, unsigned_map=False):
    """(codes, absmax): an array's 8-bit codes (uint8, its shape) and block
    scales (float32, one per 256 elements in C order), signed map or
    unsigned (docs/precision.md#8-bit-states)."""
    return _core.quantize_8bit(x, unsigned_map)


def dequantize(codes, absmax, unsigned_map=False):
    """The float32 values of 8-bit codes and their block scales."""
    return _core.dequantize_8bit(codes, absmax, unsigned_map)


class _Optimizer8bit(Optimizer):
    """What the 8-bit optimizers share: their states, created and stepped
    as bitsandbytes keeps them (the module's docstring)."""

    _has_step = True
    #: how many states the 8-bit form keeps (optim/eightbit.h)
    _states = 1

    def __init__(self, params, defaults, options):
        self.min_8bit_size = options["min_8bit_size"]
        self.is_paged = options["is_paged"]
        super().__init__(params, defaults)

    @property
    def _state_names(self):
        return tuple(n for k in range(1, self._states + 1) for n in (f"state{k}", f"absmax{k}"))

    def _eightbit(self, p):
        return p.size >= self.min_8bit_size

    @staticmethod
    def _wide_dtype(p):
        """The dtype of the 32-bit states of a parameter under min_8bit_size."""
        return np.float64 if p.dtype == np.float64 else np.float32

    def _new_states(self, p):
        """A parameter's states before its first step."""
        if not self._eightbit(p):
            return {f"state{k}": np.zeros(p.shape, self._wide_dtype(p)) for k in range(1, self._states + 1)}
        if p.dtype == np.float64:
            raise TypeError("8-bit states are for float32, bfloat16 and float16 parameters, not float64 "
                            f"(a float64 parameter of {p.size} >= min_8bit_size elements)")
        blocks = -(-p.size // BLOCK)
        made = {}
        for k in range(1, self._states + 1):
            made[f"state{k}"] = np.zeros(p.shape, np.uint8)
            made[f"absmax{k}"] = np.zeros(blocks, np.float32)
        return made

    # ------------------------------------------------------------ state dicts
    # An 8-bit optimizer loads its own entries (and bitsandbytes'), and a
    # 32-bit optimizer's, whose states it quantises; a 32-bit optimizer
    # loads an 8-bit one's by dequantising (Optimizer._saved_entry).

    def _saved_entry(self, entry, p, saved_id):
        names = _engine.kind(self._kind).states
        entry = dict(entry)
        for k in range(1, self._states + 1):
            qmap = entry.pop(f"qmap{k}", None)  # bitsandbytes saves its map: it must be this one
            if qmap is not None and not np.array_equal(np.asarray(qmap, dtype=np.float32).ravel(),
                                                       _core.q8_map(k == 2)):
                raise ValueError(f"qmap{k} of parameter {saved_id} is not bitsandbytes' dynamic "
                                 f"{'unsigned' if k == 2 else 'signed'} map, the only one optkern decodes")
            value = entry.pop(names[k - 1], None)
            if value is not None:  # a 32-bit optimizer's state
                if f"state{k}" in entry:
                    raise ValueError(f"the state of parameter {saved_id} has both {names[k - 1]!r} and 'state{k}'")
                entry[f"state{k}"] = value
                if self._phase != "step":  # torch's SGD keeps no step, which this update does not read
                    entry.setdefault("step", 0)
            codes = entry.get(f"state{k}")
            if codes is None:
                continue
            codes = np.asarray(_on_host(codes))
            if self._eightbit(p) and codes.dtype != np.uint8:
                entry[f"state{k}"], entry[f"absmax{k}"] = _core.quantize_8bit(codes, k == 2)
            elif not self._eightbit(p) and codes.dtype == np.uint8:
                entry[f"state{k}"] = _dequantized(codes, entry.pop(f"absmax{k}", None), k, saved_id)
        return entry

    def _kept_names(self, required, p):
        return tuple(f"{name}{k}" for k in range(1, self._states + 1)
                     for name in (("state", "absmax") if self._eightbit(p) else ("state",)))

    def _loaded_array(self, name, value, p, saved_id):
        if name.startswith("absmax") and not self._eightbit(p):
            raise ValueError(f"unexpected state {name!r} for parameter {saved_id}: a parameter of {p.size} < "
                             f"min_8bit_size={self.min_8bit_size} elements keeps 32-bit states")
        if name.startswith("absmax"):
            dtype, shape = np.float32, (-(-p.size // BLOCK),)
        else:
            dtype, shape = (np.uint8 if self._eightbit(p) else self._wide_dtype(p)), p.shape
        array = _array_like(value, dtype, p)  # on the parameter's side: CPU or GPU
        if array.shape != shape:
            raise ValueError(f"state {name!r} of parameter {saved_id} has shape {array.shape}, but needs {shape}")
        return array

    def _update(self, plan, grads, present, hparams, scaling=None):
        kind = _engine.kind(self._kind)
        for hp in hparams:
            got = _engine.required_states(kind, hp, self._phase)
            if len(got) != self._states:
                raise ValueError(f"{type(self).__name__} keeps {self._states} state(s); these hyperparameters need "
                                 f"{list(got)} ({hp})")
        states = {name: list(lst) for name, lst in plan.states.items()}
        created = np.zeros(len(plan.params), dtype=bool)
        for i, p in enumerate(plan.params):
            if states["state1"][i] is None and (present is None or present[i]):
                for name, a in self._new_states(p).items():
                    states[name][i] = a if plan.device is None else plan.device.xp.asarray(a)
                created[i] = True
        if self._phase == "step":
            phase = plan.step_counts() + 1
        elif self._phase == "first_step":
            phase = created.astype(np.int64)
        else:
            phase = None
        sets, hp_index = _engine.hyperparameter_sets(hparams, self._phase, phase, plan.group_of, present)
        take = np.ones(len(plan.params), dtype=bool) if present is None else present.copy()
        wide = np.array([not self._eightbit(p) or states["state1"][i] is not None and states["state1"][i].dtype != np.uint8
                         for i, p in enumerate(plan.params)], dtype=bool)
        steps = plan.step_counts() + 1
        rounding = self.precision["stochastic_rounding"]
        for is_wide in (True, False):
            idx = np.flatnonzero(take & (wide if is_wide else ~wide)).tolist()
            if not idx:
                continue
            params = [plan.params[i] for i in idx]
            sub_grads = [grads[i] for i in idx]
            sub_index = None if hp_index is None else np.ascontiguousarray(hp_index[idx], dtype=np.uint32)
            lists = {f"state{k}": [states[f"state{k}"][i] for i in idx] for k in range(1, self._states + 1)}
            if is_wide:
                _engine.run(kind, params, sub_grads, {kind.states[k - 1]: lists[f"state{k}"]
                                                      for k in range(1, self._states + 1)},
                            sets, sub_index, scaling=scaling,
                            rounding=(self.precision["seed"], steps[idx]) if rounding else None)
            else:
                absmax = {k: [states[f"absmax{k}"][i] for i in idx] for k in range(1, self._states + 1)}
                args = (kind, params, sub_grads, (lists["state1"], absmax[1], lists.get("state2"), absmax.get(2)),
                        sets, sub_index, scaling, None, (self.precision["seed"], steps[idx]) if rounding else None)
                if plan.device is None:
                    _core.step_8bit(*args)
                else:
                    from optkern.cuda import _optim

                    _optim.step_8bit(plan.device, *args)
        plan.states.update(states)
        plan.needed = None


class Adam8bit(_Optimizer8bit):
    """bitsandbytes.optim.Adam8bit: Adam (optkern.Adam's update) with 8-bit
    states, exp_avg as state1 (signed map) and exp_avg_sq as state2
    (unsigned map). As bitsandbytes applies it, weight_decay is decoupled
    (p <- p(1 - lr wd)) in Adam8bit too. amsgrad is refused."""

    _kind = "adam"
    _phase = "step"
    _states = 2
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, optim_bits=8,
                 args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True, is_paged=False):
        if amsgrad:
            raise ValueError("amsgrad=True is not supported by the 8-bit optimizers (as in bitsandbytes)")
        options = _bnb_options(optim_bits, args, min_8bit_size, percentile_clipping, block_wise, is_paged)
        _adam(scheduled_lr(lr), betas, eps, weight_decay, False, False, True)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}, options)

    def _hparams(self, group):
        return _adam(group["lr"], group["betas"], group["eps"], group["weight_decay"], False, False, True)


class AdamW8bit(Adam8bit):
    """bitsandbytes.optim.AdamW8bit: Adam8bit with weight_decay=1e-2 by default."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 optim_bits=8, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True,
                 is_paged=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, optim_bits, args, min_8bit_size,
                         percentile_clipping, block_wise, is_paged)


class SGD8bit(_Optimizer8bit):
    """bitsandbytes.optim.SGD8bit: SGD with momentum (optkern.SGD's update,
    dampening 0, its buffer a copy of the gradient at the first step), the
    buffer as state1. momentum 0 and nesterov are refused, as bitsandbytes
    refuses them."""

    _kind = "sgd"
    _phase = "first_step"

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, optim_bits=8, args=None,
                 min_8bit_size=4096, percentile_clipping=100, block_wise=True):
        if momentum == 0:
            raise NotImplementedError("SGD without momentum is not supported!")
        if nesterov:
            raise ValueError("nesterov=True is not supported by SGD8bit")
        if dampening != 0:
            raise ValueError("dampening other than 0 is not supported by SGD8bit")
        options = _bnb_options(optim_bits, args, min_8bit_size, percentile_clipping, block_wise)
        _sgd(scheduled_lr(lr), momentum, 0.0, weight_decay, False, False)
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}, options)

    def _hparams(self, group):
        return _sgd(group["lr"], group["momentum"], 0.0, group["weight_decay"], False, False)


class Lion8bit(_Optimizer8bit):
    """bitsandbytes.optim.Lion8bit: Lion (optkern.Lion's update), exp_avg as state1."""

    _kind = "lion"

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0, optim_bits=8, args=None,
                 min_8bit_size=4096, percentile_clipping=100, block_wise=True, is_paged=False):
        options = _bnb_options(optim_bits, args, min_8bit_size, percentile_clipping, block_wise, is_paged)
        _lion(scheduled_lr(lr), betas, weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay}, options)

    def _hparams(self, group):
        return _lion(group["lr"], group["betas"], group["weight_decay"])


class RMSprop8bit(_Optimizer8bit):
    """bitsandbytes.optim.RMSprop8bit: RMSprop (optkern.RMSprop's update),
    square_avg as state1 (the signed map, as bitsandbytes keeps it).
    centered and momentum are refused, alpha 0 too, as bitsandbytes does."""

    _kind = "rmsprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 optim_bits=8, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True):
        if alpha == 0:
            raise NotImplementedError("RMSprop with alpha==0.0 is not supported!")
        if centered:
            raise NotImplementedError("Centered RMSprop is not supported!")
        if momentum != 0:
            raise ValueError("momentum other than 0 is not supported by RMSprop8bit")
        options = _bnb_options(optim_bits, args, min_8bit_size, percentile_clipping, block_wise)
        _rmsprop(scheduled_lr(lr), alpha, eps, weight_decay, 0.0, False, False)
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay}, options)

    def _hparams(self, group):
        return _rmsprop(group["lr"], group["alpha"], group["eps"], group["weight_decay"], 0.0, False, False)


class Adagrad8bit(_Optimizer8bit):
    """bitsandbytes.optim.Adagrad8bit: Adagrad (optkern.Adagrad's update),
    sum as state1 (the signed map, as bitsandbytes keeps it).
    initial_accumulator_value and lr_decay other than 0 are refused, as
    bitsandbytes does."""

    _kind = "adagrad"
    _phase = "step"

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 optim_bits=8, args=None, min_8bit_size=4096, percentile_clipping=100, block_wise=True):
        if initial_accumulator_value != 0.0:
            raise ValueError("Initial accumulator value != 0.0 not supported!")
        if lr_decay != 0.0:
            raise ValueError("Lr Decay != 0.0 not supported!")
        options = _bnb_options(optim_bits, args, min_8bit_size, percentile_clipping, block_wise)
        _adagrad(scheduled_lr(lr), 0.0, weight_decay, eps, False)
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "eps": eps}, options)

    def _hparams(self, group):
        return _adagrad(group["lr"], 0.0, group["weight_decay"], group["eps"], False)
