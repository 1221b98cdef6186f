"""Loss scaling for mixed-precision training: optkern.amp.GradScaler, with
torch.amp.GradScaler's arguments, defaults, checks and numbers, over NumPy
arrays (docs/clipping.md#loss-scaling).

A low-precision backward pass (float16 activations) can underflow small
gradients to zero. Multiplying the loss by a large scale before the
backward pass keeps them representable; the gradients are then divided by
the scale before the update, and a step whose gradients overflowed (an inf
or NaN) is skipped while the scale shrinks.

    scaler = optkern.amp.GradScaler()
    for X, y in batches:
        ...
        dlogits = scaler.scale(dlogits)          # the scaled loss's gradient
        grads = backward(dlogits)
        scaler.step(opt, grads)                   # unscale, check, update: fused
        scaler.update()

scaler.step(opt, grads) makes one read-only pass over the gradients (the
inf/NaN check, and the norm when the optimizer has max_grad_norm), then the
optimizer's one update kernel, which multiplies each gradient by 1/scale
as it reads it. The gradients are not written. A step whose gradients
hold an inf or NaN writes nothing: parameters, states and step counts stay
exactly as they were.
"""

import math
import numbers

import numpy as np

from optkern import _backend
from optkern.clip import _as_list, _gradients, _is_array, _nonfinite, _ops
from optkern.optim.optimizer import Optimizer

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """torch.amp.GradScaler for optkern's optimizers.

    init_scale      the first scale (2**16)
    growth_factor   the scale's factor after growth_interval steps in a
                    row without an inf or NaN (2.0; must be > 1)
    backoff_factor  its factor after a step with one (0.5; must be < 1)
    growth_interval (2000)
    enabled         False: every method passes through (scale returns its
                    argument, step is optimizer.step, get_scale is 1.0)

    The scale is a float32, as torch's scale tensor, and so is 1/scale,
    which multiplies each gradient (computed in double, then rounded: torch
    does the same). With the default factors the scale stays a power of
    two, and unscaling is exact.

    Methods, as torch's: scale(outputs), unscale_(optimizer, grads),
    step(optimizer, grads), update(new_scale=None), get_scale(),
    get/set_growth_factor, get/set_backoff_factor, get/set_growth_interval,
    is_enabled(), state_dict(), load_state_dict(). Where torch reads the
    gradients from the parameters' .grad, optkern takes them as the list
    the optimizer's step takes.
    """

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        self._enabled = bool(enabled)
        if self._enabled:
            # torch raises AssertionError for these two
            if not growth_factor > 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if not backoff_factor < 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._scale = np.float32(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = _interval(growth_interval)
        self._growth_tracker = 0
        self._stage = {}  # id(optimizer): (stage, found_inf) since the last update()

    # --------------------------------------------------------------- scaling

    def scale(self, outputs):
        """outputs multiplied by the scale: an array (or NumPy scalar, or
        Python float), or a list/tuple (nested) of them, returned as the
        same container. The product has the output's dtype for float32
        and float64 arrays, as torch's tensor times its float32 scale.
        Disabled: outputs, unchanged."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(v) for v in outputs)
        if isinstance(outputs, np.generic) or _is_array(outputs):
            if outputs.dtype.kind != "f":
                raise TypeError(f"GradScaler.scale: outputs must be floating point, got dtype {outputs.dtype}")
            if outputs.dtype == np.float64:
                return outputs * np.float64(self._scale)
            # float32, and narrower floats computed in float32 (torch's
            # opmath) and rounded back; a CuPy array's on its GPU
            xp = _backend.namespace(outputs)
            with np.errstate(over="ignore"):  # an inf is what the scaler's check is for
                return xp.multiply(outputs, self._scale, dtype=np.float32).astype(outputs.dtype, copy=False)
        if isinstance(outputs, numbers.Real) and not isinstance(outputs, bool):
            return float(outputs) * float(self._scale)
        raise ValueError("outputs must be an array or an iterable of arrays")

    def _inv_scale(self):
        """1/scale, computed in double and rounded to float32 (torch's
        self._scale.double().reciprocal().float())."""
        return float(np.float32(1.0 / np.float64(self._scale)))

    def _state(self, optimizer):
        return self._stage.get(id(optimizer), (_READY, None))

    def unscale_(self, optimizer, grads):
        """Divide `grads` (the list optimizer.step takes) by the scale, in
        place, and record whether any held an inf or NaN: what a
        clip_grad_norm_ or an inspection of the gradients between the
        backward pass and step() needs. step() then does not unscale
        again. Optional: step() unscales in its kernel, without writing
        the gradients. RuntimeError when called twice for an optimizer
        before update(), or after step()."""
        if not self._enabled:
            return
        stage, _ = self._state(optimizer)
        if stage == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if stage == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        groups = _gradients(_as_list(grads, "GradScaler.unscale_"), "GradScaler.unscale_")
        found_inf = _nonfinite(groups)  # of the scaled values, as torch checks them
        inv = self._inv_scale()
        for arrays in groups.values():
            _ops(arrays).vec_axpby(inv, arrays, 0.0, arrays)
        self._stage[id(optimizer)] = (_UNSCALED, found_inf)

    def step(self, optimizer, grads):
        """optimizer.step(grads) with the gradients unscaled, unless one
        holds an inf or NaN: then nothing changes (parameters, states, step
        counts, the schedule's count). Returns None, as torch's does
        without a closure.

        One read pass (the inf/NaN check; with the optimizer's
        max_grad_norm, the norm of the unscaled gradients too), then the
        update kernel, which unscales each gradient as it reads it; the
        gradients are not written. After unscale_(optimizer, grads), the
        update reads them as they are. RuntimeError when called twice for
        an optimizer before update(); TypeError for LBFGS, whose step takes
        a closure (torch's GradScaler does not support closures either)."""
        if not self._enabled:
            return optimizer.step(grads)
        if getattr(type(optimizer), "step", None) is not Optimizer.step:
            raise TypeError(f"GradScaler.step: {type(optimizer).__name__} does not support loss scaling "
                            f"(its step takes a closure, which torch's GradScaler does not support either)")
        stage, found_inf = self._state(optimizer)
        if stage == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if stage == _UNSCALED:
            if not found_inf:
                optimizer.step(grads)
        else:
            with optimizer._lock:
                found_inf = optimizer._step(grads, self._inv_scale())
        self._stage[id(optimizer)] = (_STEPPED, found_inf)
        return None

    def update(self, new_scale=None):
        """Set the scale for the next iteration: new_scale when given;
        else, from the steps since the last update, the scale times
        backoff_factor if any found an inf or NaN (the growth count
        restarts), or times growth_factor once growth_interval steps in a
        row found none (when the product is finite). AssertionError when
        no step or unscale_ was recorded (torch's)."""
        if not self._enabled:
            return
        if new_scale is not None:
            if isinstance(new_scale, np.ndarray) and new_scale.size != 1:
                raise AssertionError("new_scale should be a float or a 1-element array.")
            self._scale = np.float32(float(np.asarray(new_scale).reshape(())))
        else:
            if not self._stage:
                raise AssertionError("No inf checks were recorded prior to update.")
            # torch's _amp_update_scale_: the float32 scale times a factor
            # in double, rounded to float32
            if any(found for _, found in self._stage.values()):
                self._scale = np.float32(float(self._scale) * self._backoff_factor)
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    with np.errstate(over="ignore"):
                        grown = np.float32(float(self._scale) * self._growth_factor)
                    if math.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._stage = {}

    # ------------------------------------------------------------ accessors

    def get_scale(self):
        """The scale, a Python float (1.0 when disabled)."""
        return float(self._scale) if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = _interval(new_interval)

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """{"scale", "growth_factor", "backoff_factor", "growth_interval",
        "_growth_tracker"} as torch's (Python floats and ints); {} when
        disabled. Take it after update()."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        """Load a state_dict() (optkern's or torch's). Everything is
        checked before anything changes. A no-op when disabled."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        keys = ("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")
        missing = [k for k in keys if k not in state_dict]
        if missing:
            raise ValueError(f"GradScaler state dict lacks {missing}")
        scale = float(state_dict["scale"])
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"GradScaler state dict: scale must be finite and positive, got {scale!r}")
        growth, backoff = float(state_dict["growth_factor"]), float(state_dict["backoff_factor"])
        interval = _interval(state_dict["growth_interval"])
        tracker = state_dict["_growth_tracker"]
        if isinstance(tracker, bool) or not isinstance(tracker, numbers.Integral) or tracker < 0:
            raise ValueError(f"GradScaler state dict: _growth_tracker must be a non-negative int, got {tracker!r}")
        self._scale = np.float32(scale)
        self._growth_factor, self._backoff_factor = growth, backoff
        self._growth_interval, self._growth_tracker = interval, int(tracker)

    def __repr__(self):
        if not self._enabled:
            return "GradScaler(enabled=False)"
        return (f"GradScaler(scale={self.get_scale()}, growth_factor={self._growth_factor}, "
                f"backoff_factor={self._backoff_factor}, growth_interval={self._growth_interval})")


def _interval(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"growth_interval must be a positive int, got {value!r}")
    return int(value)
