"""The torch optimizers the parity suites compare the optimizers beyond
torch.optim with (optim_cases.py's records name them): each reference
package's class, behind the interface optkern follows where the two
differ. A missing package skips the suite (fails under
OPTKERN_STRICT_TESTS=1: helpers.require_module).

- Lion: lion-pytorch's Lion itself.
- AdEMAMix: pytorch-optimizer's AdEMAMix itself.
- Adan: pytorch-optimizer's Adan behind the official implementation's
  interface (sail-sg/Adan), which optkern follows.
- ADOPT: the official implementation (iShohei220/adopt) is not on PyPI, and
  pytorch-optimizer's ADOPT deviates from it (docs/optimizers.md#adopt): its
  algorithm, written here as a torch optimizer.
"""

import functools

from helpers import require_module
from optkern.optim.adopt import default_clip_lambda


def lion():
    return require_module("lion_pytorch").Lion


def ademamix():
    return require_module("pytorch_optimizer").AdEMAMix


@functools.cache
def adan():
    """pytorch-optimizer's Adan with the official implementation's
    arguments, checks, param group keys (no_prox for weight_decouple, and
    fused) and state name (neg_pre_grad for previous_grad), stepped per
    parameter (foreach=False, the order of operations optkern follows)."""
    package = require_module("pytorch_optimizer")

    class OfficialAdan(package.Adan):
        def __init__(self, params, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, max_grad_norm=0.0,
                     no_prox=False, foreach=True, fused=False):
            if not 0.0 <= max_grad_norm:
                raise ValueError(f"Invalid Max grad norm: {max_grad_norm}")
            _official_checks(lr, eps, betas, 3)
            super().__init__(params, lr=lr, betas=betas, weight_decay=weight_decay, weight_decouple=no_prox,
                             max_grad_norm=max_grad_norm, foreach=foreach, eps=eps)
            for group in [self.defaults, *self.param_groups]:
                group["no_prox"] = group.pop("weight_decouple")
                group["fused"] = fused

        def step(self, closure=None):
            switches = [group["foreach"] for group in self.param_groups]
            for group in self.param_groups:
                group["weight_decouple"], group["foreach"] = group["no_prox"], False
            _rename(self.state.values(), "neg_pre_grad", "previous_grad")
            try:
                return super().step(closure)
            finally:
                for group, foreach in zip(self.param_groups, switches):
                    del group["weight_decouple"]
                    group["foreach"] = foreach
                _rename(self.state.values(), "previous_grad", "neg_pre_grad")

    return OfficialAdan


def _official_checks(lr, eps, betas, count):
    """The checks both official implementations (Adan's, ADOPT's) make, as
    torch's Adam: lr, eps >= 0 and `count` betas in [0, 1)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for k in range(count):
        if not 0.0 <= betas[k] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {k}: {betas[k]}")


def _rename(states, old, new):
    for state in states:
        if old in state:
            state[new] = state.pop(old)


@functools.cache
def adopt():
    """The official ADOPT's algorithm and interface, its for-loop form."""
    torch = require_module("torch")

    class OfficialADOPT(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, clip_lambda=default_clip_lambda,
                     weight_decay=0.0, decouple=False, *, foreach=None, maximize=False, capturable=False,
                     differentiable=False, fused=None):
            _official_checks(lr, eps, betas, 2)
            if not 0.0 <= weight_decay:
                raise ValueError(f"Invalid weight_decay value: {weight_decay}")
            self.clip_lambda = clip_lambda
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decouple=decouple,
                                          maximize=maximize, foreach=foreach, capturable=capturable,
                                          differentiable=differentiable, fused=fused))

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                lr, wd, decouple = group["lr"], group["weight_decay"], group["decouple"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = torch.tensor(0.0)
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                    grad = -p.grad if group["maximize"] else p.grad
                    if wd != 0 and not decouple:
                        grad = grad.add(p, alpha=wd)
                    before = state["step"].item()
                    state["step"] += 1
                    if before == 0:  # the first step only starts the second moment
                        state["exp_avg_sq"].addcmul_(grad, grad)
                        continue
                    if wd != 0 and decouple:
                        p.add_(p, alpha=-lr * wd)
                    normed = grad.div(torch.clamp(state["exp_avg_sq"].sqrt(), group["eps"]))
                    if self.clip_lambda is not None:
                        bound = self.clip_lambda(before)
                        normed.clamp_(-bound, bound)
                    state["exp_avg"].lerp_(normed, 1 - beta1)
                    p.add_(state["exp_avg"], alpha=-lr)
                    state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

    return OfficialADOPT


def sgd_schedulefree():
    return require_module("schedulefree").SGDScheduleFree


def adamw_schedulefree():
    return require_module("schedulefree").AdamWScheduleFree
