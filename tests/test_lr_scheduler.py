"""optkern.lr_scheduler against torch.optim.lr_scheduler 2.13 (docs/schedules.md).

Every scheduler runs next to torch's, each on its own optimizer (optkern's
and torch's of the same name, float64, two param groups), stepped 60 times
after each optimizer step: the learning rates (and momentums) must be
torch's exactly, as the scheduler does torch's float arithmetic, and the
parameters must end where torch's do. Then state dicts (torch's keys and
values, round trips that resume bit for bit, torch's dicts loaded here),
torch's errors and messages for bad arguments, and the warnings.
"""

import copy
import math
import warnings
from functools import partial

import numpy as np
import pytest

import optkern
from helpers import require_module
from optim_cases import RECORDS, ready
from optkern import lr_scheduler as okL

torch = require_module("torch")
tL = torch.optim.lr_scheduler

STEPS = 60
OPTIMIZERS = {  # name: keyword arguments (the same for optkern's and torch's)
    "SGD": dict(lr=0.1, momentum=0.9),
    "Adam": dict(lr=0.01),
    "AdamW": dict(lr=0.01, betas=(0.8, 0.99)),
}
SHAPES = [(5,), (3, 4)]


def one_over(e):
    return 1 / (e + 1)


def halved_late(e):
    return 0.5 if e > 3 else 1.0


def decay95(e):
    return 0.95 ** e


def alternating(e):
    return 1.01 if e % 2 else 0.98


class Scale:
    """A callable object: state dicts save its attributes."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base ** x


# (id, make(L, optimizer) -> scheduler), L being torch's or optkern's module.
CASES = [
    ("LambdaLR", lambda L, o: L.LambdaLR(o, decay95)),
    ("LambdaLR-list", lambda L, o: L.LambdaLR(o, [one_over, halved_late])),
    ("LambdaLR-object", lambda L, o: L.LambdaLR(o, Scale(0.97))),
    ("LambdaLR-schedule", lambda L, o: L.LambdaLR(o, optkern.schedules.warmup_cosine_decay_schedule(0.1, 1.0, 5, 50))),
    ("MultiplicativeLR", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9)),
    ("MultiplicativeLR-list", lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.95, alternating])),
    ("StepLR", lambda L, o: L.StepLR(o, 3)),
    ("StepLR-gamma", lambda L, o: L.StepLR(o, step_size=7, gamma=0.5)),
    ("MultiStepLR", lambda L, o: L.MultiStepLR(o, [2, 5, 9])),
    ("MultiStepLR-repeated", lambda L, o: L.MultiStepLR(o, milestones=[3, 3, 10], gamma=0.3)),
    ("ConstantLR", lambda L, o: L.ConstantLR(o)),
    ("ConstantLR-args", lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=8)),
    ("LinearLR", lambda L, o: L.LinearLR(o)),
    ("LinearLR-args", lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=13)),
    ("LinearLR-down", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=20)),
    ("ExponentialLR", lambda L, o: L.ExponentialLR(o, gamma=0.93)),
    ("PolynomialLR", lambda L, o: L.PolynomialLR(o)),
    ("PolynomialLR-args", lambda L, o: L.PolynomialLR(o, total_iters=17, power=2.5)),
    ("CosineAnnealingLR", lambda L, o: L.CosineAnnealingLR(o, T_max=10)),
    ("CosineAnnealingLR-eta_min", lambda L, o: L.CosineAnnealingLR(o, 7, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5)),
    ("CosineAnnealingWarmRestarts-mult", lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=1e-3)),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=4)),
    ("CyclicLR-triangular2", lambda L, o: L.CyclicLR(o, [0.001, 0.002], [0.01, 0.03], step_size_up=3,
                                                     step_size_down=6, mode="triangular2")),
    ("CyclicLR-exp_range", lambda L, o: L.CyclicLR(o, 0.001, 0.01, 5, mode="exp_range", gamma=0.97,
                                                   base_momentum=0.7, max_momentum=[0.9, 0.95])),
    ("CyclicLR-scale_fn", lambda L, o: L.CyclicLR(o, 0.001, 0.01, 4, scale_fn=Scale(0.9), scale_mode="iterations")),
    ("CyclicLR-no-momentum", lambda L, o: L.CyclicLR(o, 0.001, 0.01, 4, cycle_momentum=False)),
    ("OneCycleLR", lambda L, o: L.OneCycleLR(o, max_lr=0.05, total_steps=STEPS)),
    ("OneCycleLR-epochs", lambda L, o: L.OneCycleLR(o, [0.05, 0.02], epochs=6, steps_per_epoch=10, pct_start=0.25,
                                                    anneal_strategy="linear", div_factor=10.0)),
    ("OneCycleLR-three-phase", lambda L, o: L.OneCycleLR(o, 0.05, STEPS + 5, three_phase=True,
                                                         base_momentum=0.8, max_momentum=0.9)),
    ("OneCycleLR-no-momentum", lambda L, o: L.OneCycleLR(o, 0.05, STEPS, cycle_momentum=False,
                                                         final_div_factor=100.0)),
    ("SequentialLR", lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=5),
                                                     L.CosineAnnealingLR(o, T_max=20)], milestones=[5])),
    ("SequentialLR-three", lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, 2), L.ExponentialLR(o, 0.9),
                                                           L.StepLR(o, 4)], [4, 10])),
    ("SequentialLR-lambda", lambda L, o: L.SequentialLR(o, [L.LambdaLR(o, decay95), L.MultiStepLR(o, [3, 8])],
                                                        [12])),
    ("ChainedScheduler", lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=4),
                                                          L.ExponentialLR(o, gamma=0.95)])),
    ("ChainedScheduler-optimizer", lambda L, o: L.ChainedScheduler([L.LinearLR(o, 0.2, total_iters=10),
                                                                    L.CosineAnnealingLR(o, 15)], optimizer=o)),
]
CASE_IDS = [name for name, _ in CASES]


class Twins:
    """An optkern optimizer and torch's of the same name, on equal float64
    parameters in two param groups, stepped with the same gradients."""

    def __init__(self, name, seed=0):
        kwargs = OPTIMIZERS[name]
        rng = np.random.default_rng(seed)
        self.params = [rng.standard_normal(s) for s in SHAPES]
        self.tensors = [torch.tensor(p) for p in self.params]
        second_lr = kwargs["lr"] / 2
        self.opt = getattr(optkern, name)([{"params": [self.params[0]]},
                                           {"params": [self.params[1]], "lr": second_lr}], **kwargs)
        self.topt = getattr(torch.optim, name)([{"params": [self.tensors[0]]},
                                                {"params": [self.tensors[1]], "lr": second_lr}],
                                               foreach=False, **kwargs)
        self.rng = np.random.default_rng(seed + 1)

    def step(self):
        grads = [self.rng.standard_normal(p.shape) for p in self.params]
        self.opt.step(grads)
        for t, g in zip(self.tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        self.topt.step()


def hyperparameters(groups):
    """What a scheduler writes into the param groups."""
    return [(g["lr"], g.get("momentum"), g["betas"][0] if "betas" in g else None) for g in groups]


SCHEDULED = ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def scheduled_entries(opt):
    return [{k: g[k] for k in SCHEDULED if k in g} for g in opt.param_groups]


def assert_same_schedule(sched, tsched, opt, topt):
    assert sched.get_last_lr() == tsched.get_last_lr()
    assert hyperparameters(opt.param_groups) == hyperparameters(topt.param_groups)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("make", [make for _, make in CASES], ids=CASE_IDS)
def test_learning_rates_are_torchs(make, optimizer):
    twins = Twins(optimizer)
    sched, tsched = make(okL, twins.opt), make(tL, twins.topt)
    assert_same_schedule(sched, tsched, twins.opt, twins.topt)
    seen = {tuple(sched.get_last_lr())}
    for _ in range(STEPS):
        twins.step()
        sched.step()
        tsched.step()
        assert_same_schedule(sched, tsched, twins.opt, twins.topt)
        assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
        seen.add(tuple(sched.get_last_lr()))
    assert len(seen) > 1  # the schedule moved
    for p, t in zip(twins.params, twins.tensors):
        np.testing.assert_allclose(p, t.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("make", [make for _, make in CASES], ids=CASE_IDS)
def test_state_dict_is_torchs(make):
    twins = Twins("SGD")
    sched, tsched = make(okL, twins.opt), make(tL, twins.topt)
    for k in range(STEPS // 2):
        twins.step()
        sched.step()
        tsched.step()
        if k in (0, 7):
            assert sched.state_dict() == torchs_state_dict(tsched)
    # The param group entries the schedulers write (initial_lr, max_lr, ...) too.
    assert scheduled_entries(twins.opt) == scheduled_entries(twins.topt)


def torchs_state_dict(tsched):
    """torch's state dict, but for an optkern schedule given as lr_lambda,
    which optkern saves as torch saves a function: as None (torch saves its
    attributes, as of any callable object)."""
    state = tsched.state_dict()
    if hasattr(tsched, "lr_lambdas"):
        state["lr_lambdas"] = [None if isinstance(fn, optkern.schedules.Schedule) else saved
                               for fn, saved in zip(tsched.lr_lambdas, state["lr_lambdas"])]
    if "_schedulers" in state:
        state["_schedulers"] = [torchs_state_dict(s) for s in tsched._schedulers]
    return state


def run(make, name, snapshot_at, steps, loaded=None, seed=0):
    """Steps an optkern optimizer and its scheduler; at step `snapshot_at`
    keeps (parameters, optimizer state, scheduler state), deep copies. With
    `loaded` (such a snapshot), starts from it: the scheduler is made, then
    the optimizer's and the scheduler's states loaded, as torch's docs say.
    Returns (learning rates of each step, final parameters, snapshot)."""
    kwargs = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) for s in SHAPES] if loaded is None else copy.deepcopy(loaded[0])
    opt = getattr(optkern, name)([{"params": [params[0]]}, {"params": [params[1]], "lr": kwargs["lr"] / 3}],
                                 **kwargs)
    sched = make(okL, opt)
    if loaded is not None:
        opt.load_state_dict(copy.deepcopy(loaded[1]))
        sched.load_state_dict(copy.deepcopy(loaded[2]))
    grads = np.random.default_rng(seed + 1)
    lrs, snapshot = [], None
    start = 0 if loaded is None else snapshot_at
    for _ in range(snapshot_at if loaded is not None else 0):  # the gradients already used
        [grads.standard_normal(s) for s in SHAPES]
    for k in range(start, steps):
        if k == snapshot_at and loaded is None:
            snapshot = copy.deepcopy((params, opt.state_dict(), sched.state_dict()))
        opt.step([grads.standard_normal(s) for s in SHAPES])
        sched.step()
        lrs.append((sched.get_last_lr(), hyperparameters(opt.param_groups)))
    return lrs, params, snapshot


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("make", [make for _, make in CASES], ids=CASE_IDS)
def test_resume_from_state_dicts_is_exact(make, optimizer):
    at = 23
    lrs, params, snapshot = run(make, optimizer, at, STEPS)
    resumed_lrs, resumed_params, _ = run(make, optimizer, at, STEPS, loaded=snapshot)
    assert resumed_lrs == lrs[at:]
    for p, q in zip(params, resumed_params):
        assert np.array_equal(p, q)


@pytest.mark.parametrize("make", [make for _, make in CASES], ids=CASE_IDS)
def test_resume_from_a_checkpoint_is_exact(make, tmp_path):
    """optkern.save and optkern.load (no pickle) carry a scheduler's state."""
    at = 23
    lrs, params, snapshot = run(make, "AdamW", at, STEPS)
    trained = copy.deepcopy(snapshot[0])
    opt = optkern.AdamW([{"params": [trained[0]]}, {"params": [trained[1]]}])
    sched = make(okL, opt)  # made first: it writes the lrs, which the optimizer's state then restores
    opt.load_state_dict(copy.deepcopy(snapshot[1]))
    sched.load_state_dict(copy.deepcopy(snapshot[2]))
    optkern.save(tmp_path / "run.ckpt", params=trained, opt=opt, sched=sched)
    loaded = optkern.load(tmp_path / "run.ckpt")
    resumed_lrs, resumed_params, _ = run(make, "AdamW", at, STEPS, loaded=(loaded["params"], loaded["opt"],
                                                                           loaded["sched"]))
    assert resumed_lrs == lrs[at:]
    for p, q in zip(params, resumed_params):
        assert np.array_equal(p, q)


@pytest.mark.parametrize("make", [make for _, make in CASES], ids=CASE_IDS)
def test_torchs_state_dict_loads(make):
    """A torch scheduler's state dict, loaded into optkern's, continues torch's schedule."""
    twins = Twins("Adam")
    sched, tsched = make(okL, twins.opt), make(tL, twins.topt)
    for _ in range(17):
        twins.step()
        tsched.step()
    fresh = Twins("Adam")
    resumed = make(okL, fresh.opt)
    saved = twins.topt.state_dict()
    saved["state"] = {k: {n: (v.numpy() if n != "step" else int(v)) for n, v in s.items()}
                      for k, s in saved["state"].items()}
    fresh.opt.load_state_dict(copy.deepcopy(saved))
    resumed.load_state_dict(copy.deepcopy(tsched.state_dict()))
    for _ in range(STEPS - 17):
        twins.topt.step()
        fresh.opt.step([np.zeros(s) for s in SHAPES])
        tsched.step()
        resumed.step()
        assert_same_schedule(resumed, tsched, fresh.opt, twins.topt)
    del sched


# ------------------------------------------------------------ ReduceLROnPlateau

PLATEAU = [
    {},
    dict(patience=2),
    dict(mode="max", patience=1, factor=0.5),
    dict(patience=0, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(mode="max", patience=1, threshold_mode="abs", threshold=0.01, min_lr=[0.02, 0.004]),
    dict(patience=1, factor=0.3, min_lr=0.009, eps=1e-3),
]


def metrics(n, seed=3):
    """A loss that improves, stalls, improves a little and wobbles."""
    rng = np.random.default_rng(seed)
    values = np.concatenate([np.linspace(1.0, 0.5, n // 4), np.full(n // 4, 0.5),
                             np.linspace(0.5, 0.49, n // 4), 0.49 + 0.02 * rng.standard_normal(n - 3 * (n // 4))])
    return values.tolist()


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "defaults")
def test_reduce_lr_on_plateau_is_torchs(kwargs, optimizer):
    twins = Twins(optimizer)
    sched, tsched = okL.ReduceLROnPlateau(twins.opt, **kwargs), tL.ReduceLROnPlateau(twins.topt, **kwargs)
    lrs = set()
    for value in metrics(80):
        twins.step()
        sched.step(np.array(value))  # anything float() takes, as torch's 0-d tensors
        tsched.step(torch.tensor(value, dtype=torch.float64))
        assert_same_schedule(sched, tsched, twins.opt, twins.topt)
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch) == \
            (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter, tsched.last_epoch)
        lrs.add(tuple(sched.get_last_lr()))
    assert len(lrs) > 1 and sched.state_dict() == tsched.state_dict()
    resumed = okL.ReduceLROnPlateau(Twins(optimizer).opt)
    resumed.load_state_dict(copy.deepcopy(tsched.state_dict()))
    assert resumed.state_dict() == tsched.state_dict()


# ---------------------------------------------------------------- step(epoch)

CLOSED_FORMS = [
    lambda L, o: L.StepLR(o, 3, gamma=0.5),
    lambda L, o: L.MultiStepLR(o, [2, 5, 5]),
    lambda L, o: L.ConstantLR(o, 0.25, 4),
    lambda L, o: L.LinearLR(o, 0.2, 0.8, 6),
    lambda L, o: L.ExponentialLR(o, 0.9),
    lambda L, o: L.PolynomialLR(o, 8, 2.0),
    lambda L, o: L.CosineAnnealingLR(o, 9, 0.001),
    lambda L, o: L.LambdaLR(o, decay95),  # no closed form: get_lr at that epoch
    lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, 4),
]


@pytest.mark.parametrize("make", CLOSED_FORMS)
def test_step_with_an_epoch_is_torchs(make):
    twins = Twins("SGD")
    sched, tsched = make(okL, twins.opt), make(tL, twins.topt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 1, 10, 10, 4, 0, 25, 7.5, 2.25, 40]:
            if isinstance(sched, okL.CosineAnnealingWarmRestarts) or float(epoch).is_integer():
                twins.step()
                sched.step(epoch)
                tsched.step(epoch)
                assert_same_schedule(sched, tsched, twins.opt, twins.topt)
                assert sched.last_epoch == tsched.last_epoch


def test_warm_restarts_stepped_by_fractions_of_an_epoch_are_torchs():
    twins = Twins("Adam")
    sched, tsched = okL.CosineAnnealingWarmRestarts(twins.opt, 2, 3), tL.CosineAnnealingWarmRestarts(twins.topt, 2, 3)
    for epoch in range(12):
        for i in range(5):
            twins.step()
            sched.step(epoch + i / 5)
            tsched.step(epoch + i / 5)
            assert_same_schedule(sched, tsched, twins.opt, twins.topt)
            assert (sched.T_cur, sched.T_i) == (tsched.T_cur, tsched.T_i)


# --------------------------------------------------------------------- errors

def two_groups(name="SGD", **kwargs):
    """A fresh optimizer of each library, two param groups."""
    opt = getattr(optkern, name)([{"params": [np.zeros(3)]}, {"params": [np.zeros(2)], "lr": 0.01}], lr=0.1,
                                 **kwargs)
    topt = getattr(torch.optim, name)([{"params": [torch.zeros(3)]}, {"params": [torch.zeros(2)], "lr": 0.01}],
                                      lr=0.1, **kwargs)
    return opt, topt


def without_momentum(opt):
    del opt.defaults["momentum"]
    return opt


def stepped_past_the_end(L, o):
    sched = L.OneCycleLR(o, 0.1, total_steps=2)
    sched.step()
    sched.step()
    return sched.step


def group_added(L, o, sched):
    o.add_param_group({"params": [np.ones(1) if L is okL else torch.ones(1)]})
    return sched


def plateau_with_group_added(L, o):
    sched = group_added(L, o, L.ReduceLROnPlateau(o, patience=0, min_lr=[0.0, 0.0]))
    return lambda: [sched.step(1.0) for _ in range(3)]


def other_optimizers_scheduler(L, o):
    other = L.StepLR(two_groups()[0 if L is okL else 1], 2)
    return lambda: L.SequentialLR(o, [other], [])


# (id, make(L, optimizer) -> a function that raises, the prefix both
# messages share: None for torch's whole first line). What the function
# needs (a scheduler to step, to list) is made before.
BAD = [
    ("not-an-optimizer", lambda L, o: lambda: L.StepLR([1, 2], 3), None),
    ("plateau-not-an-optimizer", lambda L, o: lambda: L.ReduceLROnPlateau("sgd"), None),
    ("resume-without-initial_lr", lambda L, o: lambda: L.ExponentialLR(o, 0.9, last_epoch=4), None),
    ("LambdaLR-count", lambda L, o: lambda: L.LambdaLR(o, [decay95]), None),
    ("MultiplicativeLR-count", lambda L, o: lambda: L.MultiplicativeLR(o, [decay95] * 3), None),
    ("MultiplicativeLR-not-callable", lambda L, o: lambda: L.MultiplicativeLR(o, 0.9), None),
    ("ConstantLR-factor-high", lambda L, o: lambda: L.ConstantLR(o, factor=1.5), None),
    ("ConstantLR-factor-negative", lambda L, o: lambda: L.ConstantLR(o, factor=-0.1), None),
    ("LinearLR-start-zero", lambda L, o: lambda: L.LinearLR(o, start_factor=0), None),
    ("LinearLR-start-high", lambda L, o: lambda: L.LinearLR(o, start_factor=1.5), None),
    ("LinearLR-end-negative", lambda L, o: lambda: L.LinearLR(o, end_factor=-1.0), None),
    ("LinearLR-end-high", lambda L, o: lambda: L.LinearLR(o, end_factor=2), None),
    ("WarmRestarts-T_0-zero", lambda L, o: lambda: L.CosineAnnealingWarmRestarts(o, 0), None),
    ("WarmRestarts-T_0-float", lambda L, o: lambda: L.CosineAnnealingWarmRestarts(o, 2.5), None),
    ("WarmRestarts-T_mult-zero", lambda L, o: lambda: L.CosineAnnealingWarmRestarts(o, 2, T_mult=0), None),
    ("WarmRestarts-T_mult-float", lambda L, o: lambda: L.CosineAnnealingWarmRestarts(o, 2, T_mult=1.5), None),
    ("WarmRestarts-eta_min", lambda L, o: lambda: L.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), None),
    ("WarmRestarts-negative-epoch", lambda L, o: partial(L.CosineAnnealingWarmRestarts(o, 2).step, -1), None),
    ("CyclicLR-base_lr-count", lambda L, o: lambda: L.CyclicLR(o, [0.1], 0.2), None),
    ("CyclicLR-max_lr-count", lambda L, o: lambda: L.CyclicLR(o, 0.1, [0.2, 0.3, 0.4]), None),
    ("CyclicLR-mode", lambda L, o: lambda: L.CyclicLR(o, 0.1, 0.2, mode="sawtooth"), None),
    ("CyclicLR-base_momentum-count", lambda L, o: lambda: L.CyclicLR(o, 0.1, 0.2, base_momentum=[0.8]), None),
    ("CyclicLR-max_momentum-count", lambda L, o: lambda: L.CyclicLR(o, 0.1, 0.2, max_momentum=(0.9,) * 3), None),
    ("CyclicLR-no-momentum", lambda L, o: lambda: L.CyclicLR(without_momentum(o), 0.1, 0.2), None),
    ("OneCycleLR-total_steps-zero", lambda L, o: lambda: L.OneCycleLR(o, 0.1, total_steps=0), None),
    ("OneCycleLR-total_steps-float", lambda L, o: lambda: L.OneCycleLR(o, 0.1, total_steps=10.0), None),
    ("OneCycleLR-epochs", lambda L, o: lambda: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3), None),
    ("OneCycleLR-steps_per_epoch", lambda L, o: lambda: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-3), None),
    ("OneCycleLR-no-length", lambda L, o: lambda: L.OneCycleLR(o, 0.1, epochs=2), None),
    ("OneCycleLR-pct_start-high", lambda L, o: lambda: L.OneCycleLR(o, 0.1, 10, pct_start=1.5), None),
    ("OneCycleLR-pct_start-int", lambda L, o: lambda: L.OneCycleLR(o, 0.1, 10, pct_start=1), None),
    ("OneCycleLR-anneal", lambda L, o: lambda: L.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), None),
    ("OneCycleLR-max_lr-count", lambda L, o: lambda: L.OneCycleLR(o, [0.1], 10), None),
    ("OneCycleLR-momentum-count", lambda L, o: lambda: L.OneCycleLR(o, 0.1, 10, max_momentum=[0.9]), None),
    ("OneCycleLR-no-momentum", lambda L, o: lambda: L.OneCycleLR(without_momentum(o), 0.1, 10), None),
    ("OneCycleLR-past-the-end", stepped_past_the_end, None),
    ("SequentialLR-empty", lambda L, o: lambda: L.SequentialLR(o, [], []), None),
    ("SequentialLR-not-a-scheduler", lambda L, o: lambda: L.SequentialLR(o, [object()], []), None),
    ("SequentialLR-plateau", lambda L, o: partial(L.SequentialLR, o, [L.ReduceLROnPlateau(o)], []), None),
    ("SequentialLR-milestones", lambda L, o: partial(L.SequentialLR, o, [L.StepLR(o, 2)], [3]), None),
    ("SequentialLR-other-optimizer", other_optimizers_scheduler,
     "SequentialLR expects all schedulers to belong to the same optimizer, but got scheduler StepLR at index 0 has"),
    ("ChainedScheduler-empty", lambda L, o: lambda: L.ChainedScheduler([]), None),
    ("ChainedScheduler-plateau", lambda L, o: partial(L.ChainedScheduler, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)]),
     None),
    ("Plateau-factor", lambda L, o: lambda: L.ReduceLROnPlateau(o, factor=1.0), None),
    ("Plateau-mode", lambda L, o: lambda: L.ReduceLROnPlateau(o, mode="lowest"), None),
    ("Plateau-threshold_mode", lambda L, o: lambda: L.ReduceLROnPlateau(o, threshold_mode="relative"), None),
    ("Plateau-min_lr-count", lambda L, o: lambda: L.ReduceLROnPlateau(o, min_lr=[0.1]), None),
    ("Plateau-group-added", plateau_with_group_added, None),
    ("group-added", lambda L, o: group_added(L, o, L.LambdaLR(o, decay95)).step, ""),  # torch's: zip()'s message
]


def hyperparameters_of(opt):
    return copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])


@pytest.mark.parametrize("make, prefix", [(make, prefix) for _, make, prefix in BAD], ids=[n for n, _, _ in BAD])
def test_bad_arguments_raise_torchs_errors(make, prefix):
    opt, topt = two_groups()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fail, tfail = make(okL, opt), make(tL, topt)
        with pytest.raises(Exception) as expected:
            tfail()
        before = hyperparameters_of(opt)
        with pytest.raises(type(expected.value)) as raised:
            fail()
    message, tmessage = str(raised.value.args[0]), str(expected.value.args[0])
    assert message.startswith(tmessage.splitlines()[0] if prefix is None else prefix)
    assert hyperparameters_of(opt) == before  # what raised wrote nothing


def test_a_step_that_raises_leaves_the_epoch():
    opt, _ = two_groups()
    sched = okL.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        opt.step([np.ones(3), np.ones(2)])
        sched.step()
    lrs = sched.get_last_lr()
    for _ in range(2):
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()
        assert (sched.last_epoch, sched._step_count, sched.get_last_lr()) == (3, 4, lrs)


def test_a_schedule_as_lr_is_refused_by_schedulers():
    opt = optkern.SGD([np.zeros(3)], lr=optkern.schedules.constant_schedule(0.1), momentum=0.5)
    before = hyperparameters_of(opt)
    for make in (lambda: okL.StepLR(opt, 3), lambda: okL.ReduceLROnPlateau(opt), lambda: okL.LambdaLR(opt, decay95),
                 lambda: okL.CyclicLR(opt, 0.01, 0.1), lambda: okL.OneCycleLR(opt, 0.1, 10),
                 lambda: okL.MultiplicativeLR(opt, decay95)):
        with pytest.raises(TypeError, match="param group 0 has a schedule"):
            make()
        assert hyperparameters_of(opt) == before


# ------------------------------------------------------------------- warnings

def test_warns_when_stepped_before_the_optimizer():
    opt, _ = two_groups()
    sched = okL.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"`lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    opt2, _ = two_groups()
    sched2 = okL.StepLR(opt2, 2)
    opt2.step([np.ones(3), np.ones(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
        sched2.step()


def test_warns_on_get_lr_and_on_an_epoch():
    opt, _ = two_groups()
    sched = okL.ExponentialLR(opt, 0.5)
    opt.step([np.ones(3), np.ones(2)])
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        assert sched.get_lr() == [0.05, 0.005]
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(3)
    assert sched.get_last_lr() == [0.1 * 0.5 ** 3, 0.01 * 0.5 ** 3]


# --------------------------------------------------- every optkern optimizer

SHAPE_OF = {record.name: record.shape for record in RECORDS}  # Muon's parameters are matrices


@pytest.mark.parametrize("name", sorted(optkern.optim.Optimizer.registry()))
def test_every_optimizer_takes_schedulers(name):
    """Schedulers use only param_groups (lr, and momentum or betas where
    the optimizer has them): every optimizer of optkern's takes them, with
    the learning rates and momentums that torch's schedulers give a torch
    optimizer with the same lr and the same kind of momentum."""
    cls = optkern.optim.Optimizer.registry()[name]
    p = np.linspace(-1, 1, 7).reshape(SHAPE_OF.get(name, lambda s: s)((7,)))
    kwargs = {"SGD8bit": {"lr": 1e-2, "momentum": 0.9}}.get(name, {})  # bitsandbytes' has no default for them
    defaults = cls([p], **kwargs).defaults
    if "betas" in defaults:
        twin = partial(torch.optim.Adam, betas=(defaults["betas"][0], 0.999))
    elif "momentum" in defaults:
        twin = partial(torch.optim.SGD, momentum=defaults["momentum"])
    else:
        twin = torch.optim.Adagrad  # neither momentum nor betas
    for make in (lambda L, o: L.OneCycleLR(o, 0.05, 12), lambda L, o: L.CyclicLR(o, 0.01, 0.05, 3),
                 lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.5, total_iters=3), L.StepLR(o, 2)], [3])):
        opt, topt = ready(cls([p], **kwargs)), twin([torch.tensor(p)], lr=defaults["lr"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                tsched = make(tL, topt)
            except ValueError as error:  # nothing to cycle momentum in: optkern's refuses it too
                with pytest.raises(ValueError, match=str(error)):
                    make(okL, opt)
                continue
            sched = make(okL, opt)
            for _ in range(12):  # the hyperparameters written pass the optimizer's checks
                if name == "LBFGS":  # a closure giving the loss and gradient of |p|^2 / 2
                    opt.step(lambda: (0.5 * float(p.ravel() @ p.ravel()), [p.copy()]))
                else:
                    opt.step([np.cos(p)])
                sched.step()
                tsched.step()
                assert_same_schedule(sched, tsched, opt, topt)


def test_sequential_of_chained_is_torchs():
    twins = Twins("AdamW")
    with pytest.warns(UserWarning, match="before `optimizer.step"):  # torch's quirk: the chain steps its own
        sched, tsched = [L.SequentialLR(o, [L.ChainedScheduler([L.ExponentialLR(o, 0.9), L.MultiStepLR(o, [2, 4])]),
                                            L.StepLR(o, 3)], [6])
                         for L, o in ((okL, twins.opt), (tL, twins.topt))]
    for _ in range(20):
        twins.step()
        sched.step()
        tsched.step()
        assert_same_schedule(sched, tsched, twins.opt, twins.topt)
    assert sched.state_dict() == tsched.state_dict()
    # A ChainedScheduler cannot be restarted at a milestone, in torch either.
    for L, o in ((okL, twins.opt), (tL, twins.topt)):
        second = L.SequentialLR(o, [L.ConstantLR(o, 0.5, 3), L.ChainedScheduler([L.ExponentialLR(o, 0.9)])], [2])
        second.step()
        with pytest.raises(NotImplementedError):
            second.step()


def test_cosine_annealing_is_recursive():
    """torch's CosineAnnealingLR follows lr changes made from outside (its
    form is recursive), and drifts from the closed form by rounding only."""
    twins = Twins("SGD")
    sched, tsched = okL.CosineAnnealingLR(twins.opt, 10), tL.CosineAnnealingLR(twins.topt, 10)
    closed = [0.1 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(1, 31)]
    for e in range(1, 31):
        twins.step()
        sched.step()
        tsched.step()
        assert_same_schedule(sched, tsched, twins.opt, twins.topt)
        if e <= 12:
            assert sched.get_last_lr()[0] == pytest.approx(closed[e - 1], rel=1e-9, abs=1e-15)
        if e == 12:
            twins.opt.param_groups[0]["lr"] = twins.topt.param_groups[0]["lr"] = 0.05
        if e == 20:  # at the top again: 0.05 scaled by (1 + cos 2pi) / (1 + cos 1.2pi), not 0.1
            assert sched.get_last_lr()[0] == pytest.approx(0.05 * 2 / (1 + math.cos(1.2 * math.pi)), rel=1e-12)
