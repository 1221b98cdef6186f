"""The pair losses, cosine_embedding_loss and triplet_margin_loss, beyond the
generic suites of the registry (loss_cases.py, which run both through the
reference values, finite differences of every gradient, out= tuples, 1 vs 2
threads, bounds, torch parity and 16 bits): torch's ties and zero vectors,
its EPSILON, the awkward sizes against torch, and their own bad input.
"""

import numpy as np
import pytest

import loss_reference as ref
from helpers import raises_unchanged, require_module, rng_for
from optkern import losses as L

torch = require_module("torch")
F = torch.nn.functional


def torch_pair(fn, arrays, *rest, **kwargs):
    """torch's loss and the gradients of loss.sum() with respect to every array, in float64."""
    leaves = [torch.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    loss = fn(*leaves, *[torch.tensor(np.asarray(r, np.float64)) for r in rest], **kwargs)
    loss.sum().backward()
    return loss.detach().numpy(), [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in leaves]


def assert_matches(ours, theirs, rtol=1e-12, atol=1e-14):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=atol)
    assert len(ours[1]) == len(theirs[1])
    for g, w in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def cosine(x1, x2, t, **kw):
    return torch_pair(lambda a, b, y, **k: F.cosine_embedding_loss(a, b, y, **k), [x1, x2], t, **kw)


@pytest.mark.parametrize("d", [1, 7, 17, 1023])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_awkward_sizes_match_torch(isa, d, reduction):
    rng = rng_for("pairs sizes", d)
    x1, x2, x3 = (rng.standard_normal((5, d)) for _ in range(3))
    t = np.array([1.0, -1.0, -1.0, 1.0, 0.0])
    assert_matches(L.cosine_embedding_loss(x1, x2, t, margin=-0.1, reduction=reduction),
                   cosine(x1, x2, t, margin=-0.1, reduction=reduction))
    for p in (2, 1, 0.7, 2.5):
        for swap in (False, True):
            kw = dict(p=p, swap=swap, margin=0.3 * np.sqrt(d), reduction=reduction)
            assert_matches(L.triplet_margin_loss(x1, x2, x3, **kw), torch_pair(F.triplet_margin_loss, [x1, x2, x3], **kw),
                           rtol=1e-11, atol=1e-12)


def test_cosine_epsilon_is_torchs_float(isa):
    """torch adds EPSILON, a float 1e-12, to each squared norm: tiny rows show it."""
    x1, x2, t = np.array([[3e-7, 1e-7]]), np.array([[5e-7, -2e-7]]), np.array([1.0])
    loss, grads = L.cosine_embedding_loss(x1, x2, t, reduction="sum")
    assert loss == pytest.approx(float(cosine(x1, x2, t, reduction="sum")[0]), rel=1e-14)
    assert ref.COSINE_EPSILON == float(np.float32(1e-12)) != 1e-12
    assert_matches((loss, grads), cosine(x1, x2, t, reduction="sum"))


def test_cosine_targets_other_than_one_count_for_nothing(isa):
    rng = rng_for("cosine targets")
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    for t in (np.array([1, -1, 0, 2, -2, 1]), np.array([1.0, -1.0, 0.5, np.nan, 3.0, -1.0])):
        loss, (g1, g2) = L.cosine_embedding_loss(x1, x2, t, reduction="none")
        assert_matches((loss, (g1, g2)), cosine(x1, x2, t.astype(np.float64), reduction="none"))
        dead = (t != 1) & (t != -1)
        assert np.all(loss[dead] == 0) and np.all(g1[dead] == 0) and np.all(g2[dead] == 0)


def test_cosine_integer_and_bool_targets(isa):
    rng = rng_for("cosine int")
    x1, x2 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    want = L.cosine_embedding_loss(x1, x2, np.array([1, -1, 1, 0], np.float32))
    for t in (np.array([1, -1, 1, 0], np.int64), np.array([1, -1, 1, 0], np.int8)):
        got = L.cosine_embedding_loss(x1, x2, t)
        assert got[0] == want[0] and all(np.array_equal(a, b) for a, b in zip(got[1], want[1]))
    got = L.cosine_embedding_loss(x1, x2, np.array([True, False, True, False]))
    assert got[0] == L.cosine_embedding_loss(x1, x2, np.array([1, 0, 1, 0], np.float32))[0]


def test_cosine_margin_tie_passes_the_gradient(isa):
    """At cos = margin (target -1) torch's clamp_min passes the gradient."""
    x1, x2, t = np.array([[1.0, 2.0]]), np.array([[3.0, 1.0]]), np.array([-1.0])
    m1, m2 = 5 + ref.COSINE_EPSILON, 10 + ref.COSINE_EPSILON
    margin = 5.0 / np.sqrt(m1 * m2)
    ours = L.cosine_embedding_loss(x1, x2, t, margin=margin)
    assert ours[0] == 0 and np.any(ours[1][0] != 0)
    assert_matches(ours, cosine(x1, x2, t, margin=margin))


def test_cosine_zero_rows(isa):
    """A zero row: cos = 0 (EPSILON keeps the denominator positive), and the
    other row's gradient is x_zero / D = 0."""
    x1 = np.zeros((2, 5))
    x2 = rng_for("cosine zero").standard_normal((2, 5))
    t = np.array([1.0, -1.0])
    ours = L.cosine_embedding_loss(x1, x2, t, margin=-0.5, reduction="none")
    np.testing.assert_array_equal(ours[0], [1.0, 0.5])
    assert_matches(ours, cosine(x1, x2, t, margin=-0.5, reduction="none"))


def test_one_dimensional_inputs(isa):
    rng = rng_for("pairs 1d")
    x1, x2, x3 = (rng.standard_normal(9) for _ in range(3))
    loss, grads = L.cosine_embedding_loss(x1, x2, np.array(-1.0), reduction="none")
    assert loss.shape == () and all(g.shape == (9,) for g in grads)
    assert_matches((loss, grads), cosine(x1, x2, np.array(-1.0), reduction="none"))
    loss, grads = L.triplet_margin_loss(x1, x2, x3, margin=4.0, reduction="none")
    assert loss.shape == () and len(grads) == 3
    assert_matches((loss, grads), torch_pair(F.triplet_margin_loss, [x1, x2, x3], margin=4.0, reduction="none"))
    zero_d = [np.array(v) for v in (1.0, 2.0, -1.0)]  # one sample of one feature
    loss, grads = L.triplet_margin_loss(*zero_d, margin=3.0, reduction="none")
    assert loss.shape == () and loss == pytest.approx(3.0 + (1.0 - 1e-6) - (2.0 + 1e-6), rel=1e-15)
    assert_matches((loss, grads), torch_pair(F.triplet_margin_loss, zero_d, margin=3.0, reduction="none"))


@pytest.mark.parametrize("p", [2, 1, 0.5, 1.5, 3.0])
def test_triplet_zero_distances(isa, p):
    """eps = 0 and a == p == n: every distance is 0; torch's norm backward
    gives 0 there (no NaN), and so does optkern."""
    z = np.zeros((2, 4))
    for swap in (False, True):
        loss, grads = L.triplet_margin_loss(z, z.copy(), z.copy(), p=p, eps=0.0, swap=swap)
        assert loss == 1.0 and all(np.all(g == 0) for g in grads)
        assert_matches((loss, grads), torch_pair(F.triplet_margin_loss, [z, z, z], p=p, eps=0.0, swap=swap))


@pytest.mark.parametrize("p", [2, 1, 0.5, 3.0])
def test_triplet_zero_components(isa, p):
    """Some differences exactly 0 (eps = 0): the p < 1 slope |v|^(p-1) is
    masked to 0 there, as torch does."""
    a = np.array([[1.0, 2.0, 3.0, 0.0]])
    q = np.array([[1.0, 0.0, 3.0, 1.0]])
    n = np.array([[0.0, 2.0, 3.0, 4.0]])
    kw = dict(p=p, eps=0.0, margin=5.0, swap=True)
    ours = L.triplet_margin_loss(a, q, n, **kw)
    assert all(np.all(np.isfinite(g)) for g in ours[1])
    assert_matches(ours, torch_pair(F.triplet_margin_loss, [a, q, n], **kw))


def test_triplet_ties(isa):
    """swap with d(a, n) = d(p, n): each takes half the gradient (torch's
    minimum); margin + d(a, p) - d(a, n) = 0: clamp_min passes it."""
    a, q, n = np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]]), np.array([[1.0, 1.0]])
    ours = L.triplet_margin_loss(a, q, n, swap=True, eps=0.0, margin=5.0)
    np.testing.assert_allclose(ours[1][0], [[-1 + 0.5 / np.sqrt(2), 0.5 / np.sqrt(2)]], rtol=1e-15)
    assert_matches(ours, torch_pair(F.triplet_margin_loss, [a, q, n], swap=True, eps=0.0, margin=5.0))
    a, q, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[3.0, 0.0]])
    ours = L.triplet_margin_loss(a, q, n, eps=0.0, margin=2.0)
    assert ours[0] == 0 and np.array_equal(ours[1][1], [[1.0, 0.0]])
    assert_matches(ours, torch_pair(F.triplet_margin_loss, [a, q, n], eps=0.0, margin=2.0))


def test_threads_bitwise_for_every_norm(isa, num_threads):
    from helpers import assert_same_for_thread_counts

    rng = rng_for("pairs threads")
    x = [rng.standard_normal((700, 301)).astype(np.float32) for _ in range(3)]
    for p in (1, 2, 1.5):
        assert_same_for_thread_counts(num_threads, lambda: L.triplet_margin_loss(*x, p=p, swap=True, margin=20.0))


def test_out_tuple_in_place(isa):
    rng = rng_for("pairs out")
    x = [rng.standard_normal((5, 8)) for _ in range(3)]
    want = L.triplet_margin_loss(*x, swap=True, margin=3.0)
    buffers = [a.copy() for a in x]
    loss, grads = L.triplet_margin_loss(*buffers, swap=True, margin=3.0, out=tuple(buffers))
    assert loss == want[0] and all(g is b for g, b in zip(grads, buffers))
    assert all(np.array_equal(g, w) for g, w in zip(grads, want[1]))


def _bad_calls():
    rng = rng_for("pairs bad")
    a, b, c = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3))
    t = np.array([1, -1, 1, -1], np.float32)
    outs = tuple(np.ones((4, 3), np.float32) for _ in range(3))
    cos, tri = L.cosine_embedding_loss, L.triplet_margin_loss
    return [
        (ValueError, lambda: cos(a, b, t[:, None], out=outs[:2]), "multi-target"),
        (ValueError, lambda: cos(a, b, t[0, ...], out=outs[:2]), "0D target tensor expects 1D"),
        (ValueError, lambda: cos(a[0], b[0], t, out=(outs[0][0], outs[1][0])), "1D target tensor expects 2D"),
        (ValueError, lambda: cos(a, b[:, :2].copy(), t, out=outs[:2]), "optkern does not broadcast"),
        (ValueError, lambda: cos(a, b, t[:3], out=outs[:2]), "target has shape"),
        (TypeError, lambda: cos(a, b, t.astype(np.float64), out=outs[:2]), "dtype"),
        (TypeError, lambda: cos(a, b, np.array(["1"] * 4), out=outs[:2]), "numbers"),
        (TypeError, lambda: cos(a, b, t, out=outs[0]), "tuple of 2"),
        (TypeError, lambda: cos(a, b, t, out=outs), "tuple of 2"),
        (ValueError, lambda: cos(a, b, t, out=(b, outs[1])), "overlaps input2"),
        (ValueError, lambda: cos(a, b, t, out=(outs[0], outs[0])), "overlaps out"),
        (ValueError, lambda: cos(a, b, t, reduction="batchmean", out=outs[:2]), "reduction"),
        (ValueError, lambda: tri(a, b, c[0], out=outs), "same number of dimensions"),
        (ValueError, lambda: tri(a, b, c[:, :2].copy(), out=outs), "optkern does not broadcast"),
        (ValueError, lambda: tri(a, b, c, margin=0.0, out=outs), "margin must be greater than 0"),
        (ValueError, lambda: tri(a, b, c, p=0, out=outs), "p must be"),
        (ValueError, lambda: tri(a, b, c, p=-1.0, out=outs), "p must be"),
        (ValueError, lambda: tri(a, b, c, p=np.inf, out=outs), "p must be"),
        (TypeError, lambda: tri(a, b, c, swap=1, out=outs), "swap"),
        (TypeError, lambda: tri(a, b, c.astype(np.float64), out=outs), "dtype"),
        (TypeError, lambda: tri(a, b, c, out=outs[:2]), "tuple of 3"),
        (ValueError, lambda: tri(a, b, c, out=(outs[0], a, outs[2])), "overlaps anchor"),
        (ValueError, lambda: tri(a, b, c, out=(outs[0], outs[1], np.ones((3, 4), np.float32))), "out\\[2\\]"),
        (ValueError, lambda: tri(a, b, np.asfortranarray(np.ones((4, 3), np.float32)), out=outs), "contiguous"),
    ], [a, b, c, t, *outs]


def test_bad_input_raises_with_nothing_written(isa):
    calls, arrays = _bad_calls()
    for exc, call, match in calls:
        raises_unchanged(exc, call, *arrays, match=match)


def test_16_bit_inputs(isa):
    ml_dtypes = require_module("ml_dtypes")
    rng = rng_for("pairs 16")
    x = [rng.standard_normal((3, 40)).astype(ml_dtypes.bfloat16) for _ in range(3)]
    loss, grads = L.triplet_margin_loss(*x, p=1.5, margin=3.0)
    loss32, grads32 = L.triplet_margin_loss(*(a.astype(np.float32) for a in x), p=1.5, margin=3.0)
    assert loss.dtype == np.float32 and loss == loss32
    assert all(g.dtype == x[0].dtype for g in grads)
