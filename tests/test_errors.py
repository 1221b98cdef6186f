"""Bad input: a clear exception, raised before anything is written."""

import numpy as np
import pytest

import optkern
from optim_cases import BAD_HPARAMS, RECORDS, bad_id, record_id
from optkern import functional as F


def trained(record, n=3, dtype=np.float32, shapes=((10,), (8, 9), (7,)), **kwargs):
    """An optimizer of `record` with state, and a snapshot function of everything it owns."""
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(record.shape(s)).astype(dtype) for s in shapes[:n]]
    opt = record.make(params, **kwargs)
    opt.step([rng.standard_normal(p.shape).astype(dtype) for p in params])

    def snapshot():
        sd = opt.state_dict()
        arrays = [p.tobytes() for p in params]
        for i in sorted(sd["state"]):
            arrays += [v.tobytes() if isinstance(v, np.ndarray) else v for _, v in sorted(sd["state"][i].items())]
        return arrays

    return opt, params, snapshot


def good_grads(params):
    return [np.ones_like(p) for p in params]


def part_of(array, like):
    """A view of the first elements of `array`, shaped like `like`."""
    return array.reshape(-1)[:like.size].reshape(like.shape)


BAD_GRADS = {
    "float64 grad for float32 param": (TypeError, "dtype", lambda ps: [ps[0].astype(np.float64)] + good_grads(ps)[1:]),
    "integer grad": (TypeError, "dtype", lambda ps: [np.ones(ps[0].shape, np.int32)] + good_grads(ps)[1:]),
    "shape mismatch": (ValueError, "shape", lambda ps: [np.ones(ps[0].size + 1, np.float32)] + good_grads(ps)[1:]),
    "transposed shape": (ValueError, "shape", lambda ps: good_grads(ps)[:1] + [np.ones((9, 8), np.float32)] + good_grads(ps)[2:]),
    "too few grads": (ValueError, "expected 3 grads", lambda ps: good_grads(ps)[:2]),
    "too many grads": (ValueError, "expected 3 grads", lambda ps: good_grads(ps) + [np.ones(1, np.float32)]),
    "non-contiguous grad": (ValueError, "contiguous",
                            lambda ps: [np.ones(2 * ps[0].size, np.float32)[::2].reshape(ps[0].shape)] + good_grads(ps)[1:]),
    "grad is its param": (ValueError, "overlaps", lambda ps: [ps[0]] + good_grads(ps)[1:]),
    "grad is another param": (ValueError, "overlaps params\\[0\\]", lambda ps: good_grads(ps)[:2] + [part_of(ps[0], ps[2])]),
    "grad is a list": (TypeError, "numpy.ndarray", lambda ps: [list(range(10))] + good_grads(ps)[1:]),
    "byte-swapped grad": (TypeError, "byte order", lambda ps: [ps[0].astype(">f4")] + good_grads(ps)[1:]),
    "a bare array": (TypeError, "sequence", lambda ps: np.ones((3, 10), np.float32)),
    "a late bad grad": (TypeError, "dtype", lambda ps: good_grads(ps)[:2] + [np.ones(ps[2].shape, np.float64)]),
}


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.parametrize("case", sorted(BAD_GRADS))
def test_bad_grads_change_nothing(record, case):
    opt, params, snapshot = trained(record, **record.all_states)
    error, match, make = BAD_GRADS[case]
    before = snapshot()
    with pytest.raises(error, match=match):
        opt.step(make(params))
    assert snapshot() == before


@pytest.mark.parametrize("record, state", [(r, s) for r in RECORDS for s in r.states],
                         ids=[f"{r.name}-{s}" for r in RECORDS for s in r.states])
def test_grad_that_is_another_params_state(record, state):
    """A gradient that is (a view of) state the same step writes would race
    with that write: refused, whichever parameter the state belongs to (a
    scalar state, a 0-d float32 array, seen as the gradient of a (1,)
    float32 parameter)."""
    scalar = state in record.scalars
    opt, params, snapshot = trained(record, shapes=((10,), (8, 9), (1,) if scalar else (7,)), **record.all_states)
    before = snapshot()
    i = next(i for i, p in enumerate(params) if state in opt.state[p])  # an array state has 7 elements or more
    theirs = opt.state[params[i]][state]
    with pytest.raises(ValueError, match=f"grads\\[2\\] overlaps the {state} of params\\[{i}\\]"):
        opt.step(good_grads(params)[:2] + [theirs.reshape(1) if scalar else part_of(theirs, params[2])])
    assert snapshot() == before


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_bad_grad_on_first_step_creates_no_state(record):
    """The state stays as the constructor left it: none, or (torch's
    Adagrad makes its state at construction) that state untouched."""
    params = [np.zeros(record.shape((4,)), np.float32), np.zeros(record.shape((3,)), np.float32)]
    opt = record.make(params, **record.all_states)

    def entries():
        state = opt.state_dict()["state"]
        return {i: {k: np.array(v).tobytes() for k, v in entry.items()} for i, entry in state.items()}

    before = entries()
    with pytest.raises(TypeError):
        opt.step([np.ones_like(params[0]), np.ones(params[1].shape, np.float64)])
    assert entries() == before
    assert len(opt.state) == len(before)
    for _ in range(2):  # ADOPT's first step only starts its second moment
        opt.step([np.ones_like(params[0]), np.ones_like(params[1])])
    assert np.all(params[0] != 0)


@pytest.mark.parametrize("bad", BAD_HPARAMS, ids=bad_id)
def test_bad_hyperparameter_in_group_is_caught_at_step(bad):
    """A refused value set in param_groups between steps raises at the next
    step, before anything is written."""
    record, kwargs, match = bad
    opt, params, snapshot = trained(record, **record.all_states)
    before = snapshot()
    opt.param_groups[0].update(record.cls([np.zeros(record.shape((1,)))]).defaults)
    opt.param_groups[0].update(kwargs)
    with pytest.raises(ValueError, match=match):
        opt.step(good_grads(params))
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_HPARAMS, ids=bad_id)
def test_bad_hyperparameters_at_construction(bad):
    record, kwargs, match = bad
    with pytest.raises(ValueError, match=match):
        record.cls([np.zeros(record.shape((3,)))], **kwargs)


def test_hyperparameter_of_wrong_type():
    with pytest.raises(TypeError, match="lr must be a real number"):
        optkern.Adam([np.zeros(3)], lr="0.1")


@pytest.mark.parametrize("params, error, match", [
    ([], ValueError, "empty parameter list"),
    (np.zeros(3), TypeError, "single numpy.ndarray"),
    ([np.zeros(3, np.int64)], TypeError, "dtype int64"),
    ([np.zeros(3, np.complex64)], TypeError, "dtype complex64"),
    ([[0.0, 1.0]], TypeError, "numpy.ndarray"),
    ([np.zeros((4, 4))[:, 1]], ValueError, "contiguous"),
    ([np.zeros((4, 4)).T], ValueError, "contiguous"),
    ([np.zeros(3)[::-1]], ValueError, "contiguous"),
    ([np.broadcast_to(np.zeros(1), (3,))], ValueError, "read-only|contiguous"),
    ([np.zeros(3, ">f8")], TypeError, "byte order"),
    ({np.float64(1.0)}, TypeError, "ordered collections"),
    ([{"lr": 0.1}], ValueError, "params"),
])
def test_bad_params(params, error, match):
    with pytest.raises(error, match=match):
        optkern.Adam(params)


def test_read_only_param():
    p = np.zeros(3)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optkern.SGD([p])


def test_param_made_read_only_after_construction():
    p = np.zeros(3)
    opt = optkern.SGD([p], lr=0.1)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step([np.ones(3)])
    assert np.all(p == 0)


def test_overlapping_params():
    buf = np.zeros(10)
    with pytest.raises(ValueError, match="overlap"):
        optkern.Adam([buf, buf])
    with pytest.raises(ValueError, match="overlap"):
        optkern.Adam([buf[:6], buf[4:]])
    opt = optkern.Adam([buf[:5]])
    with pytest.raises(ValueError, match="overlap"):
        opt.add_param_group({"params": [buf[3:]]})
    optkern.Adam([buf[:5], buf[5:]])  # adjacent, not overlapping: fine


# ------------------------------------------------------------- functional

def adam_args(n=3, dtype=np.float32):
    rng = np.random.default_rng(1)
    params = [rng.standard_normal(5 + i).astype(dtype) for i in range(n)]
    return params, good_grads(params), [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]


def test_functional_state_listed_twice():
    """The classic slip: [np.zeros_like(p)] * n makes one state array shared."""
    params = [np.zeros(4, np.float32) for _ in range(3)]
    grads = good_grads(params)
    shared = [np.zeros(4, np.float32)] * 3
    with pytest.raises(ValueError, match="overlaps"):
        F.adam_(params, grads, shared, [np.zeros(4, np.float32) for _ in range(3)], step=1)
    assert all(np.all(p == 0) for p in params) and np.all(shared[0] == 0)


@pytest.mark.parametrize("mutate, error, match", [
    (lambda a: a[2].__setitem__(0, a[0][0]), ValueError, "overlaps"),  # exp_avg is its param
    (lambda a: a[3].__setitem__(1, a[2][1]), ValueError, "overlaps"),  # exp_avg_sq is exp_avg
    (lambda a: a[2].__setitem__(2, np.zeros(7, np.float64)), TypeError, "dtype"),
    (lambda a: a[3].__setitem__(0, np.zeros(6, np.float32)), ValueError, "shape"),
    (lambda a: a[2].pop(), ValueError, "expected 3 exp_avgs"),
    (lambda a: a[3].__setitem__(0, None), ValueError, "missing"),
])
def test_functional_bad_state(mutate, error, match):
    args = adam_args()
    mutate(args)
    params = args[0]
    before = [p.tobytes() for p in params]
    with pytest.raises(error, match=match):
        F.adam_(*args, step=1)
    assert [p.tobytes() for p in params] == before


@pytest.mark.parametrize("step, match", [(0, ">= 1"), (-3, ">= 1"), ([1, 2], "sequence of 3"), (1.5, "int")])
def test_functional_bad_step(step, match):
    with pytest.raises(ValueError, match=match):
        F.adam_(*adam_args(), step=step)


def test_functional_amsgrad_needs_max_state():
    with pytest.raises(ValueError, match="max_exp_avg_sqs"):
        F.adam_(*adam_args(), step=1, amsgrad=True)


def test_functional_sgd_momentum_needs_buffers():
    params, grads = adam_args()[:2]
    with pytest.raises(ValueError, match="momentum_buffers"):
        F.sgd_(params, grads, momentum=0.9)
    with pytest.raises(TypeError, match="must be a list"):
        F.sgd_(params, grads, (None, None, None), momentum=0.9)


def test_functional_first_steps_must_agree_across_state_lists():
    """rprop_'s None entries mark first steps: both state lists must have them
    at the same places, and then be lists (the new arrays go into them)."""
    params, grads = adam_args()[:2]
    prevs, sizes = [np.zeros_like(p) for p in params], [np.full_like(p, 0.01) for p in params]
    before = _snapshot(params, prevs, sizes)
    with pytest.raises(ValueError, match="prevs and step_size_states must have their None entries"):
        F.rprop_(params, grads, [None] + prevs[1:], sizes)
    with pytest.raises(TypeError, match="step_size_states holds None entries to be created, so it must be a list"):
        F.rprop_(params, grads, [None] + prevs[1:], (None, *sizes[1:]))
    assert _snapshot(params, prevs, sizes) == before
    mixed = [None] + prevs[1:]
    F.rprop_(params, grads, mixed, [None] + sizes[1:], lr=0.01)
    assert mixed[0].shape == params[0].shape and np.all(mixed[0] == grads[0])


SCALAR_STATES = [(r, name) for r in RECORDS for name in r.scalars]


@pytest.mark.parametrize("record, name", SCALAR_STATES, ids=[f"{r.name}-{n}" for r, n in SCALAR_STATES])
@pytest.mark.parametrize("mutate, error, match", [
    (lambda a: a.__setitem__(1, np.zeros((), np.float64)), TypeError, r"\[1\] must be a 0-d float32 array"),
    (lambda a: a.__setitem__(1, np.zeros(1, np.float32)), TypeError, r"\[1\] must be a 0-d float32 array"),
    (lambda a: a.__setitem__(1, 0.5), TypeError, "numpy.ndarray"),
    (lambda a: a.__setitem__(1, a[0]), ValueError, "overlaps"),
    (lambda a: a.__setitem__(1, None), ValueError, "missing"),
    (lambda a: a[1].flags.__setattr__("writeable", False), ValueError, "read-only"),
], ids=["float64", "shape (1,)", "a float", "listed twice", "None", "read-only"])
def test_functional_bad_scalar_state(record, name, mutate, error, match):
    """A scalar state (a 0-d float32 array per parameter, whatever the
    parameter's dtype) that is anything else raises, and nothing is written."""
    params = [np.ones(5), np.ones(0), np.ones(3)]  # float64 parameters, an empty one in the middle
    states = [[np.zeros((), np.float32) if s in record.scalars else np.zeros_like(p) for p in params]
              for s in record.states]
    mutate(states[record.states.index(name)])
    before = _snapshot(params, *[[a for a in lst if isinstance(a, np.ndarray)] for lst in states])
    with pytest.raises(error, match=match):
        record.functional(params, good_grads(params), *states, **({"step": 1} if record.takes_step else {}))
    assert _snapshot(params, *[[a for a in lst if isinstance(a, np.ndarray)] for lst in states]) == before


def test_set_num_threads_rejects_nonsense():
    for bad in [0, -1, 1.5, "2", True]:  # None is the default
        with pytest.raises(ValueError):
            optkern.set_num_threads(bad)


def test_set_isa_rejects_unknown():
    with pytest.raises(ValueError, match="unknown instruction set"):
        optkern.set_isa("sse9")


# --------------------------------------- read-only and overlapping state

def _snapshot(*lists):
    return [a.tobytes() for lst in lists for a in lst]


def test_functional_adam_read_only_state():
    params, grads, exp_avgs, exp_avg_sqs = adam_args()
    exp_avgs[0].flags.writeable = False
    before = _snapshot(params, exp_avgs, exp_avg_sqs)
    with pytest.raises(ValueError, match="read-only"):
        F.adam_(params, grads, exp_avgs, exp_avg_sqs, step=1)
    assert _snapshot(params, exp_avgs, exp_avg_sqs) == before


def test_functional_sgd_read_only_momentum_buffer():
    params, grads = adam_args()[:2]
    buffers = [np.full_like(p, 0.5) for p in params]
    buffers[0].flags.writeable = False
    before = _snapshot(params, buffers)
    with pytest.raises(ValueError, match="read-only"):
        F.sgd_(params, grads, buffers, lr=0.1, momentum=0.9)
    assert _snapshot(params, buffers) == before


def test_functional_overlap_with_an_earlier_array_that_is_not_the_previous_one():
    # In address order: buf (read, grads[0]), buf[10:20] (read, grads[1]),
    # buf[30:40] (written, exp_avgs[1]): the clash is with buf, two back.
    buf = np.ones(100)
    params = [np.zeros(100), np.zeros(10)]
    exp_avgs = [np.zeros(100), buf[30:40]]
    exp_avg_sqs = [np.zeros(100), np.zeros(10)]
    before = _snapshot(params, exp_avgs, exp_avg_sqs, [buf])
    with pytest.raises(ValueError, match="overlaps"):
        F.adam_(params, [buf, buf[10:20]], exp_avgs, exp_avg_sqs, step=1)
    assert _snapshot(params, exp_avgs, exp_avg_sqs, [buf]) == before


def test_functional_written_array_overlaps_a_read_array_of_another_tensor():
    # grads[0] (read) starts first; params[1] (written, another tensor)
    # starts inside it.
    buf = np.ones(30)
    params = [np.zeros(20), buf[10:30]]
    before = _snapshot(params, [buf])
    with pytest.raises(ValueError, match="overlaps"):
        F.sgd_(params, [buf[:20], np.ones(20)], lr=0.1)
    assert _snapshot(params, [buf]) == before


def test_touching_but_not_overlapping_gradient_and_param():
    buf = np.zeros(10)
    buf[:5] = 1.0   # the gradient
    buf[5:] = 2.0   # the parameter
    optkern.SGD([buf[5:]], lr=0.1).step([buf[:5]])
    np.testing.assert_array_equal(buf, [1.0] * 5 + [1.9] * 5)


def test_touching_but_not_overlapping_state_and_gradient():
    # The momentum buffer is buf[:5], the gradient starts right after it.
    buf = np.zeros(10)
    buf[:5] = 0.5   # the momentum buffer
    buf[5:] = 1.0   # the gradient
    p = np.full(5, 3.0)
    F.sgd_([p], [buf[5:]], [buf[:5]], lr=0.1, momentum=0.9)
    np.testing.assert_allclose(buf[:5], 0.9 * 0.5 + 1.0)  # b <- momentum b + g
    np.testing.assert_array_equal(buf[5:], 1.0)
    np.testing.assert_allclose(p, 3.0 - 0.1 * 1.45)


# ------------------------------------------- C preconditions, bypassing Python

def test_c_rejects_nan_lr_for_sgd():
    kind = optkern._core.kinds()["sgd"]
    params, grads = [np.ones(5)], [np.ones(5)]
    hp = {"lr": float("nan"), "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
          "maximize": False, "first_step": False}
    assert set(hp) == set(kind.fields)
    before = _snapshot(params, grads)
    with pytest.raises(ValueError, match="invalid sgd hyperparameters"):
        optkern._core.step(kind, params, grads, (None,), [hp])
    assert _snapshot(params, grads) == before
    optkern._core.step(kind, params, grads, (None,), [dict(hp, lr=0.5)])  # the same call with a good lr
    np.testing.assert_array_equal(params[0], 0.5)


def test_c_rejects_step_0_for_adam():
    kind = optkern._core.kinds()["adam"]
    params, grads = [np.ones(5)], [np.ones(5)]
    exp_avgs, exp_avg_sqs = [np.zeros(5)], [np.zeros(5)]
    hp = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "step": 0, "amsgrad": False,
          "maximize": False, "decoupled_weight_decay": False}
    assert set(hp) == set(kind.fields) and len(kind.states) == 3
    before = _snapshot(params, grads, exp_avgs, exp_avg_sqs)
    with pytest.raises(ValueError, match="invalid adam hyperparameters"):
        optkern._core.step(kind, params, grads, (exp_avgs, exp_avg_sqs, None), [hp])
    assert _snapshot(params, grads, exp_avgs, exp_avg_sqs) == before
    optkern._core.step(kind, params, grads, (exp_avgs, exp_avg_sqs, None), [dict(hp, step=1)])
    np.testing.assert_allclose(params[0], 1.0 - 1e-3, rtol=1e-6)
