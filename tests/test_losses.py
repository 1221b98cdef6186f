"""optkern.losses against the float64 NumPy reference (loss_reference.py), on
every instruction set. The generic suites iterate over the loss registry
(loss_cases.LOSSES): values and gradients for every option set, dtype and
reduction, finite differences, out= and in place, 1 vs 2 threads bitwise,
bad shapes and dtypes that must raise before anything is written, NaN and
inf. The loss-specific tests follow them. torch parity: test_losses_torch.py.
"""

import numpy as np
import pytest

import loss_reference as ref
import optkern
from helpers import (DTYPES, REDUCTIONS, assert_close, assert_same_for_thread_counts, check, finite_difference,
                     raises_unchanged, rng_for)
from loss_cases import LOSSES, ce_data, examples, out_and_in_place, regression_data, variants
from optkern import losses as L


# ------------------------------------------------------------- generic suites

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,variant,reduction", variants("grid"))
def test_reference_values(isa, case, variant, reduction, dtype):
    for shape in variant.shapes:
        x, t, kw = case.make(shape, dtype, **variant.options)
        what = f"{case.name} {variant.id} {shape} {reduction}"
        check(case.fn(x, t, reduction=reduction, **kw), case.ref(x, t, reduction=reduction, **kw), x, what,
              reduction, unit=case.unit_of(t, kw, reduction), inputs=case.inputs(x, t, kw))


@pytest.mark.parametrize("case,variant", variants("fd", with_reductions=False))
def test_gradient_by_finite_differences(isa, case, variant):
    """Every gradient of the loss, each by central differences of its array."""
    for shape in variant.shapes:
        x, t, kw = case.make(shape, np.float64, seed=1, **variant.options)
        inputs = case.inputs(x, t, kw)
        for k, (name, grad) in enumerate(zip(case.grads, case.gradients(case.fn(x, t, **kw)[1]))):

            def f(z):
                arrays = inputs[:k] + (z,) + inputs[k + 1:]
                xz, tz, kwz = case.with_inputs(x, t, kw, arrays)
                return float(case.fn(xz, tz, **kwz)[0])

            np.testing.assert_allclose(grad, finite_difference(f, inputs[k]), rtol=1e-6, atol=1e-8,
                                       err_msg=f"{case.name} {variant.id} {shape} d/d{name}")


@pytest.mark.parametrize("shape", [(6, 37), (3, 7, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,options", examples())
def test_out_and_in_place(isa, case, options, dtype, shape):
    out_and_in_place(case, *case.make(shape, dtype, **options))


# Threaded in both layouts: (N, C) rows, and (N, C, d) with d large.
@pytest.mark.parametrize("shape", [(300, 1000), (30, 100, 100)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,options", examples())
def test_threads_do_not_change_results(isa, num_threads, case, options, dtype, shape):
    x, t, kw = case.make(shape, dtype, **options)
    assert_same_for_thread_counts(num_threads, lambda: case.fn(x, t, **kw))


def _shorter(a):
    """a without its last entry along its last axis."""
    return np.ascontiguousarray(a[..., :-1])


def _arrays_of(kw):
    return sorted(k for k, v in kw.items() if isinstance(v, np.ndarray))


def _bad_input_cases():
    """(case, options, defect) for every loss example: every defect of
    BAD_SHAPES and BAD_DTYPES that applies to it."""
    out = []
    for param in examples():
        case, options = param.values
        _, t, kw = case.make((4, 3), np.float32, **options)
        defects = ["target", "out"] + [f"kwarg {k}" for k in _arrays_of(kw)]
        out += [pytest.param(case, options, d, id=f"{param.id}-{d}") for d in defects]
    return out


def _bad_call(case, options, defect, bad):
    """The example's call with its `defect` array replaced by bad(array),
    and the arrays that must not change."""
    x, t, kw = case.make((4, 3), np.float32, **options)
    outs = case.gradients(case.new_out(x, t, kw, 1.0))
    if defect == "target":
        t = bad(t)
    elif defect == "out":
        outs = (bad(outs[0]),) + outs[1:]
    else:
        name = defect.split()[1]
        kw = dict(kw, **{name: bad(kw[name])})
    return ((lambda: case.fn(x, t, out=case.out_of(outs), **kw)),
            [x, *outs] + [v for v in kw.values() if isinstance(v, np.ndarray)])


@pytest.mark.parametrize("case,options,defect", _bad_input_cases())
def test_bad_shapes_raise_value_error(isa, case, options, defect):
    """An array one entry short raises ValueError with nothing written (a
    float target of another shape than the logits is read as class targets:
    TypeError)."""
    f, arrays = _bad_call(case, options, defect, _shorter if defect != "out" else lambda a: np.ones((3, 4), a.dtype))
    probability_target = case.rows and defect == "target" and options.get("probs")
    raises_unchanged(TypeError if probability_target else ValueError, f, *arrays)


@pytest.mark.parametrize("case,options,defect", _bad_input_cases())
def test_bad_dtypes_raise_type_error(isa, case, options, defect):
    """float64 (float32 for an integer target) with a float32 input raises
    TypeError with nothing written."""
    f, arrays = _bad_call(case, options, defect,
                          lambda a: a.astype(np.float64 if a.dtype == np.float32 else np.float32))
    raises_unchanged(TypeError, f, *arrays)


@pytest.mark.parametrize("case,options", examples(lambda case, options: options is case.examples[0]))
def test_bad_inputs_raise(isa, case, options):
    x, t, kw = case.make((4, 3), np.float32, **options)
    outs = case.gradients(case.new_out(x, t, kw, 1.0))
    out = case.out_of(outs)
    raises_unchanged(TypeError, lambda: case.fn(x.astype(np.int32), t, out=out, **kw), x, t, *outs)
    raises_unchanged(TypeError, lambda: case.fn(x.tolist(), t, out=out, **kw), x, t, *outs)
    # the margin losses take one sample of one class, as torch
    if case.rows and case.name not in ("multi_margin_loss", "multilabel_margin_loss"):
        raises_unchanged(ValueError, lambda: case.fn(np.ones((), np.float32), np.zeros((), np.int64), out=out),
                         *outs, match="at least one dimension")


@pytest.mark.parametrize("case", [c for c in LOSSES if not c.rows and c.any_values], ids=lambda c: c.name)
def test_elementwise_nan_and_inf(isa, case):
    x = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    y = np.array([0.0, 0.0, 1.0, np.nan], dtype=np.float32)
    loss, grad = case.fn(x, y, reduction="none")
    with np.errstate(invalid="ignore"):
        want_loss, want_grad = case.ref(x, y, reduction="none")
    np.testing.assert_array_equal(np.isnan(loss), np.isnan(want_loss))
    np.testing.assert_array_equal(loss[~np.isnan(loss)], want_loss[~np.isnan(want_loss)].astype(np.float32))
    np.testing.assert_array_equal(grad, want_grad.astype(np.float32))


# ----------------------------------------------------- loss-specific tests

def test_regression_weight_is_not_broadcast(isa):
    x = np.zeros((4, 3), np.float32)
    out = np.ones_like(x)
    raises_unchanged(ValueError, lambda: L.mse_loss(x, x, weight=np.ones(3, np.float32), out=out), x, out)


def test_class_targets_must_be_integers(isa):
    x = np.zeros((4, 3), np.float32)
    out = np.ones_like(x)
    raises_unchanged(TypeError, lambda: L.cross_entropy(x, np.zeros(4, bool), out=out), out)
    raises_unchanged(ValueError, lambda: L.cross_entropy(x, np.zeros(3, np.int64), out=out), out,
                     match="batch_size")


def test_class_targets_of_any_integer_dtype(isa):
    x, t, _ = ce_data((7, 5), np.float32)
    want = L.cross_entropy(x, t)
    for dtype in (np.int32, np.uint8, np.int16, np.uint64):
        loss, grad = L.cross_entropy(x, t.astype(dtype))
        assert loss == want[0] and np.array_equal(grad, want[1])


def test_ignore_index_can_be_a_class(isa):
    x, t, _ = ce_data((8, 4), np.float64)
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


def test_out_of_range_class_targets_raise_index_error(isa):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out = np.full_like(x, 3.0)
    for bad in ([0, 1, 4, 2, 0], [0, -1, 1, 1, 1], [0, 1, 2, -5, 100]):
        t = np.array(bad)
        raises_unchanged(IndexError, lambda: L.cross_entropy(x, t, out=out), x, out, match="out of bounds")
        raises_unchanged(IndexError, lambda: L.cross_entropy(x, t, out=x), x, match="out of bounds")
        raises_unchanged(IndexError, lambda: L.nll_loss(x, t, out=out), x, out)
        raises_unchanged(IndexError, lambda: L.multi_margin_loss(x, t, out=x), x, match="out of range")
    # multi_margin_loss has no ignore_index: -100 is out of range too
    raises_unchanged(IndexError, lambda: L.multi_margin_loss(x, np.array([0, 1, 2, -100, 3]), out=out), x, out)
    x3 = np.zeros((2, 4, 3), np.float32)
    raises_unchanged(IndexError, lambda: L.cross_entropy(x3, np.array([[0, 1, 9], [0, 0, 0]]), out=x3), x3)


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
    for kw, match in (({"label_smoothing": 1.5}, "label_smoothing must be between 0.0 and 1.0"),
                      ({"label_smoothing": -0.1}, "label_smoothing must be between 0.0 and 1.0"),
                      ({"z_loss": -1.0}, "z_loss must be a finite number >= 0"),
                      ({"z_loss": np.inf}, "z_loss must be a finite number >= 0"),
                      ({"softcap": 0.0}, "softcap must be None or a finite number > 0"),
                      ({"softcap": -2.0}, "softcap must be None or a finite number > 0"),
                      ({"softcap": np.nan}, "softcap must be None or a finite number > 0")):
        raises_unchanged(ValueError, lambda: L.cross_entropy(x, t, out=out, **kw), out, match=match)
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


# ------------------------------------- probabilities, counts, variances, margins

@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_zero_and_one(isa, dtype):
    # log 0 is clamped at -100 and the gradient's denominator at 1e-12, as in torch
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5], dtype)
    loss, grad = L.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(loss, np.array([0.0, 0.0, 100.0, 100.0, np.log(2)], dtype))
    assert_close(grad, [0.0, 0.0, -1e12, 1e12, 0.0], dtype)


@pytest.mark.parametrize("bad", ["input above 1", "input below 0", "input NaN", "target above 1", "target NaN"])
def test_binary_cross_entropy_outside_its_domain_writes_nothing(isa, bad):
    x = np.full((3, 17), 0.5, np.float32)
    y = np.full_like(x, 0.25)
    which, value = bad.split(" ", 1)
    (x if which == "input" else y)[2, 16] = {"above 1": 1.0 + 2**-20, "below 0": -1e-30, "NaN": np.nan}[value]
    out = np.full_like(x, 3.0)
    for kw in ({"out": out}, {"out": x, "reduction": "none"}):
        raises_unchanged(RuntimeError, lambda: L.binary_cross_entropy(x, y, **kw), x, y, out,
                         match=f"all elements of {which} should be between 0 and 1")
    with pytest.raises(ValueError):  # optkern's DomainError is both
        L.binary_cross_entropy(x, y)


def test_gaussian_nll_loss_variance_forms(isa):
    rng = rng_for("gaussian forms")
    x, y = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    # a number: no gradient for it; torch multiplies it into a full tensor
    loss, (grad, grad_var) = L.gaussian_nll_loss(x, y, 0.5, full=True)
    want = ref.gaussian_nll_loss(x, y, np.full(x.shape, 0.5), full=True)
    assert grad_var is None
    check((loss, grad), (want[0], want[1][0]), x, "var=0.5")
    # below eps: clamped, with the clamped value's gradient
    var = np.full((2, 4, 1), 1e-9)
    check(L.gaussian_nll_loss(x, y, var), ref.gaussian_nll_loss(x, y, var), x, "var < eps", inputs=(x, var))
    for bad in (np.ones((2, 4, 2)), np.ones((1, 1, 3)), np.ones(3), np.ones((2, 4, 3, 1))):
        raises_unchanged(ValueError, lambda: L.gaussian_nll_loss(x, y, bad), x, match="var is of incorrect size")


def test_gaussian_nll_loss_negative_var_writes_nothing(isa):
    x = np.zeros((4, 17), np.float32)
    var = np.ones_like(x)
    var[3, 16] = -1e-30
    outs = (np.full_like(x, 3.0), np.full_like(x, 3.0))
    raises_unchanged(ValueError, lambda: L.gaussian_nll_loss(x, x, var, out=outs), x, var, *outs,
                     match="var has negative entry/entries")
    raises_unchanged(ValueError, lambda: L.gaussian_nll_loss(x, x, var[:, :1].copy(), out=outs), x, *outs)
    raises_unchanged(ValueError, lambda: L.gaussian_nll_loss(x, x, -1.0), x, match="negative")
    var[3, 16] = np.nan  # torch's check lets NaN through, and so does optkern
    assert np.isnan(L.gaussian_nll_loss(x, x, var)[0])
    raises_unchanged(ValueError, lambda: L.gaussian_nll_loss(x, x, 1.0, out=(None, outs[1])), *outs,
                     match="number var has no gradient")
    raises_unchanged(TypeError, lambda: L.gaussian_nll_loss(x, x, var, out=outs[0]), *outs, match="tuple")


def test_hinges_at_exactly_zero_pass_the_gradient(isa):
    # torch's clamp_min passes the gradient where its argument is >= 0
    x = np.array([1.0, 0.5, 2.0, 1.0], np.float32)
    y = np.array([-1.0, -1.0, -1.0, 1.0], np.float32)
    loss, grad = L.hinge_embedding_loss(x, y, reduction="none")
    np.testing.assert_array_equal(loss, [0.0, 0.5, 0.0, 1.0])
    np.testing.assert_array_equal(grad, [-1.0, -1.0, 0.0, 1.0])
    a, b = np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 1.0])
    loss, (ga, gb) = L.margin_ranking_loss(a, b, np.array([1.0, -1.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(ga, [-1.0, 1.0, -1.0])
    np.testing.assert_array_equal(gb, [1.0, -1.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_margin_loss_is_finite_where_torch_overflows(isa, dtype):
    # torch computes log1p(exp(-y x)): inf, and a NaN gradient, for -y x
    # beyond the dtype's exp range; optkern's stable form does not
    x = np.array([1e3, -1e3, 0.0, 30.0], dtype)
    y = np.array([-1.0, 1.0, 1.0, 1.0], dtype)
    loss, grad = L.soft_margin_loss(x, y, reduction="none")
    assert_close(loss, [1e3, 1e3, np.log(2), np.log1p(np.exp(-30.0))], dtype)
    assert_close(grad, [1.0, -1.0, -0.5, -1 / (1 + np.exp(30.0))], dtype)


def test_poisson_nll_loss_stirling_term_only_above_one(isa):
    x = np.zeros(4)
    y = np.array([0.0, 1.0, 2.0, 10.0])
    loss, _ = L.poisson_nll_loss(x, y, full=True, reduction="none")
    stirling = y * np.log(np.where(y > 0, y, 1)) - y + 0.5 * np.log(2 * np.pi * np.where(y > 0, y, 1))
    np.testing.assert_allclose(loss, 1 + np.where(y > 1, stirling, 0.0), rtol=1e-14)
    loss, grad = L.poisson_nll_loss(x, y, log_input=False, eps=0.5, reduction="none")
    np.testing.assert_allclose(loss, -y * np.log(0.5), rtol=1e-14)
    np.testing.assert_allclose(grad, 1 - y / 0.5, rtol=1e-14)


def test_losses_of_two_inputs_check_their_second(isa):
    x = np.zeros((3, 5), np.float32)
    y = np.ones_like(x)
    outs = (np.full_like(x, 3.0), np.full_like(x, 3.0))
    for bad, exc in ((np.zeros((3, 4), np.float32), ValueError), (np.zeros((3, 5)), TypeError)):
        raises_unchanged(exc, lambda: L.margin_ranking_loss(x, bad, y, out=outs), x, *outs)
        raises_unchanged(exc, lambda: L.gaussian_nll_loss(x, y, bad, out=outs), x, *outs)
    # the second gradient may be its input, not another array read
    raises_unchanged(ValueError, lambda: L.margin_ranking_loss(x, y.copy(), y, out=(outs[0], y)), y, *outs,
                     match="overlaps")
    raises_unchanged(ValueError, lambda: L.margin_ranking_loss(x, y.copy(), y, out=(outs[0], outs[0])), *outs,
                     match="overlaps")
    with pytest.raises(RuntimeError):  # the GPU's task: no form for a second input yet
        optkern._core.elementwise_task("margin_ranking_loss", 4, None, None, 0.0, False, 0, 1)


# ------------------------------------------------------------ margin losses

@pytest.mark.parametrize("dtype", DTYPES)
def test_multi_margin_hinge_exactly_at_zero_has_no_gradient(isa, dtype):
    # z = 1 - (1 - 0) = 0 for class 1: no loss and no gradient (torch's z > 0);
    # class 2's z = 0.5 is the only hinge. Values are torch 2.13's.
    x = np.array([[1.0, 0.0, 0.5]], dtype=dtype)
    for p, loss in ((1, 0.5 / 3), (2, 0.25 / 3)):
        got, grad = L.multi_margin_loss(x, np.array([0]), p=p, reduction="sum")
        assert_close(got, loss, dtype, f"p={p}")
        assert grad[0, 1] == 0 and not np.signbit(grad[0, 1])
        assert_close(grad, [[-1 / 3, 0.0, 1 / 3]], dtype, f"p={p}")
    loss, grad = L.multi_margin_loss(np.zeros((), dtype), np.array(0), reduction="none")
    assert loss == 0 and grad == 0 and not np.signbit(grad), "one class: no other class, +0 as torch"


def test_margin_losses_bad_arguments_raise(isa):
    x = np.zeros((4, 3), np.float32)
    t = np.zeros(4, np.int64)
    out = np.ones_like(x)
    for kw, match in (({"p": 3}, "only p == 1 and p == 2"), ({"p": 0}, "only p"),
                      ({"weight": np.ones((1, 3), np.float32)}, "one-dimensional"),
                      ({"weight": np.ones(4, np.float32)}, "inconsistent weight size"),
                      ({"reduction": "batchmean"}, "not a valid")):
        raises_unchanged(ValueError, lambda: L.multi_margin_loss(x, t, out=out, **kw), out, match=match)
    raises_unchanged(ValueError, lambda: L.multi_margin_loss(np.zeros((2, 3, 4), np.float32), t[:2]), match="vector")
    raises_unchanged(ValueError, lambda: L.multi_margin_loss(np.zeros((2, 0), np.float32), t[:2]), match="non-empty")
    raises_unchanged(ValueError, lambda: L.multi_margin_loss(x, np.zeros(3, np.int64), out=out), out, match="target")
    raises_unchanged(TypeError, lambda: L.multi_margin_loss(x, t.astype(np.float32), out=out), out)
    raises_unchanged(ValueError, lambda: L.multilabel_soft_margin_loss(x, x.copy(), weight=np.ones((4, 3), np.float32),
                                                                        out=out), out, match="per-class")
    raises_unchanged(ValueError, lambda: L.multilabel_soft_margin_loss(np.zeros((), np.float32),
                                                                        np.zeros((), np.float32)), match="dimension")


def test_multilabel_soft_margin_weight_forms_and_empty_inputs(isa):
    x = np.random.default_rng(0).standard_normal((5, 4))
    y = (np.arange(20).reshape(5, 4) % 3 == 0).astype(np.float64)
    want = L.multilabel_soft_margin_loss(x, y, weight=np.full(4, 0.5))
    for w in (np.array(0.5), np.array([0.5]), np.full((1, 4), 0.5)):
        got = L.multilabel_soft_margin_loss(x, y, weight=w)
        assert got[0] == want[0] and np.array_equal(got[1], want[1]), w.shape
    loss, grad = L.multilabel_soft_margin_loss(np.zeros((2, 0)), np.zeros((2, 0)), reduction="none")
    assert loss.shape == (2,) and np.all(np.isnan(loss)) and grad.shape == (2, 0), "0 / C with C = 0, as torch"
    assert np.isnan(L.multilabel_soft_margin_loss(np.zeros((0, 3)), np.zeros((0, 3)))[0])
    assert L.multilabel_soft_margin_loss(np.zeros((0, 3)), np.zeros((0, 3)), reduction="sum")[0] == 0


# multilabel_margin_loss: values of torch 2.13 (docs/losses.md#multilabel_margin_loss)

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multilabel_margin_target_list_ends_at_the_first_minus_one(isa, dtype):
    x = np.array([0.1, 0.2, 0.4, 0.8], dtype=dtype)
    for t in ([3, 0, -1, 1], [3, 0, -1, 2], [3, 0, -1, -1]):  # entries past the -1 are not used
        loss, grad = L.multilabel_margin_loss(x, np.array(t))
        assert loss.shape == () and grad.dtype == dtype
        assert_close(loss, 0.85, dtype, str(t))
        assert_close(grad, [-0.5, 0.5, 0.5, -0.5], dtype, str(t))
    for t in ([-1, 0, 1, 2], [0, 1, 2, 3], [2, 1, 3, 0]):  # no target; every class a target
        loss, grad = L.multilabel_margin_loss(x, np.array(t), reduction="none")
        assert loss == 0 and np.all(grad == 0) and not np.any(np.signbit(grad)), t
    rows = np.stack([x, x])
    loss, grad = L.multilabel_margin_loss(rows, np.array([[3, 0, -1, 1], [1, -1, 0, 0]]), reduction="none")
    assert_close(loss, [0.85, 0.925], dtype)
    assert_close(grad, [[-0.5, 0.5, 0.5, -0.5], [0.25, -0.75, 0.25, 0.25]], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multilabel_margin_duplicate_targets_count_each_time(isa, dtype):
    x = np.array([0.1, 0.2, 0.4, 0.8], dtype=dtype)
    loss, grad = L.multilabel_margin_loss(x, np.array([3, 3, -1, 1]))
    assert_close(loss, 0.65, dtype)
    assert_close(grad, [0.5, 0.5, 0.5, -1.5], dtype)
    loss, grad = L.multilabel_margin_loss(x, np.array([3, 0, 3, 3]), reduction="sum")  # no -1: every entry
    assert_close(loss, 1.35, dtype)
    assert_close(grad, [-0.5, 1.0, 1.0, -1.5], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multilabel_margin_hinge_exactly_at_zero_has_no_gradient(isa, dtype):
    # z = 1 - x_1 + x_0 = 0 exactly: no loss and no gradient at class 0 (torch's z > 0)
    loss, grad = L.multilabel_margin_loss(np.array([0.0, 1.0, 0.4, 0.8], dtype=dtype), np.array([1, -1, -1, -1]))
    assert_close(loss, 0.3, dtype)
    assert grad[0] == 0 and not np.signbit(grad[0])
    assert_close(grad, [0.0, -0.5, 0.25, 0.25], dtype)
    # NaN scores are no hinge (loss and gradient 0 for their pairs)
    nan = np.array([0.1, 0.2, 0.4, np.nan], dtype=dtype)
    loss, grad = L.multilabel_margin_loss(nan, np.array([3, 0, 1, -1]))
    assert_close(loss, 0.625, dtype)
    assert_close(grad, [-0.25, -0.25, 0.5, 0.0], dtype)
    loss, grad = L.multilabel_margin_loss(np.zeros((), dtype), np.array(0), reduction="none")
    assert loss == 0 and grad == 0 and not np.signbit(grad), "one class, its own target: +0 as torch"


def test_multilabel_margin_out_of_range_targets_raise_index_error(isa):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    good = np.array([[3, 0, -1, 1], [1, -1, 0, 0], [2, 2, 0, -1]])
    for row, col, bad in ((0, 3, 4), (2, 3, 7), (1, 3, -2), (2, 0, 4), (2, 0, -5)):  # past the -1 too
        for dtype in (np.int64, np.int32, np.int16):
            t = good.copy()
            t[row, col] = bad
            t = t.astype(dtype)
            out = np.ones_like(x)
            raises_unchanged(IndexError, lambda: L.multilabel_margin_loss(x, t, out=out), x, out, t,
                             match=f"{bad} is not in \\[-1, 4\\)")
            raises_unchanged(IndexError, lambda: L.multilabel_margin_loss(x, t, out=x, reduction="none"), x, t)
    raises_unchanged(IndexError, lambda: L.multilabel_margin_loss(np.zeros(()), np.array(1)))


def test_multilabel_margin_bad_arguments_and_empty_inputs(isa):
    x = np.zeros((4, 3), np.float32)
    t = np.zeros((4, 3), np.int64)
    out = np.ones_like(x)
    raises_unchanged(ValueError, lambda: L.multilabel_margin_loss(x, t[:, :2], out=out), out, match="inconsistent")
    raises_unchanged(ValueError, lambda: L.multilabel_margin_loss(x, t.T.copy(), out=out), out, match="inconsistent")
    raises_unchanged(ValueError, lambda: L.multilabel_margin_loss(x[0], t[:1], out=out[0]), out, match="inconsistent")
    raises_unchanged(ValueError, lambda: L.multilabel_margin_loss(np.zeros((2, 3, 4)), np.zeros((2, 3, 4), int)),
                     match="vector")
    raises_unchanged(ValueError, lambda: L.multilabel_margin_loss(np.zeros((2, 0)), np.zeros((2, 0), int)),
                     match="non-empty")
    raises_unchanged(TypeError, lambda: L.multilabel_margin_loss(x, t.astype(np.float32), out=out), out)
    raises_unchanged(ValueError, lambda: L.multilabel_margin_loss(x, t, reduction="batchmean", out=out), out)
    loss, grad = L.multilabel_margin_loss(np.zeros((0, 3)), np.zeros((0, 3), np.int64), reduction="none")
    assert loss.shape == (0,) and grad.shape == (0, 3)
    assert np.isnan(L.multilabel_margin_loss(np.zeros((0, 3)), np.zeros((0, 3), np.int64))[0])
    assert L.multilabel_margin_loss(np.zeros((0, 3)), np.zeros((0, 3), np.int64), reduction="sum")[0] == 0
    loss, grad = L.multilabel_margin_loss(np.zeros((), np.float32), np.array([0]))  # (1,) target for () input
    assert loss == 0 and grad.shape == ()
