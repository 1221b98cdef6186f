"""Property-based tests (hypothesis): shapes, dtypes, offsets, hyperparameters
and options drawn for every optimizer record (optim_cases.RECORDS) and every
loss record (loss_cases.LOSSES), checked against the float64 references;
and malformed inputs drawn for every optimizer, each of which must raise a
clear exception and change nothing.

The examples are derandomized (the same on every run), so that a failure
is reproducible and CI does not flake; the sizes are small, so that each
test takes a second or two.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import check
from loss_cases import LOSSES
from optim_cases import RECORDS
from reference import Reference

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}

dtypes = st.sampled_from([np.float32, np.float64])
shapes = st.lists(st.integers(0, 40), min_size=0, max_size=3).map(tuple)


def placed(values, offset):
    """values at `offset` elements into a buffer: offset 1 is an unaligned view."""
    buf = np.empty(values.size + offset, dtype=values.dtype)
    view = buf[offset:].reshape(values.shape)
    view[...] = values
    return view


@st.composite
def optimizer_runs(draw):
    record = draw(st.sampled_from(RECORDS))
    kwargs = draw(st.sampled_from(record.configs + [dict(record.all_states, lr=0.01)]))
    return record, kwargs, draw(dtypes), draw(st.lists(shapes, min_size=1, max_size=4)), \
        draw(st.integers(0, 1)), draw(st.integers(1, 3)), draw(st.integers(0, 2**32 - 1))


@SETTINGS
@given(run=optimizer_runs())
def test_optimizers_match_the_reference(run):
    record, kwargs, dtype, shape_list, offset, steps, seed = run
    rng = np.random.default_rng(seed)
    params = [placed(rng.standard_normal(record.shape(s)).astype(dtype), offset) for s in shape_list]
    ref = Reference(record.rule, params, **kwargs)
    opt = record.make(params, **kwargs)
    for _ in range(steps):
        # a parameter without a gradient now and then: it is left alone
        grads = [None if rng.uniform() < 0.2 else placed(rng.standard_normal(p.shape).astype(dtype), offset)
                 for p in params]
        opt.step(grads)
        ref.step(grads)
    for got, want in zip(params, ref.params):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


@st.composite
def loss_calls(draw):
    case = draw(st.sampled_from(LOSSES))
    options = draw(st.sampled_from(case.examples))
    reduction = draw(st.sampled_from(case.reductions))
    if case.rows:
        inner = draw(st.lists(st.integers(1, 4), max_size=1))
        shape = (draw(st.integers(1, 6)), draw(st.integers(1, 30)), *inner)
    else:
        shape = tuple(draw(st.lists(st.integers(1, 20), min_size=1, max_size=3)))
    return case, options, reduction, shape, draw(dtypes), draw(st.integers(0, 2**32 - 1))


@SETTINGS
@given(call=loss_calls())
def test_losses_match_the_reference(call):
    case, options, reduction, shape, dtype, seed = call
    x, t, kw = case.make(shape, dtype, seed=seed % 1000, **options)
    kw = {k: v for k, v in kw.items() if k != "reduction"}
    what = f"{case.name} {options} {shape} {reduction}"
    check(case.fn(x, t, reduction=reduction, **kw), case.ref(x, t, reduction=reduction, **kw), x, what,
          reduction, unit=case.unit_of(t, kw, reduction), inputs=case.inputs(x, t, kw))


def malformed(kind, p, rng):
    """A gradient for parameter p that is wrong in the way `kind` says."""
    good = rng.standard_normal(p.shape).astype(p.dtype)
    return {
        "dtype": lambda: good.astype(np.float64 if p.dtype == np.float32 else np.float32),
        "integer": lambda: good.astype(np.int32),
        "shape": lambda: np.ones(p.size + 1, p.dtype),
        "strided": lambda: np.repeat(good.ravel(), 2)[::2].reshape(p.shape) if p.size > 1 else [1.0],
        "list": lambda: good.tolist(),
        "is its parameter": lambda: p,
        "byte order": lambda: good.astype(good.dtype.newbyteorder()) if p.size else [1.0],
    }[kind]()


@SETTINGS
@given(record=st.sampled_from(RECORDS), dtype=dtypes, shape_list=st.lists(shapes, min_size=1, max_size=3),
       kind=st.sampled_from(["dtype", "integer", "shape", "strided", "list", "is its parameter", "byte order"]),
       where=st.integers(0, 2), seed=st.integers(0, 2**32 - 1))
def test_malformed_gradients_raise_and_change_nothing(record, dtype, shape_list, kind, where, seed):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(record.shape(s)).astype(dtype) for s in shape_list]
    opt = record.make(params, lr=0.01, **record.all_states)
    opt.step([np.ones_like(p) for p in params])  # state exists
    before = [p.copy() for p in params]
    state_before = {i: {k: np.array(v, copy=True) for k, v in opt.state[p].items()} for i, p in enumerate(params)}
    where = where % len(params)
    grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
    grads[where] = malformed(kind, params[where], rng)
    if kind == "is its parameter" and params[where].size == 0:
        return  # an empty array overlaps nothing: a valid call
    with pytest.raises((TypeError, ValueError)):
        opt.step(grads)
    for p, b in zip(params, before):
        assert p.tobytes() == b.tobytes()
    for i, p in enumerate(params):
        for k, v in opt.state[p].items():
            assert np.array_equal(np.asarray(v), state_before[i][k])


def malformed_call(kind, case, x, t, kw):
    """(arguments of a call of case.fn, the arrays it must leave unchanged)
    that are wrong in the way `kind` says."""
    out = np.full_like(x, 3.0)
    other = x.astype(np.float64 if x.dtype == np.float32 else np.float32)
    if kind == "out dtype":
        return (x, t), dict(kw, out=out.astype(other.dtype)), [x]
    if kind == "out shape":
        return (x, t), dict(kw, out=np.zeros(x.size + 1, x.dtype)), [x]
    if kind == "out read-only":
        out.flags.writeable = False
        return (x, t), dict(kw, out=out), [x, out]
    if kind == "input dtype":
        return (other, t), dict(kw, out=out), [out]
    if kind == "input strided":
        strided = np.repeat(x.ravel(), 2)[::2].reshape(x.shape)
        return (strided, t), dict(kw, out=out), [strided, out]
    if kind == "out overlaps target" and np.issubdtype(t.dtype, np.floating) and t.shape == x.shape:
        return (x, t), dict(kw, out=t), [x, t]
    return None


@SETTINGS
@given(call=loss_calls(), kind=st.sampled_from(["out dtype", "out shape", "out read-only", "input dtype",
                                                 "input strided", "out overlaps target"]))
def test_malformed_loss_calls_raise_and_change_nothing(call, kind):
    case, options, reduction, shape, dtype, seed = call
    x, t, kw = case.make(shape, dtype, seed=seed % 1000, **options)
    made = malformed_call(kind, case, x, t, kw)
    if made is None or (kind == "input strided" and x.size < 2):
        return  # not applicable to this loss or shape
    args, kwargs, unchanged = made
    before = [a.copy() for a in unchanged]
    with pytest.raises((TypeError, ValueError)):
        case.fn(*args, **kwargs)
    for a, b in zip(unchanged, before):
        assert np.array_equal(a, b, equal_nan=True), f"{case.name}: an array was written before the error"
