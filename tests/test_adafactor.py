"""Adafactor where its states follow its parameters' shapes: what the
record-driven suites (optim_cases.RECORDS) do not reach. torch and the
float64 reference over awkward shapes (empty, a row, a column, batches of
matrices, matrices cut into several blocks of rows), eps1=None as each
dtype's machine epsilon, thread counts on every way of cutting, and the
state lists and state dicts of the wrong shape, refused before anything is
written."""

import numpy as np
import pytest

import optkern
from helpers import assert_close, refuses_to_load
from optim_cases import RECORDS
from optkern import functional as F
from reference import Reference, adafactor

torch = pytest.importorskip("torch")

RECORD = next(r for r in RECORDS if r.name == "Adafactor")
# vectors and 0-d; matrices of one row, one column, a batch; (17, 1023) and
# (300, 257) are cut into several blocks of rows, whose column sums are
# added up after the pass. (65537,), several blocks, is left to the
# reference: torch takes 70 ms a step on it.
SHAPES = [(), (1,), (7,), (17,), (1023,), (3, 5), (17, 1023), (2, 3, 5), (1, 1023), (1023, 1), (300, 257),
          (4, 2, 300)]
TOLERANCE = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}


def assert_state_like_torch(opt, topt, params, tensors, dtype):
    for p, t in zip(params, tensors):
        mine, theirs = opt.state[p], topt.state[t]
        assert set(mine) == set(theirs)
        assert mine["step"] == int(theirs["step"])
        for key in set(theirs) - {"step"}:
            assert mine[key].shape == tuple(theirs[key].shape), key
            assert_close(mine[key], theirs[key].numpy(), dtype, key)


@pytest.mark.parametrize("kwargs", RECORD.configs, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()) or "defaults")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fifty_steps_like_torch_on_awkward_shapes(isa, kwargs, dtype):
    """Every shape in one optimizer, 50 steps, the lr changed half way."""
    rng = np.random.default_rng(20)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    tensors = [torch.tensor(p) for p in params]
    opt = optkern.Adafactor(params, **kwargs)
    topt = torch.optim.Adafactor(tensors, foreach=False, **kwargs)
    for k in range(50):
        if k == 25:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.05
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads)
    for p, t in zip(params, tensors):  # the float32 floor relative to the largest entry: entries that cancel
        assert_close(p, t.numpy(), dtype, str(p.shape))
    assert_state_like_torch(opt, topt, params, tensors, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eps1_none_is_the_machine_epsilon_of_each_dtype(isa, dtype):
    """Gradients of 1e-9: V falls below eps1^2 in float32 (eps1 = 2^-23)
    but not in float64 (2^-52), so the dtype's own epsilon shows: as torch,
    and bit for bit what eps1 = finfo(dtype).eps gives."""
    rng = np.random.default_rng(21)
    shapes = [(40,), (6, 50)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    explicit = [p.copy() for p in params]
    tensors = [torch.tensor(p) for p in params]
    opt = optkern.Adafactor(params)
    twin = optkern.Adafactor(explicit, eps=(float(np.finfo(dtype).eps), 1e-3))
    topt = torch.optim.Adafactor(tensors, foreach=False)
    for _ in range(10):
        grads = [(rng.standard_normal(s) * 1e-9).astype(dtype) for s in shapes]
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads)
        twin.step(grads)
    for p, q, t in zip(params, explicit, tensors):
        assert p.tobytes() == q.tobytes()
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCE[dtype])


def test_mixed_dtypes_take_each_their_own_epsilon():
    """A group of float32 and float64 parameters: each gets its dtype's
    eps1 (torch's for-loop takes the first parameter's for the whole group;
    docs/optimizers.md#adafactor)."""
    rng = np.random.default_rng(22)
    grads = [(rng.standard_normal(30) * 1e-9).astype(np.float32), rng.standard_normal((4, 9)) * 1e-9]
    params = [np.ones(30, np.float32), np.ones((4, 9))]
    alone = [p.copy() for p in params]
    optkern.Adafactor(params).step(grads)
    for p, g in zip(alone, grads):
        optkern.Adafactor([p]).step([g])
    for p, q in zip(params, alone):
        assert p.tobytes() == q.tobytes()


@pytest.mark.parametrize("kwargs", RECORD.configs, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()) or "defaults")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_the_reference_on_awkward_shapes(isa, kwargs, dtype):
    shapes = SHAPES + [(65537,), (0,), (0, 5), (5, 0), (2, 0, 3)]
    rng = np.random.default_rng(23)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ref = Reference(adafactor, params, **kwargs)
    opt = optkern.Adafactor(params, **kwargs)
    for _ in range(4):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        opt.step(grads)
        ref.step(grads)
    tolerance = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-14}}[dtype]
    for p, want, state in zip(params, ref.params, ref.state):
        np.testing.assert_allclose(p, want, **tolerance, err_msg=str(p.shape))
        for key, value in state.items():
            np.testing.assert_allclose(opt.state[p][key], value, **tolerance, err_msg=f"{p.shape} {key}")


def test_empty_parameters_are_left_alone():
    """No element, nothing to update: torch divides by zero here. The step
    counts, and the factors of a matrix with rows but no columns (or the
    reverse) stay zero."""
    params = [np.zeros(0), np.zeros((0, 5)), np.zeros((5, 0)), np.zeros((2, 0, 3))]
    opt = optkern.Adafactor(params)
    for _ in range(2):
        opt.step([np.ones_like(p) for p in params])
    state = [opt.state[p] for p in params]
    assert [s["step"] for s in state] == [2] * 4
    assert state[0]["variance"].shape == (0,)
    assert state[2]["row_var"].shape == (5, 1) and not state[2]["row_var"].any()
    assert state[1]["col_var"].shape == (1, 5) and not state[1]["col_var"].any()
    assert state[3]["row_var"].shape == (2, 0, 1) and state[3]["col_var"].shape == (2, 1, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_any_thread_count_bitwise(isa, num_threads, dtype):
    """Every way a tensor is cut: a vector into blocks of elements; a matrix
    into blocks of rows (one, several, a batch of them); one column; one row."""
    shapes = [(100003,), (300, 257), (4, 200, 100), (2000, 9), (9, 2000), (1, 70000), (70000, 1), (3, 11, 1001)]

    def run():
        rng = np.random.default_rng(24)
        params = [rng.standard_normal(s).astype(dtype) for s in shapes]
        opt = optkern.Adafactor(params, lr=0.05, weight_decay=0.01)
        for _ in range(3):
            opt.step([rng.standard_normal(s).astype(dtype) for s in shapes])
        return [a.tobytes() for p in params for a in [p, *opt.state[p].values()] if isinstance(a, np.ndarray)]

    results = []
    for n in (1, 2, 3):
        num_threads(n)
        results.append(run())
    assert results[0] == results[1] == results[2]


def test_state_shapes_follow_the_parameter():
    kind = optkern.optim._engine.kind("adafactor")
    assert kind.states == ("row_var", "col_var", "variance")
    assert kind.shaped
    expected = {(): [None, None, ()], (5,): [None, None, (5,)], (3, 4): [(3, 1), (1, 4), None],
                (2, 3, 4): [(2, 3, 1), (2, 1, 4), None]}
    for shape, shapes in expected.items():
        assert [kind.state_shape(name, shape) for name in kind.states] == shapes
    assert not optkern.optim._engine.kind("adam").shaped


# ----------------------------------------------- state of the wrong shape


def functional_args():
    rng = np.random.default_rng(25)
    params = [rng.standard_normal(6), rng.standard_normal((3, 4))]
    grads = [rng.standard_normal(p.shape) for p in params]
    row_vars, col_vars, variances = RECORD.new_states(params)
    return params, grads, row_vars, col_vars, variances


def test_functional_equals_the_class_with_none_lists():
    """State lists may be None when no parameter has such a state."""
    rng = np.random.default_rng(26)
    vectors = [rng.standard_normal(5), rng.standard_normal(())]
    copies = [v.copy() for v in vectors]
    variances = [np.zeros_like(v) for v in vectors]
    opt = optkern.Adafactor(copies)
    for t in (1, 2):
        grads = [rng.standard_normal(v.shape) for v in vectors]
        F.adafactor_(vectors, grads, None, None, variances, step=t)
        opt.step(grads)
    for v, c in zip(vectors, copies):
        assert v.tobytes() == c.tobytes()


@pytest.mark.parametrize("mutate, match", [
    (lambda a: a[4].__setitem__(1, np.zeros((3, 4))), r"variances\[1\] must be None: params\[1\] has shape \(3, 4\)"),
    (lambda a: a[2].__setitem__(0, np.zeros(6)), r"row_vars\[0\] must be None"),
    (lambda a: a[2].__setitem__(1, np.zeros((3, 4))),
     r"row_vars\[1\] has shape \(3, 4\) but params\[1\] of shape \(3, 4\) needs one of shape \(3, 1\)"),
    (lambda a: a[3].__setitem__(1, np.zeros((4, 1))), r"needs one of shape \(1, 4\)"),
    (lambda a: a[3].__setitem__(1, None), r"col_vars\[1\] is missing"),
    (lambda a: a[4].__setitem__(0, None), r"variances\[0\] is missing"),
    (lambda a: a[3].__setitem__(1, np.zeros((1, 8))[:, ::2]), "contiguous"),
])
def test_functional_state_of_the_wrong_shape(mutate, match):
    args = functional_args()
    mutate(args)
    arrays = [a for lst in args for a in lst if isinstance(a, np.ndarray)]
    before = [a.copy() for a in arrays]
    with pytest.raises(ValueError, match=match):
        F.adafactor_(*args, step=1)
    for a, b in zip(arrays, before):
        assert np.array_equal(a, b)


def test_functional_state_of_another_dtype():
    args = functional_args()
    args[2][1] = np.zeros((3, 1), np.float32)
    before = [p.copy() for p in args[0]]
    with pytest.raises(TypeError, match=r"row_vars\[1\] has dtype float32 but params\[1\] has dtype float64"):
        F.adafactor_(*args, step=1)
    assert all(np.array_equal(p, b) for p, b in zip(args[0], before))


def test_factors_sharing_memory_are_refused():
    """A matrix's row_var and col_var carved from one buffer: refused where
    they overlap (each by its own size, not the parameter's), taken where
    they only touch."""
    params, grads, row_vars, col_vars, variances = functional_args()
    buf = np.zeros(7)
    row_vars[1], col_vars[1] = buf[:3].reshape(3, 1), buf[2:6].reshape(1, 4)
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match="overlap"):
        F.adafactor_(params, grads, row_vars, col_vars, variances, step=1)
    assert not buf.any() and all(np.array_equal(p, b) for p, b in zip(params, before))
    col_vars[1] = buf[3:].reshape(1, 4)
    F.adafactor_(params, grads, row_vars, col_vars, variances, step=1)
    assert buf.all()


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd["state"][1].__setitem__("row_var", np.zeros((3, 4))), r"needs one of shape \(3, 1\)"),
    (lambda sd: sd["state"][1].__setitem__("variance", np.zeros((3, 4))), "unexpected state 'variance'"),
    (lambda sd: sd["state"][0].__setitem__("row_var", np.zeros((6, 1))), "unexpected state 'row_var'"),
    (lambda sd: sd["state"][1].pop("col_var"), "lacks 'col_var'"),
])
def test_state_dict_of_the_wrong_shape_changes_nothing(mutate, match):
    rng = np.random.default_rng(27)
    params = [rng.standard_normal(6), rng.standard_normal((3, 4))]
    opt = optkern.Adafactor(params)
    opt.step([rng.standard_normal(p.shape) for p in params])
    refuses_to_load(opt, mutate, match)
