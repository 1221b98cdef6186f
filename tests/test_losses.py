"""optkern.losses against the float64 NumPy reference (loss_reference.py), on
every instruction set: values and gradients for every option, finite
differences, extreme inputs, 1 vs 2 threads bitwise, and bad input that
must raise before anything is written. torch parity: test_losses_torch.py.
"""

import itertools
import zlib

import numpy as np
import pytest

import loss_reference as ref
import optkern
from optkern import losses as L

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
# float32: the spec's 1e-5 relative (plus an absolute floor relative to the
# largest value, for entries that cancel); float64: 1e-12.
TOLERANCE = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-13)}


def assert_close(actual, expected, dtype, what="", unit=0.0):
    """Within the dtype's relative tolerance, or an absolute floor relative
    to the largest expected value or to `unit`, the size of the terms that
    cancel into the expected values (a softmax gradient's is r w)."""
    rtol, floor = TOLERANCE[dtype]
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = np.abs(expected[np.isfinite(expected)])
    atol = floor * max(finite.max() if finite.size else 1.0, unit)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def check(result, expected, x, what, reduction="mean", unit=0.0):
    """An optkern (loss, grad) against a reference one for input x."""
    loss, grad = result
    want_loss, want_grad = expected
    dtype = x.dtype.type
    assert grad.shape == x.shape and grad.dtype == x.dtype, what
    if reduction == "none":
        assert isinstance(loss, np.ndarray) and loss.dtype == x.dtype, what
    else:
        assert isinstance(loss, dtype), f"{what}: loss is {type(loss)}, not a {dtype.__name__} scalar"
    assert_close(loss, want_loss, dtype, what + " loss")
    assert_close(grad, want_grad, dtype, what + " grad", unit)


def rng_for(*key):
    """A generator seeded by `key`, the same in every run (hash() of a str is not)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# ----------------------------------------------------------------- elementwise

SIZES = [(1,), (7,), (16,), (17,), (1023,), (5, 13), ()]


def regression_data(shape, dtype, seed):
    rng = rng_for("regression", shape, seed)
    x = (2 * rng.standard_normal(shape)).astype(dtype)
    y = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.1, 2.0, shape).astype(dtype)
    return np.asarray(x), np.asarray(y), np.asarray(w)


REGRESSION = [
    ("mse_loss", {}, True),
    ("l1_loss", {}, True),
    ("huber_loss", {"delta": 1.0}, True),
    ("huber_loss", {"delta": 0.3}, True),
    ("smooth_l1_loss", {"beta": 1.0}, False),
    ("smooth_l1_loss", {"beta": 0.4}, False),
    ("smooth_l1_loss", {"beta": 0.0}, False),
]


@pytest.mark.parametrize("name,kwargs,weighted", REGRESSION)
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression(isa, name, kwargs, weighted, dtype):
    for shape, reduction, use_weight in itertools.product(SIZES, REDUCTIONS, [False, True] if weighted else [False]):
        x, y, w = regression_data(shape, dtype, 0)
        extra = dict(kwargs, weight=w) if use_weight else kwargs
        what = f"{name}{extra if not use_weight else kwargs}, weight={use_weight}, {shape}, {reduction}"
        check(getattr(L, name)(x, y, reduction=reduction, **extra),
              getattr(ref, name)(x, y, reduction=reduction, **extra), x, what, reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(isa, dtype, log_target):
    for shape, reduction in itertools.product([(3, 17), (1,), (40,), ()], REDUCTIONS + ["batchmean"]):
        rng = rng_for("kl", shape)
        x = np.log(rng.uniform(0.01, 1, shape)).astype(dtype)
        y = rng.uniform(0, 1, shape)
        y = np.where(rng.uniform(size=shape) < 0.2, 0.0, y)  # exact zeros: 0 log 0 = 0
        if log_target:
            y = np.log(rng.uniform(0.01, 1, shape))
        y = np.asarray(y, dtype=dtype)
        x = np.asarray(x)
        check(L.kl_div(x, y, reduction=reduction, log_target=log_target),
              ref.kl_div(x, y, reduction=reduction, log_target=log_target), x, f"kl_div {shape} {reduction}",
              reduction)


BCE_OPERANDS = [
    # (input shape, weight shape or None, pos_weight shape or None)
    ((6, 5), None, None),
    ((6, 5), (6, 5), None),
    ((6, 5), (5,), (5,)),
    ((6, 5), (6, 1), (5,)),
    ((6, 5), (), (1,)),
    ((4, 3, 5), (3, 1), (5,)),        # a block of adjacent dimensions
    ((4, 3, 5), (4, 1, 5), (3, 1)),   # not adjacent: copied
    ((37,), (37,), (1,)),
    ((), None, ()),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits(isa, dtype):
    for (shape, wshape, pshape), reduction in itertools.product(BCE_OPERANDS, REDUCTIONS):
        rng = rng_for("bce", shape, wshape, pshape)
        x = np.asarray(3 * rng.standard_normal(shape), dtype=dtype)
        y = np.asarray(rng.uniform(0, 1, shape), dtype=dtype)
        w = None if wshape is None else np.asarray(rng.uniform(0.2, 2, wshape), dtype=dtype)
        p = None if pshape is None else np.asarray(rng.uniform(0.2, 3, pshape), dtype=dtype)
        check(L.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction, pos_weight=p),
              ref.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction, pos_weight=p), x,
              f"bce {shape} weight {wshape} pos_weight {pshape} {reduction}", reduction)


# ---------------------------------------------------------------- row losses

CE_SHAPES = [(4, 1), (5, 3), (3, 16), (6, 17), (4, 100), (2, 1000), (9,), (3, 4, 5), (2, 3, 4, 6), (2, 5, 19)]


def ce_data(shape, dtype, probs, ignore, seed=0):
    rng = rng_for("ce", shape, probs, ignore, seed)
    x = np.asarray(2 * rng.standard_normal(shape), dtype=dtype)
    c = shape[0] if len(shape) == 1 else shape[1]
    if probs:
        t = rng.uniform(0, 1, shape)
        t /= t.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
        return x, np.asarray(t, dtype=dtype), c
    samples = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, c, samples)
    if ignore and t.ndim:
        t.flat[::3] = -100
    return x, np.asarray(t, dtype=np.int64), c


def gradient_unit(t, w, probs, reduction):
    """r max(w): the size of the terms of a cross-entropy gradient."""
    wmax = 1.0 if w is None else float(np.max(w))
    if reduction != "mean":
        return wmax
    if probs:
        samples = t.size // (t.shape[0] if t.ndim == 1 else t.shape[1])
        return wmax / samples
    live = t[t != -100]
    return wmax / max(float(live.size if w is None else np.asarray(w, np.float64)[live].sum()), 1e-300)


CE_OPTIONS = list(itertools.product([False, True], [0.0, 0.1, 1.0], [0.0, 1e-3], [None, 4.0]))


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("probs", [False, True])
def test_cross_entropy(isa, shape, dtype, probs):
    for (weighted, smoothing, z, cap), reduction in itertools.product(CE_OPTIONS, REDUCTIONS):
        x, t, c = ce_data(shape, dtype, probs, ignore=not probs)
        w = np.asarray(rng_for("w", c).uniform(0.2, 2, c), dtype=dtype) if weighted else None
        kw = dict(weight=w, reduction=reduction, label_smoothing=smoothing, z_loss=z, softcap=cap)
        what = f"cross_entropy {shape} probs={probs} weight={weighted} eps={smoothing} z={z} cap={cap} {reduction}"
        check(L.cross_entropy(x, t, **kw), ref.cross_entropy(x, t, **kw), x, what, reduction,
              unit=gradient_unit(t, w, probs, reduction))


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_loss(isa, shape, dtype):
    for weighted, reduction in itertools.product([False, True], REDUCTIONS):
        x, t, c = ce_data(shape, dtype, False, ignore=True)
        w = np.asarray(rng_for("w", c).uniform(0.2, 2, c), dtype=dtype) if weighted else None
        check(L.nll_loss(x, t, weight=w, reduction=reduction), ref.nll_loss(x, t, weight=w, reduction=reduction), x,
              f"nll_loss {shape} weight={weighted} {reduction}", reduction)


def test_class_targets_of_any_integer_dtype(isa):
    x, t, _ = ce_data((7, 5), np.float32, False, ignore=False)
    want = L.cross_entropy(x, t)
    for dtype in (np.int32, np.uint8, np.int16, np.uint64):
        loss, grad = L.cross_entropy(x, t.astype(dtype))
        assert loss == want[0] and np.array_equal(grad, want[1])


def test_ignore_index_can_be_a_class(isa):
    x, t, _ = ce_data((8, 4), np.float64, False, ignore=False)
    check(L.cross_entropy(x, t, ignore_index=2), ref.cross_entropy(x, t, ignore_index=2), x, "ignore_index=2")
    check(L.nll_loss(x, t, ignore_index=2), ref.nll_loss(x, t, ignore_index=2), x, "nll ignore_index=2")


def test_class_indices_beyond_float32_integers_match_exactly(isa):
    # (N, C, d) logits run W samples per vector; a float32 holds integers
    # exactly only up to 2^24, so classes 2^24 and 2^24 + 1 must still be
    # told apart as integers. Lane 0's target is 2^24 + 1, its logit at
    # 2^24 is 1: that class alone gets the softmax's extra mass.
    c, big = 2**24 + 2, 2**24
    t = np.array([[big + 1, 0]])
    x = np.zeros((1, c, 2), np.float32)
    loss, grad = L.nll_loss(x, t, reduction="none", out=x)
    assert np.array_equal(loss, [[0.0, 0.0]])
    assert np.array_equal(np.flatnonzero(grad[0, :, 0]), [big + 1]) and grad[0, big + 1, 0] == -1
    assert np.array_equal(np.flatnonzero(grad[0, :, 1]), [0]) and grad[0, 0, 1] == -1
    x = np.zeros((1, c, 2), np.float32)
    x[0, big, 0] = 1.0
    loss, grad = L.cross_entropy(x, t, reduction="none", out=x)
    s = (c - 1) + np.e
    assert_close(loss, [[np.log(s), np.log(c)]], np.float32, "loss")
    assert_close(grad[0, [0, big - 1, big, big + 1], 0], [1 / s, 1 / s, np.e / s, 1 / s - 1], np.float32, "lane 0")
    assert_close(grad[0, [0, 1, big, big + 1], 1], [1 / c - 1, 1 / c, 1 / c, 1 / c], np.float32, "lane 1")


@pytest.mark.parametrize("kw", [{}, {"softcap": 30.0}, {"weight": np.array([2.0, 1.0, 1.0, 1.0])}])
def test_confident_target_gradient_does_not_cancel(isa, kw):
    # g_y = p_y - 1 = -6.2e-9 for logits [20, 0, 0, 0] and target 0: in
    # float32 arithmetic p_y rounds to 1 and nothing is left. Every layout
    # finishes the target's entry in double.
    logits = np.array([20.0, 0.0, 0.0, 0.0], np.float32)
    kw = dict(kw, weight=None if "weight" not in kw else kw["weight"].astype(np.float32))
    for x, t in [(logits, np.array(0)), (logits[None], np.array([0])),
                 (np.repeat(logits[None, :, None], 3, axis=2), np.zeros((1, 3), np.int64))]:
        for reduction in REDUCTIONS:
            what = f"{x.shape} {kw} {reduction}"
            check(L.cross_entropy(x, t, reduction=reduction, **kw),
                  ref.cross_entropy(x, t, reduction=reduction, **kw), x, what, reduction)


# --------------------------------------------------------- finite differences

def finite_difference(f, x, h=1e-6):
    """d f / d x by central differences (x float64, f -> scalar)."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = h
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


FD_CASES = [
    ("mse_loss", lambda x, y: L.mse_loss(x, y)),
    ("l1_loss", lambda x, y: L.l1_loss(x, y, reduction="sum")),
    ("huber_loss", lambda x, y: L.huber_loss(x, y, delta=0.7)),
    ("smooth_l1_loss", lambda x, y: L.smooth_l1_loss(x, y, beta=0.6, reduction="sum")),
    ("kl_div", lambda x, y: L.kl_div(x, np.abs(y), reduction="batchmean")),
    ("kl_div log_target", lambda x, y: L.kl_div(x, y, log_target=True)),
    ("bce", lambda x, y: L.binary_cross_entropy_with_logits(x, 1 / (1 + np.exp(y)), pos_weight=np.array([2.0, 0.5, 1.5]))),
]


@pytest.mark.parametrize("name,f", FD_CASES, ids=[c[0] for c in FD_CASES])
def test_gradient_by_finite_differences_elementwise(isa, name, f):
    rng = rng_for("fd", name)
    x, y = 2 * rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(f(x, y)[1], finite_difference(lambda z: float(f(z, y)[0]), x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2, "weight": np.array([0.5, 1.0, 2.0, 1.5, 0.7])},
                                    {"z_loss": 0.01, "softcap": 3.0}, {"reduction": "sum", "ignore_index": 1}])
@pytest.mark.parametrize("shape", [(3, 5), (2, 5, 3)])
@pytest.mark.parametrize("probs", [False, True])
def test_gradient_by_finite_differences_cross_entropy(isa, kwargs, shape, probs):
    if probs and "ignore_index" in kwargs:
        kwargs = {"reduction": "sum"}
    x, t, _ = ce_data(shape, np.float64, probs, ignore=False)
    x = 3 * x

    def f(z):
        return float(L.cross_entropy(z, t, **kwargs)[0])

    np.testing.assert_allclose(L.cross_entropy(x, t, **kwargs)[1], finite_difference(f, x), rtol=1e-6, atol=1e-8)
    if not probs:
        def g(z):
            return float(L.nll_loss(z, t)[0])
        np.testing.assert_allclose(L.nll_loss(x, t)[1], finite_difference(g, x), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------- extreme inputs

@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extreme_logits(isa, dtype):
    rng = rng_for("extreme")
    x = np.asarray(rng.choice([-1e4, 1e4, 0.0, 5e3], size=(6, 40)), dtype=dtype)
    t = rng.integers(0, 40, 6)
    for kw in ({}, {"label_smoothing": 0.1}, {"z_loss": 1e-4}):
        check(L.cross_entropy(x, t, **kw), ref.cross_entropy(x, t, **kw), x, f"+-1e4 logits {kw}")
        check(L.cross_entropy(x, t, reduction="none", **kw), ref.cross_entropy(x, t, reduction="none", **kw), x,
              f"+-1e4 logits, none {kw}", "none")


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_equal_rows(isa, dtype):
    for c in (1, 7, 16, 33, 32000):
        x = np.full((3, c), 2.5, dtype=dtype)
        t = np.array([0, c - 1, c // 2])
        loss, grad = L.cross_entropy(x, t, reduction="sum")
        assert_close(loss, 3 * np.log(c), dtype, f"C={c}")
        want = np.full((3, c), 1.0 / c)
        want[np.arange(3), t] -= 1
        assert_close(grad, want, dtype, f"C={c}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_minus_inf_logits(isa, dtype):
    x = np.array([[0.0, -np.inf, 1.0, -np.inf], [-np.inf, 2.0, -np.inf, -np.inf]], dtype=dtype)
    t = np.array([2, 1])
    for kw in ({}, {"label_smoothing": 0.0, "weight": np.array([1, 2, 3, 4], dtype=dtype)}, {"z_loss": 0.1}):
        loss, grad = L.cross_entropy(x, t, reduction="none", **kw)
        want_loss, want_grad = ref.cross_entropy(x, t, reduction="none", **kw)
        assert_close(loss, want_loss, dtype, str(kw))
        assert_close(grad, want_grad, dtype, str(kw))
        assert np.all(grad[np.isinf(x)] == 0), "-inf logits have probability 0 exactly"
    # with smoothing a -inf logit makes the smoothing term infinite, as in torch
    loss, _ = L.cross_entropy(x, t, reduction="none", label_smoothing=0.1)
    assert np.all(np.isinf(loss))


def test_cross_entropy_single_class_and_ignored_rows(isa):
    x = np.array([[3.0], [-2.0]], dtype=np.float32)
    loss, grad = L.cross_entropy(x, np.array([0, 0]))
    assert loss == 0 and np.all(grad == 0)
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    ignored = np.full(4, -100)
    for f in (L.cross_entropy, L.nll_loss):
        loss, grad = f(x, ignored)
        assert np.isnan(loss) and np.all(grad == 0), "mean over no sample is NaN, like torch"
        loss, grad = f(x, ignored, reduction="sum")
        assert loss == 0 and np.all(grad == 0)
    x3 = np.random.default_rng(0).standard_normal((2, 6, 5)).astype(np.float32)
    loss, grad = L.cross_entropy(x3, np.full((2, 5), -100), reduction="none")
    assert np.all(loss == 0) and np.all(grad == 0)


@pytest.mark.parametrize("shape", [(3, 20), (3, 20, 2)])
def test_cross_entropy_nan_stays_in_its_sample(isa, shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    x[1, 4] = np.nan
    for probs in (False, True):
        t = (np.full(x.shape, 0.05, np.float32) if probs else np.zeros((3,) + shape[2:], np.int64))
        loss, grad = L.cross_entropy(x, t, reduction="none")
        assert np.all(np.isnan(loss[1])) and np.all(np.isnan(grad[1]))
        assert np.all(np.isfinite(loss[[0, 2]])) and np.all(np.isfinite(grad[[0, 2]]))
        assert np.isnan(L.cross_entropy(x, t)[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_extreme_logits(isa, dtype):
    x = np.array([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], dtype=dtype)
    y = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0], dtype=dtype)
    loss, grad = L.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=np.array(2.0, dtype=dtype))
    want = ref.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=2.0)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    assert_close(loss, want[0], dtype)
    assert_close(grad, want[1], dtype)


def test_elementwise_nan_and_inf(isa):
    x = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    y = np.array([0.0, 0.0, 1.0, np.nan], dtype=np.float32)
    for name in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"):
        loss, grad = getattr(L, name)(x, y, reduction="none")
        want_loss, want_grad = getattr(ref, name)(x, y, reduction="none")
        np.testing.assert_array_equal(np.isnan(loss), np.isnan(want_loss), err_msg=name)
        np.testing.assert_array_equal(loss[~np.isnan(loss)], want_loss[~np.isnan(want_loss)], err_msg=name)
        np.testing.assert_array_equal(grad, want_grad.astype(np.float32), err_msg=name)


def test_empty_inputs(isa):
    e = np.zeros(0, np.float32)
    loss, grad = L.mse_loss(e, e)
    assert np.isnan(loss) and grad.shape == (0,)
    assert L.mse_loss(e, e, reduction="sum")[0] == 0
    loss, grad = L.cross_entropy(np.zeros((0, 5), np.float32), np.zeros(0, np.int64))
    assert np.isnan(loss) and grad.shape == (0, 5)
    loss, grad = L.cross_entropy(np.zeros((0, 5), np.float32), np.zeros(0, np.int64), reduction="none")
    assert loss.shape == (0,)


@pytest.mark.parametrize("shape", [(3, 0), (0,), (3, 0, 2), (0, 4), (0, 4, 2)])
def test_probability_targets_without_elements(isa, shape):
    # torch: -(target * log_softmax).sum(1) is -0 per sample, and 'sum' -0;
    # 'mean' of an input with no element is NaN. No 0 * log(0) NaN.
    x = np.zeros(shape, np.float32)
    samples = () if len(shape) == 1 else (shape[0],) + shape[2:]
    for kw in ({}, {"label_smoothing": 0.1}, {"weight": np.zeros(shape[0 if len(shape) == 1 else 1], np.float32)}):
        loss, grad = L.cross_entropy(x, x.copy(), reduction="none", **kw)
        assert loss.shape == samples and np.all(loss == 0) and np.all(np.signbit(loss)), kw
        assert grad.shape == shape
        loss, _ = L.cross_entropy(x, x.copy(), reduction="sum", **kw)
        assert loss == 0 and np.signbit(loss), kw
        assert np.isnan(L.cross_entropy(x, x.copy(), **kw)[0]), kw
    # z-loss: the logsumexp of no logit is -inf, so z lse^2 = +inf
    assert np.all(L.cross_entropy(x, x.copy(), reduction="none", z_loss=0.01)[0] == np.inf)


@pytest.mark.parametrize("shape,wshape,pshape", [((0,), (0,), (0,)), ((0, 5), (0, 5), (5,)), ((0, 5), (0, 1), None),
                                                 ((0, 5), (5,), (1,)), ((2, 0), (0,), (2, 1))])
def test_bce_with_logits_empty_input_and_operands(isa, shape, wshape, pshape):
    # torch: an empty loss for 'none', 0 for 'sum', NaN for 'mean'.
    x = np.zeros(shape, np.float32)
    w = np.ones(wshape, np.float32)
    p = None if pshape is None else np.ones(pshape, np.float32)
    loss, grad = L.binary_cross_entropy_with_logits(x, x, weight=w, pos_weight=p, reduction="none")
    assert loss.shape == shape and grad.shape == shape
    assert L.binary_cross_entropy_with_logits(x, x, weight=w, pos_weight=p, reduction="sum")[0] == 0
    assert np.isnan(L.binary_cross_entropy_with_logits(x, x, weight=w, pos_weight=p)[0])
    with pytest.raises(TypeError, match="weight has dtype"):
        L.binary_cross_entropy_with_logits(x, x, weight=w.astype(np.float64))


# ------------------------------------------------------------------ gradient out

def all_losses(dtype, shape=(6, 37)):
    """(name, call(x, out=...)) for every loss on inputs of `shape`."""
    rng = rng_for("all", shape)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype)
    p = np.asarray(rng.uniform(0, 1, shape), dtype=dtype)
    c = shape[1]
    t = rng.integers(0, c, (shape[0],) + shape[2:])
    probs = p / p.sum(axis=1, keepdims=True)
    w = np.asarray(rng.uniform(0.5, 2, c), dtype=dtype)
    pw = np.asarray(rng.uniform(0.5, 2, shape[-1]), dtype=dtype)
    return [
        ("mse_loss", lambda x, **k: L.mse_loss(x, y, **k)),
        ("mse_loss weight", lambda x, **k: L.mse_loss(x, y, weight=p, **k)),
        ("l1_loss", lambda x, **k: L.l1_loss(x, y, **k)),
        ("huber_loss", lambda x, **k: L.huber_loss(x, y, delta=0.5, **k)),
        ("smooth_l1_loss", lambda x, **k: L.smooth_l1_loss(x, y, beta=0.5, **k)),
        ("kl_div", lambda x, **k: L.kl_div(x, p, reduction="batchmean", **k)),
        ("bce", lambda x, **k: L.binary_cross_entropy_with_logits(x, p, pos_weight=pw, **k)),
        ("cross_entropy", lambda x, **k: L.cross_entropy(x, t, **k)),
        ("cross_entropy all options", lambda x, **k: L.cross_entropy(x, t, weight=w, label_smoothing=0.1,
                                                                     z_loss=1e-3, softcap=5.0, **k)),
        ("cross_entropy probs", lambda x, **k: L.cross_entropy(x, probs, label_smoothing=0.2, **k)),
        ("nll_loss", lambda x, **k: L.nll_loss(x, t, weight=w, **k)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 37), (3, 7, 5)])
def test_out_and_in_place(isa, dtype, shape):
    x = np.asarray(rng_for("x", shape).standard_normal(shape), dtype=dtype)
    for name, f in all_losses(dtype, shape):
        loss, grad = f(x)
        out = np.full_like(x, 7.0)
        loss_out, grad_out = f(x, out=out)
        assert grad_out is out and loss_out == loss and np.array_equal(out, grad), name
        buffer = x.copy()
        loss_in, grad_in = f(buffer, out=buffer)
        assert grad_in is buffer and loss_in == loss and np.array_equal(buffer, grad), f"{name} in place"


# --------------------------------------------------------------- determinism

def test_threads_do_not_change_results(isa, num_threads):
    rng = np.random.default_rng(5)
    big = rng.standard_normal((300, 1000)).astype(np.float32)  # threaded in both layouts
    spatial = big.reshape(30, 100, 100)
    for dtype in DTYPES:
        cases = all_losses(dtype, big.shape) + [(f"{n} (N, C, d)", f) for n, f in all_losses(dtype, spatial.shape)]
        for name, f in cases:
            x = (big if "(N, C, d)" not in name else spatial).astype(dtype)
            results = []
            for n in (1, 2, 1, 3):
                num_threads(n)
                loss, grad = f(x)
                results.append((np.asarray(loss).tobytes(), grad.tobytes()))
            assert all(r == results[0] for r in results), f"{name} ({dtype.__name__}) depends on the thread count"


# -------------------------------------------------------------- bad arguments

def raises_unchanged(exc, f, *arrays, match=None):
    """f() raises exc and leaves every array as it was."""
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=match):
        f()
    for a, b in zip(arrays, before):
        assert np.array_equal(a, b, equal_nan=True), "an array was written before the error"


def test_out_of_range_class_targets_raise_index_error(isa):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out = np.full_like(x, 3.0)
    for bad in ([0, 1, 4, 2, 0], [0, -1, 1, 1, 1], [0, 1, 2, -5, 100]):
        t = np.array(bad)
        raises_unchanged(IndexError, lambda: L.cross_entropy(x, t, out=out), x, out, match="out of bounds")
        raises_unchanged(IndexError, lambda: L.cross_entropy(x, t, out=x), x, match="out of bounds")
        raises_unchanged(IndexError, lambda: L.nll_loss(x, t, out=out), x, out)
    x3 = np.zeros((2, 4, 3), np.float32)
    raises_unchanged(IndexError, lambda: L.cross_entropy(x3, np.array([[0, 1, 9], [0, 0, 0]]), out=x3), x3)


def test_bad_shapes_raise_value_error(isa):
    x = np.zeros((4, 3), np.float32)
    out = np.ones_like(x)
    y = np.zeros((4, 2), np.float32)
    for f in (L.mse_loss, L.l1_loss, L.huber_loss, L.smooth_l1_loss, L.kl_div, L.binary_cross_entropy_with_logits):
        raises_unchanged(ValueError, lambda: f(x, y, out=out), x, out)
    raises_unchanged(ValueError, lambda: L.mse_loss(x, x, weight=np.ones(3, np.float32), out=out), out)
    raises_unchanged(ValueError, lambda: L.cross_entropy(x, np.zeros(3, np.int64), out=out), out,
                     match="batch_size")
    raises_unchanged(ValueError, lambda: L.cross_entropy(x, np.zeros(4, np.int64), weight=np.ones(2, np.float32)),
                     out)
    raises_unchanged(ValueError, lambda: L.binary_cross_entropy_with_logits(
        x, x, weight=np.ones(2, np.float32), out=out), out)
    raises_unchanged(ValueError, lambda: L.mse_loss(x, x, out=np.zeros((3, 4), np.float32)), x)
    raises_unchanged(ValueError, lambda: L.cross_entropy(np.ones((), np.float32), np.zeros((), np.int64)), x,
                     match="at least one dimension")


def test_bad_dtypes_raise_type_error(isa):
    x = np.zeros((4, 3), np.float32)
    out = np.ones_like(x)
    raises_unchanged(TypeError, lambda: L.mse_loss(x, x.astype(np.float64), out=out), out)
    raises_unchanged(TypeError, lambda: L.mse_loss(x.astype(np.int32), x.astype(np.int32)), out)
    raises_unchanged(TypeError, lambda: L.mse_loss(x, x, out=out.astype(np.float64)), x)
    raises_unchanged(TypeError, lambda: L.mse_loss(x.tolist(), x), x)
    raises_unchanged(TypeError, lambda: L.cross_entropy(x, np.zeros(4, np.float32), out=out), out)
    raises_unchanged(TypeError, lambda: L.cross_entropy(x, np.zeros(4, bool), out=out), out)
    raises_unchanged(TypeError, lambda: L.cross_entropy(x, np.zeros(4, np.int64), weight=np.ones(3), out=out), out)
    raises_unchanged(TypeError, lambda: L.cross_entropy(x, x.astype(np.float64), out=out), out)


def test_bad_arrays_and_arguments_raise_value_error(isa):
    x = np.zeros((4, 3), np.float32)
    t = np.zeros(4, np.int64)
    out = np.ones_like(x)
    raises_unchanged(ValueError, lambda: L.mse_loss(np.zeros((3, 4), np.float32).T, x, out=out), out,
                     match="C-contiguous")
    readonly = np.ones_like(x)
    readonly.flags.writeable = False
    raises_unchanged(ValueError, lambda: L.mse_loss(x, x, out=readonly), readonly, match="read-only")
    y = np.ones_like(x)
    raises_unchanged(ValueError, lambda: L.mse_loss(x, y, out=y), y, match="overlaps target")
    both = np.zeros((2, 4, 3), np.float32)
    raises_unchanged(ValueError, lambda: L.mse_loss(both[0], x, out=both.reshape(8, 3)[2:6]), both)
    raises_unchanged(ValueError, lambda: L.mse_loss(x, x, reduction="avg", out=out), out, match="not a valid")
    raises_unchanged(ValueError, lambda: L.mse_loss(x, x, reduction="batchmean", out=out), out)
    raises_unchanged(ValueError, lambda: L.huber_loss(x, x, delta=0.0, out=out), out)
    raises_unchanged(ValueError, lambda: L.smooth_l1_loss(x, x, beta=-1.0, out=out), out)
    for kw in ({"label_smoothing": 1.5}, {"label_smoothing": -0.1}, {"z_loss": -1.0}, {"z_loss": np.inf},
               {"softcap": 0.0}, {"softcap": -2.0}, {"softcap": np.nan}):
        raises_unchanged(ValueError, lambda: L.cross_entropy(x, t, out=out, **kw), out)
    raises_unchanged(ValueError, lambda: L.cross_entropy(x, np.full_like(x, 1 / 3), ignore_index=1, out=out), out,
                     match="ignore_index")


def test_binding_checks_the_loss_shape(isa):
    # optkern.losses passes the per-sample shape; the binding does not trust
    # it to size what C writes (n * inner values for 'none').
    x = np.zeros((4, 3, 2), np.float32)
    t = np.zeros((4, 2), np.int64)
    for bad in ((), (4,), (4, 3)):
        with pytest.raises(ValueError, match="loss shape"):
            optkern._core.cross_entropy(x, t, 4, 3, 2, None, -100, 0.0, 0.0, 0.0, 0, None, bad)
        with pytest.raises(ValueError, match="loss shape"):
            optkern._core.nll_loss(x, t, 4, 3, 2, None, -100, 0, None, bad)
    assert optkern._core.cross_entropy(x, t, 4, 3, 2, None, -100, 0.0, 0.0, 0.0, 0, None, (8,))[0].shape == (8,)
    assert optkern._core.nll_loss(x, t, 4, 3, 2, None, -100, 1, None, ())[0] == 0


def test_legacy_reduction_arguments(isa):
    x, y, _ = regression_data((5, 4), np.float64, 1)
    assert L.mse_loss(x, y, size_average=False)[0] == L.mse_loss(x, y, reduction="sum")[0]
    assert L.mse_loss(x, y, reduce=False)[0].shape == x.shape
    assert L.mse_loss(x, y, None, None, "sum")[0] == L.mse_loss(x, y, reduction="sum")[0]
