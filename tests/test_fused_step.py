"""What a step does around its update, fused into its kernel: an optimizer's
max_grad_norm (clipping) and optkern.amp.GradScaler (loss scaling).

The reference for each is the same work done in place first, with optkern's
own clip_grad_norm_ and GradScaler.unscale_, then a plain step: the fused
step must give its numbers bit for bit (docs/clipping.md#fused-into-the-step),
for every optimizer, dtype and thread count, and must not write the
gradients. The unfused parts are tested against torch in test_clip.py and
test_amp.py.
"""

import math

import numpy as np
import pytest
from helpers import threaded
from optim_cases import RECORDS, record_id

import optkern

SHAPES = [(33, 17), (1000,), (5,), (0,), (40, 70)]


def setup(record, dtype, seed, **kwargs):
    """(params, optimizer) of `record` with every state in use."""
    rng = np.random.default_rng(seed)
    shapes = [record.shape(s) for s in SHAPES]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return params, record.make(params, **{**record.all_states, **kwargs})


def gradients(params, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(p.shape) * scale).astype(p.dtype) for p in params]


def clip_as(opt, grads):
    """Clip `grads` in place as opt's max_grad_norm clips them, returning
    the norm: clip_grad_norm_(grads, opt.max_grad_norm), or, for an
    optimizer whose reference clips with a formula of its own (Adan's),
    that formula's factor for the same norm, multiplied in as
    clip_grad_norm_ multiplies its own."""
    if opt._clip_coefficient is None:
        return optkern.clip_grad_norm_(grads, opt.max_grad_norm)
    norm = optkern.clip_grad_norm_(grads, math.inf)  # the norm alone: the factor is 1
    _, coef = opt._clip_coefficient(float(norm), norm.dtype)
    for g in grads:
        np.multiply(g, coef, out=g)
    return norm


def snapshot(params, opt):
    """Every byte a step may change: parameters, the state dict's arrays
    and step counts, and the count a schedule is evaluated at."""
    sd = opt.state_dict()
    state = {i: {k: np.asarray(v).tobytes() for k, v in entry.items()} for i, entry in sd["state"].items()}
    return [p.tobytes() for p in params], state, opt._steps_taken


# The optimizers whose max_grad_norm is optkern's fused clipping; LAMB's is
# its reference's own clipping, inside its kernel (docs/optimizers.md#lamb).
CLIPPING = [r for r in RECORDS if r.fused_clipping]


@pytest.mark.parametrize("record", CLIPPING, ids=record_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_norm", [0.5, 1e6], ids=["clipped", "unclipped"])
def test_max_grad_norm_is_clip_then_step_bitwise(isa, record, dtype, max_norm):
    fused_params, fused = setup(record, dtype, 1, max_grad_norm=max_norm)
    plain_params, plain = setup(record, dtype, 1)
    for t in range(4):
        grads = gradients(fused_params, 10 + t, scale=3.0)
        before = [g.tobytes() for g in grads]
        fused.step(grads)
        assert [g.tobytes() for g in grads] == before, "the fused step wrote the gradients"
        norm = clip_as(fused, grads)
        plain.step(grads)
        assert fused.last_grad_norm == norm and fused.last_grad_norm.dtype == norm.dtype
    assert snapshot(fused_params, fused) == snapshot(plain_params, plain)


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_one_and_two_threads_bitwise(num_threads, record):
    results = []
    for threads in (1, 2):
        num_threads(threads)
        params, opt = setup(record, np.float32, 2, max_grad_norm=0.3)
        params.append(np.zeros(record.shape((70001,)), np.float32))  # enough elements for two threads
        opt.add_param_group({"params": params[-1:]})
        scaler = optkern.amp.GradScaler(init_scale=2.0**10)
        for t in range(3):
            grads = scaler.scale(gradients(params, 20 + t))
            if threads == 1:
                scaler.step(opt, grads)
            else:
                with threaded():
                    scaler.step(opt, grads)
            scaler.update()
        results.append(snapshot(params, opt))
    assert results[0] == results[1]


@pytest.mark.parametrize("record, max_norm", [(r, None) for r in RECORDS] + [(r, 0.4) for r in CLIPPING],
                         ids=lambda x: x.name if hasattr(x, "name") else "clipped" if x else "plain")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaler_step_is_unscale_then_step_bitwise(isa, record, dtype, max_norm):
    fused_params, fused = setup(record, dtype, 3, max_grad_norm=max_norm)
    # a reference's own max_grad_norm is part of the update: the same in both
    plain_params, plain = setup(record, dtype, 3, **({} if record.fused_clipping else {"max_grad_norm": max_norm}))
    a, b = optkern.amp.GradScaler(growth_interval=2), optkern.amp.GradScaler(growth_interval=2)
    for t in range(5):
        grads = a.scale(gradients(fused_params, 30 + t))
        before = [g.tobytes() for g in grads]
        a.step(fused, grads)
        a.update()
        assert [g.tobytes() for g in grads] == before, "the fused step wrote the gradients"
        b.unscale_(plain, grads)
        if max_norm is not None:
            assert clip_as(fused, grads) == fused.last_grad_norm
        b.step(plain, grads)
        b.update()
        assert a.get_scale() == b.get_scale()
    assert snapshot(fused_params, fused) == snapshot(plain_params, plain)


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("max_norm", [None, 1.0], ids=["plain", "clipped"])
def test_skipped_step_changes_nothing(record, bad, max_norm):
    params, opt = setup(record, np.float32, 4, max_grad_norm=max_norm)
    scaler = optkern.amp.GradScaler()
    scaler.step(opt, scaler.scale(gradients(params, 40)))  # a clean step first: states exist
    scaler.update()
    before = snapshot(params, opt)
    grads = scaler.scale(gradients(params, 41))
    grads[-1].flat[7] = bad  # the last element of the list: found after the others are read
    scaler.step(opt, grads)
    assert snapshot(params, opt) == before
    scaler.update()
    assert scaler.get_scale() == 2.0**15 and scaler.state_dict()["_growth_tracker"] == 0


def test_first_step_skipped_creates_no_state():
    params = [np.ones(10, np.float32)]
    opt = optkern.Adam(params)
    scaler = optkern.amp.GradScaler()
    scaler.step(opt, [np.full(10, np.nan, np.float32)])
    assert opt.state_dict()["state"] == {} and params[0].tolist() == [1.0] * 10


def test_none_gradients_and_mixed_dtypes():
    rng = np.random.default_rng(5)
    shapes = [(7,), (300,), (4, 4)]
    for fused_kwargs in ({"max_grad_norm": 0.1},):
        p1 = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, (np.float32, np.float64, np.float32))]
        p2 = [p.copy() for p in p1]
        fused, plain = optkern.Adam(p1, **fused_kwargs), optkern.Adam(p2)
        grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in p1]
        grads[1] = None
        fused.step(grads)
        copies = [None if g is None else g.copy() for g in grads]
        norm = optkern.clip_grad_norm_(copies, 0.1)
        plain.step(copies)
        assert fused.last_grad_norm == norm and norm.dtype == np.float32
        assert all(a.tobytes() == b.tobytes() for a, b in zip(p1, p2))


def test_read_only_gradients_are_fine():
    params = [np.zeros(100, np.float32)]
    opt = optkern.SGD(params, lr=0.1, max_grad_norm=1.0)
    g = np.ones(100, np.float32)
    g.flags.writeable = False
    opt.step([g])
    np.testing.assert_allclose(params[0], -0.1 * g / (10 + 1e-6), rtol=1e-6)


def test_nonfinite_norm_without_scaler_scales_like_clip_grad_norm_():
    # torch's clip_grad_norm_ (error_if_nonfinite=False) multiplies by the
    # factor of a non-finite norm: a fused step does the same.
    for bad in (np.inf, np.nan):
        p1, p2 = [np.ones(8, np.float32)], [np.ones(8, np.float32)]
        fused, plain = optkern.SGD(p1, lr=0.1, max_grad_norm=1.0), optkern.SGD(p2, lr=0.1)
        g = np.arange(8, dtype=np.float32)
        g[2] = bad
        fused.step([g])
        c = g.copy()
        assert math.isnan(optkern.clip_grad_norm_([c], 1.0)) == math.isnan(fused.last_grad_norm)
        plain.step([c])
        assert p1[0].tobytes() == p2[0].tobytes()


def test_overflowing_squares_are_not_an_inf():
    # finite float32 gradients whose squares overflow float32 (|g| > 1.8e19):
    # not an inf, so the step is taken, and the norm is that of the
    # unscaled gradients, as clip_grad_norm_ computes it on them
    params, twin = [np.zeros(4, np.float32)], [np.zeros(4, np.float32)]
    opt, plain = optkern.SGD(params, lr=1.0, max_grad_norm=1.0), optkern.SGD(twin, lr=1.0)
    scaler = optkern.amp.GradScaler(init_scale=2.0**40)
    g = np.array([1e20, -3e19, 1.0, 0.0], np.float32)
    scaler.step(opt, [g])
    u = g * np.float32(2.0**-40)
    assert opt.last_grad_norm == optkern.clip_grad_norm_([u], 1.0)
    plain.step([u])
    assert params[0].tobytes() == twin[0].tobytes() and np.isfinite(params[0]).all()


def test_max_grad_norm_checks():
    p = [np.zeros(3)]
    for bad in (0, -1.0, math.nan):
        with pytest.raises(ValueError, match="max_grad_norm must be positive"):
            optkern.Adam(p, max_grad_norm=bad)
    with pytest.raises(TypeError, match="max_grad_norm must be a real number"):
        optkern.SGD(p, max_grad_norm="1")
    opt = optkern.AdamW(p, max_grad_norm=2)
    assert opt.max_grad_norm == 2.0 and opt.last_grad_norm is None
    opt.max_grad_norm = None
    opt.step([np.ones(3)])
    assert opt.last_grad_norm is None
    with pytest.raises(TypeError):
        optkern.LBFGS(p, max_grad_norm=1.0)  # its step takes a closure: clip in the closure


def test_bad_gradients_raise_before_anything_is_written():
    params = [np.zeros(4, np.float32), np.zeros(3, np.float32)]
    opt = optkern.Adam(params, max_grad_norm=1.0)
    scaler = optkern.amp.GradScaler()
    cases = [
        ([np.ones(4, np.float32), np.ones(3, np.int64)], TypeError, r"grads\[1\] has dtype int64"),
        ([np.ones(4, np.float32), np.ones(3, np.float64)], (TypeError, ValueError), None),
        ([np.ones(4, np.float32), np.ones(4, np.float32)], ValueError, None),
        ([np.ones(4, np.float32), np.ones(6, np.float32)[::2]], ValueError, "C-contiguous"),
    ]
    for grads, error, match in cases:
        for step in (opt.step, lambda g: scaler.step(opt, g)):
            with pytest.raises(error, match=match):
                step(grads)
            assert all(not p.any() for p in params) and opt.state_dict()["state"] == {}
