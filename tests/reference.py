"""float64 NumPy references of the optimizer rules (docs/optimizers.md).

Each rule takes float64 arrays p and g and the parameter's state dict
(torch's names, empty before the first step), updates the state in place
and returns the new p. Written for clarity, straight from the formulas,
with no attempt at speed.
"""

import inspect

import numpy as np


def sgd(p, g, state, *, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        buf = state.get("momentum_buffer")
        buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov else buf
    return p - lr * g


def adam(p, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
         decoupled_weight_decay=False):
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    m = state.get("exp_avg", np.zeros_like(p))
    v = state.get("exp_avg_sq", np.zeros_like(p))
    g = -g if maximize else g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = state["exp_avg"] = beta1 * m + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * v + (1 - beta2) * g * g
    if amsgrad:
        v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", np.zeros_like(p)), v)
    denom = np.sqrt(v) / np.sqrt(1 - beta2**step) + eps
    return p - lr / (1 - beta1**step) * m / denom


def adamw(p, g, state, *, weight_decay=1e-2, **kwargs):
    return adam(p, g, state, weight_decay=weight_decay, decoupled_weight_decay=True, **kwargs)


def adafactor(p, g, state, *, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False,
              dtype=np.float64):
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = np.finfo(dtype).eps  # of the parameter's own dtype
    step = state["step"] = state.get("step", 0) + 1
    if p.ndim >= 2:  # factored over the last two dims
        row = state.setdefault("row_var", np.zeros(p.shape[:-1] + (1,)))
        col = state.setdefault("col_var", np.zeros(p.shape[:-2] + (1,) + p.shape[-1:]))
    else:
        var = state.setdefault("variance", np.zeros_like(p))
    if p.size == 0:  # nothing to update (torch divides by zero here); the step counts
        return p
    g = -g if maximize else g
    w = step**beta2_decay
    alpha = max(eps2, np.sqrt(np.mean(p * p))) * min(lr, 1 / np.sqrt(step))
    p = p * (1 - lr * weight_decay)
    if p.ndim >= 2:  # lerp(a, b, w) as (1 - w) a + w b: exact at w = 1 (beta2_decay = 0, or t = 1)
        row = state["row_var"] = (1 - w) * row + w * np.mean(g * g, axis=-1, keepdims=True)
        col = state["col_var"] = (1 - w) * col + w * np.mean(g * g, axis=-2, keepdims=True)
        v = row * col / np.maximum(np.mean(row, axis=-2, keepdims=True), eps1)
    else:
        v = state["variance"] = (1 - w) * var + w * g * g
    u = g / np.sqrt(np.maximum(v, eps1 * eps1))
    return p - alpha / max(1.0, np.sqrt(np.mean(u * u)) / d) * u


class Reference:
    """A float64 reference optimizer over a list of arrays, stepped like
    optkern's: rule is one of the functions above. A rule that depends on
    the parameter's own dtype (Adafactor's eps1=None) takes it as `dtype`."""

    def __init__(self, rule, params, **hparams):
        self.rule = rule
        self.params = [np.array(p, dtype=np.float64) for p in params]
        self.dtypes = [np.asarray(p).dtype for p in params]
        self.hparams = hparams
        self.state = [{} for _ in params]
        self.takes_dtype = "dtype" in inspect.signature(rule).parameters

    def step(self, grads):
        for i, g in enumerate(grads):
            if g is not None:
                g = np.asarray(g, dtype=np.float64)
                dtype = {"dtype": self.dtypes[i]} if self.takes_dtype else {}
                self.params[i] = self.rule(self.params[i], g, self.state[i], **self.hparams, **dtype)
