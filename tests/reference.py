"""float64 NumPy references of the optimizer rules (shared/spec/optimizers.md).

Each function takes float64 copies and returns the new values; they are
written for clarity, straight from the formulas, with no attempt at speed.
"""

import numpy as np


def sgd(p, g, buf, *, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """One SGD step: returns (p, buf); buf None means the first step."""
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def adam(p, g, m, v, vmax, step, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, decoupled_weight_decay=False):
    """One Adam step numbered `step` (from 1): returns (p, m, v, vmax)."""
    beta1, beta2 = betas
    g = -g if maximize else g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    if amsgrad:
        vmax = np.maximum(vmax, v)
    denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - beta2**step) + eps
    p = p - lr / (1 - beta1**step) * m / denom
    return p, m, v, vmax


def adamw(p, g, m, v, vmax, step, *, weight_decay=1e-2, **kwargs):
    return adam(p, g, m, v, vmax, step, weight_decay=weight_decay, decoupled_weight_decay=True, **kwargs)


class Reference:
    """A float64 reference optimizer over a list of arrays, stepped like optkern's."""

    def __init__(self, name, params, **hparams):
        self.name = name
        self.params = [np.array(p, dtype=np.float64) for p in params]
        self.hparams = hparams
        n = len(self.params)
        self.buf = [None] * n
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.vmax = [np.zeros_like(p) for p in self.params]
        self.steps = [0] * n

    def step(self, grads):
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = np.asarray(g, dtype=np.float64)
            if self.name == "SGD":
                self.params[i], self.buf[i] = sgd(self.params[i], g, self.buf[i], **self.hparams)
            else:
                self.steps[i] += 1
                rule = adam if self.name == "Adam" else adamw
                self.params[i], self.m[i], self.v[i], self.vmax[i] = rule(
                    self.params[i], g, self.m[i], self.v[i], self.vmax[i], self.steps[i], **self.hparams)
