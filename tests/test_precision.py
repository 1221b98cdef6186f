"""16-bit parameters, gradients and states, master weights and stochastic
rounding (docs/precision.md).

The 16-bit kernels compute in float32 exactly as the float32 kernels do and
round each stored result once. So the reference of a step is the float32
step (itself tested against float64 and torch elsewhere) of the widened
arrays, each result rounded by ml_dtypes / NumPy: the results must agree
bitwise, under every instruction set, at awkward sizes, on any thread count.
"""

import numpy as np
import pytest

import optkern
from helpers import require_module, rng_for, threaded

ml_dtypes = require_module("ml_dtypes", "ml_dtypes (bfloat16)")
BF16 = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
SIZES = [0, 1, 7, 15, 16, 17, 1023, 65537]

# (param, grad, state): every signature the kernels have beside float32/float64 alone
SIGNATURES = [(F32, F32, BF16)] + [(p, g, s) for p in (BF16, F16) for g in (p, F32) for s in (p, F32)]

# optimizer, its keyword arguments, its functional form's states
OPTIMIZERS = [
    (optkern.Adam, {"lr": 1e-2, "weight_decay": 0.1}),
    (optkern.AdamW, {"lr": 1e-2, "amsgrad": True}),
    (optkern.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True}),
    (optkern.Adagrad, {"lr": 1e-2}),
    (optkern.RMSprop, {"lr": 1e-2, "centered": True, "momentum": 0.5}),
    (optkern.Lion, {"lr": 1e-3, "weight_decay": 0.1}),
    (optkern.Adan, {"lr": 1e-2}),
    (optkern.NAdam, {"lr": 1e-2}),
    (optkern.Adamax, {"lr": 1e-2}),
    (optkern.ADOPT, {"lr": 1e-2}),
]


def name(x):
    return x.__name__ if isinstance(x, type) else np.dtype(x).name


def state_dtype_of(p, s):
    return None if s == p else s.name


def widened(opt):
    """The optimizer's state, as float32 copies (the reference's input)."""
    return {i: {k: (np.array(v, np.float32) if isinstance(v, np.ndarray) and v.ndim else v)
                for k, v in entry.items()} for i, entry in opt.state_dict()["state"].items()}


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=[c.__name__ for c, _ in OPTIMIZERS])
@pytest.mark.parametrize("signature, master", [(s, m) for s in SIGNATURES for m in (False, True) if m <= (s[0] != F32)],
                         ids=lambda x: "-".join(map(name, x)) if isinstance(x, tuple) else ("master" if x else "rounded"))
def test_step_is_the_float32_step_rounded(isa, cls, kwargs, signature, master):
    """Three steps on two tensors of awkward sizes, each checked bitwise
    against the float32 optimizer run on the widened arrays and rounded
    (with master weights, the copy is the float32 optimizer's parameter)."""
    p_dtype, g_dtype, s_dtype = signature
    rng = rng_for("step", cls.__name__, *map(name, signature), master)
    params = [rng.standard_normal(n).astype(p_dtype) for n in (17, 1023)]
    opt = cls(params, **kwargs, state_dtype=state_dtype_of(p_dtype, s_dtype), master_weights=master)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(g_dtype) for p in params]
        # the reference: a float32 optimizer on the widened parameters and state
        before = widened(opt) if opt.state else None
        start = [opt.state[p]["master_param"].copy() if "master_param" in opt.state[p] else p.astype(F32)
                 for p in params]
        ref = cls([s.copy() for s in start], **kwargs)
        if before:
            ref.load_state_dict({"state": {i: {k: v for k, v in e.items() if k != "master_param"}
                                           for i, e in before.items()},
                                 "param_groups": opt.state_dict()["param_groups"]})
        ref.step([g.astype(F32) for g in grads])
        opt.step(grads)
        for i, (p, r) in enumerate(zip(params, ref.param_groups[0]["params"])):
            np.testing.assert_array_equal(p.view(np.uint16), r.astype(p_dtype).view(np.uint16), err_msg=f"param {i}")
            state, ref_state = opt.state[p], ref.state[r]
            if master:
                np.testing.assert_array_equal(state["master_param"], r)
            for k, v in ref_state.items():
                if isinstance(v, np.ndarray) and v.ndim:
                    assert state[k].dtype == s_dtype
                    np.testing.assert_array_equal(state[k].astype(F32), v.astype(s_dtype).astype(F32), err_msg=k)


@pytest.mark.parametrize("dtype", [BF16, F16], ids=name)
def test_stores_round_to_nearest_even_as_ml_dtypes(isa, dtype):
    """A float32 gradient stored through a step as it is (SGD, maximize,
    lr 1, on zeros: p = 0 + g) rounds exactly as astype does: random bit
    patterns, ties, subnormals, the edges of the range."""
    rng = rng_for("round", name(dtype))
    bits = rng.integers(0, 2 ** 32, 200003, dtype=np.uint64).astype(np.uint32)
    g = bits.view(np.float32)
    special = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 65504, 65519.99, 65520, 2 ** -24 * 1.5, 2 ** -25,
                        np.finfo(np.float32).max, np.finfo(np.float32).tiny / 3, np.inf, -np.inf], np.float32)
    g = np.concatenate([g[np.isfinite(g) & (g != 0)], special, -special])
    p = np.zeros(g.size, dtype)
    optkern.functional.sgd_([p], [g], [None], lr=1.0, maximize=True)
    with np.errstate(over="ignore"):  # float16's range: astype overflows to inf, as the kernel does
        expected = g.astype(dtype)
    np.testing.assert_array_equal(p.view(np.uint16), expected.view(np.uint16))


@pytest.mark.parametrize("dtype", [BF16, F16], ids=name)
def test_every_16_bit_value_is_read_exactly(isa, dtype):
    """All 65536 patterns widened and stored back unchanged (NaNs stay NaN)."""
    g = np.arange(2 ** 16, dtype=np.uint16).view(dtype)
    p = np.zeros(g.size, dtype)
    optkern.functional.sgd_([p], [g], [None], lr=1.0, maximize=True)
    number = ~np.isnan(g.astype(np.float32)) & (g.astype(np.float32) != 0)
    np.testing.assert_array_equal(p.view(np.uint16)[number], g.view(np.uint16)[number])
    assert np.isnan(p.astype(np.float32)[~number & (g.astype(np.float32) != 0)]).all()


def sr_sgd(n, seed, steps=1, **kwargs):
    """SGD on bfloat16 ones with an update of a quarter of an ulp below 1."""
    p = np.ones(n, BF16)
    opt = optkern.SGD([p], lr=2.0 ** -10, stochastic_rounding=True, seed=seed, **kwargs)
    for _ in range(steps):
        opt.step([np.ones(n, BF16)])
    return p


def test_stochastic_rounding_is_unbiased():
    """1 - 2^-10 lies a quarter of the way down from 1 to the next bfloat16
    below (1 - 2^-8): rounded to nearest it is 1 (the update is lost),
    rounded stochastically its mean converges to it."""
    n = 400000
    p = sr_sgd(n, seed=1).astype(np.float64)
    assert set(np.unique(p)) == {1 - 2.0 ** -8, 1.0}
    exact, spread = 1 - 2.0 ** -10, 2.0 ** -8 * np.sqrt(0.25 * 0.75)
    assert abs(p.mean() - exact) < 5 * spread / np.sqrt(n)
    nearest = np.ones(8, BF16)
    optkern.SGD([nearest], lr=2.0 ** -10).step([np.ones(8, BF16)])
    assert (nearest == 1).all()


def test_stochastic_rounding_accumulates_small_updates():
    """100 steps of 1/4 ulp each: the mean tracks the exact 1 - 100 * 2^-10."""
    p = sr_sgd(100000, seed=2, steps=100).astype(np.float64)
    assert abs(p.mean() - (1 - 100 * 2.0 ** -10)) < 2e-4


def test_stochastic_rounding_depends_on_seed_only(isa, num_threads):
    """The same seed gives the same bits on any thread count and instruction
    set; another seed other bits."""
    n = 1 << 18
    num_threads(1)
    one = sr_sgd(n, seed=7, steps=2)
    num_threads(2)
    with threaded():
        two = sr_sgd(n, seed=7, steps=2)
    np.testing.assert_array_equal(one.view(np.uint16), two.view(np.uint16))
    assert (sr_sgd(n, seed=8, steps=2) != one).any()
    optkern.set_isa("scalar")
    np.testing.assert_array_equal(sr_sgd(n, seed=7, steps=2).view(np.uint16), one.view(np.uint16))


@pytest.mark.parametrize("signature", SIGNATURES, ids=lambda s: "-".join(map(name, s)))
def test_thread_count_does_not_change_a_bit(num_threads, signature):
    p_dtype, g_dtype, s_dtype = signature
    results = []
    for threads in (1, 2):
        num_threads(threads)
        rng = rng_for("threads", *map(name, signature))
        params = [rng.standard_normal(n).astype(p_dtype) for n in (1 << 18, 65537)]
        opt = optkern.AdamW(params, state_dtype=state_dtype_of(p_dtype, s_dtype),
                            master_weights=p_dtype != F32, stochastic_rounding=True, seed=5)
        with threaded() if threads == 2 else np.errstate():
            for _ in range(2):
                opt.step([rng.standard_normal(p.shape).astype(g_dtype) for p in params])
        results.append([p.copy() for p in params] + [opt.state[p]["exp_avg"].copy() for p in params])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", SIZES)
def test_awkward_sizes(isa, n):
    rng = rng_for("sizes", n)
    p = rng.standard_normal(n).astype(BF16)
    master = p.astype(F32)
    opt = optkern.Adam([p], lr=1e-2, state_dtype="float32", master_weights=True)
    g = rng.standard_normal(n).astype(BF16)
    opt.step([g])
    ref = optkern.Adam([master], lr=1e-2)
    ref.step([g.astype(F32)])
    np.testing.assert_array_equal(p.view(np.uint16), master.astype(BF16).view(np.uint16))
    if n:
        np.testing.assert_array_equal(opt.state[p]["master_param"], master)


@pytest.mark.parametrize("dtype", [BF16, F16], ids=name)
def test_max_grad_norm_with_16_bit_gradients(isa, dtype):
    """max_grad_norm on 16-bit gradients: the norm is clip_grad_norm_'s (in
    the gradients' dtype), and the kernel multiplies each widened gradient
    by the factor in float32: the step is the step on those float32
    products, bitwise."""
    rng = rng_for("max_grad_norm", dtype.name)
    p = rng.standard_normal(1000).astype(dtype)
    g = (rng.standard_normal(1000) * 10).astype(dtype)
    fused = optkern.Adam([p.copy()], lr=1e-2, max_grad_norm=1.0)
    fused.step([g])
    clipped = g.copy()
    norm = optkern.clip_grad_norm_([clipped], 1.0)
    one = dtype.type(1.0)
    coef = np.float32(min(one / (norm + dtype.type(1e-6)) * one, one))
    plain = optkern.Adam([p.copy()], lr=1e-2)
    plain.step([g.astype(np.float32) * coef])
    got, want = fused.param_groups[0]["params"][0], plain.param_groups[0]["params"][0]
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


def test_state_dict_converts_between_state_dtypes():
    """bfloat16 states load into a float32-state optimizer and back (cast);
    the master copy is kept by an optimizer with master weights, dropped by
    one without; the seed travels with the state dict."""
    rng = rng_for("convert")
    p = rng.standard_normal(100).astype(BF16)
    low = optkern.Adam([p], master_weights=True, stochastic_rounding=True, seed=11)
    low.step([rng.standard_normal(100).astype(BF16)])
    sd = low.state_dict()
    assert sd["rounding_seed"] == 11 and sd["state"][0]["exp_avg"].dtype == BF16
    wide = optkern.Adam([p.copy()], state_dtype="float32", master_weights=True, stochastic_rounding=True)
    wide.load_state_dict(sd)
    assert wide.precision["seed"] == 11
    entry = wide.state_dict()["state"][0]
    assert entry["exp_avg"].dtype == F32
    np.testing.assert_array_equal(entry["exp_avg"], sd["state"][0]["exp_avg"].astype(F32))
    np.testing.assert_array_equal(entry["master_param"], sd["state"][0]["master_param"])
    plain = optkern.Adam([p.copy()])
    plain.load_state_dict(sd)
    assert "master_param" not in plain.state_dict()["state"][0]


def test_master_copy_is_made_from_the_parameter_and_kept():
    p = np.array([1.0, 2.0, 3.0], BF16)
    opt = optkern.SGD([p], lr=2.0 ** -12, master_weights=True)
    for _ in range(8):
        opt.step([np.ones(3, BF16)])
    # eight updates of 2^-12 each, lost by bfloat16 rounding, kept by the copy
    np.testing.assert_array_equal(opt.state[p]["master_param"], np.array([1, 2, 3], F32) - 8 * 2.0 ** -12)
    assert (p.astype(F32) == [1.0, 2.0, 3.0]).all()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"state_dtype": "int8"}, ValueError, "state_dtype must be"),
    ({"state_dtype": "float16"}, ValueError, "state_dtype must be"),
    ({"master_weights": 1}, TypeError, "master_weights must be a bool"),
    ({"stochastic_rounding": "yes"}, TypeError, "stochastic_rounding must be a bool"),
    ({"seed": -1}, ValueError, "seed must be"),
    ({"seed": 2 ** 64}, ValueError, "seed must be"),
    ({"rounding": True}, TypeError, "unexpected keyword"),
])
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        optkern.Adam([np.zeros(3, BF16)], **kwargs)


@pytest.mark.parametrize("param, state_dtype", [(np.float64, "bfloat16"), (np.float64, "float32"),
                                                (np.float16, "bfloat16")])
def test_state_dtype_without_kernels_is_refused(param, state_dtype):
    with pytest.raises(TypeError, match="not available"):
        optkern.Adam([np.zeros(3, param)], state_dtype=state_dtype)


def test_mismatched_arrays_are_refused_before_anything_is_written():
    p = np.ones(8, BF16)
    m, v = np.zeros(8, F32), np.zeros(8, BF16)  # states of two dtypes
    with pytest.raises(TypeError, match="share one dtype"):
        optkern.functional.adam_([p], [np.ones(8, BF16)], [m], [v], step=1)
    with pytest.raises(TypeError, match="may also be float32"):
        optkern.functional.adam_([p], [np.ones(8, F16)], [m], [m.copy()], step=1)
    assert (p == 1).all() and (m == 0).all()
    sgd = {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "maximize": False,
           "first_step": False}
    kind, q = optkern.optim._engine.kind("sgd"), np.ones(3, F32)
    with pytest.raises(TypeError, match="master copies are for bfloat16 and float16"):
        optkern.optim._engine.run(kind, [q], [np.ones(3, F32)], {}, [sgd], master=[np.ones(3, F32)])
    with pytest.raises(TypeError, match="float32 array of params"):
        optkern.optim._engine.run(kind, [p], [np.ones(8, BF16)], {}, [sgd], master=[np.ones(8, BF16)])
    assert (q == 1).all() and (p == 1).all()
