"""Muon beyond the generic suites (its record in optim_cases.py runs it
through those, with matrices): awkward matrix shapes, tall and wide,
against the float64 reference and against torch's algorithm in the
parameters' dtype; torch itself (Newton-Schulz in bfloat16) to bfloat16's
precision; what is not a matrix refused; the work array kept out of the
state."""

import numpy as np
import pytest

import optkern
from helpers import raises_unchanged
from optim_cases import RECORDS
from optkern import functional as F
from reference import Reference

torch = pytest.importorskip("torch")

MUON = next(r for r in RECORDS if r.name == "Muon")
SHAPES = [(1, 1), (7, 17), (17, 7), (64, 1023), (1023, 64), (0, 5), (5, 0)]
TOLERANCE = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-14}}
KWARGS = [{"lr": 0.02}, {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0}]


def steps(shape, dtype, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype), [rng.standard_normal(shape).astype(dtype) for _ in range(n)]


@pytest.mark.parametrize("kwargs", KWARGS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_awkward_shapes_match_the_reference(isa, shape, dtype, kwargs):
    p, grads = steps(shape, dtype, 4)
    ref = Reference(MUON.rule, [p], **kwargs)
    opt = optkern.Muon([p], **kwargs)
    for g in grads:
        opt.step([g])
        ref.step([g])
    assert p.dtype == dtype and p.shape == shape
    np.testing.assert_allclose(p, ref.params[0], **TOLERANCE[dtype])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], ref.state[0]["momentum_buffer"], **TOLERANCE[dtype])


@pytest.mark.parametrize("kwargs", KWARGS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES[:5], ids=str)
def test_awkward_shapes_match_torchs_algorithm(isa, shape, dtype, kwargs):
    """torch.optim.Muon with its Newton-Schulz iteration in the parameters'
    dtype, 10 steps: the parameters within the parity bounds; the momentum
    buffer (torch's fused lerp) bit for bit in float64 on the vector
    targets, which fuse it too (the scalar target rounds twice)."""
    p, grads = steps(shape, dtype, 10, seed=1)
    t = torch.tensor(p)
    opt, topt = optkern.Muon([p], **kwargs), MUON.torch_optimizer([t], **kwargs)
    for g in grads:
        opt.step([g])
        t.grad = torch.tensor(g)
        topt.step()
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    np.testing.assert_allclose(p, t.numpy(), **tol)
    buffer, theirs = opt.state[p]["momentum_buffer"], topt.state[t]["momentum_buffer"].numpy()
    if dtype == np.float64 and isa != "scalar":
        np.testing.assert_array_equal(buffer, theirs)
    else:
        np.testing.assert_allclose(buffer, theirs, **tol)


@pytest.mark.parametrize("shape", [(64, 33), (33, 64), (128, 128)], ids=str)
@pytest.mark.parametrize("nesterov", [True, False])
def test_torch_in_bfloat16_agrees_to_its_precision(shape, nesterov):
    """torch runs Newton-Schulz in bfloat16 (8 bits of mantissa): one step's
    change of the parameters agrees within a few percent (Frobenius)."""
    p, grads = steps(shape, np.float32, 3, seed=2)
    t, start = torch.tensor(p), p.copy()
    kwargs = {"lr": 0.02, "nesterov": nesterov}
    opt, topt = optkern.Muon([p], **kwargs), torch.optim.Muon([t], **kwargs)
    for g in grads:
        before, tbefore = p.copy(), t.numpy().copy()
        opt.step([g])
        t.grad = torch.tensor(g)
        topt.step()
        ours, theirs = p - before, t.numpy() - tbefore
        assert np.linalg.norm(ours - theirs) <= 5e-2 * np.linalg.norm(theirs)
    assert np.linalg.norm(p - t.numpy()) <= 5e-2 * np.linalg.norm(t.numpy() - start)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4)], ids=str)
def test_what_is_not_a_matrix_is_refused(shape):
    match = "Muon only supports 2D parameters whereas we found a parameter with size"
    with pytest.raises(ValueError, match=match):
        optkern.Muon([np.zeros((2, 2)), np.zeros(shape)])
    with pytest.raises(ValueError, match=match):
        torch.optim.Muon([torch.zeros(2, 2), torch.zeros(shape)])
    p = np.ones((2, 2))
    opt = optkern.Muon([p])
    with pytest.raises(ValueError, match=match):
        opt.add_param_group({"params": [np.zeros(shape)]})
    assert len(opt.param_groups) == 1
    q = np.ones(shape)
    raises_unchanged(ValueError, lambda: F.muon_([p, q], [np.ones_like(p), np.ones_like(q)],
                                                 [np.zeros_like(p), np.zeros_like(q)]), p, q, match=match)


def test_the_update_is_not_state():
    """The update a step orthogonalises is a work array of the step: the
    state holds torch's momentum_buffer only, as torch's state dict does."""
    p = np.ones((3, 4))
    opt = optkern.Muon([p])
    opt.step([np.full((3, 4), 0.5)])
    assert set(opt.state[p]) == {"momentum_buffer"}
    assert set(opt.state_dict()["state"][0]) == {"momentum_buffer"}
    assert optkern.optim._engine.kind("muon").work == ("update",)


def test_functional_form_skips_missing_grads_and_checks_its_buffers():
    p, q = np.ones((3, 4)), np.ones((4, 3))
    bufs = [np.zeros((3, 4)), np.zeros((4, 3))]
    F.muon_([p, q], [np.full((3, 4), 0.5), None], bufs, lr=0.1)
    assert np.all(q == 1) and np.all(bufs[1] == 0) and not np.all(p == 1)
    raises_unchanged(ValueError, lambda: F.muon_([p, q], [np.ones((3, 4)), np.ones((4, 3))], bufs[:1]), p, q, *bufs,
                     match="expected 2 momentum_buffers")
    raises_unchanged(ValueError, lambda: F.muon_([p, q], [np.ones((3, 4)), np.ones((4, 3))], [bufs[0], bufs[0]]),
                     p, q, *bufs, match="shape")
    raises_unchanged(ValueError, lambda: F.muon_([p], [np.ones((3, 4))], [bufs[0]], ns_steps=100), p, bufs[0],
                     match="less than 100")


def test_a_bad_gradient_late_in_the_list_writes_nothing():
    """The two C calls of a step run only after every array is checked: a
    bad last gradient leaves every parameter and buffer as it was."""
    params = [np.ones((3, 4)), np.ones((4, 3)), np.ones((2, 2))]
    opt = optkern.Muon(params, lr=0.1)
    opt.step([np.full(p.shape, 0.5) for p in params])
    before = [p.copy() for p in params] + [opt.state[p]["momentum_buffer"].copy() for p in params]
    with pytest.raises(TypeError, match="dtype"):
        opt.step([np.ones((3, 4)), np.ones((4, 3)), np.ones((2, 2), np.float32)])
    after = [p.copy() for p in params] + [opt.state[p]["momentum_buffer"].copy() for p in params]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(before, after))
