"""A canary for out-of-bounds tail writes: every array the kernels touch is
the head of a longer buffer whose tail holds a sentinel, at sizes that are
not multiples of any vector width; after optimizer steps and loss calls the
tails must still hold the sentinel. Every optimizer (Optimizer.registry())
with every state on (optim_cases.RECORDS), and every loss of the registry
(loss_cases.LOSSES)."""

import numpy as np
import pytest

from helpers import DTYPES
from loss_cases import examples
from optim_cases import RECORDS, record_id

SIZES = [1, 7, 15, 17, 1023]
SENTINEL = -1234.5
TAIL = 16


class Canary:
    """Arrays carved from the heads of sentinel-tailed buffers."""

    def __init__(self):
        self.buffers = []

    def carve(self, values):
        values = np.asarray(values)
        buf = np.full(values.size + TAIL, SENTINEL, dtype=values.dtype)
        buf[:values.size] = values.ravel()
        self.buffers.append(buf)
        return buf[:values.size].reshape(values.shape)

    def assert_intact(self):
        for buf in self.buffers:
            tail = buf[buf.size - TAIL:]
            assert np.all(tail == tail.dtype.type(SENTINEL)), f"written past the end: {tail}"


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("record", RECORDS, ids=record_id)
@pytest.mark.parametrize("matrix", [False, True], ids=["vector", "matrix"])
def test_optimizer_steps_stay_in_bounds(isa, record, dtype, n, matrix):
    """n elements, or a batch of matrices of n columns (the states of a
    matrix may have other shapes)."""
    kwargs = {"lr": 0.01, **record.all_states}
    rng = np.random.default_rng(n)
    canary = Canary()
    shape = record.shape((2, 3, n) if matrix else (n,))

    def arrays(count):
        return [canary.carve(rng.standard_normal(shape).astype(dtype)) for _ in range(count)]

    # the class: parameters and gradients carved
    params = arrays(2)
    opt = record.make(params, **kwargs)
    for _ in range(3):
        opt.step(arrays(2))
    assert set(record.states_of(shape)) <= set(opt.state[params[0]]), f"{record.name}'s all_states leaves a state off"
    # the functional form: every state carved too, in the descriptor's order (a
    # scalar state, a 0-d float32 array, carved from a float32 buffer of its own)
    params = arrays(2)
    states = record.new_states(params, lambda s, dt: canary.carve(np.abs(rng.standard_normal(s)).astype(dt)))
    before = [p.copy() for p in params]
    kept = record.functional_kwargs()
    for step in range(1, 4):
        phase = {"step": step} if record.takes_step else {}
        record.functional(params, arrays(2), *states, **kwargs, **phase, **kept)
    assert not any(np.array_equal(p, b) for p, b in zip(params, before)), "the steps changed nothing"
    canary.assert_intact()


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,options", examples())
def test_loss_stays_in_bounds(isa, case, options, dtype, n):
    x, t, kw = case.make((n,), dtype, **options)
    want_loss, want_grad = case.fn(x, t, **kw)
    canary = Canary()
    x = canary.carve(x)
    if t.shape == x.shape:
        t = canary.carve(t)
    kw = {k: canary.carve(v) if isinstance(v, np.ndarray) and v.shape == x.shape else v for k, v in kw.items()}
    outs = [canary.carve(np.zeros_like(a)) for a in case.inputs(x, t, kw)]
    loss, grad = case.fn(x, t, out=case.out_of(outs), **kw)
    assert loss == want_loss
    for g, o, w in zip(case.gradients(grad), outs, case.gradients(want_grad)):
        assert g is o and np.array_equal(o, w)
    canary.assert_intact()
