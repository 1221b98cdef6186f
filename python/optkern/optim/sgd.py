"""SGD with momentum (torch.optim.SGD semantics)."""

import numpy as np

from optkern import _core
from optkern.optim._checks import check_sgd
from optkern.optim.optimizer import Optimizer, torch_flags

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD: same arguments,
    defaults, checks and numbers.

        g <- -g if maximize;  g <- g + wd p if weight_decay != 0
        momentum != 0:  b <- g on the first step (no dampening), else
                        b <- momentum b + (1 - dampening) g;
                        g <- g + momentum b if nesterov, else g <- b
        p <- p - lr g

    State (torch's name): momentum_buffer, only when momentum != 0.

    Raises ValueError for lr < 0 or NaN, momentum < 0, weight_decay < 0, and
    nesterov without momentum > 0 and dampening == 0. foreach, differentiable
    and fused are torch's implementation switches: see torch_flags.
    """

    _state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_sgd(lr, momentum, dampening, weight_decay, nesterov, maximize)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            **torch_flags(foreach=foreach, differentiable=differentiable, fused=fused),
        }
        super().__init__(params, defaults)

    def _check_group(self, group):
        return check_sgd(group["lr"], group["momentum"], group["dampening"], group["weight_decay"],
                         group["nesterov"], group["maximize"])

    @staticmethod
    def _set(checked, first_step):
        lr, momentum, dampening, weight_decay, nesterov, maximize = checked
        return (lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)

    def _update(self, plan, grads, present, checked):
        uses_momentum = [c[1] != 0 for c in checked]
        buffers, first = None, None
        if any(uses_momentum):
            current = plan.states["momentum_buffer"]
            has = _core.present_mask(current)
            buffers = current
            if has is not None:
                need = ~has
                if not all(uses_momentum):
                    need &= np.repeat(np.array(uses_momentum), plan.sizes)
                if need.any():
                    first = need.astype(np.int64)  # 1: this step creates the buffer
                    # The first step writes the buffer before reading it: no need to zero it.
                    buffers = self._with_new_state(plan, present, "momentum_buffer", need, fill=np.empty)
        if first is None and present is None:
            sets = [self._set(c, False) for c in checked]
            hp_index = plan.group_of if len(sets) > 1 else None
        else:
            phase = first if first is not None else np.zeros(len(plan.params), dtype=np.int64)
            sets, hp_index = self._sets_by_group_and(
                plan, present, phase, lambda k, f: self._set(checked[k], bool(f)))
        tables, written = plan.prepare({} if buffers is None else {"momentum_buffer": buffers})
        _core.sgd(plan.params, grads, tables.get("momentum_buffer"), sets, hp_index, written)
        if buffers is not None:
            plan.states["momentum_buffer"] = buffers
