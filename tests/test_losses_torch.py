"""optkern.losses against torch.nn.functional with autograd, the external
oracle: every loss and option combination, loss and gradient, on every
instruction set. torch runs in float64 on the same values (float32 inputs
upcast), so its own rounding does not blur the comparison; optkern float32
is held to the spec's 1e-5, float64 to 1e-10. Skipped without torch.
"""

import itertools

import numpy as np
import pytest

from optkern import losses as L
from test_losses import DTYPES, REDUCTIONS, assert_close, ce_data, gradient_unit, rng_for

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_TOLERANCE = {np.float32: None, np.float64: (1e-10, 1e-12)}


def as_torch(value):
    if isinstance(value, np.ndarray):
        if np.issubdtype(value.dtype, np.integer):
            return torch.from_numpy(value.astype(np.int64))
        return torch.from_numpy(value.astype(np.float64))
    return value


def torch_loss_and_grad(fn, x, *args, **kwargs):
    """torch's loss and d loss.sum() / d x, in float64."""
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    loss = fn(xt, *[as_torch(a) for a in args], **{k: as_torch(v) for k, v in kwargs.items()})
    loss.sum().backward()
    return loss.detach().numpy(), xt.grad.numpy()


def compare(ours, theirs, x, what, unit=0.0):
    dtype = x.dtype.type
    close = assert_close
    if dtype == np.float64:
        def close(a, b, d, w, u=0.0):
            rtol, floor = TORCH_TOLERANCE[np.float64]
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            finite = np.abs(b[np.isfinite(b)])
            atol = floor * max(finite.max() if finite.size else 1.0, u)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=w)
    close(ours[0], theirs[0], dtype, what + " loss")
    close(ours[1], theirs[1], dtype, what + " grad", unit)


@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_matches_torch(isa, dtype):
    rng = rng_for("torch regression")
    x = np.asarray(2 * rng.standard_normal((6, 9)), dtype=dtype)
    y = np.asarray(rng.standard_normal((6, 9)), dtype=dtype)
    w = np.asarray(rng.uniform(0.1, 2, (6, 9)), dtype=dtype)
    cases = [("mse_loss", {}), ("mse_loss", {"weight": w}), ("l1_loss", {}), ("l1_loss", {"weight": w}),
             ("huber_loss", {}), ("huber_loss", {"delta": 0.3, "weight": w}), ("huber_loss", {"delta": 2.5}),
             ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.4}), ("smooth_l1_loss", {"beta": 0.0})]
    for (name, kw), reduction in itertools.product(cases, REDUCTIONS):
        compare(getattr(L, name)(x, y, reduction=reduction, **kw),
                torch_loss_and_grad(getattr(F, name), x, y, reduction=reduction, **kw), x, f"{name} {kw} {reduction}")


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_matches_torch(isa, dtype):
    rng = rng_for("torch kl")
    x = np.asarray(np.log(rng.uniform(0.01, 1, (5, 8))), dtype=dtype)
    y = rng.uniform(0, 1, (5, 8))
    y[rng.uniform(size=y.shape) < 0.25] = 0
    for log_target, reduction in itertools.product([False, True], REDUCTIONS + ["batchmean"]):
        yy = np.asarray(np.log(rng.uniform(0.01, 1, (5, 8))) if log_target else y, dtype=dtype)
        compare(L.kl_div(x, yy, reduction=reduction, log_target=log_target),
                torch_loss_and_grad(F.kl_div, x, yy, reduction=reduction, log_target=log_target), x,
                f"kl_div log_target={log_target} {reduction}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_matches_torch(isa, dtype):
    rng = rng_for("torch bce")
    for shape, wshape, pshape in [((7, 4), None, None), ((7, 4), (7, 4), (4,)), ((7, 4), (7, 1), None),
                                  ((2, 3, 4), (3, 1), (4,)), ((2, 3, 4), (2, 1, 4), (1,))]:
        x = np.asarray(4 * rng.standard_normal(shape), dtype=dtype)
        y = np.asarray(rng.uniform(0, 1, shape), dtype=dtype)
        w = None if wshape is None else np.asarray(rng.uniform(0.1, 2, wshape), dtype=dtype)
        p = None if pshape is None else np.asarray(rng.uniform(0.1, 3, pshape), dtype=dtype)
        for reduction in REDUCTIONS:
            compare(L.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction, pos_weight=p),
                    torch_loss_and_grad(F.binary_cross_entropy_with_logits, x, y, weight=w, reduction=reduction,
                                        pos_weight=p), x, f"bce {shape} {wshape} {pshape} {reduction}")


TORCH_CE_SHAPES = [(6, 5), (4, 37), (7,), (3, 4, 5), (2, 3, 4, 5)]


@pytest.mark.parametrize("shape", TORCH_CE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_matches_torch(isa, shape, dtype):
    for probs, weighted, ignore, smoothing, reduction in itertools.product(
            [False, True], [False, True], [None, -100, 1], [0.0, 0.15, 1.0], REDUCTIONS):
        if probs and ignore is not None:
            continue
        x, t, c = ce_data(shape, dtype, probs, ignore=ignore == -100)
        w = np.asarray(rng_for("w", c).uniform(0.2, 2, c), dtype=dtype) if weighted else None
        kw = dict(weight=w, reduction=reduction, label_smoothing=smoothing)
        if ignore is not None:
            kw["ignore_index"] = ignore
        what = f"cross_entropy {shape} probs={probs} {kw}"
        unit = gradient_unit(t if ignore != 1 else np.where(t == 1, -100, t), w, probs, reduction)
        compare(L.cross_entropy(x, t, **kw), torch_loss_and_grad(F.cross_entropy, x, t, **kw), x, what, unit)
        if not probs and smoothing == 0.0:
            kw.pop("label_smoothing")
            compare(L.nll_loss(x, t, **kw), torch_loss_and_grad(F.nll_loss, x, t, **kw), x, f"nll_loss {kw}", unit)


def torch_z_loss_softcap(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                         z_loss=0.0, softcap=None):
    """optkern's extensions, built from torch: soft-cap the logits, then add
    z_loss * w[y] * lse^2 per sample (w[y] = 1 for probabilities) to torch's
    per-sample cross-entropy; 'mean' keeps torch's denominator."""
    logits = x if softcap is None else softcap * torch.tanh(x / softcap)
    per_sample = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction="none",
                                 label_smoothing=label_smoothing)
    lse = torch.logsumexp(logits, dim=1 if logits.dim() > 1 else 0)
    if target.dtype == torch.int64:
        live = target != ignore_index
        rho = torch.ones_like(lse) if weight is None else weight[torch.where(live, target, 0)]
        rho = torch.where(live, rho, torch.zeros_like(rho))
        denominator = rho.sum()
    else:
        rho = torch.ones_like(lse)
        denominator = torch.tensor(float(lse.numel()), dtype=lse.dtype)
    total = per_sample + z_loss * rho * lse * lse
    if reduction == "none":
        return total
    return total.sum() if reduction == "sum" else total.sum() / denominator


@pytest.mark.parametrize("shape", [(6, 5), (4, 37), (7,), (3, 4, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_z_loss_and_softcap_match_torch_composition(isa, shape, dtype):
    for probs, weighted, z, cap, smoothing, reduction in itertools.product(
            [False, True], [False, True], [0.0, 1e-2], [None, 2.0], [0.0, 0.1], REDUCTIONS):
        x, t, c = ce_data(shape, dtype, probs, ignore=True)
        x = 3 * x
        w = np.asarray(rng_for("w", c).uniform(0.2, 2, c), dtype=dtype) if weighted else None
        kw = dict(weight=w, reduction=reduction, label_smoothing=smoothing, z_loss=z, softcap=cap)
        compare(L.cross_entropy(x, t, **kw), torch_loss_and_grad(torch_z_loss_softcap, x, t, **kw), x,
                f"cross_entropy {shape} probs={probs} {kw}", gradient_unit(t, w, probs, reduction))


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_match_torch(isa, dtype):
    rng = rng_for("torch extreme")
    x = np.asarray(rng.choice([-1e4, 1e4, 0.0, -np.inf, 3.0], size=(8, 12)), dtype=dtype)
    x[:, 0] = 1.0  # every row has a finite logit
    t = rng.integers(0, 12, 8)
    t[np.isinf(x[np.arange(8), t])] = 0
    for kw in ({}, {"reduction": "none"}, {"label_smoothing": 0.1, "reduction": "none"}):
        compare(L.cross_entropy(x, t, **kw), torch_loss_and_grad(F.cross_entropy, x, t, **kw), x, f"extreme {kw}")
    x = np.full((3, 9), 7.0, dtype=dtype)  # equal logits
    compare(L.cross_entropy(x, np.array([0, 4, 8])), torch_loss_and_grad(F.cross_entropy, x, np.array([0, 4, 8])),
            x, "equal rows")


def test_nan_propagates_as_in_torch(isa):
    x = np.random.default_rng(3).standard_normal((4, 6))
    x[1, 2] = np.nan
    x[2, 5] = np.inf
    t = np.array([0, 1, 2, 3])
    for kw in ({"reduction": "none"}, {"reduction": "none", "label_smoothing": 0.1}, {}):
        ours = L.cross_entropy(x, t, **kw)
        theirs = torch_loss_and_grad(F.cross_entropy, x, t, **kw)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=str(kw))
    y = np.zeros_like(x)
    for name in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits"):
        ours = getattr(L, name)(x, y, reduction="none")
        theirs = torch_loss_and_grad(getattr(F, name), x, y, reduction="none")
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)


def test_ignored_samples_with_nan_logits_differ_from_torch_by_design(isa):
    # Ignored samples are not read: their gradient is exactly 0, where
    # torch's is 0 * NaN = NaN. Their loss is 0 in both.
    x = np.random.default_rng(3).standard_normal((3, 5))
    x[1, :] = np.nan
    t = np.array([0, -100, 2])
    loss, grad = L.cross_entropy(x, t, reduction="none")
    tl, tg = torch_loss_and_grad(F.cross_entropy, x, t, reduction="none")
    np.testing.assert_allclose(loss, tl)
    assert np.all(grad[1] == 0) and np.all(np.isnan(tg[1]))
    np.testing.assert_allclose(grad[[0, 2]], tg[[0, 2]])
