"""Schedule-free SGD and AdamW beyond what the records' suites cover: the
train and eval modes (docs/optimizers.md#schedule-free-sgd-and-adamw).
Parity with the schedulefree package over many steps with mode switches in
between, the average x that eval() gives against the float64 reference,
state dicts saved in either mode, threads, a convex problem, and the bad
input of the modes and of the param groups' running values."""

import copy
from contextlib import nullcontext

import numpy as np
import pytest

import optkern
import reference
from helpers import require_module, threaded
from optim_cases import RECORDS

SCHEDULEFREE = [r for r in RECORDS if r.name.endswith("ScheduleFree")]
TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
# the running values each param group keeps, as the reference keeps them
RUNNING = ("k", "train_mode", "weight_sum", "lr_max", "scheduled_lr")


def beta(opt):
    """The weight of x in y: SGD's momentum, AdamW's beta1."""
    group = opt.param_groups[0]
    return group["momentum"] if "momentum" in group else group["betas"][0]


def params_of(dtype, seed=0, shapes=((17,), (4, 33), (1,), (1029,), (0,))):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def grads_for(params, rng):
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


@pytest.fixture(params=SCHEDULEFREE, ids=lambda r: r.name)
def record(request):
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("foreach", [True, False], ids=["foreach", "for-loop"])
def test_parity_with_mode_switches(isa, record, dtype, foreach):
    """80 steps against the package, switching to eval and back now and
    then, an lr changed mid-run and some steps without some gradients: the
    parameters in both modes, the states and the running values of the
    param groups agree."""
    torch = require_module("torch")
    params = params_of(dtype)
    tensors = [torch.tensor(p) for p in params]
    kwargs = {**record.configs[-1], "foreach": foreach}
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": 0.01}]
    tgroups = [{"params": tensors[:2]}, {"params": tensors[2:], "lr": 0.01}]
    opt, topt = record.make(groups, **kwargs), record.torch_class(tgroups, **kwargs)
    topt.train()
    rng = np.random.default_rng(1)
    for k in range(80):
        grads = [None if (k + i) % 5 == 0 else g for i, g in enumerate(grads_for(params, rng))]
        for t, g in zip(tensors, grads):
            t.grad = None if g is None else torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads)
        if k == 30:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 3 * topt.param_groups[0]["lr"]
        if k % 11 == 5:
            opt.eval()
            topt.eval()
            for p, t in zip(params, tensors):
                np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[dtype])
            opt.train()
            topt.train()
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[dtype])
        for name, value in topt.state[t].items():
            np.testing.assert_allclose(opt.state[p][name], value.numpy(), **TOLERANCE[dtype])
    for g, tg in zip(opt.param_groups, topt.param_groups):
        assert {key: g[key] for key in RUNNING} == {key: tg[key] for key in RUNNING}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_is_the_packages_bit_for_bit(isa, dtype):
    """SGDScheduleFree's operations are torch's (lerps, fused adds with a
    factor), so on the vector targets, which fuse them as torch's CPU
    kernels do, its parameters and z are the package's bit for bit, with
    switches in between. The scalar target rounds the adds twice: there the
    two agree to a few units in the last place."""
    torch = require_module("torch")

    def same(a, b):
        if isa != "scalar":
            return a.tobytes() == b.tobytes()
        return np.allclose(a, b, rtol=64 * np.finfo(dtype).eps, atol=64 * np.finfo(dtype).eps)
    record = next(r for r in SCHEDULEFREE if r.name == "SGDScheduleFree")
    params = params_of(dtype)
    tensors = [torch.tensor(p) for p in params]
    kwargs = record.configs[-1]
    opt, topt = record.make(params, **kwargs), record.torch_optimizer(tensors, **kwargs)
    rng = np.random.default_rng(7)
    for k in range(40):
        grads = grads_for(params, rng)
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads)
        if k % 9 == 4:
            opt.eval()
            topt.eval()
            assert all(same(p, t.numpy()) for p, t in zip(params, tensors))
            opt.train()
            topt.train()
    for p, t in zip(params, tensors):
        assert same(p, t.numpy()) and same(opt.state[p]["z"], topt.state[t]["z"].numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eval_gives_the_average(isa, record, dtype):
    """eval() puts x = (y - (1 - beta) z) / beta, the average of the float64
    reference, in the parameters, and train() takes them back to y; twice
    in a row, the second call changes nothing."""
    params = params_of(dtype)
    kwargs = record.configs[-1]
    ref = reference.Reference(record.rule, params, **kwargs)
    opt = record.make(params, **kwargs)
    rng = np.random.default_rng(2)
    for _ in range(6):
        grads = grads_for(params, rng)
        opt.step(grads)
        ref.step(grads)
    y = [p.copy() for p in params]
    opt.eval()
    after = [p.copy() for p in params]
    opt.eval()
    assert all(p.tobytes() == a.tobytes() for p, a in zip(params, after))
    for p, want, state in zip(params, ref.params, ref.state):
        np.testing.assert_allclose(p, reference.schedulefree_x(want, state["z"], beta(opt)),
                                   **TOLERANCE[dtype])
    opt.train()
    opt.train()
    for p, before in zip(params, y):
        np.testing.assert_allclose(p, before, **TOLERANCE[dtype])


def test_a_parameter_without_z_is_left_alone(record):
    """A parameter that has had no gradient has no z (x = y): the switches
    leave it as it is, and a group's mode changes all the same."""
    params = params_of(np.float64)
    opt = record.make(params, lr=0.1)
    opt.step([np.ones_like(params[0])] + [None] * (len(params) - 1))
    untouched = [p.copy() for p in params[1:]]
    opt.eval()
    assert not opt.param_groups[0]["train_mode"]
    assert all(p.tobytes() == u.tobytes() for p, u in zip(params[1:], untouched))
    assert "z" in opt.state[params[0]] and "z" not in opt.state[params[1]]


def test_a_step_in_eval_mode_raises_and_changes_nothing(record):
    """As the reference's, a step refuses to run in eval mode: a new
    optimizer, and after eval(), through a GradScaler too; nothing changes."""
    params = params_of(np.float32)
    opt = record.cls(params, lr=0.1)
    grads = [np.ones_like(p) for p in params]
    with pytest.raises(RuntimeError, match="not in train mode when step is called"):
        opt.step(grads)
    assert opt.state_dict()["state"] == {} and opt.param_groups[0]["k"] == 0
    opt.train()
    opt.step(grads)
    opt.eval()
    before = copy.deepcopy(opt.state_dict()), [p.copy() for p in params]
    for step in (opt.step, lambda g: optkern.amp.GradScaler().step(opt, g)):
        with pytest.raises(RuntimeError, match="Please insert .train\\(\\) and .eval\\(\\) calls"):
            step(grads)
        sd = opt.state_dict()
        assert sd["param_groups"] == before[0]["param_groups"]
        assert all(p.tobytes() == b.tobytes() for p, b in zip(params, before[1]))
        assert all(sd["state"][i]["z"].tobytes() == s["z"].tobytes() for i, s in before[0]["state"].items())


def test_every_group_must_be_in_train_mode(record):
    """The reference looks at the first group only; optkern refuses a step
    while any group is in eval mode. A group added later joins the mode the
    optimizer is in, unless it says otherwise."""
    params = params_of(np.float64)
    opt = record.make(params[:2], lr=0.1)
    opt.add_param_group({"params": params[2:3]})
    assert opt.param_groups[1]["train_mode"] is True
    opt.add_param_group({"params": params[3:4], "train_mode": False})
    grads = [np.ones_like(p) for p in params[:4]]
    with pytest.raises(RuntimeError, match="not in train mode"):
        opt.step(grads)
    opt.train()
    opt.step(grads)
    assert [g["k"] for g in opt.param_groups] == [1, 1, 1]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_round_trip_in_either_mode(record, mode, dtype):
    """Saved in train mode (parameters y) or in eval mode (x, as the
    reference recommends), a state dict loaded by a new optimizer over the
    saved parameters resumes bit for bit."""
    params = params_of(dtype)
    opt = record.make(params, **record.configs[-1])
    rng = np.random.default_rng(3)
    grads = [grads_for(params, rng) for _ in range(10)]
    for g in grads[:5]:
        opt.step(g)
    if mode == "eval":
        opt.eval()
    saved = copy.deepcopy((params, opt.state_dict()))
    assert saved[1]["param_groups"][0]["train_mode"] is (mode == "train")
    resumed = saved[0]
    fresh = record.cls(resumed, lr=123.0)  # the hyperparameters and running values come from the save
    fresh.load_state_dict(saved[1])
    for o in (opt, fresh):
        o.train()
        for g in grads[5:]:
            o.step(g)
        o.eval()
    for p, q in zip(params, resumed):
        assert p.tobytes() == q.tobytes()
    assert opt.state_dict()["param_groups"] == fresh.state_dict()["param_groups"]


def test_one_and_two_threads_bitwise(num_threads, record):
    """Steps and switches alike, on enough elements for two threads."""
    results = []
    for threads in (1, 2):
        num_threads(threads)
        params = params_of(np.float32, shapes=((70001,), (3, 40000), (17,)))
        opt = record.make(params, **record.configs[-1])
        rng = np.random.default_rng(4)
        with threaded() if threads == 2 else nullcontext():
            for k in range(6):
                opt.step(grads_for(params, rng))
                if k % 2:
                    opt.eval()
                    opt.train()
            opt.eval()
        results.append([p.tobytes() for p in params] + [opt.state[p]["z"].tobytes() for p in params])
    assert results[0] == results[1]


def test_a_step_without_gradients_counts(record):
    """As in the reference, a step counts in k and the weights even when no
    parameter has a gradient."""
    torch = require_module("torch")
    params = params_of(np.float64, shapes=((5,),))
    tensors = [torch.tensor(p) for p in params]
    opt, topt = record.make(params, lr=0.1), record.torch_optimizer(tensors, lr=0.1)
    for g in ([np.ones(5)], [None], [None], [np.full(5, -0.5)]):
        for t, x in zip(tensors, g):
            t.grad = None if x is None else torch.from_numpy(x.copy())
        topt.step()
        opt.step(g)
    assert {key: opt.param_groups[0][key] for key in RUNNING} == {key: topt.param_groups[0][key] for key in RUNNING}
    np.testing.assert_allclose(params[0], tensors[0].numpy(), **TOLERANCE[np.float64])


def test_gradients_are_not_written(record):
    """The reference divides and decays its gradients in place; optkern only
    reads them."""
    params = params_of(np.float32)
    opt = record.make(params, lr=0.1, weight_decay=0.1)
    grads = [np.full_like(p, 2.0) for p in params]
    for _ in range(2):
        opt.step(grads)
    assert all(np.all(g == 2.0) for g in grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_converges_on_a_convex_problem(record, dtype):
    """Noisy gradients of f(w) = |A (w - w*)|^2 / 2 at a constant lr and no
    schedule: the average x that eval() gives ends near w* (from 3.2 away
    to within 0.05), nearer than the point y where the gradients were taken."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((40, 10)) / np.sqrt(40)
    target = rng.standard_normal(10)
    w = np.zeros(10, dtype)
    lr = 0.5 if record.name.startswith("SGD") else 0.01
    opt = record.make([w], lr=lr)
    for _ in range(2000):
        grad = a.T @ (a @ (w - target)) + 0.1 * rng.standard_normal(10)
        opt.step([grad.astype(dtype)])
    y_error = np.linalg.norm(w - target)
    opt.eval()
    x_error = np.linalg.norm(w - target)
    assert np.linalg.norm(target) > 3.2 and x_error < 0.05 and x_error < y_error


def test_functional_form_advances_a_param_group(record):
    """The functional form's group_state may be a param group of the class:
    the same numbers, and the same running values."""
    a, b = params_of(np.float32), params_of(np.float32)
    kwargs = record.configs[-1]
    opt = record.make(a, **kwargs)
    group = copy.deepcopy({key: value for key, value in opt.param_groups[0].items() if key != "params"})
    states = record.new_states(b, **kwargs)
    rng = np.random.default_rng(6)
    for _ in range(4):
        grads = grads_for(a, rng)
        opt.step(grads)
        record.functional(b, grads, *states, group_state=group, **kwargs)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b))
    assert {key: group[key] for key in RUNNING} == {key: opt.param_groups[0][key] for key in RUNNING}
    with pytest.raises(TypeError, match="group_state must be a dict"):
        record.functional(b, grads, *states, group_state=None, **kwargs)


@pytest.mark.parametrize("key, value, match", [
    ("k", -1, r"k \(the param group's step count\) must be an int >= 0"),
    ("k", 2.5, "must be an int >= 0"),
    ("weight_sum", float("nan"), "Invalid weight_sum value"),
    ("weight_sum", -1.0, "Invalid weight_sum value"),
    ("lr_max", float("nan"), "Invalid lr_max value"),
    ("lr_max", "big", "lr_max must be a real number"),
])
def test_bad_running_values_are_refused(record, key, value, match):
    """A loaded state dict, or a param group changed by hand, with running
    values the weighting cannot use: refused before anything changes, at
    load, at the next step and at a switch."""
    params = params_of(np.float32)
    opt = record.make(params, lr=0.1)
    opt.step([np.ones_like(p) for p in params])
    before = copy.deepcopy(opt.state_dict())
    snapshot = [p.copy() for p in params]
    sd = copy.deepcopy(before)
    sd["param_groups"][0][key] = value
    error = TypeError if isinstance(value, str) else ValueError
    with pytest.raises(error, match=match):
        opt.load_state_dict(sd)
    opt.param_groups[0][key] = value
    for call in (lambda: opt.step([np.ones_like(p) for p in params]), opt.eval):
        with pytest.raises(error, match=match):
            call()
        assert all(p.tobytes() == s.tobytes() for p, s in zip(params, snapshot))
    opt.param_groups[0][key] = before["param_groups"][0][key]
    assert opt.param_groups[0]["train_mode"] is True


def test_c_refuses_a_bad_mode_or_weight(record):
    """What the C descriptor checks besides the hyperparameters: a known
    mode, a weight ckp1 in [0, 1]."""
    kind = optkern._core.kinds()[record.cls._kind]
    opt = record.cls([np.zeros(3)])
    hp = {**opt._hparams(opt.param_groups[0]), "first_step": True}
    assert kind.required_states(hp) == kind.states
    assert kind.required_states({**hp, "mode": 2}) == ()
    for bad in ({"mode": 3}, {"mode": -1}, {"ckp1": 1.5}, {"ckp1": float("nan")}):
        with pytest.raises(ValueError, match="invalid"):
            kind.required_states({**hp, **bad})
