"""ctc_loss beyond the generic suites (loss_cases.LOSSES runs those): its
gradient by finite differences (torch's formula is the gradient through a
log_softmax), torch parity on the cases that need care, the layouts of
targets and lengths, impossible alignments, 1 vs 2 threads bitwise, and the
bad-input table, each raising before anything is written.
"""

import numpy as np
import pytest

import loss_reference as ref
from helpers import (DTYPES, REDUCTIONS, assert_close, assert_same_for_thread_counts, check, finite_difference,
                     raises_unchanged, require_module, rng_for)
from loss_cases import ctc_data, ctc_unit
from optkern import losses as L


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"concatenated": True, "short": True, "repeats": True, "blank": 2}])
def test_gradient_is_the_one_through_log_softmax(isa, reduction, options):
    """torch's gradient at log_probs = log_softmax(z) is d loss / d z."""
    x, t, kw = ctc_data((6, 2, 4), np.float64, seed=1, **options)

    def f(z):
        return float(np.sum(L.ctc_loss(log_softmax(z), t, reduction=reduction, **kw)[0]))

    np.testing.assert_allclose(L.ctc_loss(x, t, reduction=reduction, **kw)[1], finite_difference(f, x),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_free_input_gradient_is_torchs_minus_exp(isa, reduction):
    """On log_probs that are not normalised the loss's own gradient is
    -r posteriors; torch's (and optkern's) adds r exp(lp)."""
    x, t, kw = ctc_data((5, 3, 4), np.float64, seed=2, raw=True, short=True, repeats=True)
    loss, grad = L.ctc_loss(x, t, reduction=reduction, **kw)
    rate = np.ones(3) if reduction != "mean" else 1.0 / (3 * np.maximum(kw["target_lengths"], 1))
    live = np.arange(5)[:, None] < kw["input_lengths"][None, :]
    own = grad - np.where(live, rate, 0.0)[:, :, None] * np.exp(x)

    def f(z):
        return float(np.sum(L.ctc_loss(z, t, reduction=reduction, **kw)[0]))

    np.testing.assert_allclose(own, finite_difference(f, x), rtol=1e-6, atol=1e-8)


def test_repeated_labels_need_a_blank_between(isa):
    lp = log_softmax(rng_for("repeats").standard_normal((3, 3)))
    loss, grad = L.ctc_loss(lp[:2], np.array([1, 1]), 2, 2, reduction="none")
    assert loss == np.inf and np.all(np.isnan(grad)), "two steps cannot hold 1, blank, 1"
    loss, grad = L.ctc_loss(lp, np.array([1, 1]), 3, 2, reduction="none")
    assert_close(loss, -(lp[0, 1] + lp[1, 0] + lp[2, 1]), np.float64)  # the one alignment
    want = np.exp(lp)
    want[[0, 1, 2], [1, 0, 1]] -= 1.0
    assert_close(grad, want, np.float64)
    loss, _ = L.ctc_loss(lp, np.array([1, 2]), 3, 2, reduction="none")
    assert loss < -(lp[0, 1] + lp[1, 0] + lp[2, 2]), "distinct labels have more alignments"


@pytest.mark.parametrize("dtype", DTYPES)
def test_padded_and_concatenated_targets_agree_bitwise(isa, dtype):
    x, t, kw = ctc_data((15, 5, 6), dtype, short=True, repeats=True)
    lengths = kw["target_lengths"]
    flat = np.concatenate([t[b, :lengths[b]] for b in range(5)])
    for reduction in REDUCTIONS:
        a = L.ctc_loss(x, t, reduction=reduction, **kw)
        b = L.ctc_loss(x, flat, reduction=reduction, **kw)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_lengths_as_sequences_and_integer_arrays(isa):
    x, t, kw = ctc_data((10, 3, 5), np.float32, short=True)
    il, tl = kw.pop("input_lengths"), kw.pop("target_lengths")
    want = L.ctc_loss(x, t, il, tl, **kw)
    for a, b in ((tuple(il.tolist()), list(tl.tolist())), (il.astype(np.int32), tl.astype(np.uint8)),
                 (il, tl.astype(np.int16))):
        got = L.ctc_loss(x, t.astype(np.int32), a, b, **kw)
        assert got[0] == want[0] and np.array_equal(got[1], want[1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_is_a_batch_of_one(isa, reduction):
    x, t, kw = ctc_data((9, 5), np.float64, short=True)
    loss, grad = L.ctc_loss(x, t, reduction=reduction, **kw)
    il, tl = kw.pop("input_lengths"), kw.pop("target_lengths")
    batch = L.ctc_loss(x[:, None], t[None], [il], [tl], reduction=reduction, **kw)
    assert np.array_equal(grad, batch[1][:, 0])
    assert np.array_equal(loss, batch[0][0] if reduction == "none" else batch[0])
    assert np.shape(loss) == ()
    for single in ((il,), np.array([il])):  # one entry is an unbatched length too, as in torch
        assert np.array_equal(L.ctc_loss(x, t, single, tl, reduction=reduction, **kw)[1], grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_impossible_alignments_and_zero_infinity(isa, dtype):
    x, t, kw = ctc_data((8, 3, 5), dtype, impossible=True, short=True)
    loss, grad = L.ctc_loss(x, t, reduction="none", **kw)
    steps = kw["input_lengths"][0]
    assert loss[0] == np.inf and np.all(np.isfinite(loss[1:]))
    assert np.all(np.isnan(grad[:steps, 0])) and np.all(grad[steps:, 0] == 0) and np.all(np.isfinite(grad[:, 1:]))
    for reduction in REDUCTIONS:
        zeroed, zgrad = L.ctc_loss(x, t, reduction=reduction, zero_infinity=True, **kw)
        check((zeroed, zgrad), ref.ctc_loss(x, t, reduction=reduction, zero_infinity=True, **kw), x, reduction,
              reduction, unit=ctc_unit(t, kw, reduction))
        assert np.all(zgrad[:, 0] == 0)
    assert np.isinf(L.ctc_loss(x, t, **kw)[0])


def test_empty_inputs_and_targets(isa):
    x = np.zeros((4, 3, 2), np.float32)
    loss, grad = L.ctc_loss(x, np.zeros((3, 0), np.int64), [0, 0, 4], [0, 0, 0], reduction="none")
    assert np.all(loss[:2] == 0) and np.all(np.signbit(loss[:2])), "no input, no target: -0, as torch"
    assert loss[2] == -4 * x[0, 0, 0] and np.all(grad[:, :2] == 0)
    loss, grad = L.ctc_loss(x, np.array([[1]]).repeat(3, 0), [0, 4, 4], [1, 1, 1], reduction="none")
    assert loss[0] == np.inf and np.all(grad[:, 0] == 0), "no input for a target: inf, gradient 0 (no row)"
    assert np.isnan(L.ctc_loss(np.zeros((4, 0, 2)), np.zeros((0, 3), np.int64), [], [])[0])
    assert L.ctc_loss(np.zeros((4, 0, 2)), np.zeros(0, np.int64), [], [], reduction="sum")[0] == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_threads_do_not_change_results(isa, num_threads, dtype, reduction):
    x, t, kw = ctc_data((60, 16, 20), dtype, short=True, repeats=True)
    assert_same_for_thread_counts(num_threads, lambda: L.ctc_loss(x, t, reduction=reduction, **kw))


# ------------------------------------------------------------ torch parity

torch_cases = [({"repeats": True}, "mean"), ({"short": True, "blank": 3}, "sum"),
               ({"impossible": True, "short": True}, "none"), ({"impossible": True, "zero_infinity": True}, "mean"),
               ({"raw": True, "short": True, "concatenated": True}, "none")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options,reduction", torch_cases)
def test_matches_torch_autograd(isa, options, reduction, dtype):
    torch = require_module("torch")
    x, t, kw = ctc_data((13, 6, 9), dtype, seed=3, **options)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    target = torch.from_numpy(np.where(t < 0, 0, t))
    zero_infinity = kw.pop("zero_infinity", False)
    lengths = [torch.from_numpy(kw.pop(k)) for k in ("input_lengths", "target_lengths")]
    theirs = torch.nn.functional.ctc_loss(xt, target, *lengths, reduction=reduction, zero_infinity=zero_infinity,
                                          **kw)
    theirs.sum().backward()
    loss, grad = L.ctc_loss(x, t, *[v.numpy() for v in lengths], reduction=reduction, zero_infinity=zero_infinity,
                            **kw)
    tolerance = None if dtype == np.float32 else (1e-10, 1e-12)
    assert_close(loss, theirs.detach().numpy(), dtype, "loss", tolerance=tolerance)
    assert_close(grad, xt.grad.numpy(), dtype, "grad", 1.0, tolerance=tolerance)


# --------------------------------------------------------------- bad input

def _call(**change):
    x, t, kw = ctc_data((6, 3, 4), np.float32, short=True)
    out = np.full_like(x, 7.0)
    args = dict(log_probs=x, targets=t, out=out, **kw)
    args.update(change)
    return args


BAD = [
    ({"input_lengths": np.array([6, 7, 6])}, ValueError, "input_lengths to have value at most 6, but got value 7"),
    ({"input_lengths": np.array([6, -1, 6])}, ValueError, "input_lengths to have value at least 0"),
    ({"target_lengths": np.array([3, -1, 0])}, ValueError, "target_lengths to have value at least 0"),
    ({"target_lengths": np.array([4, 0, 0])}, ValueError, "size at least 4 at dimension 1, but got size 3"),
    ({"input_lengths": np.array([6, 6])}, ValueError, "input_lengths must be of size batch_size"),
    ({"target_lengths": [3, 1, 1, 1]}, ValueError, "target_lengths must be of size batch_size"),
    ({"input_lengths": np.array([6.0, 6.0, 6.0])}, TypeError, "must hold integers"),
    ({"target_lengths": [True, False, True]}, TypeError, "must hold integers"),
    ({"targets": np.array([[1, 2, 4], [0, 0, 0], [1, 1, 1]])}, IndexError, "Target 4 is out of bounds"),
    ({"targets": np.array([[1, -2, 3], [0, 0, 0], [1, 1, 1]])}, IndexError, "Target -2 is out of bounds"),
    ({"targets": np.array([[1, 0, 3], [2, 2, 2], [1, 1, 1]]), "target_lengths": np.array([3, 1, 1])}, ValueError,
     "blank class 0"),
    ({"targets": np.zeros((2, 3), np.int64)}, ValueError, "size 3 at dimension 0, but got size 2"),
    ({"targets": np.zeros((3, 3, 1), np.int64)}, ValueError, "1 dimension .concatenated. or 2"),
    ({"targets": np.array([1, 2, 3])}, ValueError, "Expected tensor to have size"),
    ({"targets": np.ones((3, 3), np.float32)}, TypeError, "integer dtype"),
    ({"blank": 4}, ValueError, "blank must be in label range"),
    ({"blank": -1}, ValueError, "blank must be in label range"),
    ({"blank": 1.0}, TypeError, "argument 'blank' must be int"),
    ({"zero_infinity": 1}, TypeError, "'zero_infinity' must be bool"),
    ({"reduction": "batchmean"}, ValueError, "not a valid value for reduction"),
    ({"log_probs": np.zeros((6, 3, 4, 1), np.float32)}, ValueError, "Expected 3-dimensional tensor"),
    ({"log_probs": np.zeros((6, 3, 4), np.float16)}, TypeError, "float32 or float64"),
    ({"log_probs": np.zeros((6, 3, 4), np.int32)}, TypeError, "float32 or float64"),
    ({"out": np.zeros((6, 3, 4), np.float64)}, TypeError, "out has dtype"),
    ({"out": np.zeros((6, 4, 3), np.float32)}, ValueError, None),
]


@pytest.mark.parametrize("change,error,match", BAD, ids=[f"{i}-{e.__name__}" for i, (c, e, m) in enumerate(BAD)])
def test_bad_input_raises_with_nothing_written(isa, change, error, match):
    args = _call(**change)
    arrays = [v for v in args.values() if isinstance(v, np.ndarray)]
    raises_unchanged(error, lambda: L.ctc_loss(**args), *arrays, match=match)


def test_out_overlapping_what_is_read_raises(isa):
    x, t, kw = ctc_data((6, 3, 4), np.float64, short=True)
    buf = np.zeros(x.size + 3)
    lengths = buf[:3].view(np.int64)
    lengths[:] = kw.pop("input_lengths")
    out = buf[:x.size].reshape(x.shape)
    raises_unchanged(ValueError, lambda: L.ctc_loss(x, t, lengths, out=out, **kw), buf, match="overlaps input_lengths")
    wide = np.zeros((2,) + x.shape)
    wide[0] = x
    raises_unchanged(ValueError, lambda: L.ctc_loss(wide[0], t, lengths.copy(), out=wide.reshape(-1)[5:x.size + 5]
                                                    .reshape(x.shape), **kw), wide, match="overlaps")


def test_out_is_the_gradient_and_in_place(isa):
    x, t, kw = ctc_data((11, 4, 7), np.float32, short=True, repeats=True)
    loss, grad = L.ctc_loss(x, t, **kw)
    out = np.full_like(x, np.nan)
    assert L.ctc_loss(x, t, out=out, **kw)[1] is out and np.array_equal(out, grad)
    buffer = x.copy()
    loss_in, grad_in = L.ctc_loss(buffer, t, out=buffer, **kw)
    assert grad_in is buffer and loss_in == loss and np.array_equal(buffer, grad)
