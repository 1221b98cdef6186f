"""optkern.losses against torch.nn.functional with autograd, the external
oracle: every loss of the registry (loss_cases.LOSSES) on its torch option
grid, every reduction, loss and gradient, on every instruction set. torch
runs in float64 on the same values (float32 inputs upcast), so its own
rounding does not blur the comparison; optkern float32 is held to the
spec's 1e-5, float64 to 1e-10. Skipped without torch.
"""

import numpy as np
import pytest

from helpers import DTYPES, assert_close, require_module, rng_for
from loss_cases import LOSSES, variants
from optkern import losses as L

torch = require_module("torch")
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
    tolerance = TORCH_TOLERANCE[dtype]
    assert_close(ours[0], theirs[0], dtype, what + " loss", tolerance=tolerance)
    assert_close(ours[1], theirs[1], dtype, what + " grad", unit, tolerance=tolerance)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,variant,reduction", variants("torch_grid"))
def test_matches_torch(isa, case, variant, reduction, dtype):
    for shape in variant.shapes:
        x, t, kw = case.make(shape, dtype, seed=2, **variant.options)
        compare(case.fn(x, t, reduction=reduction, **kw),
                torch_loss_and_grad(case.oracle, x, t, reduction=reduction, **kw), x,
                f"{case.name} {variant.id} {shape} {reduction}", case.unit_of(t, kw, reduction))


@pytest.mark.parametrize("case", [c for c in LOSSES if c.elementwise], ids=lambda c: c.name)
def test_nan_propagates_as_in_torch_elementwise(isa, case):
    x = np.random.default_rng(3).standard_normal((4, 6))
    x[1, 2] = np.nan
    x[2, 5] = np.inf
    y = np.zeros_like(x)
    ours = case.fn(x, y, reduction="none")
    theirs = torch_loss_and_grad(case.oracle, x, y, reduction="none")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-12)


def test_cross_entropy_nan_propagates_as_in_torch(isa):
    x = np.random.default_rng(3).standard_normal((4, 6))
    x[1, 2] = np.nan
    x[2, 5] = np.inf
    t = np.array([0, 1, 2, 3])
    for kw in ({"reduction": "none"}, {"reduction": "none", "label_smoothing": 0.1}, {}):
        ours = L.cross_entropy(x, t, **kw)
        theirs = torch_loss_and_grad(F.cross_entropy, x, t, **kw)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=str(kw))


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
