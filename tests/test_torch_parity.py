"""optkern against torch.optim itself, 50 steps on random data.

Tolerances from docs/optimizers.md#agreement-with-torch: float64 within 1e-12 relative,
float32 within ~1e-5 relative (FMA and ordering choices differ by an ULP
here and there, and the differences compound over the steps).
"""

import numpy as np
import pytest

import optkern
from helpers import require_module
from optim_cases import BAD_HPARAMS, CASES, RECORDS, bad_id, case_id, ready, record_id

torch = require_module("torch")

STEPS = 50
TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def step_both(opt, topt, params, tensors, grads):
    for t, g in zip(tensors, grads):
        t.grad = None if g is None else torch.from_numpy(g.copy())
    topt.step()
    opt.step(grads)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fifty_steps(isa, case, dtype):
    record, kwargs = case
    rng = np.random.default_rng(10)
    shapes = [record.shape(s) for s in [(17,), (4, 33), (1,), (1029,)]]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tensors = [torch.tensor(p) for p in params]
    opt = record.make(params, **kwargs)
    topt = record.torch_optimizer(tensors, **kwargs)
    for _ in range(STEPS):
        step_both(opt, topt, params, tensors, [rng.standard_normal(s).astype(dtype) for s in shapes])
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[dtype])


@pytest.mark.parametrize("beta1", [0.0, 0.3, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_avg_is_torchs_lerp(isa, beta1, dtype):
    """exp_avg follows torch's two-sided lerp: with beta1 = 0 it is exactly
    the last gradient, however large the one before (a one-sided lerp loses
    a 1e-8 gradient after a 1e8 one entirely). Otherwise the same up to the
    last bit (the scalar target rounds a*b + c twice where torch fuses)."""
    params = [np.zeros(37, dtype=dtype)]
    tensors = [torch.tensor(params[0])]
    opt = optkern.Adam(params, betas=(beta1, 0.999))
    topt = torch.optim.Adam(tensors, betas=(beta1, 0.999), foreach=False)
    for scale in (1e8, 1e-8, 3.0, -2e-5):
        g = (np.arange(37, dtype=dtype) - 18) * dtype(scale)
        step_both(opt, topt, params, tensors, [g])
        ours, theirs = opt.state[params[0]]["exp_avg"], topt.state[tensors[0]]["exp_avg"].numpy()
        if beta1 == 0.0:
            np.testing.assert_array_equal(ours, theirs)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("case", [c for c in CASES if c[0].torch_bitwise], ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_equal_to_torch(isa, case, dtype):
    """A rule with no rounding choice to make (Rprop: products, compares,
    clamps) gives torch's numbers bit for bit, states included: gradients
    that flip sign, exact zeros (sign 0) and infinities and NaN (a NaN
    product has sign 0 in torch) alike."""
    record, kwargs = case
    rng = np.random.default_rng(14)
    shapes = [(1029,), (7,), (3, 5)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tensors = [torch.tensor(p) for p in params]
    opt = record.make(params, **kwargs)
    topt = record.torch_optimizer(tensors, **kwargs)
    for k in range(STEPS):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        for g in grads:
            g[rng.uniform(size=g.shape) < 0.2] = 0
        if k == 5:
            grads[0][:4] = [np.inf, -np.inf, np.nan, -0.0]
        step_both(opt, topt, params, tensors, grads)
    for p, t in zip(params, tensors):
        assert p.tobytes() == t.numpy().tobytes()
        for name, value in topt.state[t].items():
            assert np.asarray(opt.state[p][name]).tobytes() == np.asarray(value).astype(
                np.asarray(opt.state[p][name]).dtype).tobytes(), name


@pytest.mark.parametrize("record", [r for r in RECORDS if r.torch_fused], ids=record_id)
def test_fused_float32(record):
    """torch's fused CPU kernel, the fastest peer, agrees too."""
    kwargs = {"lr": 0.01, "weight_decay": 0.01, **record.all_states}
    rng = np.random.default_rng(11)
    params = [rng.standard_normal(4099).astype(np.float32)]
    tensors = [torch.tensor(p) for p in params]
    opt = record.make(params, **kwargs)
    topt = getattr(torch.optim, record.name)(tensors, fused=True, **kwargs)
    for _ in range(STEPS):
        step_both(opt, topt, params, tensors, [rng.standard_normal(4099).astype(np.float32)])
    np.testing.assert_allclose(params[0], tensors[0].numpy(), **TOLERANCE[np.float32])


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_param_groups_missing_grads_and_lr_changes(record):
    """Groups with their own hyperparameters; parameters without a gradient
    on some steps (their own step counts drift apart, as in torch); an lr
    changed between steps takes effect at the next step."""
    rng = np.random.default_rng(12)
    params = [rng.standard_normal(record.shape(s)) for s in [(8,), (3, 3), (5,), (40,)]]
    tensors = [torch.tensor(p) for p in params]
    extra = record.all_states
    groups = [{"params": params[:2], "lr": 0.05}, {"params": params[2:], "weight_decay": 0.1, **extra}]
    tgroups = [{"params": tensors[:2], "lr": 0.05}, {"params": tensors[2:], "weight_decay": 0.1, **extra}]
    opt = record.make(groups, lr=0.01)
    topt = record.torch_optimizer(tgroups, lr=0.01)
    for k in range(30):
        grads = [None if k % (i + 2) == 0 else rng.standard_normal(p.shape) for i, p in enumerate(params)]
        if k == 10:
            opt.param_groups[1]["lr"] = topt.param_groups[1]["lr"] = 0.2
        step_both(opt, topt, params, tensors, grads)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[np.float64])
    for p, t in zip(params, tensors):  # the state too, step counts included (they drift apart)
        mine, theirs = opt.state[p], topt.state[t]
        assert set(mine) == set(theirs)
        for key, value in theirs.items():
            np.testing.assert_allclose(np.asarray(mine[key], np.float64), np.asarray(value, np.float64),
                                       **TOLERANCE[np.float64])
    if record.cls._has_step:
        assert len({opt.state[p]["step"] for p in params}) > 1


# torch's Muon divides by an empty matrix's column count: not comparable there
@pytest.mark.parametrize("record", [r for r in RECORDS if not r.matrix], ids=record_id)
def test_empty_parameters_keep_torchs_state(record):
    """A parameter with no elements still takes its steps: its state (the
    step count, NAdam's mu_product, ASGD's eta and mu) is torch's. Where
    torch cannot step one (Adafactor divides by zero), it raises."""
    kwargs = {"lr": 0.01, **record.all_states}
    params = [np.zeros((0, 3)), np.ones(record.shape((3,)))]  # (0, 3): a matrix too, which torch's Muon can step
    tensors = [torch.tensor(p) for p in params]
    opt = record.make(params, **kwargs)
    topt = record.torch_optimizer(tensors, **kwargs)
    if not record.torch_steps_empty:
        with pytest.raises(ZeroDivisionError):
            step_both(opt, topt, params, tensors, [np.zeros_like(params[0]), np.ones(params[1].shape)])
        return
    for k in range(4):
        step_both(opt, topt, params, tensors, [np.zeros_like(params[0]), np.full(params[1].shape, 0.5 - k)])
    for p, t in zip(params, tensors):
        mine, theirs = opt.state[p], topt.state[t]
        assert set(mine) == set(theirs)
        for key, value in theirs.items():
            np.testing.assert_allclose(np.asarray(mine[key], np.float64), np.asarray(value, np.float64),
                                       **TOLERANCE[np.float64])


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_load_torch_state_dict(record):
    """A torch state_dict, its tensors turned into arrays, resumes in optkern
    exactly where torch goes on."""
    kwargs = {"lr": 0.01, **record.all_states}
    rng = np.random.default_rng(13)
    params = [rng.standard_normal(record.shape(s)) for s in [(6,), (2, 7)]]
    tensors = [torch.tensor(p) for p in params]
    topt = record.torch_optimizer(tensors, **kwargs)
    for _ in range(5):
        for t in tensors:
            t.grad = torch.from_numpy(rng.standard_normal(tuple(t.shape)))
        topt.step()
    sd = topt.state_dict()
    sd = {"state": {k: {n: (v.numpy() if hasattr(v, "numpy") else v) for n, v in s.items()}
                    for k, s in sd["state"].items()},
          "param_groups": sd["param_groups"]}
    mine = [t.numpy().copy() for t in tensors]
    opt = record.cls(mine, **kwargs)
    opt.load_state_dict(sd)
    for _ in range(5):
        step_both(opt, topt, mine, tensors, [rng.standard_normal(p.shape) for p in mine])
    for p, t in zip(mine, tensors):
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[np.float64])


@pytest.mark.parametrize("record", [r for r in RECORDS if r.torch_family], ids=record_id)
def test_state_dict_layout_matches_torch(record):
    """Same keys, same numbering, same state names, same param-group keys
    and values as torch, with every state on. (An optimizer beyond torch
    keeps the torch family's layout, not its reference's.)"""
    params = [np.zeros(record.shape((3,))), np.zeros(record.shape((2,)))]
    tensors = [torch.tensor(p) for p in params]
    kwargs = record.all_states
    opt = record.make([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], **kwargs)
    topt = ready(record.torch_class([{"params": tensors[:1]}, {"params": tensors[1:], "lr": 0.1}], **kwargs))
    opt.step([np.ones_like(p) for p in params])
    for t in tensors:
        t.grad = torch.ones_like(t)
    topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["state"].keys() == tsd["state"].keys()
    for k in sd["state"]:
        assert sd["state"][k].keys() == tsd["state"][k].keys()
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        assert g["params"] == tg["params"]
        assert set(g) == set(tg)
        for key in g:
            if key != "params":
                assert g[key] == tg[key], key


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_state_before_the_first_step_matches_torch(record):
    """The state of a new optimizer (none, or the state torch's Adagrad makes
    at construction), and of a parameter that has had no gradient yet."""
    params = [np.zeros(record.shape((3,))), np.zeros(record.shape((2,)))]
    tensors = [torch.zeros(p.shape, dtype=torch.float64) for p in params]
    kwargs = {"lr": 0.1, **record.all_states}
    opt, topt = record.make(params, **kwargs), record.torch_optimizer(tensors, **kwargs)

    def assert_same_state():
        # an empty entry is no state (schedulefree's train() makes one for every parameter)
        sd, tsd = opt.state_dict()["state"], {k: v for k, v in topt.state_dict()["state"].items() if v}
        assert sd.keys() == tsd.keys()
        for k in sd:
            assert sd[k].keys() == tsd[k].keys()
            for key, value in tsd[k].items():
                np.testing.assert_array_equal(np.asarray(sd[k][key], np.float64), np.asarray(value, np.float64))

    assert_same_state()
    step_both(opt, topt, params, tensors, [np.ones_like(params[0]), None])
    assert_same_state()


def test_adagrad_sums_start_at_the_constructors_value():
    """torch's Adagrad fills every sum with the constructor's
    initial_accumulator_value, whatever a param group says, also for a
    group added later (whose state is made at its first step); and its
    state dict from before any step (steps 0) loads and resumes."""
    def groups(arrays):
        return [{"params": arrays[:1]}, {"params": arrays[1:2], "initial_accumulator_value": 2.0}]

    params = [np.zeros(3), np.zeros(2), np.zeros(4)]
    tensors = [torch.tensor(p) for p in params]
    opt = optkern.Adagrad(groups(params), lr=0.1, initial_accumulator_value=0.5)
    topt = torch.optim.Adagrad(groups(tensors), lr=0.1, initial_accumulator_value=0.5)
    fresh = {k: {n: v.numpy().copy() for n, v in entry.items()} for k, entry in topt.state_dict()["state"].items()}
    opt.add_param_group({"params": params[2:], "initial_accumulator_value": 3.0})
    topt.add_param_group({"params": tensors[2:], "initial_accumulator_value": 3.0})
    rng = np.random.default_rng(14)
    for _ in range(3):
        step_both(opt, topt, params, tensors, [rng.standard_normal(p.shape) for p in params])
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[np.float64])
        np.testing.assert_allclose(opt.state[p]["sum"], topt.state[t]["sum"].numpy(), **TOLERANCE[np.float64])
    loaded = optkern.Adagrad(groups([np.zeros(3), np.zeros(2)]))
    loaded.load_state_dict({"state": fresh, "param_groups": topt.state_dict()["param_groups"][:2]})
    first = loaded.param_groups[0]["params"][0]
    assert loaded.state[first]["step"] == 0 and np.all(loaded.state[first]["sum"] == 0.5)
    loaded.step([np.ones(3), np.ones(2)])
    assert loaded.state[first]["step"] == 1 and np.all(loaded.state[first]["sum"] == 1.5)


@pytest.mark.parametrize("bad", BAD_HPARAMS, ids=bad_id)
def test_torch_refuses_what_optkern_refuses(bad):
    """Each refused hyperparameter of the records is refused by torch (or
    the reference implementation) too, but where a record says optkern is
    stricter (torch_accepts). A reference package may refuse with an
    exception of its own (lion-pytorch asserts, pytorch-optimizer has its
    NegativeLRError)."""
    record, kwargs, _ = bad
    make = lambda: record.torch_class([torch.zeros(record.shape((3,)))], **kwargs)  # noqa: E731
    if kwargs in record.torch_accepts:
        make()
    else:
        with pytest.raises((ValueError, TypeError, IndexError) if record.reference is None else Exception):
            make()


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_defaults_match_torch(record):
    """Every argument and default of every optimizer is its peer's (torch's,
    or its reference implementation's: Record.reference), and then
    optkern's own keyword-only max_grad_norm=None (clipping in the step),
    unless the peer has an argument of that name (Adan's): then that one is
    the peer's too. A reference's **kwargs (pytorch-optimizer's options of
    its own) has no counterpart."""
    import inspect

    mine = dict(inspect.signature(record.cls).parameters)
    theirs = {arg: p for arg, p in inspect.signature(record.torch_class).parameters.items()
              if p.kind != inspect.Parameter.VAR_KEYWORD}
    # optkern's precision options (docs/precision.md), last, where the
    # optimizer takes them
    precision = mine.pop("precision", None)
    assert precision is None or precision.kind == inspect.Parameter.VAR_KEYWORD
    if "max_grad_norm" not in theirs:
        extra = mine.pop("max_grad_norm")
        assert extra.default is None and extra.kind == inspect.Parameter.KEYWORD_ONLY
        assert [a for a in inspect.signature(record.cls).parameters if a != "precision"][-1] == "max_grad_norm"
    assert list(mine) == list(theirs)
    for arg, p in mine.items():
        assert p.default == theirs[arg].default, arg
        assert p.kind == theirs[arg].kind, arg


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_implementation_switches_are_torchs(record):
    """Exactly the implementation switches torch's class has: foreach and
    fused are kept in param_groups and change nothing, capturable and
    differentiable must be False; a switch torch's class lacks is refused."""
    import inspect

    switches = ("foreach", "fused", "capturable", "differentiable")
    theirs = inspect.signature(record.torch_class).parameters
    params = [np.zeros(3)]
    for name in switches:
        if name not in theirs:
            with pytest.raises(TypeError):
                record.cls(params, **{name: False})
        elif name in ("foreach", "fused"):
            assert record.cls(params, **{name: True}).param_groups[0][name] is True
        else:
            with pytest.raises(ValueError, match="optkern has no"):
                record.cls(params, **{name: True})
            assert record.cls(params, **{name: False}).param_groups[0][name] is False
