"""Every optimizer rule against the float64 NumPy reference, under every
instruction set, both dtypes and awkward sizes."""

import numpy as np
import pytest

from optim_cases import CASES, RECORDS, case_id, record_id
from reference import Reference

SHAPES = [(0,), (1,), (7,), (15,), (16,), (17,), (1023,), (65537,), (3, 5, 7)]
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def run_both(record, kwargs, shapes, dtype, steps=None, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [record.shape(s) for s in shapes]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ref = Reference(record.rule, params, **kwargs)
    opt = record.make(params, **kwargs)
    for _ in range(steps or record.steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        opt.step(grads)
        ref.step(grads)
    return params, ref


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_reference(isa, case, dtype, shape):
    record, kwargs = case
    params, ref = run_both(record, kwargs, [shape], dtype)
    assert params[0].dtype == dtype and params[0].shape == record.shape(shape)
    np.testing.assert_allclose(params[0], ref.params[0], **TOLERANCE[dtype])


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_many_tensors_in_one_call(isa, case, dtype):
    """A list of tensors of mixed sizes is one call; each matches the reference."""
    record, kwargs = case
    shapes = [(5,), (0,), (64,), (3, 31), (1,), (4097,), (2, 2, 2)]
    params, ref = run_both(record, kwargs, shapes, dtype, steps=max(4, record.steps), seed=1)
    for got, want in zip(params, ref.params):
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_mixed_dtypes_across_tensors(isa, case):
    """float32 and float64 parameters may share an optimizer; each is
    updated in its own dtype."""
    record, kwargs = case
    rng = np.random.default_rng(2)
    params = [rng.standard_normal(record.shape((33,))).astype(np.float32), rng.standard_normal(record.shape((20,)))]
    ref = Reference(record.rule, params, **kwargs)
    opt = record.make(params, **kwargs)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
        opt.step(grads)
        ref.step(grads)
    np.testing.assert_allclose(params[0], ref.params[0], **TOLERANCE[np.float32])
    np.testing.assert_allclose(params[1], ref.params[1], **TOLERANCE[np.float64])
    assert params[0].dtype == np.float32 and params[1].dtype == np.float64


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.parametrize("shape", [(100,), (4, 25), (2, 3, 17)], ids=str)
def test_state_matches_reference(isa, record, shape):
    """The state arrays themselves (torch's names and shapes) hold the
    reference values."""
    rng = np.random.default_rng(3)
    params = [rng.standard_normal(record.shape(shape))]
    kwargs = {"lr": 0.01, **record.all_states}
    ref = Reference(record.rule, params, **kwargs)
    opt = record.make(params, **kwargs)
    for _ in range(max(5, record.steps)):
        grads = [rng.standard_normal(params[0].shape)]
        opt.step(grads)
        ref.step(grads)
    state = opt.state[params[0]]
    assert set(state) == set(ref.state[0]) and set(record.states_of(params[0].shape)) <= set(state)
    for name, want in ref.state[0].items():
        assert np.shape(state[name]) == np.shape(want), name
        np.testing.assert_allclose(state[name], want, rtol=1e-13, atol=1e-15)  # atol: entries that cancel
