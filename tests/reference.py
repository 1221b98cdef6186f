"""float64 NumPy references of the optimizer rules (docs/optimizers.md).

Each rule takes float64 arrays p and g and the parameter's state dict
(torch's names, empty before the first step), updates the state in place
and returns the new p. Written for clarity, straight from the formulas,
with no attempt at speed.
"""

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


def newton_schulz(u, ns_coefficients, ns_steps, eps):
    """Muon's orthogonalisation of a matrix u, in float64 (docs/optimizers.md#muon)."""
    a, b, c = ns_coefficients
    x = u.T if u.shape[0] > u.shape[1] else u
    x = x / max(np.linalg.norm(x), eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if u.shape[0] > u.shape[1] else x


def muon(p, g, state, *, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
         ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
    rows, cols = p.shape
    buf = state["momentum_buffer"] = momentum * state.get("momentum_buffer", np.zeros_like(p)) + (1 - momentum) * g
    update = (1 - momentum) * g + momentum * buf if nesterov else buf
    if adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * np.sqrt(max(rows, cols))
    else:
        ratio = np.sqrt(max(1, rows / cols)) if cols else 1.0
    if p.size == 0:
        return p
    return p * (1 - lr * weight_decay) - lr * ratio * newton_schulz(update, ns_coefficients, ns_steps, eps)


class Reference:
    """A float64 reference optimizer over a list of arrays, stepped like
    optkern's: rule is one of the functions above."""

    def __init__(self, rule, params, **hparams):
        self.rule = rule
        self.params = [np.array(p, dtype=np.float64) for p in params]
        self.hparams = hparams
        self.state = [{} for _ in params]

    def step(self, grads):
        for i, g in enumerate(grads):
            if g is not None:
                g = np.asarray(g, dtype=np.float64)
                self.params[i] = self.rule(self.params[i], g, self.state[i], **self.hparams)
