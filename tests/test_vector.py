"""The vector operations (optkern/vector.h, optkern._core.vec_*): a list of
arrays taken as one vector, against NumPy in float64, under every
instruction set, at awkward sizes; bitwise the same for any thread count;
bad input refused with nothing written."""

import numpy as np
import pytest

from helpers import raises_unchanged, require_module, rng_for
from optkern import _core

# lists of shapes: empty ones, ones that split vectors and reduction blocks at odd places
LISTS = [[(0,)], [(1,)], [(17,)], [(7,), (0,), (1023,)], [(65537,)], [(3, 5), (1,), (40000,), (2, 2, 2)]]
TOLERANCE = {np.float32: 1e-6, np.float64: 1e-14}


def vectors(shapes, dtype, *keys):
    rng = rng_for(tuple(shapes), np.dtype(dtype).name, *keys)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays]).astype(np.float64) if arrays else np.zeros(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", LISTS, ids=str)
def test_reductions_match_numpy(isa, dtype, shapes):
    x, y = vectors(shapes, dtype, "x"), vectors(shapes, dtype, "y")
    fx, fy = flat(x), flat(y)
    # each product is rounded to the dtype, then summed in double
    products = (fx.astype(dtype) * fy.astype(dtype)).astype(np.float64)
    scale = np.abs(products).sum() + 1e-300
    assert abs(_core.vec_dot(x, y) - products.sum()) <= TOLERANCE[np.float64] * scale
    assert abs(_core.vec_abs_sum(x) - np.abs(fx).sum()) <= TOLERANCE[np.float64] * (np.abs(fx).sum() + 1e-300)
    assert _core.vec_abs_max(x) == (np.abs(fx).max() if fx.size else 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (-1.0, 0.0), (0.37, 1.0), (1.0, -1.0), (2.5, -0.75)])
@pytest.mark.parametrize("shapes", LISTS, ids=str)
def test_axpby_matches_numpy(isa, dtype, alpha, beta, shapes):
    x, y = vectors(shapes, dtype, "x"), vectors(shapes, dtype, "y")
    want = [alpha * a.astype(np.float64) + beta * b.astype(np.float64) for a, b in zip(x, y)]
    if beta == 0:
        for b in y:
            b[...] = np.nan  # not read
    _core.vec_axpby(alpha, x, beta, y)
    for got, w in zip(y, want):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, w, rtol=TOLERANCE[dtype] * 4, atol=TOLERANCE[dtype] * 8)


def test_axpby_forms_round_as_documented():
    """beta == 1 and alpha == 1 are single roundings (fused on the vector
    targets); a copy and a negation are exact."""
    x = vectors([(1000,)], np.float32, "x")
    y = vectors([(1000,)], np.float32, "y")
    out = [y[0].copy()]
    _core.vec_axpby(1.0, x, 0.0, out)
    assert out[0].tobytes() == x[0].tobytes()
    _core.vec_axpby(-1.0, x, 0.0, out)
    assert out[0].tobytes() == (-x[0]).tobytes()
    out = [y[0].copy()]
    _core.vec_axpby(1.0, x, -1.0, out)  # x - y: exact as a subtraction
    assert out[0].tobytes() == (x[0] - y[0]).tobytes()


def test_axpby_in_place_scaling():
    x = [np.arange(37.0)]
    _core.vec_axpby(0.5, x, 0.0, x)
    np.testing.assert_array_equal(x[0], np.arange(37.0) / 2)


def test_abs_max_nan_and_empty():
    x = [np.ones(100, np.float32), np.ones(5, np.float32)]
    x[1][3] = np.nan
    assert np.isnan(_core.vec_abs_max(x))
    assert _core.vec_abs_max([]) == 0.0 and _core.vec_dot([], []) == 0.0


def sixteen_bit(name):
    """bfloat16 (ml_dtypes') or float16."""
    return np.dtype(require_module("ml_dtypes", "ml_dtypes (bfloat16)").bfloat16) if name == "bfloat16" \
        else np.dtype(np.float16)


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
@pytest.mark.parametrize("shapes", LISTS, ids=str)
def test_sixteen_bit_arrays_are_read_as_float32(isa, name, shapes):
    """16-bit arrays: read as float32 (exact), each product rounded to
    float32 and summed in double; axpby computed in float32 (as the float32
    operation, bitwise) and rounded once to the dtype, to nearest even."""
    dtype = sixteen_bit(name)
    x, y = vectors(shapes, dtype, "x"), vectors(shapes, dtype, "y")
    wide = [[a.astype(np.float32) for a in v] for v in (x, y)]
    assert _core.vec_dot(x, y) == _core.vec_dot(*wide)
    assert _core.vec_abs_sum(x) == _core.vec_abs_sum(wide[0])
    assert _core.vec_abs_max(x) == _core.vec_abs_max(wide[0])
    for alpha, beta in [(0.37, 0.0), (0.37, 1.0), (1.0, -0.75), (2.5, -0.75)]:
        got, want = [b.copy() for b in y], [b.copy() for b in wide[1]]
        _core.vec_axpby(alpha, x, beta, got)
        _core.vec_axpby(alpha, wide[0], beta, want)
        for g, w in zip(got, want):
            assert g.dtype == dtype
            np.testing.assert_array_equal(g.view(np.uint16), w.astype(dtype).view(np.uint16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "bfloat16", "float16"])
def test_threads_bitwise_equal(isa, num_threads, dtype):
    if isinstance(dtype, str):
        dtype = sixteen_bit(dtype)
    x, y = vectors([(70001,), (3,), (100003,)], dtype, "x"), vectors([(70001,), (3,), (100003,)], dtype, "y")
    results = []
    for n in (1, 2, 3):
        num_threads(n)
        out = [b.copy() for b in y]
        _core.vec_axpby(0.3, x, -1.7, out)
        results.append((_core.vec_dot(x, y), _core.vec_abs_sum(x), _core.vec_abs_max(x), [o.tobytes() for o in out]))
    assert results[0] == results[1] == results[2]


BAD = {
    "mixed dtypes": (TypeError, "one dtype", lambda: ([np.ones(3), np.ones(2, np.float32)], [np.ones(3), np.ones(2)])),
    "shape": (ValueError, "shape", lambda: ([np.ones(3)], [np.ones(4)])),
    "length": (ValueError, "expected 2", lambda: ([np.ones(3), np.ones(3)], [np.ones(3)])),
    "integer": (TypeError, "dtype", lambda: ([np.ones(3, np.int64)], [np.ones(3, np.int64)])),
    "not an array": (TypeError, "numpy.ndarray", lambda: ([[1.0, 2.0]], [np.ones(2)])),
    "strided": (ValueError, "contiguous", lambda: ([np.ones(6)[::2]], [np.ones(3)])),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_and_writes_nothing(case):
    error, match, make = BAD[case]
    x, y = make()
    with pytest.raises(error, match=match):
        _core.vec_dot(x, y)
    raises_unchanged(error, lambda: _core.vec_axpby(1.0, x, 1.0, y), *[a for a in y if isinstance(a, np.ndarray)],
                     match=match)


def test_axpby_refuses_overlaps_and_read_only():
    buf = np.zeros(20)
    raises_unchanged(ValueError, lambda: _core.vec_axpby(1.0, [buf[:10]], 1.0, [buf[5:15]]), buf, match="overlaps")
    a, b = np.ones(10), np.ones(10)
    raises_unchanged(ValueError, lambda: _core.vec_axpby(1.0, [a, b], 1.0, [b, a]), a, b, match="overlaps")
    ro = np.ones(4)
    ro.flags.writeable = False
    raises_unchanged(ValueError, lambda: _core.vec_axpby(1.0, [np.ones(4)], 1.0, [ro]), ro, match="read-only")
    _core.vec_dot([ro], [ro])  # read-only arrays may be read
