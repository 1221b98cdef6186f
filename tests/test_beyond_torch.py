"""Lion, Adan, AdEMAMix and ADOPT beyond the generic suites (their records
in optim_cases.py run them through those, against their reference
implementations, reference_optimizers.py): what each reference keeps on the
optimizer rather than in its param groups (Lion's decoupled_weight_decay,
AdEMAMix's maximize, ADOPT's clip_lambda, Adan's max_grad_norm), the
param-group step count of Adan and AdEMAMix, ADOPT's first step and clip,
where pytorch-optimizer's ADOPT deviates from the official one, and a
convex problem each solves (docs/optimizers.md#beyond-torchoptim)."""

import copy
import math

import numpy as np
import pytest

import optkern
import reference
import reference_optimizers
from helpers import assert_state_unchanged, raises_unchanged, require_module
from optim_cases import RECORDS
from optkern import functional as F
from optkern.optim.adopt import default_clip_lambda
from reference import Reference

torch = require_module("torch")

BEYOND = {r.name: r for r in RECORDS if r.reference is not None}
PARITY = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
# against the float64 rules, as test_optim_reference.py
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def run_against(record, kwargs, dtype, steps=30, shapes=((17,), (4, 33), (1029,)), seed=0, **mine):
    """Step optkern's optimizer (with kwargs and `mine`, the arguments only
    it takes) and the reference's side by side; their parameters and
    states."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tensors = [torch.tensor(p) for p in params]
    opt, topt = record.cls(params, **kwargs, **mine), record.torch_optimizer(tensors, **kwargs)
    for _ in range(steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads)
    return opt, topt, params, tensors


def assert_same(opt, topt, params, tensors, tolerance):
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.numpy(), **tolerance)
        for name, value in topt.state[t].items():
            np.testing.assert_allclose(np.asarray(opt.state[p][name], np.float64), np.asarray(value, np.float64),
                                       **tolerance, err_msg=name)

# ------------------------------------------------------------------- Lion


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lion_decoupled_weight_decay_is_lion_pytorchs(isa, dtype):
    """weight_decay divided by the constructor's lr, kept by the optimizer
    (not its param groups, as lion-pytorch keeps it), with an lr changed
    between steps: the decay follows lr's changes, not its scale."""
    kwargs = {"lr": 1e-3, "weight_decay": 0.5, "decoupled_weight_decay": True}
    opt, topt, params, tensors = run_against(BEYOND["Lion"], kwargs, dtype, steps=10)
    assert opt.decoupled_wd and opt._init_lr == 1e-3 and "decoupled_weight_decay" not in opt.param_groups[0]
    opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.02
    rng = np.random.default_rng(1)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads)
    assert_same(opt, topt, params, tensors, PARITY[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lion_is_lion_pytorch_bit_for_bit_on_the_vector_targets(isa, dtype):
    """Lion's rule has one rounding choice, torch's fused add with alpha,
    which the AVX2 and AVX-512 kernels make as torch does: its numbers bit
    for bit there. The scalar target rounds the blend twice: there the two
    agree to a few units in the last place, where the sign of a blend near
    0 may differ: a step of lr at most."""

    def same(a, b):
        if isa != "scalar":
            return a.tobytes() == b.tobytes()
        return np.allclose(a, b, rtol=64 * np.finfo(dtype).eps, atol=2e-3)
    opt, topt, params, tensors = run_against(BEYOND["Lion"], {"lr": 1e-3, "weight_decay": 0.1}, dtype)
    for p, t in zip(params, tensors):
        assert same(p, t.numpy())
        assert same(opt.state[p]["exp_avg"], topt.state[t]["exp_avg"].numpy())


def test_lion_functional_is_lion_pytorchs_update_fn():
    update_fn = require_module("lion_pytorch.lion_pytorch").update_fn
    rng = np.random.default_rng(2)
    p, m = rng.standard_normal(100), rng.standard_normal(100)
    tp, tm = torch.tensor(p), torch.tensor(m)
    for _ in range(3):
        g = rng.standard_normal(100)
        F.lion_([p], [g], [m], lr=0.01, betas=(0.8, 0.95), weight_decay=0.3)
        update_fn(tp, torch.tensor(g), tm, 0.01, 0.3, 0.8, 0.95)
    np.testing.assert_allclose(p, tp.numpy(), **PARITY[np.float64])
    np.testing.assert_allclose(m, tm.numpy(), **PARITY[np.float64])


@pytest.mark.parametrize("kwargs, match", [
    ({"use_triton": True}, "use_triton must be False"),
    ({"lr": 0.0, "decoupled_weight_decay": True}, "decoupled_weight_decay needs lr > 0"),
])
def test_lion_refuses_what_it_cannot_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optkern.Lion([np.zeros(3)], **kwargs)

# ------------------------------------------------------------------- Adan


def adan_factor(grads, max_grad_norm, eps):
    """The official clip factor, in float64."""
    norm = math.sqrt(sum(float(np.sum(np.asarray(g, np.float64) ** 2)) for g in grads))
    return norm, min(max_grad_norm / (norm + eps), 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_grad_norm", [0.5, 1e6], ids=["clipped", "unclipped"])
def test_adan_max_grad_norm_matches_the_reference(isa, dtype, max_grad_norm):
    """The official max_grad_norm: every gradient times
    min(max_grad_norm / (norm + eps), 1), norm the L2 norm of all of them,
    eps the constructor's; the gradients are not written."""
    rng = np.random.default_rng(3)
    shapes = [(33,), (4, 9), (1,), (1000,)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ref = Reference(reference.adan, params, lr=0.01, eps=1e-6)
    opt = optkern.Adan(params, lr=0.01, eps=1e-6, max_grad_norm=max_grad_norm)
    for _ in range(4):
        grads = [(3 * rng.standard_normal(s)).astype(dtype) for s in shapes]
        before = [g.tobytes() for g in grads]
        opt.step(grads)
        assert [g.tobytes() for g in grads] == before
        norm, factor = adan_factor(grads, max_grad_norm, 1e-6)
        assert opt.last_grad_norm.dtype == dtype
        np.testing.assert_allclose(opt.last_grad_norm, norm, rtol=1e-6 if dtype == np.float32 else 1e-14)
        ref.step([g * factor for g in grads])
    for got, want in zip(params, ref.params):
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adan_max_grad_norm_matches_pytorch_optimizers(dtype):
    """The reference package's clipping: its norm is summed in float32
    (optkern's in double), so the factors differ in float32's last bits, and
    float64 agrees to float32's precision."""
    opt, topt, params, tensors = run_against(BEYOND["Adan"], {"lr": 0.01, "max_grad_norm": 0.5}, dtype, steps=20)
    assert opt.max_grad_norm == 0.5 and opt.param_groups[0]["max_grad_norm"] == 0.5
    assert_same(opt, topt, params, tensors, dict(rtol=2e-5, atol=2e-6))


@pytest.mark.parametrize("value", [0.0, None])
def test_adan_max_grad_norm_zero_does_not_clip(value):
    params = [np.ones(4)]
    opt = optkern.Adan(params, max_grad_norm=value)
    assert opt.max_grad_norm is None and opt.param_groups[0]["max_grad_norm"] == value
    opt.step([np.full(4, 1e6)])
    assert opt.last_grad_norm is None


def test_adan_refuses_a_negative_max_grad_norm():
    with pytest.raises(ValueError, match="Invalid Max grad norm"):
        optkern.Adan([np.zeros(3)], max_grad_norm=-1.0)


def test_adan_functional_fills_its_states_on_the_first_step():
    rng = np.random.default_rng(4)
    p = rng.standard_normal(9)
    a = [p.copy()]
    opt = optkern.Adan(a, lr=0.01, weight_decay=0.1)
    states = [[None], [None], [None], [None]]
    b = [p.copy()]
    for t in range(1, 4):
        g = rng.standard_normal(9)
        opt.step([g])
        F.adan_(b, [g], *states, step=t, lr=0.01, weight_decay=0.1)
    assert a[0].tobytes() == b[0].tobytes()
    for name, lst in zip(opt.state[a[0]], states):
        assert opt.state[a[0]][name].tobytes() == lst[0].tobytes()
    np.testing.assert_array_equal(states[3][0], -g)
    with pytest.raises(ValueError, match="step must be an int >= 1"):
        F.adan_(b, [g], *states, step=0)

# ----------------------------------------------------------- the group step


@pytest.mark.parametrize("name", ["Adan", "AdEMAMix"])
def test_the_step_count_is_the_param_groups(name):
    """One count per param group, its "step" (as the reference keeps it),
    counted at every step() that is not skipped, also one without any
    gradient (as the reference's); no "step" in a parameter's state. A
    state dict keeps it and a bad one is refused."""
    params = [np.ones(3), np.ones(2)]
    opt = BEYOND[name].cls([{"params": params[:1]}, {"params": params[1:]}], lr=0.01)
    assert "step" not in opt.param_groups[0]
    opt.step([np.ones(3), None])
    opt.step([None, None])
    opt.step([np.ones(3), np.ones(2)])
    assert [g["step"] for g in opt.param_groups] == [3, 3]
    assert "step" not in opt.state[params[0]]
    sd = copy.deepcopy(opt.state_dict())
    assert [g["step"] for g in sd["param_groups"]] == [3, 3]
    fresh = BEYOND[name].cls([{"params": [np.ones(3)]}, {"params": [np.ones(2)]}], lr=0.01)
    fresh.load_state_dict(sd)
    assert [g["step"] for g in fresh.param_groups] == [3, 3]
    before = copy.deepcopy(fresh.state_dict())
    sd["param_groups"][1]["step"] = 2.5
    with pytest.raises(ValueError, match="step must be a non-negative whole number"):
        fresh.load_state_dict(sd)
    assert_state_unchanged(fresh, before)


@pytest.mark.parametrize("name", ["Adan", "AdEMAMix"])
def test_a_skipped_step_does_not_count(name):
    """A GradScaler's skipped step changes nothing, the count included
    (torch's GradScaler does not call the reference's step then)."""
    params = [np.ones(3, np.float32)]
    opt = BEYOND[name].cls(params)
    scaler = optkern.amp.GradScaler()
    scaler.step(opt, [np.full(3, np.inf, np.float32)])
    assert "step" not in opt.param_groups[0] and params[0].tolist() == [1.0] * 3

# --------------------------------------------------------------- AdEMAMix


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ademamix_maximize_is_pytorch_optimizers(isa, dtype):
    """maximize is kept by the optimizer (opt.maximize), as pytorch-optimizer
    keeps it, not in its param groups."""
    kwargs = {"lr": 0.01, "weight_decay": 0.1, "t_alpha_beta3": 10.0}
    opt, topt, params, tensors = run_against(BEYOND["AdEMAMix"], {**kwargs, "maximize": True}, dtype)
    assert opt.maximize and "maximize" not in opt.param_groups[0]
    assert_same(opt, topt, params, tensors, PARITY[dtype])


def test_ademamix_warm_up_reaches_alpha_and_beta3():
    """After t_alpha_beta3 steps the warm-ups are over: alpha_t = alpha,
    beta3_t = beta3 (the C coefficients, from the step)."""
    from optkern.optim import _engine

    kind = _engine.kind("ademamix")
    opt = optkern.AdEMAMix([np.zeros(2)], t_alpha_beta3=100.0)
    plain = optkern.AdEMAMix([np.zeros(2)])
    hp, plain = opt._hparams(opt.param_groups[0]), plain._hparams(plain.param_groups[0])
    assert kind.coefficients({**hp, "step": 100}) == kind.coefficients({**plain, "step": 100})
    assert kind.coefficients({**hp, "step": 50}) != kind.coefficients({**plain, "step": 50})

# ------------------------------------------------------------------ ADOPT


def test_adopt_first_step_only_starts_the_second_moment():
    p = np.array([1.0, -2.0, 3.0])
    opt = optkern.ADOPT([p], lr=0.1, weight_decay=0.5, decouple=True)
    opt.step([np.array([0.5, -1.0, 2.0])])
    assert p.tolist() == [1.0, -2.0, 3.0]
    state = opt.state[p]
    assert state["step"] == 1 and state["exp_avg"].tolist() == [0.0] * 3
    assert state["exp_avg_sq"].tolist() == [0.25, 1.0, 4.0]


def test_adopt_clips_with_the_count_before_the_step():
    """Step 2 clips at clip_lambda(1) = 1: a gradient 100 times its first
    root is clamped to 1, so m = (1 - beta1) and p moves by lr (1 - beta1)."""
    p = np.zeros(2)
    calls = []
    opt = optkern.ADOPT([p], lr=0.1, clip_lambda=lambda step: calls.append(step) or step**0.25)
    opt.step([np.array([1.0, -1.0])])
    opt.step([np.array([100.0, -100.0])])
    assert calls == [1]
    np.testing.assert_allclose(opt.state[p]["exp_avg"], [0.1, -0.1], rtol=1e-15)
    np.testing.assert_allclose(p, [-0.01, 0.01], rtol=1e-15)
    assert default_clip_lambda(16) == 2.0 and default_clip_lambda(1) == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_lambda", [None, lambda step: 0.5 + step / 8], ids=["none", "linear"])
def test_adopt_clip_lambda_is_the_officials(isa, dtype, clip_lambda):
    """clip_lambda is kept by the optimizer, as the official ADOPT keeps it."""
    opt, topt, params, tensors = run_against(BEYOND["ADOPT"], {"lr": 0.01, "clip_lambda": clip_lambda}, dtype)
    assert opt.clip_lambda is clip_lambda and "clip_lambda" not in opt.param_groups[0]
    assert_same(opt, topt, params, tensors, PARITY[dtype])
    params = [np.zeros(3)]
    ref = Reference(reference.adopt, params, lr=0.01, clip_lambda=clip_lambda)
    states = [[np.zeros(3)], [np.zeros(3)]]
    for t in range(1, 5):
        grads = [np.random.default_rng(t).standard_normal(3)]
        F.adopt_(params, grads, *states, step=t, lr=0.01, clip_lambda=clip_lambda)
        ref.step(grads)
    np.testing.assert_allclose(params[0], ref.params[0], **TOLERANCE[np.float64])


@pytest.mark.parametrize("bound", [-1.0, float("nan"), "1"])
def test_adopt_refuses_a_bad_clip_bound_before_writing(bound):
    params = [np.ones(4)]
    opt = optkern.ADOPT(params, clip_lambda=lambda step: bound)
    opt.step([np.ones(4)])  # the first step does not clip
    before = copy.deepcopy(opt.state_dict())
    raises_unchanged((ValueError, TypeError), lambda: opt.step([np.ones(4)]), params[0])
    assert_state_unchanged(opt, before)
    with pytest.raises(TypeError, match="clip_lambda must be a function"):
        optkern.ADOPT(params, clip_lambda=0.5)


def test_pytorch_optimizers_adopt_deviates_from_the_official():
    """pytorch-optimizer's ADOPT calls clip_lambda with the count AFTER the
    step (the official, and optkern, with the count before it), keeps one
    count per param group, and applies decoupled weight decay as
    p (1 - lr wd) on the first step too: with clip_lambda shifted by one
    step and no weight decay, it is optkern's ADOPT."""
    package = require_module("pytorch_optimizer")
    rng = np.random.default_rng(5)
    p = rng.standard_normal(50)
    t = torch.tensor(p)
    opt = optkern.ADOPT([p], lr=0.01)
    theirs = package.ADOPT([t], lr=0.01, clip_lambda=lambda step: (step - 1) ** 0.25, foreach=False)
    unshifted = package.ADOPT([torch.tensor(p)], lr=0.01, foreach=False)
    for _ in range(5):
        g = 10 * rng.standard_normal(50)
        opt.step([g])
        for x in (theirs, unshifted):
            x.param_groups[0]["params"][0].grad = torch.tensor(g)
            x.step()
    np.testing.assert_allclose(p, t.numpy(), **PARITY[np.float64])
    assert not np.allclose(p, unshifted.param_groups[0]["params"][0].numpy(), rtol=1e-6)

# ---------------------------------------------------------- a convex problem


@pytest.mark.parametrize("name, kwargs, steps", [
    ("Lion", {"lr": 3e-3}, 2000),
    ("Adan", {"lr": 0.05}, 500),
    # a slow average of 100 steps, not 10^4: the problem is solved in 500
    ("AdEMAMix", {"lr": 0.05, "betas": (0.9, 0.999, 0.99), "alpha": 2.0, "t_alpha_beta3": 100.0}, 500),
    ("ADOPT", {"lr": 0.05}, 500),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solves_a_convex_problem(name, kwargs, steps, dtype):
    """A badly conditioned least-squares problem, 0.5 |A x - b|^2, from
    x = 0: each ends near its minimum."""
    rng = np.random.default_rng(6)
    a = (rng.standard_normal((40, 10)) * np.logspace(0, 1, 10)).astype(dtype)
    x_star = rng.standard_normal(10).astype(dtype)
    b = a @ x_star
    x = np.zeros(10, dtype)
    opt = BEYOND[name].cls([x], **kwargs)
    loss = lambda: 0.5 * float(np.sum((a @ x - b).astype(np.float64) ** 2))  # noqa: E731
    start = loss()
    for _ in range(steps):
        opt.step([a.T @ (a @ x - b)])
    assert loss() < 1e-4 * start, (name, loss(), start)
    np.testing.assert_allclose(x, x_star, atol=0.05)
