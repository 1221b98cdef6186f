"""optkern.LBFGS against torch.optim.LBFGS: the same iterates, losses,
evaluation counts and state on a small quadratic and on a logistic
regression, with and without the strong-Wolfe line search, under every
instruction set; its limits and tolerances; state dicts (its own and
torch's); bitwise the same for any thread count; bad input.

LBFGS's step takes a closure, so it has this suite of its own instead of a
record in optim_cases.py (whose suites step with gradients). Both sides'
closures compute the loss and gradient with the same NumPy code: what is
compared is the optimizers alone.
"""

import copy
import pickle

import numpy as np
import pytest

import optkern
from helpers import assert_close
from optim_cases import OWN_SUITES

torch = pytest.importorskip("torch")

# iterates: relative, with a floor relative to the largest parameter (entries near 0)
TOLERANCE = {np.float64: (1e-10, 1e-10), np.float32: (2e-4, 2e-5)}


class Quadratic:
    """f(x) = x'Hx/2 - b'x, x the concatenation of the parameters (H positive definite)."""

    shapes = ((10,), (4, 5), (1,))

    def __init__(self, rng):
        n = sum(int(np.prod(s)) for s in self.shapes)
        a = rng.standard_normal((n, n))
        self.h, self.b = a @ a.T / n + 0.1 * np.eye(n), rng.standard_normal(n)

    def __call__(self, x):
        hx = self.h @ x
        return 0.5 * x @ hx - self.b @ x, hx - self.b


class Logistic:
    """The mean logistic loss of a linear model (weights (6, 3) and bias (3,))
    over 40 samples of 6 features, three one-vs-rest labels each, plus an
    L2 penalty on the weights."""

    shapes = ((6, 3), (3,))

    def __init__(self, rng):
        self.x = rng.standard_normal((40, 6))
        self.sign = np.where(rng.uniform(size=(40, 3)) < 0.5, -1.0, 1.0)

    def __call__(self, flat):
        w, b = flat[:18].reshape(6, 3), flat[18:]
        margin = self.sign * (self.x @ w + b)
        loss = np.logaddexp(0.0, -margin).mean() + 0.005 * (w * w).sum()
        dz = -self.sign / (1.0 + np.exp(margin)) / margin.size
        return loss, np.concatenate([(self.x.T @ dz + 0.01 * w).ravel(), dz.sum(axis=0)])


class FixedStart:
    """A problem without random data, started from x0 (one parameter)."""

    x0 = np.zeros(1)

    def __init__(self, rng):
        self.shapes = (self.x0.shape,)


class Rosenbrock(FixedStart):
    """The chained Rosenbrock function of 6 variables from (-1.2, ..., 1): a
    curved valley whose line searches bracket, zoom and run out of
    evaluations."""

    x0 = np.linspace(-1.2, 1.0, 6)

    def __call__(self, x):
        inner = x[1:] - x[:-1] ** 2
        g = np.zeros_like(x)
        g[:-1] = -400 * x[:-1] * inner - 2 * (1 - x[:-1])
        g[1:] += 200 * inner
        return np.sum(100 * inner ** 2 + (1 - x[:-1]) ** 2), g


class LogCosh(FixedStart):
    """sum log cosh(3 x): nearly linear far from 0, where a long step
    overshoots and the line search's interpolation lands at its bracket's ends."""

    x0 = np.linspace(-2.0, 3.0, 5)

    def __call__(self, x):
        z = np.abs(3 * x)
        return np.sum(z + np.log1p(np.exp(-2 * z)) - np.log(2)), 3 * np.tanh(3 * x)


class NearOptimum:
    """|x|^2 / 2 from 1e-10 away from its minimum: a direction so short that
    the line search's bracket is below its own tolerance (1e-9, whatever the
    group's tolerance_change) as soon as it is found."""

    shapes = ((5,),)
    # Its branch is taken by the first iteration, which lands on the minimum
    # up to the rounding of a step as long as the start (1e-17 against
    # 1e-10, exactly 0 without fused multiply-adds): the iterate is compared
    # to 1e-6 of the start's size, and no later iteration (max_iter=1, one
    # step: from there each instruction set takes a path of its own).
    steps = 1
    floor = 1e-6

    def __init__(self, rng):
        pass

    @staticmethod
    def start(rng):
        return [1e-10 * np.linspace(1.0, 2.0, 5)]

    def __call__(self, x):
        return 0.5 * x @ x, x.copy()


def setup(problem, dtype, seed=0, **kwargs):
    """The problem, parameters for optkern and torch (the same values), both
    optimizers and their closures, which count their calls."""
    rng = np.random.default_rng(seed)
    f = problem(rng)
    if isinstance(f, FixedStart):
        params = [f.x0.astype(dtype)]
    else:
        params = [(rng.standard_normal(s) * 0.5).astype(dtype) for s in problem.shapes]
    tensors = [torch.tensor(p) for p in params]
    calls = {"optkern": 0, "torch": 0}

    def evaluate(arrays, who):
        calls[who] += 1
        loss, g = f(np.concatenate([a.ravel() for a in arrays]).astype(np.float64))
        ends = np.cumsum([a.size for a in arrays])[:-1]
        return loss, [piece.reshape(a.shape).astype(dtype) for piece, a in zip(np.split(g, ends), arrays)]

    def closure():
        return evaluate(params, "optkern")

    def torch_closure():
        loss, grads = evaluate([t.numpy() for t in tensors], "torch")
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g)
        return torch.tensor(loss)

    return params, tensors, optkern.LBFGS(params, **kwargs), torch.optim.LBFGS(tensors, **kwargs), closure, \
        torch_closure, calls


def assert_same_state(opt, topt, dtype, unit=0.0):
    """The same keys, counts and history length; in float64 the same values
    too. The state near convergence is made of differences of nearly equal
    gradients (y = g - g_prev), whose last bits depend on the order of the
    dot products' sums: compared relative to each vector's largest entry,
    and not at all in float32, where those differences are rounding noise.
    unit: a size below which differences are noise too (1e-7 of it)."""
    mine, theirs = opt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert set(mine) == set(theirs)
    assert mine["func_evals"] == theirs["func_evals"] and mine["n_iter"] == theirs["n_iter"]
    for key in ("old_dirs", "old_stps", "ro"):
        assert len(mine[key]) == len(theirs[key]), key
    if dtype != np.float64:
        return
    pairs = [(key, mine[key], theirs[key]) for key in ("t", "H_diag", "prev_loss", "d", "prev_flat_grad")]
    pairs += [(key, a, b) for key in ("old_dirs", "old_stps", "ro") for a, b in zip(mine[key], theirs[key])]
    for key, a, b in pairs:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-7 * max(np.abs(b).max(), unit), err_msg=key)


CONFIGS = [
    {},
    {"lr": 0.5, "max_iter": 7, "history_size": 3},
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "max_iter": 5, "history_size": 2, "lr": 2.0},
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("problem", [Quadratic, Logistic], ids=lambda p: p.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_iterates_as_torch(isa, problem, config, dtype):
    params, tensors, opt, topt, closure, torch_closure, calls = setup(problem, dtype, **config)
    for _ in range(4):
        loss, tloss = opt.step(closure), topt.step(torch_closure)
        assert calls["optkern"] == calls["torch"]
        assert_close(loss, float(tloss), dtype, "loss", tolerance=TOLERANCE[dtype])
        for p, t in zip(params, tensors):
            assert p.dtype == dtype
            assert_close(p, t.numpy(), dtype, "params", tolerance=TOLERANCE[dtype])
        assert_same_state(opt, topt, dtype)


@pytest.mark.parametrize("problem, config", [
    (Rosenbrock, {"max_eval": 8}),
    (Rosenbrock, {"lr": 0.1, "max_eval": 8}),
    (LogCosh, {"lr": 100.0}),
    (NearOptimum, {"lr": 2.5, "tolerance_grad": 0.0, "tolerance_change": 1e-30, "max_iter": 1}),
], ids=lambda x: getattr(x, "__name__", str(x)))
def test_every_branch_of_the_line_search_as_torch(problem, config):
    """Problems and settings that take the strong-Wolfe search through each
    of its branches (found by tracing its lines): extrapolation, a bracket
    found by each test, the zoom with points too close to the bracket's
    ends, a bracket too small to go on, and the evaluations running out.
    In float64: these problems are ill-conditioned enough that float32
    rounding (torch keeps its scalars in float32 tensors) changes the path."""
    params, tensors, opt, topt, closure, torch_closure, calls = setup(
        problem, np.float64, **{"max_iter": 6, "history_size": 3, "line_search_fn": "strong_wolfe", **config})
    rtol, floor = TOLERANCE[np.float64]
    floor = getattr(problem, "floor", floor)
    start = max(float(np.abs(p).max()) for p in params)  # the floor's unit
    for _ in range(getattr(problem, "steps", 4)):
        opt.step(closure)
        topt.step(torch_closure)
        assert calls["optkern"] == calls["torch"]
        for p, t in zip(params, tensors):
            assert_close(p, t.numpy(), np.float64, "params", unit=start, tolerance=(rtol, floor))
        assert_same_state(opt, topt, np.float64, unit=floor * start)


@pytest.mark.parametrize("config", [
    {"max_iter": 3},
    {"max_iter": 50, "max_eval": 4},
    {"max_iter": 50, "max_eval": 6, "line_search_fn": "strong_wolfe"},
    {"tolerance_grad": 1e3},              # optimal at the first evaluation: nothing moves
    {"tolerance_change": 1e-1},           # stops when the loss changes little
    {"tolerance_change": 1e-1, "line_search_fn": "strong_wolfe"},
    {"max_iter": 0},
], ids=str)
def test_limits_and_tolerances_as_torch(config):
    params, tensors, opt, topt, closure, torch_closure, calls = setup(Quadratic, np.float64, seed=1, **config)
    before = [p.copy() for p in params]
    opt.step(closure)
    topt.step(torch_closure)
    assert calls["optkern"] == calls["torch"]
    for p, t in zip(params, tensors):
        assert_close(p, t.numpy(), np.float64, "params", tolerance=TOLERANCE[np.float64])
    group = opt.param_groups[0]
    if group["tolerance_grad"] > 1 or group["max_iter"] == 0:
        assert all(np.array_equal(p, b) for p, b in zip(params, before)) and calls["optkern"] == 1
    else:
        assert calls["optkern"] <= max(group["max_eval"], 1) + 1
        assert opt.state_dict()["state"][0]["n_iter"] <= group["max_iter"]


def test_default_max_eval_and_param_group_as_torch():
    p = [np.zeros(3)]
    opt, topt = optkern.LBFGS(p, max_iter=9), torch.optim.LBFGS([torch.zeros(3)], max_iter=9)
    mine, theirs = opt.param_groups[0], topt.param_groups[0]
    assert mine["max_eval"] == theirs["max_eval"] == 11
    assert {k: v for k, v in mine.items() if k != "params"} == {k: v for k, v in theirs.items() if k != "params"}


def test_missing_gradients_are_zeros_as_in_torch():
    params, tensors, opt, topt, closure, torch_closure, _ = setup(Quadratic, np.float64, max_iter=4)

    def without_last():
        loss, grads = closure()
        return loss, grads[:-1] + [None]

    def torch_without_last():
        loss = torch_closure()
        tensors[-1].grad = None
        return loss

    opt.step(without_last)
    topt.step(torch_without_last)
    for p, t in zip(params, tensors):
        assert_close(p, t.numpy(), np.float64, "params", tolerance=TOLERANCE[np.float64])


def test_state_dict_round_trip_continues_bit_for_bit():
    params, _, opt, _, closure, _, _ = setup(Logistic, np.float64, history_size=3, line_search_fn="strong_wolfe",
                                             max_iter=4)
    for _ in range(2):
        opt.step(closure)
    saved = copy.deepcopy(opt.state_dict())
    resumed = [p.copy() for p in params]
    for _ in range(3):
        opt.step(closure)
    fresh = optkern.LBFGS(resumed, lr=123.0)  # the hyperparameters come from the save
    problem = Logistic(np.random.default_rng(0))  # setup's problem (its first draws)

    def resumed_closure():
        loss, g = problem(np.concatenate([p.ravel() for p in resumed]))
        return loss, [g[:18].reshape(6, 3), g[18:]]

    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 1 and fresh.param_groups[0]["history_size"] == 3
    for _ in range(3):
        fresh.step(resumed_closure)
    for p, q in zip(params, resumed):
        assert p.tobytes() == q.tobytes()


def test_load_torch_state_dict():
    """torch's state dict, its tensors turned into arrays, resumes in optkern
    where torch goes on."""
    params, tensors, opt, topt, closure, torch_closure, _ = setup(Quadratic, np.float64, max_iter=3,
                                                                      history_size=4)
    for _ in range(2):
        topt.step(torch_closure)
    sd = topt.state_dict()

    def arrays(value):
        if isinstance(value, list):
            return [arrays(v) for v in value]
        return value.numpy() if isinstance(value, torch.Tensor) else value

    sd = {"state": {k: {n: arrays(v) for n, v in s.items()} for k, s in sd["state"].items()},
          "param_groups": sd["param_groups"]}
    for p, t in zip(params, tensors):
        p[...] = t.numpy()
    opt.load_state_dict(sd)
    for _ in range(2):
        opt.step(closure)
        topt.step(torch_closure)
    for p, t in zip(params, tensors):
        assert_close(p, t.numpy(), np.float64, "params", tolerance=TOLERANCE[np.float64])
    assert_same_state(opt, topt, np.float64)


@pytest.mark.parametrize("mutate, match", [
    (lambda sd: sd["state"][0].__setitem__("d", np.zeros(3)), "flat vector"),
    (lambda sd: sd["state"][0].__setitem__("bogus", 1), "unexpected LBFGS state"),
    (lambda sd: sd["state"][0]["ro"].pop(), "lists of one length"),
    (lambda sd: sd["state"].__setitem__(1, {}), "under the first parameter"),
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "one param group"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "Invalid learning rate"),
    (lambda sd: sd["state"][0].__setitem__("n_iter", -1), "non-negative whole number"),
    (lambda sd: sd["state"][0].pop("prev_flat_grad"), "lacks"),
], ids=["d-size", "unknown", "ro", "second-param", "groups", "lr", "n_iter", "partial"])
def test_bad_state_dict_changes_nothing(mutate, match):
    _, _, opt, _, closure, _, _ = setup(Quadratic, np.float64, max_iter=3)
    opt.step(closure)
    opt.step(closure)
    sd, before = copy.deepcopy(opt.state_dict()), copy.deepcopy(opt.state_dict())
    mutate(sd)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for key, value in before["state"][0].items():
        if isinstance(value, list):
            assert all(np.array_equal(a, b) for a, b in zip(after["state"][0][key], value))
        else:
            assert np.array_equal(after["state"][0][key], value)


def test_state_layout_matches_torch():
    params, _, opt, topt, closure, torch_closure, _ = setup(Quadratic, np.float64, max_iter=3)
    assert opt.state_dict()["state"] == {} and len(opt.state) == 0
    opt.step(closure)
    topt.step(torch_closure)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["state"].keys() == tsd["state"].keys() == {0}
    assert sd["state"][0].keys() == tsd["state"][0].keys()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert opt.state[params[0]] is sd["state"][0] and opt.state[params[1]] == {}


def test_no_new_vectors_once_the_history_is_full():
    """Without a line search, the vectors of dropped pairs are reused: the
    state's vectors are the same arrays, in new roles, step after step."""
    _, _, opt, _, closure, _, _ = setup(Quadratic, np.float64, max_iter=2, history_size=2, lr=0.1)

    def vectors():
        state = opt.state_dict()["state"][0]
        return {id(v) for v in [state["d"], state["prev_flat_grad"], *state["old_dirs"], *state["old_stps"]]} | \
            {id(v) for v in opt._spare}

    for _ in range(3):
        opt.step(closure)
    before = vectors()
    assert len(opt.state_dict()["state"][0]["old_dirs"]) == 2
    for _ in range(3):
        opt.step(closure)
        assert vectors() == before


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_threads_bitwise_equal(num_threads, line_search_fn):
    """A problem large enough that the vector operations run threaded."""
    rng = np.random.default_rng(3)
    scale = rng.uniform(0.5, 2.0, 70001)

    def run():
        params = [np.linspace(-1, 1, 40000), np.linspace(2, -2, 30001).astype(np.float64)]

        def closure():
            x = np.concatenate(params)
            return 0.5 * (scale * x * x).sum() + x.sum(), [scale[:40000] * params[0] + 1, scale[40000:] * params[1] + 1]

        opt = optkern.LBFGS(params, max_iter=6, history_size=3, line_search_fn=line_search_fn)
        for _ in range(2):
            opt.step(closure)
        return [p.tobytes() for p in params]

    num_threads(1)
    one = run()
    num_threads(2)
    assert run() == one


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_continue_bit_for_bit(how):
    problem = Quadratic(np.random.default_rng(4))

    def closure_of(params):
        def closure():
            loss, g = problem(np.concatenate([p.ravel() for p in params]))
            return loss, [g[:10], g[10:30].reshape(4, 5), g[30:]]
        return closure

    params = [np.full(s, 0.3) for s in Quadratic.shapes]
    opt = optkern.LBFGS(params, max_iter=3, history_size=2)
    opt.step(closure_of(params))
    twin = copy.deepcopy(opt) if how == "deepcopy" else pickle.loads(pickle.dumps(opt))
    twin_params = twin.param_groups[0]["params"]
    for _ in range(2):
        opt.step(closure_of(params))
        twin.step(closure_of(twin_params))
    assert all(p.tobytes() == q.tobytes() for p, q in zip(params, twin_params))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": -1.0}, ValueError, "Invalid learning rate"),
    ({"lr": float("nan")}, ValueError, "Invalid learning rate"),
    ({"line_search_fn": "armijo"}, ValueError, "only 'strong_wolfe' is supported"),
    ({"history_size": 0}, ValueError, "history_size must be >= 1"),
    ({"max_iter": -1}, ValueError, "max_iter must be >= 0"),
    ({"max_iter": 2.5}, TypeError, "max_iter must be an int"),
    ({"max_eval": -2}, ValueError, "max_eval must be >= 0"),
    ({"tolerance_grad": float("nan")}, ValueError, "tolerance_grad"),
    ({"tolerance_change": "small"}, TypeError, "tolerance_change must be a real number"),
])
def test_bad_hyperparameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        optkern.LBFGS([np.zeros(3)], **kwargs)
    opt = optkern.LBFGS([np.zeros(3)])
    opt.param_groups[0].update(kwargs)
    p = opt.param_groups[0]["params"][0]
    with pytest.raises(error, match=match):
        opt.step(lambda: (0.0, [np.ones(3)]))
    assert np.all(p == 0)


def test_param_groups_and_dtypes_refused():
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optkern.LBFGS([{"params": [np.zeros(2)]}, {"params": [np.zeros(3)], "lr": 0.1}])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        torch.optim.LBFGS([{"params": [torch.zeros(2)]}, {"params": [torch.zeros(3)], "lr": 0.1}])
    opt = optkern.LBFGS([np.zeros(2)])
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        opt.add_param_group({"params": [np.zeros(3)]})
    with pytest.raises(TypeError, match="one dtype"):
        optkern.LBFGS([np.zeros(2), np.zeros(3, np.float32)])


@pytest.mark.parametrize("result, error, match", [
    (lambda p: 1.0, TypeError, "must return \\(loss, grads\\)"),
    (lambda p: (1.0, np.ones(3)), TypeError, "sequence with one array per parameter"),
    (lambda p: (1.0, [np.ones(3)]), ValueError, "returned 1 grads for 2 parameters"),
    (lambda p: (1.0, [np.ones(3), np.ones(4)]), ValueError, "grads\\[1\\] has shape \\(4,\\)"),
    (lambda p: (1.0, [np.ones(3), np.ones(2, np.float32)]), TypeError, "grads\\[1\\] has dtype float32"),
    (lambda p: (1.0, [np.ones(3), [1.0, 2.0]]), TypeError, "numpy.ndarray"),
    (lambda p: (1.0, [np.ones(3), np.ones(4)[::2]]), ValueError, "contiguous"),
    (lambda p: ("one", [np.ones(3), np.ones(2)]), ValueError, "could not convert"),
])
def test_bad_closure_results_raise_and_change_nothing(result, error, match):
    params = [np.zeros(3), np.zeros(2)]
    opt = optkern.LBFGS(params)
    with pytest.raises(error, match=match):
        opt.step(lambda: result(params))
    assert all(np.all(p == 0) for p in params)


def test_read_only_parameter_refused_before_the_closure_runs():
    params, _, opt, _, closure, _, calls = setup(Quadratic, np.float64, max_iter=3)
    opt.step(closure)
    before, state = [p.copy() for p in params], copy.deepcopy(opt.state_dict())
    params[1].flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[1\] is read-only"):
        opt.step(closure)
    assert calls["optkern"] == state["state"][0]["func_evals"]
    assert all(p.tobytes() == b.tobytes() for p, b in zip(params, before))
    assert opt.state_dict()["state"][0]["n_iter"] == state["state"][0]["n_iter"]


def test_lbfgs_is_exported_and_has_its_own_suite():
    assert OWN_SUITES["LBFGS"] == "test_lbfgs.py"
    assert optkern.LBFGS is optkern.optim.LBFGS and "LBFGS" in optkern.__all__
