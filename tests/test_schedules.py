"""optkern.schedules, and a schedule given to an optimizer as its lr (docs/schedules.md).

The schedule functions are checked against their closed forms written out
here with `math`, against values worked out by hand (optax's documented
examples among them), and against torch's schedulers where one computes the
same thing another way. An optimizer given a schedule must step exactly as
the same optimizer given schedule(t) by hand before step t, and save,
load, copy and resume as documented.
"""

import copy
import math
import pickle

import numpy as np
import pytest

import optkern
from helpers import require_module
from optim_cases import OWN_SUITES, RECORDS, ready
from optkern import schedules as S

torch = require_module("torch")
tL = torch.optim.lr_scheduler

COUNTS = list(range(0, 130))


def values(schedule, counts=COUNTS):
    return [schedule(t) for t in counts]


# --------------------------------------------------------------- closed forms

def linear(t, init, end, steps, begin=0):
    done = min(max(t - begin, 0), steps)
    return init + (end - init) * done / steps


def cosine(t, init, steps, alpha=0.0, exponent=1.0):
    done = min(t, steps)
    return init * ((1 - alpha) * (0.5 * (1 + math.cos(math.pi * done / steps))) ** exponent + alpha)


CLOSED_FORMS = [
    ("constant", S.constant_schedule(0.3), lambda t: 0.3),
    ("linear", S.linear_schedule(0.1, 0.02, 40), lambda t: linear(t, 0.1, 0.02, 40)),
    ("linear-begin", S.linear_schedule(0.0, 1.0, 25, transition_begin=10), lambda t: linear(t, 0.0, 1.0, 25, 10)),
    ("polynomial", S.polynomial_schedule(1.0, 0.01, 2, 100, 5),
     lambda t: 0.99 * (1 - min(max(t - 5, 0), 100) / 100) ** 2 + 0.01),
    ("piecewise", S.piecewise_constant_schedule(0.5, {30: 0.1, 10: 0.5, 80: 2.0}),
     lambda t: 0.5 * (0.5 if t >= 10 else 1) * (0.1 if t >= 30 else 1) * (2.0 if t >= 80 else 1)),
    ("exponential", S.exponential_decay(0.1, 10, 0.5), lambda t: 0.1 * 0.5 ** (t / 10)),
    ("exponential-staircase", S.exponential_decay(0.1, 7, 0.5, staircase=True), lambda t: 0.1 * 0.5 ** (t // 7)),
    ("exponential-begin-end", S.exponential_decay(1.0, 5, 0.8, transition_begin=20, end_value=0.1),
     lambda t: max(0.1, 1.0 if t <= 20 else 0.8 ** ((t - 20) / 5))),
    ("exponential-growth", S.exponential_decay(0.01, 10, 1.5, end_value=0.05),
     lambda t: min(0.05, 0.01 * 1.5 ** (t / 10))),
    ("cosine", S.cosine_decay_schedule(0.1, 100), lambda t: cosine(t, 0.1, 100)),
    ("cosine-alpha-exponent", S.cosine_decay_schedule(2.0, 60, alpha=0.1, exponent=2.0),
     lambda t: cosine(t, 2.0, 60, 0.1, 2.0)),
    ("warmup-cosine", S.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, end_value=0.1),
     lambda t: linear(t, 0.0, 1.0, 10) if t < 10 else cosine(t - 10, 1.0, 100, 0.1)),
    ("wsd-linear", S.warmup_stable_decay_schedule(0.01, 0.1, 10, 50, 40, end_value=0.001),
     lambda t: linear(t, 0.01, 0.1, 10) if t < 60 else linear(t - 60, 0.1, 0.001, 40)),
    ("wsd-cosine", S.warmup_stable_decay_schedule(0.0, 1.0, 0, 20, 30, decay_shape="cosine"),
     lambda t: 1.0 if t < 20 else cosine(t - 20, 1.0, 30)),
    ("wsd-1-sqrt", S.warmup_stable_decay_schedule(0.0, 1.0, 5, 5, 100, 0.2, "1-sqrt"),
     lambda t: linear(t, 0.0, 1.0, 5) if t < 10 else 0.2 + 0.8 * (1 - math.sqrt(min(t - 10, 100) / 100))),
    ("inverse-sqrt", S.inverse_sqrt_schedule(0.0, 0.01, 16),
     lambda t: 0.01 * t / 16 if t < 16 else 0.01 * math.sqrt(16 / t)),
    ("joined", S.join_schedules([S.constant_schedule(1.0), S.linear_schedule(1.0, 0.0, 10),
                                 S.constant_schedule(0.5)], [20, 50]),
     lambda t: 1.0 if t < 20 else (linear(t - 20, 1.0, 0.0, 10) if t < 50 else 0.5)),
]


@pytest.mark.parametrize("schedule, closed", [(s, c) for _, s, c in CLOSED_FORMS], ids=[n for n, _, _ in CLOSED_FORMS])
def test_schedules_follow_their_closed_forms(schedule, closed):
    got = values(schedule)
    np.testing.assert_allclose(got, [closed(t) for t in COUNTS], rtol=1e-13, atol=1e-16)
    assert all(type(v) is float for v in got)
    # An array of counts gives the array of values (NumPy's vector pow and
    # cos may round differently from its scalar ones), and a NumPy integer
    # the same value.
    np.testing.assert_allclose(schedule(np.array(COUNTS)), got, rtol=1e-15, atol=0)
    assert schedule(np.int64(17)) == got[17]


def test_values_worked_out_by_hand():
    # optax's documented examples, worked out independently:
    # polynomial_schedule(1.0, 0.01, power=2, transition_steps=100, transition_begin=5)
    # at 6 is 0.99 * 0.99**2 + 0.01 = 0.980299, at 104 is 0.99 * 0.01**2 + 0.01 = 0.010099.
    poly = S.polynomial_schedule(init_value=1.0, end_value=0.01, power=2, transition_steps=100, transition_begin=5)
    assert values(poly, [0, 5, 6, 104, 105, 110]) == pytest.approx([1.0, 1.0, 0.980299, 0.010099, 0.01, 0.01],
                                                                   rel=1e-14)
    # piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.01}): 1 before 100, 0.1 from 100, 0.001 from 200.
    piecewise = S.piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.01})
    assert values(piecewise, [50, 99, 100, 150, 200, 250]) == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.001, 0.001],
                                                                           rel=1e-15)
    # Half way through a cosine decay: the mean of the two ends.
    assert S.cosine_decay_schedule(0.4, 50, alpha=0.5)(25) == pytest.approx(0.3, rel=1e-15)
    # Warm-up and cosine: 0 at 0, the peak at the end of the warm-up, end_value at decay_steps.
    wcd = S.warmup_cosine_decay_schedule(0.0, 3e-4, 100, 1000, end_value=3e-5)
    assert (wcd(0), wcd(50), wcd(100), wcd(550), wcd(1000), wcd(5000)) == pytest.approx(
        (0.0, 1.5e-4, 3e-4, 1.65e-4, 3e-5, 3e-5), rel=1e-14)
    # Inverse square root: the peak at the end of the warm-up, half of it at 4 warm-ups.
    rsqrt = S.inverse_sqrt_schedule(0.0, 1e-3, 4000)
    assert (rsqrt(2000), rsqrt(4000), rsqrt(16000)) == pytest.approx((5e-4, 1e-3, 5e-4), rel=1e-15)
    # WSD: stable at the peak, then linearly to the end value.
    wsd = S.warmup_stable_decay_schedule(0.0, 1.0, 10, 80, 10, end_value=0.0)
    assert values(wsd, [5, 10, 89, 90, 95, 100, 500]) == [0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    # Staircase halving every 3 steps.
    assert values(S.exponential_decay(8.0, 3, 0.5, staircase=True), range(10)) == \
        [8.0, 8.0, 8.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0]


def test_optax_edge_cases():
    # No transition: constant at init_value; a negative transition_begin counts as 0.
    assert values(S.linear_schedule(0.5, 0.0, 0), [0, 10, 1000]) == [0.5] * 3
    assert values(S.exponential_decay(0.5, 0, 0.1), [0, 10]) == [0.5] * 2
    assert values(S.exponential_decay(0.5, 10, 0.0), [0, 10]) == [0.5] * 2
    assert values(S.linear_schedule(1.0, 0.0, 10, transition_begin=-5), [0, 5, 10]) == [1.0, 0.5, 0.0]
    assert S.piecewise_constant_schedule(0.7)(100) == 0.7


TORCH_TWINS = [  # (schedule, make(torch optimizer) -> torch scheduler, rtol)
    (S.exponential_decay(0.1, 4, 0.5, staircase=True), lambda o: tL.StepLR(o, 4, gamma=0.5), 1e-14),
    (S.exponential_decay(0.1, 1, 0.93), lambda o: tL.ExponentialLR(o, 0.93), 1e-13),
    (S.piecewise_constant_schedule(0.1, {5: 0.3, 12: 0.3, 40: 0.3}),
     lambda o: tL.MultiStepLR(o, [5, 12, 40], gamma=0.3), 1e-14),
    (S.cosine_decay_schedule(0.1, 50, alpha=0.05), lambda o: tL.CosineAnnealingLR(o, 50, eta_min=0.005), 1e-12),
    (S.linear_schedule(0.1 * 0.25, 0.1 * 0.9, 30), lambda o: tL.LinearLR(o, 0.25, 0.9, 30), 1e-13),
    (S.polynomial_schedule(0.1, 0.0, 3.0, 40), lambda o: tL.PolynomialLR(o, 40, 3.0), 1e-12),
    (S.warmup_cosine_decay_schedule(0.1 * 0.2, 0.1, 8, 50),
     lambda o: tL.SequentialLR(o, [tL.LinearLR(o, 0.2, total_iters=8), tL.CosineAnnealingLR(o, 42)], [8]), 1e-12),
]


@pytest.mark.parametrize("schedule, make, rtol", TORCH_TWINS, ids=lambda x: getattr(x, "name", ""))
def test_schedules_agree_with_torchs_schedulers(schedule, make, rtol):
    """torch's schedulers compute step by step what a schedule computes in
    closed form: they agree to rounding."""
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(topt)
    for t in range(50):
        assert schedule(t) == pytest.approx(sched.get_last_lr()[0], rel=rtol, abs=1e-17)
        topt.step()
        sched.step()


def test_schedules_copy_pickle_and_print():
    schedule = S.warmup_stable_decay_schedule(0.0, 1.0, 10, 20, 30, decay_shape="cosine")
    assert repr(schedule) == ("warmup_stable_decay_schedule(init_value=0.0, peak_value=1.0, warmup_steps=10, "
                              "stable_steps=20, decay_steps=30, end_value=0.0, decay_shape='cosine')")
    for twin in (copy.deepcopy(schedule), pickle.loads(pickle.dumps(schedule))):
        assert values(twin) == values(schedule) and twin == schedule and hash(twin) == hash(schedule)
    assert schedule != S.warmup_stable_decay_schedule(0.0, 1.0, 10, 20, 31, decay_shape="cosine")
    assert S.constant_schedule(0.5) != S.linear_schedule(0.5, 0.5, 10) and S.constant_schedule(1) != 1
    assert repr(S.exponential_decay(0.1, 10, 0.9)) == ("exponential_decay(init_value=0.1, transition_steps=10, "
                                                      "decay_rate=0.9, transition_begin=0, staircase=False, "
                                                      "end_value=None)")


@pytest.mark.parametrize("make, error, match", [
    (lambda: S.cosine_decay_schedule(0.1, 0), ValueError, "requires positive decay_steps"),
    (lambda: S.warmup_cosine_decay_schedule(0.0, 0.1, 10, 10), ValueError, "requires positive decay_steps"),
    (lambda: S.piecewise_constant_schedule(0.1, {10: -0.5}), ValueError, "non-negative scale factors"),
    (lambda: S.warmup_stable_decay_schedule(0.0, 0.1, -1, 5, 5), ValueError, "warmup_steps must be >= 0"),
    (lambda: S.warmup_stable_decay_schedule(0.0, 0.1, 1, -5, 5), ValueError, "stable_steps must be >= 0"),
    (lambda: S.warmup_stable_decay_schedule(0.0, 0.1, 1, 5, 0), ValueError, "decay_steps must be > 0"),
    (lambda: S.warmup_stable_decay_schedule(0.0, 0.1, 1, 5, 5, decay_shape="step"), ValueError, "decay_shape"),
    (lambda: S.inverse_sqrt_schedule(0.0, 0.1, 0), ValueError, "warmup_steps must be > 0"),
    (lambda: S.join_schedules([S.constant_schedule(1.0)], [10]), ValueError, "one schedule more than boundaries"),
    (lambda: S.join_schedules([S.constant_schedule(1.0), lambda t: 0.5], [10]), TypeError, r"schedules\[1\]"),
])
def test_bad_schedule_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --------------------------------------------------- a schedule as an lr

# Every optimizer whose step is step(grads) (LBFGS's takes a closure, and
# its lr is a number: test_lbfgs_takes_no_schedule), on parameters of the
# shapes it takes (Muon: matrices).
SHAPE_OF = {record.name: record.shape for record in RECORDS}
OPTIMIZERS = sorted(set(optkern.optim.Optimizer.registry()) - set(OWN_SUITES))
SHAPES = [(6,), (2, 5)]


def gradients(steps, seed=1, name=None):
    rng = np.random.default_rng(seed)
    shape = SHAPE_OF.get(name, lambda s: s)
    return [[rng.standard_normal(shape(s)) for s in SHAPES] for _ in range(steps)]


def parameters(seed=0, name=None):
    rng = np.random.default_rng(seed)
    shape = SHAPE_OF.get(name, lambda s: s)
    return [rng.standard_normal(shape(s)) for s in SHAPES]


def test_lbfgs_takes_no_schedule():
    with pytest.raises(TypeError, match="lr must be a real number"):
        optkern.LBFGS([np.ones(3)], lr=S.constant_schedule(0.1))


SCHEDULE = S.warmup_cosine_decay_schedule(0.0, 0.01, 5, 40, end_value=0.001)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_schedule_as_lr_is_a_manual_lr_per_step(name):
    """Step t uses schedule(t), t the steps taken before it: the same
    parameters, bit for bit, as setting the lr by hand before each step.
    Here the second group keeps a plain lr."""
    cls = optkern.optim.Optimizer.registry()[name]
    scheduled, manual = parameters(name=name), parameters(name=name)
    opt = ready(cls([{"params": scheduled[:1]}, {"params": scheduled[1:], "lr": 0.003}], lr=SCHEDULE))
    by_hand = ready(cls([{"params": manual[:1]}, {"params": manual[1:], "lr": 0.003}], lr=SCHEDULE(0)))
    for t, grads in enumerate(gradients(30, name=name)):
        by_hand.param_groups[0]["lr"] = SCHEDULE(t)
        opt.step(grads)
        by_hand.step(copy.deepcopy(grads))
        assert opt.param_groups[0]["lr"] is SCHEDULE and opt.param_groups[1]["lr"] == 0.003
    for p, q in zip(scheduled, manual):
        assert np.array_equal(p, q)
    assert not np.array_equal(scheduled[0], parameters(name=name)[0])


def test_steps_that_update_nothing_do_not_count():
    seen = []

    def schedule(t):
        seen.append(t)
        return 0.1

    p = np.ones(3)
    opt = optkern.SGD([p], lr=schedule)
    assert set(seen) == {0}  # the constructor checks the first value
    opt.step([np.ones(3)])
    opt.step([None])  # no gradient: nothing updated, no step taken
    with pytest.raises(ValueError):
        opt.step([np.ones(4)])  # refused: no step taken
    opt.step([np.ones(3)])
    assert seen[-1] == 1 and opt._steps_taken == 2


def test_a_bad_value_of_a_schedule_raises_and_writes_nothing():
    p = np.ones(3)
    opt = optkern.Adam([p], lr=S.linear_schedule(1e-3, -1e-3, 4))
    grads = [np.ones(3)]
    for _ in range(3):
        opt.step(grads)
    before = p.copy(), copy.deepcopy(opt.state_dict()["state"])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.step(grads)  # schedule(3) = -5e-4
    assert np.array_equal(p, before[0]) and opt.state_dict()["state"][0]["step"] == 3
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optkern.SGD([np.ones(2)], lr=lambda t: -1.0)
    with pytest.raises(TypeError, match="lr must be a real number"):
        optkern.SGD([np.ones(2)], lr=lambda t: "0.1")


def test_functional_forms_take_numbers_only():
    p, g, m, v = np.ones(3), np.ones(3), np.zeros(3), np.zeros(3)
    with pytest.raises(TypeError, match="lr must be a real number"):
        optkern.functional.adam_([p], [g], [m], [v], step=1, lr=SCHEDULE)
    with pytest.raises(TypeError, match="lr must be a real number"):
        optkern.functional.sgd_([p], [g], lr=SCHEDULE)
    assert np.array_equal(p, np.ones(3))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_with_a_schedule_resumes_exactly(name):
    """The schedule is not saved (lr None), the steps taken are
    (schedule_count); an optimizer given the schedule again resumes bit for bit."""
    cls = optkern.optim.Optimizer.registry()[name]
    grads = gradients(40, name=name)
    params = parameters(name=name)
    opt = ready(cls(params, lr=SCHEDULE))
    for g in grads[:17]:
        opt.step(g)
    saved = copy.deepcopy((params, opt.state_dict()))
    assert saved[1]["param_groups"][0]["lr"] is None and saved[1]["schedule_count"] == 17
    pickle.dumps(saved[1])  # a state dict holds no code
    for g in grads[17:]:
        opt.step(g)
    resumed_params = copy.deepcopy(saved[0])
    resumed = cls(resumed_params, lr=SCHEDULE)
    resumed.load_state_dict(saved[1])
    assert resumed._steps_taken == 17 and resumed.param_groups[0]["lr"] is SCHEDULE
    for g in grads[17:]:
        resumed.step(g)
    for p, q in zip(params, resumed_params):
        assert np.array_equal(p, q)


def test_loading_a_schedules_state_dict_needs_the_schedule():
    opt = optkern.SGD([np.ones(3)], lr=SCHEDULE, momentum=0.9)
    opt.step([np.ones(3)])
    saved = copy.deepcopy(opt.state_dict())
    plain = optkern.SGD([np.ones(3)], lr=0.1, momentum=0.9)
    before = copy.deepcopy(plain.state_dict())
    with pytest.raises(ValueError, match="param group 0 of the state dict had a schedule as its lr"):
        plain.load_state_dict(saved)
    assert plain.state_dict() == before
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(ValueError, match="schedule_count"):
            opt.load_state_dict({**saved, "schedule_count": bad})
    # A dict that holds an lr (torch's, or one saved without a schedule)
    # replaces the schedule, as torch's load restores hyperparameters, and
    # counts from 0 when it has no schedule_count.
    opt.load_state_dict(before)
    assert opt.param_groups[0]["lr"] == 0.1 and opt._steps_taken == 0 and "schedule_count" not in opt.state_dict()


def test_copies_of_an_optimizer_with_a_schedule_continue_alike():
    params = parameters()
    opt = optkern.AdamW(params, lr=SCHEDULE)
    grads = gradients(12)
    for g in grads[:6]:
        opt.step(g)
    twins = [copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))]
    for g in grads[6:]:
        opt.step(g)
        for twin in twins:
            twin.step(g)
    for twin in twins:
        for p, q in zip(params, twin.param_groups[0]["params"]):
            assert np.array_equal(p, q)
