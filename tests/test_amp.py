"""optkern.amp.GradScaler against torch.amp.GradScaler("cpu") (2.13): the
scale's history, the skipped steps, the parameters, the state dict, the
checks. test_fused_step.py checks that its fused step is bitwise its
unfused one for every optimizer."""

import math

import numpy as np
import pytest
from helpers import assert_close, require_module

import optkern
from optkern.amp import GradScaler

torch = require_module("torch")


def run_both(kwargs, gradients, unscale_first=False, max_norm=None):
    """The same training loop through optkern's and torch's scaler with
    Adam: [(optkern scale, torch scale, optkern params, torch params)]
    after each iteration."""
    ours, theirs = GradScaler(**kwargs), torch.amp.GradScaler("cpu", **kwargs)
    p = [np.zeros(g.shape, g.dtype) for g in gradients[0]]
    tp = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype)) for g in gradients[0]]
    opt, topt = optkern.Adam(p, lr=0.1), torch.optim.Adam(tp, lr=0.1, foreach=False)
    history = []
    for grads in gradients:
        theirs.scale(torch.ones(()))  # torch makes its scale at the first scale()
        for t, g in zip(tp, grads):
            t.grad = torch.from_numpy(g.copy())
        copies = [g.copy() for g in grads]
        if unscale_first:
            ours.unscale_(opt, copies)
            theirs.unscale_(topt)
            if max_norm is not None:
                optkern.clip_grad_norm_(copies, max_norm)
                torch.nn.utils.clip_grad_norm_(tp, max_norm)
        ours.step(opt, copies)
        theirs.step(topt)
        ours.update()
        theirs.update()
        history.append((ours.get_scale(), theirs.get_scale(), [a.copy() for a in p],
                        [t.detach().numpy().copy() for t in tp]))
    return history, ours, theirs


def stream(n, dtype=np.float32, seed=0, bad_at=(3, 4, 9), scale=2.0**12):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in [(6,), (3, 5)]]
        if k in bad_at:
            grads[k % 2].flat[k % 5] = [np.inf, np.nan, -np.inf][k % 3]
        out.append(grads)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [
    {"init_scale": 2.0**12, "growth_interval": 2},
    {"init_scale": 1000.0, "growth_factor": 3.0, "backoff_factor": 0.3, "growth_interval": 3},  # not powers of two
    {"init_scale": 3.0e38, "growth_interval": 1},  # growth would overflow float32: torch keeps the scale
], ids=["pow2", "odd_factors", "overflowing_growth"])
@pytest.mark.parametrize("unscale_first", [False, True], ids=["fused", "unscale_"])
def test_against_torch(dtype, kwargs, unscale_first):
    history, ours, theirs = run_both(kwargs, stream(12, dtype), unscale_first)
    for k, (s, ts, p, tp) in enumerate(history):
        assert s == ts, (k, s, ts)
        for a, b in zip(p, tp):
            assert_close(a, b, dtype, what=f"iteration {k}")
    assert ours.state_dict() == theirs.state_dict()


def test_clip_between_unscale_and_step_against_torch():
    history, _, _ = run_both({"init_scale": 2.0**12}, stream(6), unscale_first=True, max_norm=5.0)
    for s, ts, p, tp in history:
        assert s == ts
        for a, b in zip(p, tp):
            assert_close(a, b, np.float32)


def test_scale():
    s = GradScaler(init_scale=1024.0)
    x32, x64 = np.array([1.5, -2.0], np.float32), np.array([0.1], np.float64)
    assert s.scale(x32).dtype == np.float32 and s.scale(x32).tolist() == [1536.0, -2048.0]
    assert s.scale(x64).dtype == np.float64 and s.scale(x64)[0] == 0.1 * 1024.0
    half = s.scale(np.array([100.0], np.float16))  # computed in float32, rounded back: 102400 -> inf in float16
    assert half.dtype == np.float16 and np.isinf(half[0])
    assert s.scale(2.5) == 2560.0
    nested = s.scale([x32, (x64, np.float32(1.0))])
    assert isinstance(nested, list) and isinstance(nested[1], tuple) and nested[1][1] == np.float32(1024.0)
    with pytest.raises(ValueError, match="outputs must be an array"):
        s.scale("x")
    with pytest.raises(TypeError, match="floating point"):
        s.scale(np.array([1, 2]))
    t = torch.amp.GradScaler("cpu", init_scale=1024.0)
    assert s.scale(x32).tolist() == t.scale(torch.from_numpy(x32)).tolist()


def test_disabled_passes_through():
    p = [np.zeros(3, np.float32)]
    opt = optkern.SGD(p, lr=1.0)
    s = GradScaler(enabled=False, growth_factor=0.5)  # unchecked when disabled, as torch
    x = np.ones(3, np.float32)
    assert s.scale(x) is x and s.get_scale() == 1.0 and not s.is_enabled()
    g = [np.full(3, np.inf, np.float32)]
    s.unscale_(opt, g)
    assert np.isinf(g[0]).all()  # not unscaled
    s.step(opt, [np.ones(3, np.float32)])
    s.update()
    assert p[0].tolist() == [-1.0] * 3
    assert s.state_dict() == {}
    s.load_state_dict({})  # a no-op when disabled


def test_unscale_writes_the_gradients_and_step_reads_them_as_they_are():
    p = [np.zeros(4, np.float32)]
    opt = optkern.SGD(p, lr=1.0)
    s = GradScaler(init_scale=8.0)
    g = [np.array([8.0, 16.0, -8.0, 0.0], np.float32)]
    s.unscale_(opt, g)
    assert g[0].tolist() == [1.0, 2.0, -1.0, 0.0]
    s.step(opt, g)
    assert p[0].tolist() == [-1.0, -2.0, 1.0, 0.0]


def test_order_errors_as_torch():
    p = [np.zeros(2)]
    opt = optkern.Adam(p)
    s = GradScaler()
    g = [np.ones(2)]
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        s.update()
    s.unscale_(opt, g)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt, g)
    s.step(opt, g)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last update"):
        s.step(opt, g)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        s.unscale_(opt, g)
    s.update()
    s.step(opt, g)  # a new iteration
    s.update()
    with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
        GradScaler(growth_factor=1.0)
    with pytest.raises(AssertionError, match="backoff factor must be < 1.0"):
        GradScaler(backoff_factor=1.0)
    with pytest.raises(ValueError, match="growth_interval"):
        GradScaler(growth_interval=0)
    with pytest.raises(TypeError, match="closure"):
        s.step(optkern.LBFGS(p), g)


def test_new_scale_and_accessors():
    s = GradScaler()
    s.update(new_scale=3.0)
    assert s.get_scale() == 3.0
    s.update(new_scale=np.array([5.0]))
    assert s.get_scale() == 5.0
    s.set_growth_factor(4.0)
    s.set_backoff_factor(0.25)
    s.set_growth_interval(7)
    assert (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()) == (4.0, 0.25, 7)


def test_state_dict_round_trip_and_checkpoint(tmp_path):
    s = GradScaler(init_scale=2.0**10, growth_interval=3)
    p = [np.zeros(3, np.float32)]
    opt = optkern.Adam(p)
    for _ in range(2):
        s.step(opt, [np.ones(3, np.float32)])
        s.update()
    sd = s.state_dict()
    assert sd == {"scale": 1024.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                  "_growth_tracker": 2}
    t = torch.amp.GradScaler("cpu")
    t.load_state_dict(sd)
    assert t.state_dict() == sd
    other = GradScaler()
    other.load_state_dict(t.state_dict())
    assert other.state_dict() == sd
    optkern.save(tmp_path / "ck.npz", scaler=s)
    fresh = GradScaler()
    optkern.load(tmp_path / "ck.npz", into={"scaler": fresh})
    assert fresh.state_dict() == sd
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        fresh.load_state_dict({})
    for bad in ({**sd, "scale": -1.0}, {**sd, "scale": math.inf}, {**sd, "_growth_tracker": -1},
                {**sd, "growth_interval": 0}, {k: v for k, v in sd.items() if k != "scale"}):
        with pytest.raises(ValueError):
            fresh.load_state_dict(bad)
        assert fresh.state_dict() == sd  # nothing changed
