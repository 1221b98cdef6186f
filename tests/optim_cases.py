"""The optimizers every optimizer test runs through: one record each.

A record names the optimizer (optkern.<name>, torch.optim.<name> and its
functional form), its float64 reference rule (reference.py), the keyword
arguments under which it keeps every one of its states, and the
configurations the tests run. The suites iterate over these records and
never branch on a name, so an optimizer with a record is tested everywhere,
and test_every_optimizer_has_a_record fails for one without. A suite makes
each array of a record's optimizer with record.shape(...) (an optimizer of
matrices, Muon, gets its shapes as matrices) and compares with
record.torch_optimizer(...).
"""

import functools
import inspect
import math
from dataclasses import dataclass, field
from unittest import mock

import numpy as np

import optkern
import reference
import reference_optimizers
from helpers import require_module
from optkern.optim import _engine


@dataclass(frozen=True)
class Record:
    name: str                 # optkern.<name> and torch.optim.<name>
    rule: object              # its float64 reference rule (reference.py)
    all_states: dict          # kwargs under which every state exists
    configs: list = field(default_factory=list)
    # (kwargs, message): hyperparameters optkern refuses, with torch's message
    bad_hparams: list = field(default_factory=list)
    # the kwargs of bad_hparams that torch lets through (optkern is stricter)
    torch_accepts: list = field(default_factory=list)
    torch_fused: bool = False  # torch has a fused CPU kernel for it
    # the steps the reference suites take at the least: enough to reach
    # every branch of the rule (RAdam rectifies from step 6 on)
    steps: int = 3
    # its rule leaves no rounding choice (products, compares, clamps only):
    # torch's numbers bit for bit
    torch_bitwise: bool = False
    matrix: bool = False       # it takes 2-D parameters only (Muon)
    # builds the torch optimizer the parity suites compare with, where that
    # is not torch.optim.<name> itself: (tensors, **kwargs) -> optimizer
    torch_oracle: object = None
    # torch steps a parameter with no element (its Adafactor divides by
    # zero on one; optkern leaves it alone)
    torch_steps_empty: bool = True
    # an optimizer beyond torch.optim: () -> the class of its reference
    # implementation (reference_optimizers.py), which the parity suites
    # take for torch.optim.<name>
    reference: object = None

    @property
    def torch_class(self):
        """torch.optim.<name>, or the reference implementation's class."""
        if self.reference is not None:
            return self.reference()
        import torch

        return getattr(torch.optim, self.name)

    @property
    def takes_step(self):
        """Whether its functional form takes `step`, the number of the step
        being taken: per parameter, or per param group (Adan, AdEMAMix)."""
        return self.cls._phase == "step" or self.cls._group_step

    @property
    def cls(self):
        return getattr(optkern, self.name)

    def make(self, params, **kwargs):
        """Its optimizer over params, ready to step (ready)."""
        return ready(self.cls(params, **kwargs))

    @property
    def torch_family(self):
        """Whether it is torch.optim.<name>'s twin (state dict layout and all),
        rather than an optimizer beyond torch with a reference of its own."""
        return self.reference is None

    @property
    def fused_clipping(self):
        """Whether its max_grad_norm is optkern's own (keyword-only, None by
        default: clip_grad_norm_ fused into the step, docs/clipping.md),
        not its reference's argument of that name (LAMB's)."""
        arg = inspect.signature(self.cls).parameters["max_grad_norm"]
        return arg.kind == arg.KEYWORD_ONLY and arg.default is None

    def shape(self, shape):
        """The shape a suite's array of `shape` takes for this optimizer: as
        it is, or for a matrix optimizer a matrix with its elements: (1, n)
        for (n,) and (), (d0, d1 * d2 * ...) for more dimensions."""
        shape = tuple(shape)
        if not self.matrix or len(shape) == 2:
            return shape
        return (1, math.prod(shape)) if len(shape) < 2 else (shape[0], math.prod(shape[1:]))

    def torch_optimizer(self, tensors, **kwargs):
        """The torch optimizer the parity suites compare with: torch_class
        in its for-loop form (foreach=False, where it has that switch), ready
        to step, or the record's torch_oracle."""
        if self.torch_oracle is not None:
            return self.torch_oracle(tensors, **kwargs)
        cls = self.torch_class
        if "foreach" in inspect.signature(cls).parameters:
            kwargs.setdefault("foreach", False)
        return ready(cls(tensors, **kwargs))

    @property
    def states(self):
        """Torch's names of its states."""
        return _engine.kind(self.cls._kind).states

    @property
    def scalars(self):
        """Those of its states that are scalars (0-d float32 arrays: NAdam's mu_product)."""
        return _engine.kind(self.cls._kind).scalars

    def states_of(self, shape):
        """The states a parameter of this shape has (Adafactor's depend on
        its ndim)."""
        kind = _engine.kind(self.cls._kind)
        return [name for name in self.states if kind.state_shape(name, tuple(shape)) is not None]

    def new_states(self, params, make=None, **kwargs):
        """Its state lists, in the descriptor's order, as a caller of the
        functional form keeps them before the first step: None entries for
        state the first step creates or a parameter's shape has none of,
        else make(shape, dtype), by default arrays that start as the class
        (made with kwargs) starts them: zeros, or Adagrad's
        initial_accumulator_value; 0-d float32 zeros for a scalar state."""
        kind = _engine.kind(self.cls._kind)
        creates = self.cls._phase == "first_step"
        start = None if make else self.cls([np.zeros(self.shape((1,)))], **kwargs)._new_state

        def new(name, p):
            if creates:
                return None
            if name in kind.scalars:
                return make((), np.float32) if make else np.zeros((), np.float32)
            shape = kind.state_shape(name, p.shape)
            if shape is None:
                return None
            return make(shape, p.dtype) if make else start(shape, dtype=p.dtype)

        return [[new(name, p) for p in params] for name in self.states]

    def run_functional(self, params, grads_by_step, **kwargs):
        """Step its functional form (optkern.functional) over grads_by_step,
        keeping the state lists as a caller of the functional form does
        (new_states, the class's kwargs giving where a state starts)."""
        fn = self.functional
        states = self.new_states(params, **kwargs)
        # the class's kwargs that are not the update's (where a state starts) stay behind
        taken = inspect.signature(fn).parameters
        kwargs = {k: v for k, v in kwargs.items() if k in taken}
        kept = self.functional_kwargs()
        for t, grads in enumerate(grads_by_step, start=1):
            fn(params, grads, *states, **({"step": t} if self.takes_step else {}), **kwargs, **kept)
        return states

    def functional_kwargs(self):
        """What a caller of its functional form keeps from step to step
        besides the state lists: schedule-free's group_state (its param
        group's running values), new; else nothing."""
        return {"group_state": {}} if "group_state" in inspect.signature(self.functional).parameters else {}

    @property
    def functional(self):
        """Its functional form: optkern.functional.<name in lower case>_."""
        return optkern.optim.functional_forms()[self.name.lower() + "_"]


def ready(opt):
    """opt, ready to step: an optimizer with a train mode (schedule-free's
    train() and eval()) is put in it, as its users must before training."""
    if hasattr(opt, "train"):
        opt.train()
    return opt


NAN = float("nan")  # one object, so that dicts holding it compare equal

RECORDS = [
    Record("SGD", reference.sgd, {"momentum": 0.9}, torch_fused=True, configs=[
        {},
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
        {"lr": 0.1, "momentum": 0.8, "nesterov": True, "maximize": True},
        {"lr": 0.05, "weight_decay": 0.1, "maximize": True},
    ], bad_hparams=[
        ({"lr": -0.1}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"momentum": -0.5}, "Invalid momentum value"),
        ({"weight_decay": -1}, "Invalid weight_decay value"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires"),
    ], torch_accepts=[{"lr": NAN}]),
    Record("Adam", reference.adam, {"amsgrad": True}, torch_fused=True, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True},
        {"lr": 0.01, "maximize": True, "weight_decay": 0.05, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.0, 0.5), "amsgrad": True, "maximize": True},
    ], bad_hparams=[
        ({"lr": -1e-3}, "Invalid learning rate"),
        ({"lr": float("nan")}, "Invalid learning rate"),
        ({"eps": -1e-8}, "Invalid epsilon value"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0"),
        ({"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0"),
        ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9,)}, "betas must be a pair"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"weight_decay": float("nan")}, "Invalid weight_decay value"),
    ]),
    Record("AdamW", reference.adamw, {"amsgrad": True}, torch_fused=True, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    ], bad_hparams=[
        ({"lr": float("nan")}, "Invalid learning rate"),
        ({"weight_decay": -1e-2}, "Invalid weight_decay value"),
    ]),
    # Every state exists under any options: row_var and col_var for the
    # parameters of ndim >= 2, variance for the others.
    Record("Adafactor", reference.adafactor, {}, torch_steps_empty=False, configs=[
        {},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.02, "maximize": True},
        {"beta2_decay": -0.5, "eps": (1e-30, 1e-2), "d": 2.0},
        {"lr": 0.5, "beta2_decay": 0.0, "eps": (1e-3, 0.0), "d": 1.5, "weight_decay": 0.05, "maximize": True},
    ], bad_hparams=[
        ({"lr": -1e-2}, "Learning rate should be >= 0"),
        ({"lr": NAN}, "Learning rate should be >= 0"),
        ({"beta2_decay": 0.1}, "beta2_decay should be <= 0"),
        ({"beta2_decay": NAN}, "beta2_decay should be <= 0"),
        ({"eps": (-1e-3, 1e-3)}, "epsilon1 should be >= 0"),
        ({"eps": (NAN, 1e-3)}, "epsilon1 should be >= 0"),
        ({"eps": (None, -1e-3)}, "epsilon2 should be >= 0"),
        ({"eps": (None,)}, "eps must be a pair"),
        ({"d": 0.5}, "Clipping threshold d should be >= 1"),
        ({"d": NAN}, "Clipping threshold d should be >= 1"),
        ({"weight_decay": -0.1}, "weight_decay should be >= 0"),
    ]),
    Record("Adagrad", reference.adagrad, {}, torch_fused=True, configs=[
        {},
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1},
        {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-6, "maximize": True},
        {"lr": 0.1, "lr_decay": 0.5, "initial_accumulator_value": 0.1, "weight_decay": 0.01, "maximize": True},
    ], bad_hparams=[
        ({"lr": -0.01}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"lr_decay": -0.1}, "Invalid lr_decay value"),
        ({"lr_decay": NAN}, "Invalid lr_decay value"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"initial_accumulator_value": -0.1}, "Invalid initial_accumulator_value value"),
        ({"initial_accumulator_value": NAN}, "Invalid initial_accumulator_value value"),
        ({"eps": -1e-10}, "Invalid epsilon value"),
    ]),
    Record("RMSprop", reference.rmsprop, {"momentum": 0.9, "centered": True}, configs=[
        {},
        {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1},
        {"lr": 0.01, "momentum": 0.9, "centered": True},
        {"lr": 0.01, "centered": True, "eps": 1e-6, "maximize": True},
        {"lr": 1e-3, "alpha": 0.3, "momentum": 0.5, "weight_decay": 0.01, "maximize": True},
        {"lr": 1e-3, "alpha": 0.5, "centered": True, "weight_decay": 0.05},
    ], bad_hparams=[
        ({"lr": -0.01}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"eps": -1e-8}, "Invalid epsilon value"),
        ({"momentum": -0.9}, "Invalid momentum value"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"alpha": -0.5}, "Invalid alpha value"),
        ({"alpha": NAN}, "Invalid alpha value"),
    ]),
    Record("Adadelta", reference.adadelta, {}, configs=[
        {},
        {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1},
        {"rho": 0.95, "eps": 1e-4, "maximize": True},
        {"lr": 0.1, "rho": 0.0, "weight_decay": 0.01, "maximize": True},
        {"lr": 0.1, "rho": 1.0},
    ], bad_hparams=[
        ({"lr": -1.0}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"rho": -0.1}, "Invalid rho value"),
        ({"rho": 1.1}, "Invalid rho value"),
        ({"rho": NAN}, "Invalid rho value"),
        ({"eps": -1e-6}, "Invalid epsilon value"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ]),
    Record("Adamax", reference.adamax, {}, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True},
        {"lr": 0.01, "betas": (0.0, 0.5), "weight_decay": 0.01, "maximize": True},
        {"lr": 0.01, "betas": (0.3, 0.0)},
    ], bad_hparams=[
        ({"lr": -2e-3}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"eps": -1e-8}, "Invalid epsilon value"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0"),
        ({"betas": (NAN, 0.999)}, "Invalid beta parameter at index 0"),
        ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9,)}, "betas must be a pair"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ]),
]

# What RAdam and NAdam refuse as Adam does (their checks are Adam's).
MOMENTS_BAD_HPARAMS = [
    ({"lr": -1e-3}, "Invalid learning rate"),
    ({"lr": NAN}, "Invalid learning rate"),
    ({"eps": -1e-8}, "Invalid epsilon value"),
    ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
    ({"betas": (0.9,)}, "betas must be a pair"),
    ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ({"weight_decay": NAN}, "Invalid weight_decay value"),
]

# NAdam, RAdam, ASGD and Rprop.
RECORDS += [
    Record("RAdam", reference.radam, {}, steps=8, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True},
        {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.0, 0.99), "weight_decay": 0.01, "decoupled_weight_decay": True, "maximize": True},
    ], bad_hparams=MOMENTS_BAD_HPARAMS),
    Record("Rprop", reference.rprop, {}, configs=[
        {},
        {"lr": 0.05, "etas": (0.3, 1.5)},
        {"lr": 0.01, "step_sizes": (1e-3, 0.02), "maximize": True},
        {"lr": 0.1, "etas": (0.6, 1.1), "step_sizes": (0.05, 0.2)},
        {"lr": 0.01, "step_sizes": (0.3, 0.1)},  # crossed bounds: the upper one wins, as in torch's clamp
    ], bad_hparams=[
        ({"lr": -0.01}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"etas": (0.0, 1.2)}, "Invalid eta values"),
        ({"etas": (1.0, 1.2)}, "Invalid eta values"),
        ({"etas": (0.5, 1.0)}, "Invalid eta values"),
        ({"etas": (NAN, 1.2)}, "Invalid eta values"),
        ({"etas": (0.5,)}, "etas must be a pair"),
        ({"step_sizes": (NAN, 50)}, "Invalid step_sizes values"),
    ], torch_accepts=[{"step_sizes": (NAN, 50)}], torch_bitwise=True),
    Record("NAdam", reference.nadam, {}, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "momentum_decay": 0.01, "maximize": True},
        {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.0, 0.5), "momentum_decay": 0.0, "weight_decay": 0.01, "decoupled_weight_decay": True,
         "maximize": True},
    ], bad_hparams=MOMENTS_BAD_HPARAMS + [
        ({"momentum_decay": -4e-3}, "Invalid momentum_decay value"),
        ({"momentum_decay": NAN}, "Invalid momentum_decay value"),
    ]),
    # t0=0: the average starts at step 3 (mu = 1 / max(1, t - t0) is set at the end of a step)
    Record("ASGD", reference.asgd, {"t0": 0.0}, steps=5, configs=[
        {},
        {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "weight_decay": 0.1},
        {"lr": 0.01, "t0": 0.0, "maximize": True},
        {"lr": 0.1, "lambd": 0.001, "alpha": 1.0, "t0": 1.5, "weight_decay": 0.01, "maximize": True},
        {"lr": 0.02, "lambd": 0.0, "t0": 2.0},
    ], bad_hparams=[
        ({"lr": -0.01}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"weight_decay": NAN}, "Invalid weight_decay value"),
        ({"lambd": NAN}, "Invalid lambd value"),
        ({"alpha": NAN}, "Invalid alpha value"),
        ({"t0": NAN}, "Invalid t0 value"),
    ], torch_accepts=[{"lambd": NAN}, {"alpha": NAN}, {"t0": NAN}]),
]



def torch_muon_in_dtype(tensors, **kwargs):
    """torch.optim.Muon with its Newton-Schulz iteration in the parameters'
    dtype, where torch's own runs it in bfloat16: the algorithm optkern.Muon
    computes exactly (docs/optimizers.md#muon). The bfloat16 original is
    compared loosely in test_muon.py."""
    import torch
    from torch.optim import _muon

    def orthogonalize(grad, ns_coefficients, ns_steps, eps):
        a, b, c = ns_coefficients
        tall = grad.size(0) > grad.size(1)
        x = grad.T if tall else grad
        x = x / x.norm().clamp(min=eps)
        for _ in range(ns_steps):
            gram = x @ x.T
            x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
        return x.T if tall else x

    class MuonInDtype(torch.optim.Muon):
        def step(self, closure=None):
            with mock.patch.object(_muon, "_zeropower_via_newtonschulz", orthogonalize):
                return super().step(closure)

    return MuonInDtype(tensors, **kwargs)


RECORDS += [
    Record("Muon", reference.muon, {}, matrix=True, torch_oracle=torch_muon_in_dtype, configs=[
        {},
        {"lr": 0.02, "nesterov": False},
        {"lr": 0.02, "weight_decay": 0.0, "momentum": 0.9},
        {"lr": 0.01, "adjust_lr_fn": "match_rms_adamw"},
        {"lr": 0.01, "adjust_lr_fn": "original", "ns_coefficients": (3.0, -3.2, 1.2), "ns_steps": 3, "eps": 1e-3},
        {"lr": 0.02, "momentum": 0.3, "weight_decay": 0.05, "ns_steps": 0},
    ], bad_hparams=[
        ({"lr": -1e-3}, "Learning rate should be >= 0"),
        ({"lr": NAN}, "Learning rate should be >= 0"),
        ({"momentum": -0.5}, "momentum should be >= 0"),
        ({"weight_decay": -0.1}, "weight decay should be >= 0"),
        ({"adjust_lr_fn": "spectral"}, "Adjust learning rate function spectral is not supported"),
        ({"ns_steps": 100}, "Number of steps must be less than 100"),
        ({"ns_coefficients": (1.0, 2.0)}, "Coefficients must be a tuple of exactly 3 values"),
        ({"ns_steps": -1}, "ns_steps must be a non-negative int"),
        ({"ns_steps": 2.5}, "ns_steps must be a non-negative int"),
        ({"eps": -1e-7}, "Invalid epsilon value"),
    ], torch_accepts=[{"ns_steps": 100}, {"ns_coefficients": (1.0, 2.0)}, {"ns_steps": -1}, {"ns_steps": 2.5},
                      {"eps": -1e-7}]),
]

# Beyond torch.optim: each against its reference implementation
# (reference_optimizers.py). The configurations vary what the reference
# keeps in its param groups, which a state dict saves; what it keeps on
# the optimizer (Lion's decoupled_weight_decay, AdEMAMix's maximize,
# ADOPT's clip_lambda, Adan's max_grad_norm) has tests of its own
# (test_beyond_torch.py).
RECORDS += [
    Record("Lion", reference.lion, {}, reference=reference_optimizers.lion, configs=[
        {},
        {"lr": 1e-3, "weight_decay": 0.1},
        {"lr": 3e-4, "betas": (0.95, 0.98), "weight_decay": 0.5},
        {"lr": 1e-3, "betas": (0.0, 0.5)},
        {"lr": 1e-3, "betas": (1.0, 1.0), "weight_decay": 0.01},
    ], bad_hparams=[
        ({"lr": -1e-4}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"betas": (1.1, 0.99)}, "Invalid beta parameter at index 0"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9, NAN)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9,)}, "betas must be 2 numbers"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"weight_decay": NAN}, "Invalid weight_decay value"),
    ], torch_accepts=[{"betas": (0.9,)}, {"weight_decay": -0.1}, {"weight_decay": NAN}]),
    Record("Adan", reference.adan, {}, reference=reference_optimizers.adan, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.05, "no_prox": True},
        {"lr": 0.01, "betas": (0.9, 0.8, 0.95), "eps": 1e-6},
        {"lr": 0.01, "betas": (0.0, 0.0, 0.5), "weight_decay": 0.01},
    ], bad_hparams=[
        ({"lr": -1e-3}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"eps": -1e-8}, "Invalid epsilon value"),
        ({"betas": (1.0, 0.92, 0.99)}, "Invalid beta parameter at index 0"),
        ({"betas": (0.98, -0.1, 0.99)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.98, 0.92, 1.0)}, "Invalid beta parameter at index 2"),
        ({"betas": (0.98, 0.92)}, "betas must be 3 numbers"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
        ({"weight_decay": NAN}, "Invalid weight_decay value"),
    ], torch_accepts=[{"weight_decay": NAN}]),
    Record("AdEMAMix", reference.ademamix, {}, reference=reference_optimizers.ademamix, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "weight_decouple": True},
        {"lr": 0.01, "weight_decay": 0.5, "weight_decouple": True, "fixed_decay": True},
        {"lr": 0.01, "betas": (0.8, 0.9, 0.999), "alpha": 8.0, "t_alpha_beta3": 4.0, "eps": 1e-6},
        {"lr": 0.01, "betas": (0.0, 0.5, 1.0), "alpha": 0.5},
    ], bad_hparams=[
        ({"lr": -1e-3}, "learning rate must be positive"),
        ({"lr": NAN}, "learning rate must be positive"),
        ({"betas": (1.0, 0.999, 0.9999)}, "beta1 must be in the range"),
        ({"betas": (0.9, 1.0, 0.9999)}, "beta2 must be in the range"),
        ({"betas": (0.9, 0.999, 1.5)}, "beta3 must be in the range"),
        ({"betas": (0.9, 0.999)}, "betas must be 3 numbers"),
        ({"alpha": -1.0}, "alpha must be non-negative"),
        ({"t_alpha_beta3": -5.0}, "t_alpha_beta3 must be positive"),
        ({"t_alpha_beta3": 0.0}, "t_alpha_beta3 must be positive"),
        ({"t_alpha_beta3": 10.0, "betas": (0.0, 0.999, 0.9999)}, "both must be > 0"),
        ({"weight_decay": -0.1}, "weight_decay must be non-negative"),
        ({"eps": -1e-8}, "eps must be non-negative"),
    ], torch_accepts=[{"lr": NAN}, {"betas": (0.9, 0.999)}, {"t_alpha_beta3": 0.0},
                      {"t_alpha_beta3": 10.0, "betas": (0.0, 0.999, 0.9999)}]),
    Record("ADOPT", reference.adopt, {}, reference=reference_optimizers.adopt, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "decouple": True, "maximize": True},
        {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3},
        {"lr": 0.01, "betas": (0.0, 0.5), "weight_decay": 0.01, "decouple": True},
    ], bad_hparams=[
        ({"lr": -1e-3}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"eps": -1e-6}, "Invalid epsilon value"),
        ({"betas": (1.0, 0.9999)}, "Invalid beta parameter at index 0"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
        ({"betas": (0.9,)}, "betas must be 2 numbers"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value"),
    ]),
]

# Schedule-free SGD and AdamW, against the schedulefree package. Their
# warmup, polynomial weighting (r) and weight_lr_power reach every branch of
# the weighting; momentum 0.3 puts eval()'s and train()'s lerps in their
# other form.
SCHEDULEFREE_BAD_HPARAMS = [
    ({"lr": -0.1}, "Invalid learning rate"),
    ({"lr": NAN}, "Invalid learning rate"),
    ({"weight_decay": -1e-2}, "Invalid weight_decay value"),
    ({"warmup_steps": -1}, "warmup_steps must be an int >= 0"),
    ({"warmup_steps": 2.5}, "warmup_steps must be an int >= 0"),
    ({"r": NAN}, "Invalid r value"),
    ({"weight_lr_power": -1.0}, "Invalid weight_lr_power value"),
]

RECORDS += [
    Record("SGDScheduleFree", reference.sgd_schedulefree, {}, steps=5, reference=reference_optimizers.sgd_schedulefree,
           configs=[
        {},
        {"lr": 0.1, "momentum": 0.5},
        {"lr": 0.05, "weight_decay": 0.01, "warmup_steps": 3},
        {"lr": 0.1, "momentum": 0.95, "r": 1.0, "weight_lr_power": 0.0},
        {"lr": 0.02, "momentum": 0.3, "weight_decay": 0.1, "warmup_steps": 10, "r": 0.5, "weight_lr_power": 1.0},
    ], bad_hparams=SCHEDULEFREE_BAD_HPARAMS + [
        ({"momentum": 0.0}, "Momentum must be between 0 and 1 exclusive"),
        ({"momentum": 1.0}, "Momentum must be between 0 and 1 exclusive"),
        ({"momentum": NAN}, "Momentum must be between 0 and 1 exclusive"),
    ], torch_accepts=[{"lr": NAN}, {"momentum": NAN}, {"warmup_steps": -1}, {"warmup_steps": 2.5}, {"r": NAN},
                      {"weight_lr_power": -1.0}]),
]
ADAMW_SCHEDULEFREE_BAD_HPARAMS = SCHEDULEFREE_BAD_HPARAMS + [
    ({"eps": -1e-8}, "Invalid epsilon value"),
    ({"betas": (0.0, 0.999)}, "Invalid beta parameter at index 0"),
    ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0"),
    ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1"),
    ({"betas": (0.9,)}, "betas must be a pair"),
]
RECORDS += [
    Record("AdamWScheduleFree", reference.adamw_schedulefree, {}, steps=5,
           reference=reference_optimizers.adamw_schedulefree, configs=[
               {},
               {"lr": 0.01, "weight_decay": 0.05},
               {"lr": 0.01, "betas": (0.5, 0.99), "eps": 1e-6, "warmup_steps": 4},
               {"lr": 0.02, "betas": (0.95, 0.0), "r": 1.0, "weight_lr_power": 0.0},
               {"lr": 0.005, "betas": (0.3, 0.9), "weight_decay": 0.01, "warmup_steps": 10, "r": 2.0,
                "weight_lr_power": 1.0},
           ], bad_hparams=ADAMW_SCHEDULEFREE_BAD_HPARAMS,
           # the reference's AdamWScheduleFree checks none of its arguments
           torch_accepts=[kwargs for kwargs, _ in ADAMW_SCHEDULEFREE_BAD_HPARAMS]),
]


@functools.cache
def apex_fused_lamb():
    """NVIDIA apex's FusedLAMB (apex.optimizers; CUDA only, so not installable
    here) as a torch optimizer on CPU tensors: its arguments and defaults,
    and its kernel's operations in their order (docs/optimizers.md#lamb), in
    the parameters' dtype, as apex's kernel runs them in float32. Its
    bookkeeping is the torch family's, as optkern.LAMB's: a step count per
    parameter in its state (apex counts per group), every hyperparameter in
    the param groups (apex keeps adam_w_mode and use_nvlamb on the
    optimizer, and reads max_grad_norm from its defaults)."""
    import torch

    class FusedLAMB(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01,
                     amsgrad=False, adam_w_mode=True, grad_averaging=True, set_grad_none=True, max_grad_norm=1.0,
                     use_nvlamb=False):
            if amsgrad:
                raise RuntimeError("FusedLAMB does not support the AMSGrad variant.")
            self.set_grad_none = set_grad_none
            super().__init__(params, dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                                          weight_decay=weight_decay, adam_w_mode=adam_w_mode,
                                          grad_averaging=grad_averaging, max_grad_norm=max_grad_norm,
                                          use_nvlamb=use_nvlamb))

        @torch.no_grad()
        def step(self):
            grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
            norm = math.sqrt(sum(float(torch.sum(g.double() ** 2)) for g in grads))
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                decay, limit = group["weight_decay"], group["max_grad_norm"]
                clip = norm / limit if limit is not None and norm > limit else 1.0
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                    state["step"] += 1
                    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                    g = p.grad / clip
                    if not group["adam_w_mode"] and decay != 0:
                        g = g.add(p, alpha=decay)
                    m.mul_(beta1).add_(g, alpha=1 - beta1 if group["grad_averaging"] else 1.0)
                    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                    bc1, bc2 = (1 - beta1**t, 1 - beta2**t) if group["bias_correction"] else (1.0, 1.0)
                    u = (m / bc1) / ((v / bc2).sqrt() + group["eps"])
                    if group["adam_w_mode"] and decay != 0:
                        u = u.add(p, alpha=decay)
                    ratio = group["lr"]
                    if decay != 0 or group["use_nvlamb"]:
                        p_norm, u_norm = float(torch.linalg.vector_norm(p)), float(torch.linalg.vector_norm(u))
                        if p_norm != 0 and u_norm != 0:
                            ratio = group["lr"] * (p_norm / u_norm)
                    p.add_(u, alpha=-ratio)

    return FusedLAMB


def pytorch_optimizer_lars():
    return require_module("pytorch_optimizer", "pytorch-optimizer==4.1.0").LARS


def torch_lars_with_exclusion(tensors, **kwargs):
    """pytorch_optimizer.LARS (per-parameter form) made to exclude the
    param groups optkern.LARS excludes (lars_exclude): it excludes every
    parameter of ndim <= 1 instead, so it steps views of the tensors, flat
    in an excluded group and at least 2-D in the others (a norm does not
    depend on the shape)."""
    import torch

    groups = tensors if isinstance(tensors[0], dict) else [{"params": tensors}]
    pairs = []
    for group in groups:
        exclude = group.get("lars_exclude", False)
        views = [t.view(-1) if exclude else t.view(-1, 1) if t.ndim < 2 else t for t in group["params"]]
        pairs += zip(group["params"], views)
        group["params"] = views

    class Viewed:
        def __init__(self):
            self.opt = pytorch_optimizer_lars()(groups, foreach=False, **kwargs)
            self.param_groups = self.opt.param_groups

        @property
        def state(self):
            return {t: {name: x.view(t.shape) for name, x in self.opt.state[v].items()} for t, v in pairs}

        def state_dict(self):  # the state's arrays in the shapes of the tensors
            sd = self.opt.state_dict()
            for k, entry in sd["state"].items():
                sd["state"][k] = {name: x.view(pairs[k][0].shape) for name, x in entry.items()}
            return sd

        @torch.no_grad()
        def step(self):
            for t, v in pairs:
                v.grad = None if t.grad is None else t.grad.view(v.shape)
            self.opt.step()

    return Viewed()


# Beyond torch: LAMB and LARS, each with its reference. Every hyperparameter
# optkern refuses, apex's FusedLAMB takes (it checks none).
LAMB_BAD_HPARAMS = MOMENTS_BAD_HPARAMS + [
    ({"max_grad_norm": 0.0}, "max_grad_norm must be positive"),
    ({"max_grad_norm": -1.0}, "max_grad_norm must be positive"),
    ({"max_grad_norm": NAN}, "max_grad_norm must be positive"),
]

RECORDS += [
    Record("LAMB", reference.lamb, {}, steps=4, reference=apex_fused_lamb, configs=[
        {},
        {"lr": 0.01, "weight_decay": 0.0},
        {"lr": 0.01, "weight_decay": 0.0, "use_nvlamb": True, "max_grad_norm": None},
        {"lr": 0.01, "adam_w_mode": False, "weight_decay": 0.05},
        {"lr": 0.01, "bias_correction": False, "grad_averaging": False, "betas": (0.8, 0.99), "eps": 1e-8},
        {"lr": 0.02, "betas": (0.0, 0.5), "weight_decay": 0.1, "max_grad_norm": 50.0},
    ], bad_hparams=LAMB_BAD_HPARAMS, torch_accepts=[kwargs for kwargs, _ in LAMB_BAD_HPARAMS]),
    Record("LARS", reference.lars, {}, reference=pytorch_optimizer_lars, torch_oracle=torch_lars_with_exclusion,
           configs=[
        {},
        {"lr": 0.1, "weight_decay": 0.01},
        {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.1, "trust_coefficient": 0.02},
        {"lr": 0.1, "momentum": 0.8, "nesterov": True, "dampening": 0.2, "weight_decay": 0.05, "maximize": True},
        {"lr": 0.05, "dampening": 0.5, "trust_coefficient": 0.0},
    ], bad_hparams=[
        ({"lr": -0.1}, "Invalid learning rate"),
        ({"lr": NAN}, "Invalid learning rate"),
        ({"weight_decay": -1.0}, "weight_decay must be non-negative"),
        ({"weight_decay": NAN}, "weight_decay must be non-negative"),
        ({"momentum": 1.0}, r"momentum must be in the range \[0.0, 1.0\)"),
        ({"momentum": -0.1}, r"momentum must be in the range \[0.0, 1.0\)"),
        ({"dampening": 1.0}, r"dampening must be in the range \[0.0, 1.0\)"),
        ({"trust_coefficient": -1e-3}, "trust_coefficient must be non-negative"),
        ({"trust_coefficient": NAN}, "trust_coefficient must be non-negative"),
    ], torch_accepts=[{"lr": NAN}, {"weight_decay": NAN}, {"trust_coefficient": NAN}]),
]

# Optimizers whose step is not step(grads) (LBFGS's takes a closure), so that
# the suites of the records cannot drive them: each has a test module of its
# own, named here (test_api.py checks that every optimizer is in one place
# or the other).
OWN_SUITES = {"LBFGS": "test_lbfgs.py"}
# The 8-bit optimizers (8-bit states, no torch peer): tests/test_eightbit.py.
OWN_SUITES.update({name: "test_eightbit.py" for name in
                   ("Adam8bit", "AdamW8bit", "SGD8bit", "Lion8bit", "RMSprop8bit", "Adagrad8bit")})

# (record, kwargs): every configuration of every optimizer.
CASES = [(record, kwargs) for record in RECORDS for kwargs in record.configs]
# (record, kwargs, message): every refused hyperparameter of every optimizer.
BAD_HPARAMS = [(record, kwargs, match) for record in RECORDS for kwargs, match in record.bad_hparams]


def case_id(case):
    record, kwargs = case
    return record.name + "".join(f"-{k}={v}" for k, v in kwargs.items())


def record_id(record):
    return record.name


def bad_id(bad):
    record, kwargs, _ = bad
    return record.name + "".join(f"-{k}={v}" for k, v in kwargs.items())
