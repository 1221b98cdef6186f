"""LAMB and LARS beyond what the records' suites reach: the norms inside the
step (LAMB's gradient norm over every group and dtype of a step, the
per-tensor trust ratios at their edges), LARS's lars_exclude groups against
pytorch_optimizer's own exclusion rule, threads with groups and mixed
dtypes, and convergence on a convex problem (docs/optimizers.md#lamb,
docs/optimizers.md#lars)."""

import numpy as np
import pytest

import optkern
import reference
from helpers import require_module, threaded

TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def lamb_reference(groups, steps, grads_of):
    """The float64 LAMB reference over param groups ({"params": arrays,
    **hyperparameters}): G, the norm of every gradient of the step, each
    square in its gradient's dtype as the kernels take it; each parameter
    stepped with its group's hyperparameters."""
    params = [[p.astype(np.float64) for p in g["params"]] for g in groups]
    states = [[{} for _ in g["params"]] for g in groups]
    for t in range(steps):
        grads = grads_of(t)
        norm = np.sqrt(sum(float(np.sum(g * g, dtype=np.float64)) for gs in grads for g in gs if g is not None))
        for k, group in enumerate(groups):
            hparams = {key: value for key, value in group.items() if key != "params"}
            for i, g in enumerate(grads[k]):
                if g is not None:
                    params[k][i] = reference.lamb(params[k][i], g.astype(np.float64), states[k][i],
                                                  global_grad_norm=norm, **hparams)
    return params


def test_lamb_clips_by_the_norm_of_every_group_and_dtype(isa):
    """One step over two groups (their own lr, weight_decay and
    max_grad_norm) of float32 and float64 parameters, some without a
    gradient at times: G is taken over every gradient of the step."""
    rng = np.random.default_rng(1)
    shapes = [[(7,), (3, 40)], [(1000,), (5,)]]
    dtypes = [[np.float32, np.float64], [np.float64, np.float32]]
    arrays = [[rng.standard_normal(s).astype(d) for s, d in zip(ss, ds)] for ss, ds in zip(shapes, dtypes)]
    hparams = [{"lr": 0.05, "max_grad_norm": 2.0}, {"lr": 0.01, "weight_decay": 0.1, "max_grad_norm": 20.0}]
    groups = [{"params": a, **h} for a, h in zip(arrays, hparams)]
    ref_groups = [{"params": [p.copy() for p in a], **h} for a, h in zip(arrays, hparams)]
    draws = [[[None if (t + i + k) % 3 == 0 else rng.standard_normal(p.shape).astype(p.dtype)
               for i, p in enumerate(a)] for k, a in enumerate(arrays)] for t in range(6)]
    opt = optkern.LAMB(groups)
    for t in range(6):
        opt.step([g for gs in draws[t] for g in gs])
    want = lamb_reference(ref_groups, 6, lambda t: draws[t])
    for got_group, want_group in zip(arrays, want):
        for got, w in zip(got_group, want_group):
            np.testing.assert_allclose(got, w, **TOLERANCE[got.dtype.type])


def test_lamb_clipping_leaves_the_scale_of_the_gradients_out(isa):
    """Clipped gradients g / (G / max_grad_norm) have the norm max_grad_norm
    whatever their scale; below max_grad_norm, nothing is clipped: the same
    bits as max_grad_norm=None."""
    rng = np.random.default_rng(2)
    start = [rng.standard_normal(s) for s in [(50,), (4, 9)]]
    grads = [[rng.standard_normal(p.shape) for p in start] for _ in range(3)]

    def run(scale, **kwargs):
        params = [p.copy() for p in start]
        opt = optkern.LAMB(params, lr=0.01, **kwargs)
        for g in grads:
            opt.step([x * scale for x in g])
        return params

    for scale in (10.0, 1e3):  # G > max_grad_norm = 1 at each: clipped to norm 1
        for a, b in zip(run(scale), run(1.0)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for a, b in zip(run(1e-3, max_grad_norm=1.0), run(1e-3, max_grad_norm=None)):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lamb_trust_ratio_edges(isa, dtype):
    """|p| = 0: the ratio is 1, the step lr u; |u| = 0 (zero gradients, no
    weight decay): the parameter stays, with no NaN; weight_decay 0 without
    use_nvlamb: no ratio at all (Adam's step, clipped)."""
    g = np.linspace(-1, 1, 33).astype(dtype)
    zero = [np.zeros(33, dtype)]
    optkern.LAMB(zero, lr=0.1).step([g])
    ref = reference.lamb(np.zeros(33), g.astype(np.float64), {}, lr=0.1, global_grad_norm=np.linalg.norm(g))
    np.testing.assert_allclose(zero[0], ref, **TOLERANCE[dtype])
    still = [np.linspace(1, 2, 33).astype(dtype)]
    before = still[0].copy()
    optkern.LAMB(still, weight_decay=0.0, use_nvlamb=True).step([np.zeros(33, dtype)])
    assert still[0].tobytes() == before.tobytes()
    plain = [before.copy()]
    optkern.LAMB(plain, lr=0.1, weight_decay=0.0, max_grad_norm=None).step([g])
    u = g / (np.abs(g) + dtype(1e-6))  # the first step's m / bc1 = g, sqrt(v / bc2) = |g|
    np.testing.assert_allclose(plain[0], before - dtype(0.1) * u, **TOLERANCE[dtype])


def test_lamb_takes_apexs_switches():
    p = [np.zeros(3)]
    assert optkern.LAMB(p, set_grad_none=False).set_grad_none is False
    with pytest.raises(ValueError, match="does not support the AMSGrad variant"):
        optkern.LAMB(p, amsgrad=True)
    opt = optkern.LAMB(p, max_grad_norm=3)
    assert opt.param_groups[0]["max_grad_norm"] == 3 and opt.max_grad_norm is None  # apex's, not optkern's clipping


@pytest.mark.parametrize("name", ["LAMB", "LARS"])
def test_groups_and_mixed_dtypes_one_and_two_threads_bitwise(num_threads, name):
    """Blocks of several tensors of both dtypes, in groups that exclude or
    clip differently: the same bits on one thread and two."""
    cls = getattr(optkern, name)
    extra = {"lars_exclude": True} if name == "LARS" else {"max_grad_norm": None, "weight_decay": 0.0}
    results = []
    for threads in (1, 2):
        num_threads(threads)
        rng = np.random.default_rng(3)
        params = [rng.standard_normal(s).astype(d) for s, d in
                  [((70001,), np.float32), ((300, 257), np.float64), ((17,), np.float32), ((40000,), np.float64)]]
        opt = cls([{"params": params[:2]}, {"params": params[2:], **extra}], lr=0.01, weight_decay=0.01)
        for _ in range(3):
            grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
            if threads == 1:
                opt.step(grads)
            else:
                with threaded():
                    opt.step(grads)
        results.append([p.tobytes() for p in params])
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lars_exclude_is_pytorch_optimizers_rule(dtype):
    """pytorch_optimizer.LARS excludes every parameter of ndim <= 1 (biases,
    norms): a model's matrices in one group and its vectors in a group with
    lars_exclude=True step as it steps them, its own groups unchanged."""
    torch = require_module("torch")
    lars = require_module("pytorch_optimizer", "pytorch-optimizer==4.1.0").LARS
    rng = np.random.default_rng(4)
    params = [rng.standard_normal(s).astype(dtype) for s in [(8, 5), (5,), (3, 2, 4), (1,)]]
    tensors = [torch.tensor(p) for p in params]
    kwargs = dict(lr=0.1, weight_decay=0.01, momentum=0.9, trust_coefficient=0.01)
    opt = optkern.LARS([{"params": params[0::2]}, {"params": params[1::2], "lars_exclude": True}], **kwargs)
    topt = lars([{"params": tensors[0::2]}, {"params": tensors[1::2]}], foreach=False, **kwargs)
    for _ in range(30):
        grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
        opt.step(grads[0::2] + grads[1::2])
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.numpy(), **dict(rtol=1e-5, atol=1e-6) if dtype == np.float32
                                   else dict(rtol=1e-12, atol=1e-13))


def test_lars_trust_ratio_edges(isa):
    """|p| = 0: the ratio is 1; |g| = 0 with weight decay: the ratio is
    trust_coefficient / weight_decay, the formula's value (the decay alone
    moves p); an excluded group is torch's SGD with momentum, bit for bit."""
    zero = [np.zeros(9)]
    g = np.arange(9.0) - 4
    optkern.LARS(zero, lr=0.5, momentum=0.0).step([g])
    np.testing.assert_array_equal(zero[0], -0.5 * g)
    p = [np.linspace(1, 2, 9)]
    before = p[0].copy()
    optkern.LARS(p, lr=0.5, momentum=0.0, weight_decay=0.1, trust_coefficient=0.02).step([np.zeros(9)])
    np.testing.assert_allclose(p[0], before - 0.5 * (0.1 * before) * (0.02 / 0.1), rtol=1e-15)
    rng = np.random.default_rng(5)
    a = [rng.standard_normal(1001).astype(np.float32)]
    b = [a[0].copy()]
    lars = optkern.LARS([{"params": a, "lars_exclude": True}], lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.5)
    sgd = optkern.SGD(b, lr=0.1, momentum=0.8, nesterov=True)
    for _ in range(5):
        g = rng.standard_normal(1001).astype(np.float32)
        lars.step([g])
        sgd.step([g])
    assert a[0].tobytes() == b[0].tobytes()


@pytest.mark.parametrize("make", [
    lambda ps: optkern.LAMB(ps, lr=0.05, weight_decay=0.0),
    # the trust ratio's steps are a fraction of |p|: they need a decaying lr to settle
    lambda ps: optkern.LAMB(ps, lr=optkern.schedules.cosine_decay_schedule(0.05, 500), weight_decay=1e-4),
    lambda ps: optkern.LARS([{"params": ps[:1]}, {"params": ps[1:], "lars_exclude": True}], lr=1.0,
                            trust_coefficient=0.02),
], ids=["LAMB", "LAMB-decay", "LARS"])
def test_converges_on_least_squares(make):
    """A convex problem, least squares with a bias: the loss falls to a
    small fraction of where it starts."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((256, 10))
    y = x @ rng.standard_normal((10, 1)) + 3.0
    w, b = np.full((10, 1), 0.1), np.zeros(1)
    opt = make([w, b])

    def loss_and_grads():
        r = x @ w + b - y
        return float(np.mean(r * r)), [2 * x.T @ r / len(x), 2 * r.mean(axis=0)]

    first, _ = loss_and_grads()
    for _ in range(500):
        opt.step(loss_and_grads()[1])
    assert loss_and_grads()[0] < 1e-3 * first
