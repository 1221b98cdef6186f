"""Bitwise reproducibility: any thread count, any alignment, any run."""

import numpy as np
import pytest

from helpers import threaded
from optim_cases import CASES, RECORDS, case_id, record_id

# Large enough that the kernels do use several threads (the break-even
# size is 16384 elements), with sizes that split at awkward places; a
# matrix large enough to be cut into several blocks of rows (Adafactor).
SHAPES = [(65537,), (1,), (40000,), (3, 11, 1001), (17,), (0,), (100003,), (300, 257)]


def train(record, kwargs, dtype, shapes, make=None, seed=0):
    rng = np.random.default_rng(seed)
    make = make or (lambda a: a)
    shapes = [record.shape(s) for s in shapes]
    params = [make(rng.standard_normal(s).astype(dtype)) for s in shapes]
    opt = record.make(params, **kwargs)
    for _ in range(record.steps):
        opt.step([make(rng.standard_normal(s).astype(dtype)) for s in shapes])
    return [p.copy() for p in params]


def assert_bitwise_equal(a, b):
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_and_two_threads_bitwise_equal(isa, num_threads, case, dtype):
    record, kwargs = case
    num_threads(1)
    one = train(record, kwargs, dtype, SHAPES)
    num_threads(2)
    with threaded():
        two = train(record, kwargs, dtype, SHAPES)
    num_threads(3)  # more threads than cores, uneven split
    with threaded():
        three = train(record, kwargs, dtype, SHAPES)
    assert_bitwise_equal(one, two)
    assert_bitwise_equal(one, three)


def unaligned(a):
    """A copy of `a` that starts one element past an aligned boundary."""
    buf = np.empty(a.size + 1, dtype=a.dtype)
    view = buf[1:].reshape(a.shape)
    view[...] = a
    return view


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unaligned_views_bitwise_equal(isa, case, dtype):
    """Arrays offset by one element give exactly the aligned result: every
    element goes through the same arithmetic wherever it lies."""
    record, kwargs = case
    shapes = [(1023,), (17,), (65537,), (3, 5, 7)]
    aligned = train(record, kwargs, dtype, shapes)
    offset = train(record, kwargs, dtype, shapes, make=unaligned)
    assert_bitwise_equal(aligned, offset)


@pytest.mark.parametrize("record", RECORDS, ids=record_id)
def test_repeated_runs_bitwise_equal(isa, record):
    kwargs = {"lr": 0.01, **record.all_states}
    a = train(record, kwargs, np.float32, SHAPES)
    b = train(record, kwargs, np.float32, SHAPES)
    assert_bitwise_equal(a, b)
