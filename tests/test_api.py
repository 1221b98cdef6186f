"""The Python API: configuration, optimizer objects, state dicts, functional layer."""

import copy
import os
import subprocess
import sys

import numpy as np
import pytest

import optkern
from optkern import functional as F
from helpers import assert_state_unchanged, refuses_to_load
from optim_cases import CASES, OWN_SUITES, RECORDS, case_id, record_id

# ------------------------------------------------------------ configuration


def test_config():
    cfg = optkern.config()
    assert {"version", "isa", "isas", "openmp", "num_threads"} <= set(cfg)
    assert cfg["version"] == optkern.__version__
    assert cfg["isa"] in cfg["isas"] and "scalar" in cfg["isas"]
    assert isinstance(cfg["openmp"], bool) and cfg["num_threads"] >= 1


def test_show_config(capsys):
    optkern.show_config()
    out = capsys.readouterr().out
    for key in ["version", "isa", "isas", "openmp", "num_threads"]:
        assert f"{key}:" in out


def test_threads(num_threads):
    num_threads(3)
    assert optkern.get_num_threads() == 3 == optkern.config()["num_threads"]
    num_threads(None)
    assert optkern.get_num_threads() == run_default_threads()


def run_default_threads():
    return int(run_python("import optkern; print(optkern.get_num_threads())").stdout)


def test_torch_implementation_switches():
    """torch code passing foreach / fused runs unchanged; the modes optkern
    does not have are refused."""
    p = [np.zeros(3)]
    opt = optkern.Adam(p, fused=True, foreach=False, capturable=False, differentiable=False)
    assert opt.param_groups[0]["fused"] is True
    optkern.SGD(p, foreach=True)
    optkern.AdamW(p, fused=None)
    for kwargs in [{"capturable": True}, {"differentiable": True}]:
        with pytest.raises(ValueError, match="optkern has no"):
            optkern.Adam(p, **kwargs)
    with pytest.raises(TypeError, match="fused"):
        optkern.SGD(p, fused="yes")


def test_load_state_dict_fills_missing_hyperparameters():
    """A state dict from an older torch lacks newer keys: they take the defaults."""
    p = [np.zeros(3)]
    opt = optkern.Adam(p, lr=0.1)
    opt.step([np.ones(3)])
    sd = copy.deepcopy(opt.state_dict())
    del sd["param_groups"][0]["decoupled_weight_decay"]
    fresh = optkern.Adam([np.zeros(3)])
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["decoupled_weight_decay"] is False and fresh.param_groups[0]["lr"] == 0.1


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, **env})


def test_default_threads_follow_omp_num_threads():
    if not optkern.config()["openmp"]:
        pytest.skip("built without OpenMP")
    out = run_python("import optkern; print(optkern.get_num_threads())", OMP_NUM_THREADS="3")
    assert out.stdout.strip() == "3"


@pytest.mark.parametrize("isa", optkern._core.available_isas())
def test_optkern_isa_caps_the_choice(isa):
    out = run_python("import optkern; print(optkern.config()['isa'])", OPTKERN_ISA=isa.upper())
    assert out.stdout.strip() == isa
    assert "Warning" not in out.stderr


def test_optkern_isa_beyond_the_cpu_falls_back_with_a_warning():
    best = optkern._core.best_isa()
    names = optkern._core.isa_names()
    out = run_python("import optkern; print(optkern.config()['isa'])", OPTKERN_ISA=names[-1])
    assert out.stdout.strip() == best
    assert ("not available" in out.stderr) == (best != names[-1])


def test_optkern_isa_unknown_warns():
    out = run_python("import optkern; print(optkern.config()['isa'])", OPTKERN_ISA="sse9")
    assert out.stdout.strip() == optkern._core.best_isa()
    assert "not one of" in out.stderr


def test_set_isa_switches_kernels():
    before = optkern.get_isa()
    try:
        for isa in optkern.config()["isas"]:
            optkern.set_isa(isa)
            assert optkern.get_isa() == isa
    finally:
        optkern.set_isa(before)

# -------------------------------------------------------- optimizer objects


def test_param_groups_and_defaults():
    a, b = np.zeros(3), np.zeros(4)
    opt = optkern.Adam([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, betas=(0.8, 0.9))
    g0, g1 = opt.param_groups
    assert g0["params"][0] is a and g1["params"][0] is b
    assert g0["lr"] == 0.1 and g1["lr"] == 0.5 and g1["betas"] == (0.8, 0.9)
    assert opt.defaults["lr"] == 0.1


def test_changed_lr_takes_effect_at_next_step():
    p = np.zeros(2)
    opt = optkern.SGD([p], lr=0.1)
    opt.step([np.ones(2)])
    opt.param_groups[0]["lr"] = 1.0
    opt.step([np.ones(2)])
    np.testing.assert_array_equal(p, -1.1)


def test_add_param_group():
    a, b = np.zeros(2), np.zeros(3)
    opt = optkern.SGD([a], lr=0.1)
    opt.step([np.ones(2)])
    opt.add_param_group({"params": [b], "lr": 1.0})
    opt.step([np.ones(2), np.ones(3)])
    np.testing.assert_allclose(a, -0.2)
    np.testing.assert_allclose(b, -1.0)


def test_replacing_a_parameter_keeps_the_others_state():
    a, b, c = np.zeros(2), np.zeros(3), np.zeros(3)
    opt = optkern.Adam([a, b], lr=0.1)
    opt.step([np.ones(2), np.ones(3)])
    opt.param_groups[0]["params"][1] = c
    opt.step([np.ones(2), np.ones(3)])
    assert opt.state[a]["step"] == 2 and opt.state[c]["step"] == 1
    assert b not in opt.state


def test_state_view():
    a, b = np.zeros(2), np.zeros(3)
    opt = optkern.Adam([a, b])
    assert len(opt.state) == 0
    opt.step([np.ones(2), None])
    assert len(opt.state) == 1 and a in opt.state and b not in opt.state
    assert set(opt.state[a]) == {"step", "exp_avg", "exp_avg_sq"}
    assert opt.state[b] == {}  # no state yet: an empty dict, as torch's defaultdict gives
    assert b not in opt.state
    with pytest.raises(KeyError):
        opt.state[np.zeros(2)]  # not a parameter of this optimizer


def test_none_grad_leaves_param_and_state_alone():
    a, b = np.zeros(2), np.zeros(3)
    opt = optkern.SGD([a, b], lr=0.1, momentum=0.9)
    opt.step([np.ones(2), None])
    assert np.all(b == 0) and b not in opt.state
    opt.step([None, None])
    np.testing.assert_allclose(a, -0.1)


def test_named_parameters():
    a = np.zeros(2)
    opt = optkern.SGD([("weight", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    opt.step([np.ones(2)])
    np.testing.assert_allclose(a, -0.1)


def test_repr():
    text = repr(optkern.AdamW([np.zeros(1)]))
    assert text.startswith("AdamW (") and "Parameter Group 0" in text and "weight_decay: 0.01" in text


def test_adamw_is_decoupled():
    assert optkern.AdamW([np.zeros(1)]).param_groups[0]["decoupled_weight_decay"] is True

# ---------------------------------------------------------------- state dicts


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_round_trip_mid_training(case, dtype):
    """Save mid-training, keep going; a fresh optimizer loaded from the save
    on a copy of the parameters continues bit for bit."""
    record, kwargs = case
    rng = np.random.default_rng(5)
    shapes = [record.shape(s) for s in [(33,), (4, 9), (1,)]]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    opt = record.make(params, **kwargs)
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(10)]
    for g in grads[:5]:
        opt.step(g)
    saved = copy.deepcopy(opt.state_dict())
    resumed_params = [p.copy() for p in params]
    for g in grads[5:]:
        opt.step(g)
    fresh = record.cls(resumed_params, lr=123.0)  # hyperparameters come from the save
    fresh.load_state_dict(saved)
    for g in grads[5:]:
        fresh.step(g)
    for p, q in zip(params, resumed_params):
        assert p.tobytes() == q.tobytes()


def test_load_state_dict_copies_and_casts():
    p = np.zeros(3, np.float32)
    opt = optkern.Adam([p])
    state = {"step": 2, "exp_avg": np.ones(3), "exp_avg_sq": np.ones(3)}
    opt.load_state_dict({"state": {0: state}, "param_groups": [{**optkern.Adam([np.zeros(1)]).defaults, "params": [0]}]})
    loaded = opt.state[p]
    assert loaded["exp_avg"].dtype == np.float32 and loaded["exp_avg"] is not state["exp_avg"]
    assert loaded["step"] == 2


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "number of parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "doesn't match the size"),
    (lambda sd: sd["state"][1].__setitem__("exp_avg", np.zeros(5)), "shape"),
    (lambda sd: sd["state"][0].__setitem__("bogus", np.zeros(2)), "unexpected state"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "Invalid learning rate"),
    (lambda sd: sd["state"][0].__setitem__("step", -1), "step"),
])
def test_bad_state_dict_changes_nothing(mutate, match):
    params = [np.zeros(2), np.zeros(3)]
    opt = optkern.Adam(params, lr=0.1)
    opt.step([np.ones(2), np.ones(3)])
    sd = copy.deepcopy(opt.state_dict())
    before = copy.deepcopy(opt.state_dict())
    mutate(sd)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        for key, value in before["state"][i].items():
            np.testing.assert_array_equal(after["state"][i][key], value)

def _stepped(record, **kwargs):
    """An optimizer of `record` with every state (its all_states kwargs), stepped twice."""
    params = _two_params(record)
    opt = record.make(params, lr=0.1, **{**record.all_states, **kwargs})
    for _ in range(2):
        opt.step([np.ones_like(p) for p in params])
    return opt


def _two_params(record):
    """Two small parameters (zeros) of shapes record takes: (2,) and a (3, 2)
    matrix (some states are a matrix's only), or matrices of them."""
    return [np.zeros(record.shape((2,))), np.zeros(record.shape((3, 2)))]


def _state_keys(record):
    """(record, key) for each key of a full state entry, where the entry has
    more than one (an entry left empty, or with None values only, is no
    state: see test_load_state_dict_takes_a_state_the_group_does_not_need)."""
    keys = (["step"] if record.cls._has_step else []) + list(record.states)
    return [(record, key) for key in keys] if len(keys) > 1 else []


@pytest.mark.parametrize("record, key", [rk for r in RECORDS for rk in _state_keys(r)],
                         ids=lambda x: x.name if hasattr(x, "name") else x)
def test_load_state_dict_refuses_a_partial_state(record, key):
    """A state entry without one of the arrays (or the step) its group's
    update needs would restart the step with old moments: refused, naming
    the parameter and the key, and nothing changes."""
    opt = _stepped(record)
    before = copy.deepcopy(opt.state_dict())
    sd = copy.deepcopy(opt.state_dict())
    i = max(i for i, entry in sd["state"].items() if key in entry)  # a parameter that has it
    del sd["state"][i][key]
    with pytest.raises(ValueError, match=rf"parameter {i} lacks '{key}'"):
        opt.load_state_dict(sd)
    assert_state_unchanged(opt, before)
    sd["state"][i][key] = None  # None, as torch's SGD may keep it, is missing too
    with pytest.raises(ValueError, match=rf"parameter {i} lacks '{key}'"):
        opt.load_state_dict(sd)
    assert_state_unchanged(opt, before)


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_load_state_dict_takes_a_state_the_group_does_not_need(record):
    """The states the group's hyperparameters do not use may be absent
    (SGD's momentum_buffer without momentum, max_exp_avg_sq without
    amsgrad), and a parameter may have no state at all."""
    probe = record.cls([np.zeros(record.shape((1,)))], lr=0.1)
    plain = [name for name in record.states if all(
        name not in optkern.optim._engine.required_states(
            optkern.optim._engine.kind(record.cls._kind), probe._hparams(g), record.cls._phase)
        for g in probe.param_groups)]
    params = _two_params(record)
    opt = record.make(params, lr=0.1)
    opt.step([np.ones_like(p) for p in params])
    sd = copy.deepcopy(opt.state_dict())
    for entry in sd["state"].values():
        assert not set(plain) & set(entry)
    sd["state"].pop(0, None)
    fresh = record.cls(_two_params(record), lr=0.1)
    fresh.load_state_dict(sd)
    assert 0 not in fresh.state_dict()["state"]
    assert (1 in fresh.state_dict()["state"]) == (1 in sd["state"])
    fresh.step([np.ones_like(p) for p in params])
    # An entry with None values only (torch's SGD may keep momentum_buffer=None) is no state.
    sd = copy.deepcopy(_stepped(record).state_dict())
    sd["state"][0] = {key: None for key in sd["state"][0]}
    fresh = record.cls(_two_params(record), lr=0.1)
    fresh.load_state_dict(sd)
    assert 0 not in fresh.state_dict()["state"]


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd.__setitem__("state", [sd["state"][0]]), '"state" must be a dict'),
    (lambda sd: sd["state"].__setitem__(0, [1.0]), "state of parameter 0 must be a dict"),
    (lambda sd: sd.__setitem__("param_groups", sd["param_groups"][0]), '"param_groups" must be a list'),
    (lambda sd: sd["param_groups"].__setitem__(0, [0, 1]), '"param_groups" must be a list of dicts'),
    (lambda sd: sd["param_groups"][0].pop("params"), 'no "params" list'),
    (lambda sd: sd["param_groups"][0].__setitem__("differentiable", True), "differentiable"),
    (lambda sd: sd["param_groups"][0].__setitem__("capturable", True), "capturable"),
], ids=["state-list", "entry-list", "groups-dict", "group-list", "no-params", "differentiable", "capturable"])
def test_load_state_dict_refuses_malformed_dicts(record, mutate, match):
    refuses_to_load(_stepped(record), mutate, match)


@pytest.mark.parametrize("record", [r for r in RECORDS if r.cls._has_step], ids=record_id)
@pytest.mark.parametrize("step", [float("inf"), float("nan"), 2.5, -1, 1e300])
def test_load_state_dict_refuses_a_bad_step(record, step):
    refuses_to_load(_stepped(record), lambda sd: sd["state"][0].__setitem__("step", step),
                    "step must be a non-negative whole number")

# ----------------------------------------------------------------- functional


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_functional_equals_class(isa, case):
    """An optimizer's functional form, stepped with its own state lists,
    gives the class's result bit for bit."""
    record, kwargs = case
    rng = np.random.default_rng(6)
    shapes = [record.shape(s) for s in [(7,), (3, 4)]]
    a = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    b = [x.copy() for x in a]
    opt = record.make(a, **kwargs)
    grads_by_step = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(4)]
    for grads in grads_by_step:
        opt.step(grads)
    states = record.run_functional(b, grads_by_step, **kwargs)
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()
    for name, lst in zip(record.states, states):
        for p, mine in zip(a, lst):
            if name in opt.state[p]:
                assert opt.state[p][name].tobytes() == mine.tobytes(), name


def test_every_optimizer_has_a_record():
    """A registered optimizer without a record in optim_cases.py would go
    untested by every suite that iterates over the records (or, if its step
    is not step(grads), without a suite of its own: OWN_SUITES)."""
    assert sorted([r.name for r in RECORDS] + list(OWN_SUITES)) == sorted(optkern.optim.Optimizer.registry())
    assert sorted(optkern.functional.__all__) == sorted(r.name.lower() + "_" for r in RECORDS)
    for record in RECORDS:
        assert getattr(optkern, record.name) is record.cls and record.name in optkern.__all__
    for name, module in OWN_SUITES.items():
        assert name in optkern.__all__ and os.path.exists(os.path.join(os.path.dirname(__file__), module))


def test_functional_sgd_fills_momentum_buffers():
    p = [np.zeros(3)]
    bufs = [None]
    F.sgd_(p, [np.ones(3)], bufs, lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(bufs[0], 1.0)  # the first step copies g: no dampening
    F.sgd_(p, [np.ones(3)], bufs, lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(bufs[0], 0.9 + 0.5)


def test_functional_adam_per_tensor_steps():
    """step may differ per tensor: one call with step=[3, 2] equals separate calls."""
    def state(n):
        return [np.zeros(4) for _ in range(n)], [np.zeros(4) for _ in range(n)]

    g = [np.full(4, 0.5)]
    x, sx = [np.zeros(4)], state(1)
    y, sy = [np.zeros(4)], state(1)
    for t in (1, 2, 3):
        F.adam_(x, g, *sx, step=t)
    for t in (1, 2):
        F.adam_(y, g, *sy, step=t)
    both, sboth = [np.zeros(4), np.zeros(4)], state(2)
    F.adam_(both, g + g, *sboth, step=1)
    F.adam_(both[:1], g, sboth[0][:1], sboth[1][:1], step=2)
    F.adam_(both, g + g, *sboth, step=[3, 2])
    assert both[0].tobytes() == x[0].tobytes()
    assert both[1].tobytes() == y[0].tobytes()


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.name)
def test_kinds_describe_every_optimizer(record):
    """The C descriptor behind a class: its states are the class's, its
    required-state rule and coefficient derivation answer for a group, and
    a set torch refuses is refused there too (the seam another backend
    reuses instead of re-deriving coefficients)."""
    from optkern.optim import _engine

    cls = record.cls
    kind = _engine.kind(cls._kind)
    opt = cls([np.zeros(record.shape((3,)))], **record.all_states)
    hp = opt._hparams(opt.param_groups[0])
    full = _engine.at_phase(hp, cls._phase, 1) if cls._phase else hp
    assert set(full) == set(kind.fields)
    assert set(_engine.required_states(kind, hp, cls._phase)) == set(kind.states) == set(record.states)
    assert len(kind.coefficients(full)) > 0
    if cls._phase == "step":  # the step reaches the coefficients, under some configuration (Adagrad's: lr_decay)
        sets = [hp] + [opt._hparams({**opt.defaults, **kwargs}) for kwargs in record.configs]
        assert any(kind.coefficients(_engine.at_phase(s, "step", 2)) != kind.coefficients(_engine.at_phase(s, "step", 1))
                   for s in sets)
    with pytest.raises(ValueError, match="invalid"):
        kind.required_states({**full, "lr": -1.0})
    with pytest.raises(ValueError, match="missing"):
        kind.required_states({k: v for k, v in full.items() if k != "lr"})


def test_kind_refuses_a_set_with_other_fields():
    from optkern.optim import _engine

    kind = _engine.kind("sgd")
    fields = {name: 0.0 for name in kind.fields}
    renamed = {("rate" if name == "lr" else name): value for name, value in fields.items()}
    for bad, match in [(renamed, r"missing \['lr'\], unknown \['rate'\]"), ({**fields, "x": 1.0}, "unknown")]:
        with pytest.raises(ValueError, match=match):
            kind.required_states(bad)

# ------------------------------------------------- copies, read-only state, papercuts


def _trained(record, dtype=np.float64):
    rng = np.random.default_rng(7)
    shapes = [record.shape(s) for s in [(33,), (4, 9), (1,)]]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    opt = record.make(params, lr=0.01, **record.all_states)
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(6)]
    for g in grads[:3]:
        opt.step(g)
    return opt, params, grads[3:]


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copied_optimizer_continues_bit_for_bit(record, how):
    """copy.deepcopy and pickle of a stepped optimizer (as torch's): an
    independent optimizer over copies of the parameters, whose steps equal
    the original's."""
    import pickle
    opt, params, grads = _trained(record)
    twin = copy.deepcopy(opt) if how == "deepcopy" else pickle.loads(pickle.dumps(opt))
    twin_params = twin.param_groups[0]["params"]
    assert all(q is not p and q.tobytes() == p.tobytes() for p, q in zip(params, twin_params))
    for p, q in zip(params, twin_params):
        assert twin.state[q].keys() == opt.state[p].keys()
    for g in grads:
        opt.step(g)
        twin.step(g)
    for p, q in zip(params, twin_params):
        assert p.tobytes() == q.tobytes()
        for key, value in opt.state[p].items():
            assert np.asarray(twin.state[q][key]).tobytes() == np.asarray(value).tobytes()
        assert not np.shares_memory(p, q)


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_read_only_state_is_refused_at_the_next_step(record):
    opt, params, grads = _trained(record)
    for name in record.states:
        before = copy.deepcopy(opt.state_dict())
        saved = [p.copy() for p in params]
        i = max(i for i, p in enumerate(params) if name in opt.state[p])  # a parameter that has it
        state = opt.state[params[i]][name]
        state.flags.writeable = False
        with pytest.raises(ValueError, match=rf"{name}\[{i}\] is read-only"):
            opt.step(grads[0])
        assert_state_unchanged(opt, before)
        assert all(p.tobytes() == s.tobytes() for p, s in zip(params, saved))
        state.flags.writeable = True
        opt.step(grads[0])


@pytest.mark.parametrize("record", [r for r in RECORDS if not r.matrix], ids=record_id)
def test_zero_d_parameters(record):
    """Torch has scalar parameters: a 0-d array, with a 0-d gradient, like
    a (1,) one."""
    p, q = np.full((), 0.5), np.full(1, 0.5)
    a, b = record.make([p], lr=0.1, **record.all_states), record.make([q], lr=0.1, **record.all_states)
    for _ in range(3):
        a.step([np.full((), 0.25)])
        b.step([np.full(1, 0.25)])
    assert p.shape == () and p.tobytes() == q.tobytes()
    assert all(v.shape == () for v in a.state[p].values() if isinstance(v, np.ndarray))
    sd = copy.deepcopy(a.state_dict())
    record.cls([np.full((), 0.5)]).load_state_dict(sd)


def test_numpy_scalar_gradient_says_to_pass_a_0d_array():
    opt = optkern.SGD([np.zeros((), np.float32)])
    with pytest.raises(TypeError, match=r"grads\[0\] must be a numpy.ndarray, got a NumPy scalar \(float32\); "
                                        r"pass a 0-d array"):
        opt.step([np.float32(1.0)])
    opt.step([np.asarray(np.float32(1.0))])


def test_a_dict_is_not_a_list_of_arrays():
    d = {"w": np.zeros(2), "b": np.zeros(1)}
    with pytest.raises(TypeError, match="params must be a list of arrays, not a dict"):
        optkern.SGD(d)
    with pytest.raises(TypeError, match="not a dict"):
        optkern.SGD([{"params": d}])
    opt = optkern.SGD(list(d.items()), lr=0.1)
    with pytest.raises(TypeError, match="grads must be a list of arrays, not a dict"):
        opt.step({"w": np.ones(2), "b": np.ones(1)})
    with pytest.raises(TypeError, match="not a dict"):
        F.sgd_(d, [np.ones(2), np.ones(1)], [None, None], lr=0.1)
