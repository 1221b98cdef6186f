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


def _moments(p, g, state, lr, betas, weight_decay, maximize, decoupled_weight_decay):
    """What Adam, RAdam and NAdam share: (step, p, g, m, v) after maximize,
    weight decay and the moment updates (stored in state)."""
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    g = -g if maximize else g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = state["exp_avg"] = beta1 * state.get("exp_avg", np.zeros_like(p)) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", np.zeros_like(p)) + (1 - beta2) * g * g
    return step, p, g, m, v


def adam(p, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
         decoupled_weight_decay=False):
    beta1, beta2 = betas
    step, p, g, m, v = _moments(p, g, state, lr, betas, weight_decay, maximize, decoupled_weight_decay)
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


def radam(p, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
          maximize=False):
    beta1, beta2 = betas
    step, p, g, m, v = _moments(p, g, state, lr, betas, weight_decay, maximize, decoupled_weight_decay)
    m_hat = m / (1 - beta1**step)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2**step / (1 - beta2**step)
    if rho_t <= 5:
        return p - lr * m_hat
    r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return p - lr * m_hat * r * np.sqrt(1 - beta2**step) / (np.sqrt(v) + eps)


def rprop(p, g, state, *, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    etaminus, etaplus = etas
    state["step"] = state.get("step", 0) + 1
    g = -g if maximize else g
    product = g * state.get("prev", np.zeros_like(p))
    factor = np.where(product > 0, etaplus, np.where(product < 0, etaminus, 1.0))
    # np.clip is minimum(maximum(x, lo), hi), as torch's clamp: hi wins when the bounds cross
    size = state["step_size"] = np.clip(state.get("step_size", np.full_like(p, lr)) * factor, *step_sizes)
    g = state["prev"] = np.where(product < 0, 0.0, g)
    return p - np.sign(g) * size


def nadam(p, g, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False, maximize=False):
    beta1, beta2 = betas
    step, p, g, m, v = _moments(p, g, state, lr, betas, weight_decay, maximize, decoupled_weight_decay)
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    # mu_product is a float32, as torch keeps it: each product is rounded to float32
    state["mu_product"] = np.float32(state.get("mu_product", 1)) * np.float32(mu)
    product = float(state["mu_product"])
    denom = np.sqrt(v / (1 - beta2**step)) + eps
    return p - lr * (1 - mu) / (1 - product) * g / denom - lr * mu_next / (1 - product * mu_next) * m / denom


def asgd(p, g, state, *, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False):
    step = state["step"] = state.get("step", 0) + 1
    eta, mu = float(state.get("eta", np.float32(lr))), float(state.get("mu", 1))
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    p = p * (1 - lambd * eta) - eta * g
    state["ax"] = p.copy() if mu == 1 else state["ax"] + (p - state["ax"]) * mu
    # eta and mu are float32, as torch keeps them
    state["eta"] = np.float32(lr / (1 + lambd * lr * step) ** alpha)
    state["mu"] = np.float32(1 / max(1, step - t0))
    return p


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


def adagrad(p, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            maximize=False):
    step = state["step"] = state.get("step", 0) + 1
    s = state.get("sum", np.full_like(p, initial_accumulator_value))
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    s = state["sum"] = s + g * g
    return p - lr / (1 + (step - 1) * lr_decay) * g / (np.sqrt(s) + eps)


def rmsprop(p, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            maximize=False):
    state["step"] = state.get("step", 0) + 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    v = state["square_avg"] = alpha * state.get("square_avg", np.zeros_like(p)) + (1 - alpha) * g * g
    if centered:
        a = state["grad_avg"] = alpha * state.get("grad_avg", np.zeros_like(p)) + (1 - alpha) * g
        avg = np.sqrt(v - a * a) + eps
    else:
        avg = np.sqrt(v) + eps
    if momentum != 0:
        b = state["momentum_buffer"] = momentum * state.get("momentum_buffer", np.zeros_like(p)) + g / avg
        return p - lr * b
    return p - lr * g / avg


def adadelta(p, g, state, *, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    state["step"] = state.get("step", 0) + 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    v = state["square_avg"] = rho * state.get("square_avg", np.zeros_like(p)) + (1 - rho) * g * g
    u = state.get("acc_delta", np.zeros_like(p))
    delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
    state["acc_delta"] = rho * u + (1 - rho) * delta * delta
    return p - lr * delta


def adamax(p, g, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    m = state["exp_avg"] = beta1 * state.get("exp_avg", np.zeros_like(p)) + (1 - beta1) * g
    u = state["exp_inf"] = np.maximum(beta2 * state.get("exp_inf", np.zeros_like(p)), np.abs(g) + eps)
    return p - lr / (1 - beta1**step) * m / u


# Beyond torch.optim: each from its paper's algorithm, as its reference
# implementation states it (docs/optimizers.md#beyond-torchoptim).


def lion(p, g, state, *, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
    beta1, beta2 = betas
    m = state.get("exp_avg", np.zeros_like(p))
    p = p * (1 - lr * weight_decay) - lr * np.sign(beta1 * m + (1 - beta1) * g)
    state["exp_avg"] = beta2 * m + (1 - beta2) * g
    return p


def adan(p, g, state, *, step, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False):
    """step: the param group's count, from 1. The previous gradient is kept
    negated, as the official neg_pre_grad; on a parameter's first step the
    change of the gradient is 0."""
    beta1, beta2, beta3 = betas
    diff = g + state.get("neg_pre_grad", -g)
    m = state["exp_avg"] = beta1 * state.get("exp_avg", np.zeros_like(p)) + (1 - beta1) * g
    d = state["exp_avg_diff"] = beta2 * state.get("exp_avg_diff", np.zeros_like(p)) + (1 - beta2) * diff
    n = state["exp_avg_sq"] = (beta3 * state.get("exp_avg_sq", np.zeros_like(p))
                               + (1 - beta3) * (g + beta2 * diff) ** 2)
    state["neg_pre_grad"] = -g
    update = (m / (1 - beta1**step) + beta2 * d / (1 - beta2**step)) / (np.sqrt(n / (1 - beta3**step)) + eps)
    if no_prox:
        return p * (1 - lr * weight_decay) - lr * update
    return (p - lr * update) / (1 + lr * weight_decay)


def ademamix(p, g, state, *, step, lr=1e-3, betas=(0.9, 0.999, 0.9999), weight_decay=0.0, weight_decouple=False,
             fixed_decay=False, alpha=5.0, t_alpha_beta3=None, eps=1e-8, maximize=False):
    """step: the param group's count, from 1."""
    beta1, beta2, beta3 = betas
    if t_alpha_beta3 is not None:  # the paper's warm-ups of alpha and beta3
        s = step / t_alpha_beta3
        alpha = min(s * alpha, alpha)
        beta3 = min(np.exp(np.log(beta1) * np.log(beta3) / ((1 - s) * np.log(beta3) + s * np.log(beta1))), beta3)
    g = -g if maximize else g
    if weight_decay != 0:
        if weight_decouple:
            p = p * (1 - weight_decay * (1 if fixed_decay else lr))
        else:
            g = g + weight_decay * p
    m = state["exp_avg"] = beta1 * state.get("exp_avg", np.zeros_like(p)) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", np.zeros_like(p)) + (1 - beta2) * g * g
    slow = state["exp_avg_slow"] = beta3 * state.get("exp_avg_slow", np.zeros_like(p)) + (1 - beta3) * g
    return p - lr * (m / (1 - beta1**step) + alpha * slow) / (np.sqrt(v / (1 - beta2**step)) + eps)


def adopt(p, g, state, *, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, clip_lambda=lambda step: step**0.25,
          weight_decay=0.0, decouple=False, maximize=False):
    beta1, beta2 = betas
    before = state.get("step", 0)  # the count before this step, which the clip reads
    state["step"] = before + 1
    g = -g if maximize else g
    if weight_decay != 0 and not decouple:
        g = g + weight_decay * p
    v = state.get("exp_avg_sq", np.zeros_like(p))
    m = state.setdefault("exp_avg", np.zeros_like(p))
    if before == 0:  # the first step only starts the second moment
        state["exp_avg_sq"] = v + g * g
        return p
    if weight_decay != 0 and decouple:
        p = p * (1 - lr * weight_decay)
    normed = g / np.maximum(np.sqrt(v), eps)  # by the second moment of the steps before
    if clip_lambda is not None:
        normed = np.clip(normed, -clip_lambda(before), clip_lambda(before))
    m = state["exp_avg"] = beta1 * m + (1 - beta1) * normed
    state["exp_avg_sq"] = beta2 * v + (1 - beta2) * g * g
    return p - lr * m
def per_group(advance):
    """Marks a rule whose param group has running values of its own
    (schedule-free's step count and weights): advance(group, **hparams),
    with the rule's defaults for the hyperparameters not given, starts each
    step, once for the group, parameters with a gradient or not, and the
    rule reads the group as `group`."""
    def mark(rule):
        rule.advance_group = advance
        return rule
    return mark


def schedulefree_weights(group, *, lr, warmup_steps, r, weight_lr_power, **_):
    """The start of schedule-free step t (the schedulefree package's
    weighting, docs/optimizers.md#schedule-free-sgd-and-adamw): the step's
    lr, warmed up linearly over warmup_steps, and c, the weight of its z in
    the average x: its share of the weights t^r lr_max^weight_lr_power so far."""
    t = group["t"] = group.get("t", 0) + 1
    group["lr"] = lr * min(1.0, t / warmup_steps) if warmup_steps else lr
    group["lr_max"] = max(group["lr"], group.get("lr_max", 0.0))
    weight = t**r * group["lr_max"] ** weight_lr_power
    group["weight_sum"] = group.get("weight_sum", 0.0) + weight
    group["c"] = weight / group["weight_sum"] if group["weight_sum"] else 0.0


def schedulefree_x(y, z, beta):
    """The average x of schedule-free's y = (1 - beta) z + beta x: what eval() puts in the parameters."""
    return (y - (1 - beta) * z) / beta


def _schedulefree(y, u, state, group, beta):
    """A schedule-free step along u in the algorithm's form (Defazio et al.
    2024): z steps, x averages it in, y is taken between them. The
    parameter is y; z starts as its copy."""
    z = state.get("z", y)
    x = schedulefree_x(y, z, beta)
    z = state["z"] = z - group["lr"] * u
    x = (1 - group["c"]) * x + group["c"] * z
    return (1 - beta) * z + beta * x


@per_group(schedulefree_weights)
def sgd_schedulefree(p, g, state, *, group, lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0,
                     weight_lr_power=2.0):
    return _schedulefree(p, g + weight_decay * p, state, group, momentum)


@per_group(schedulefree_weights)
def adamw_schedulefree(p, g, state, *, group, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                       warmup_steps=0, r=0.0, weight_lr_power=2.0):
    beta1, beta2 = betas
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", np.zeros_like(p)) + (1 - beta2) * g * g
    u = g / (np.sqrt(v / (1 - beta2 ** group["t"])) + eps) + weight_decay * p
    return _schedulefree(p, u, state, group, beta1)


class Reference:
    """A float64 reference optimizer over a list of arrays, stepped like
    optkern's: rule is one of the functions of this module. A rule that
    depends on the parameter's own dtype (Adafactor's eps1=None) takes it as
    `dtype`; one whose step count is its param group's (Adan's, AdEMAMix's)
    takes it as `step`: the number of this step() call, from 1, for all the
    parameters (one group); one with running values per param group
    (per_group) gets `group`, one for all the parameters; one that depends
    on the norm of every gradient of the step (LAMB's) takes it as
    `global_grad_norm`."""

    def __init__(self, rule, params, **hparams):
        self.rule = rule
        self.params = [np.array(p, dtype=np.float64) for p in params]
        self.dtypes = [np.asarray(p).dtype for p in params]
        self.hparams = hparams
        self.state = [{} for _ in params]
        taken = inspect.signature(rule).parameters
        self.takes_dtype = "dtype" in taken
        self.takes_step = "step" in taken
        self.takes_norm = "global_grad_norm" in taken
        self.count = 0
        self.advance_group = getattr(rule, "advance_group", None)
        self.group = {}

    def step(self, grads):
        self.count += 1
        extra = {"step": self.count} if self.takes_step else {}
        if self.takes_norm:  # each square in its gradient's dtype, summed in double, as the kernels take it
            squares = [np.asarray(g) * np.asarray(g) for g in grads if g is not None]
            extra["global_grad_norm"] = np.sqrt(sum(float(np.sum(s, dtype=np.float64)) for s in squares))
        if self.advance_group:
            defaults = {name: p.default for name, p in inspect.signature(self.rule).parameters.items()
                        if p.default is not p.empty}
            self.advance_group(self.group, **{**defaults, **self.hparams})
            extra["group"] = self.group
        for i, g in enumerate(grads):
            if g is not None:
                g = np.asarray(g, dtype=np.float64)
                dtype = {"dtype": self.dtypes[i]} if self.takes_dtype else {}
                self.params[i] = self.rule(self.params[i], g, self.state[i], **self.hparams, **dtype, **extra)


def lamb(p, g, state, *, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01,
         amsgrad=False, adam_w_mode=True, grad_averaging=True, set_grad_none=True, max_grad_norm=1.0,
         use_nvlamb=False, global_grad_norm):
    """NVIDIA apex's FusedLAMB, step by step as docs/optimizers.md#lamb
    states it; global_grad_norm is G, the norm of every gradient of the
    step. amsgrad must be False and set_grad_none changes nothing, as in
    apex."""
    beta1, beta2 = betas
    step = state["step"] = state.get("step", 0) + 1
    if max_grad_norm is not None and global_grad_norm > max_grad_norm:
        g = g / (global_grad_norm / max_grad_norm)
    if not adam_w_mode and weight_decay != 0:
        g = g + weight_decay * p
    m = state["exp_avg"] = beta1 * state.get("exp_avg", np.zeros_like(p)) + (1 - beta1 if grad_averaging else 1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", np.zeros_like(p)) + (1 - beta2) * g * g
    bc1, bc2 = (1 - beta1**step, 1 - beta2**step) if bias_correction else (1.0, 1.0)
    u = (m / bc1) / (np.sqrt(v / bc2) + eps)
    if adam_w_mode and weight_decay != 0:
        u = u + weight_decay * p
    ratio = 1.0
    if weight_decay != 0 or use_nvlamb:
        p_norm, u_norm = np.linalg.norm(p), np.linalg.norm(u)
        if p_norm != 0 and u_norm != 0:
            ratio = p_norm / u_norm
    return p - lr * ratio * u


def lars(p, g, state, *, lr=1e-3, weight_decay=0.0, momentum=0.9, dampening=0.0, trust_coefficient=1e-3,
         nesterov=False, foreach=None, maximize=False, lars_exclude=False):
    """You et al.'s LARS as pytorch_optimizer.LARS computes it, with
    lars_exclude (a param-group key) where it excludes the parameters of
    ndim <= 1; the momentum buffer starts at zero."""
    g = -g if maximize else g
    if not lars_exclude:
        p_norm, g_norm = np.linalg.norm(p), np.linalg.norm(g)
        denom = g_norm + weight_decay * p_norm
        ratio = trust_coefficient * p_norm / denom if p_norm > 0 and denom > 0 else 1.0
        g = (g + weight_decay * p) * ratio
    if momentum != 0:
        buf = momentum * state.get("momentum_buffer", np.zeros_like(p)) + (1 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov else buf
    return p - lr * g
