"""The SIMD primitives of kernels/src/target/simd.h on every instruction set.

Each kernel relies on a few semantics of its vector operations: what maxn,
maxb and clamp do with NaN, that ldexp and frexp handle subnormal numbers,
that hmax sees NaN in any lane, that round ties to even, and that a tail
(fewer elements than a vector) is loaded and stored lane for lane. The
probes (optkern._core.simd_probe, kernels/src/target/probes-inl.h) run one
primitive along an array a vector at a time, tails included, with the
selected instruction set; every test runs on every set this CPU has.
"""

import numpy as np
import pytest

from optkern import _core

DTYPES = [np.float32, np.float64]


def awkward(dtype, values):
    """values repeated to 3 vectors and a partial one (a tail of width - 1
    lanes, or one lane on the scalar target)."""
    width = _core.simd_width(dtype)
    n = 3 * width + max(width - 1, 1)
    return np.resize(np.asarray(values, dtype=dtype), n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxn_propagates_nan_from_either_side(isa, dtype):
    a = awkward(dtype, [1.0, np.nan, 3.0, np.nan, -0.5, 7.0, 2.0])
    b = awkward(dtype, [2.0, 5.0, np.nan, np.nan, -1.0, 6.0, 2.0])
    z = _core.simd_probe("maxn", a, b)
    np.testing.assert_array_equal(z, np.maximum(a, b))  # NumPy's maximum propagates NaN too


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxb_gives_b_when_either_is_nan(isa, dtype):
    a = awkward(dtype, [1.0, np.nan, 3.0, np.nan, -0.5, 7.0])
    b = awkward(dtype, [2.0, 5.0, np.nan, np.nan, -1.0, 6.0])
    z = _core.simd_probe("maxb", a, b)
    want = np.where(np.isnan(a) | np.isnan(b), b, np.maximum(a, b))
    np.testing.assert_array_equal(z, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_keeps_nan(isa, dtype):
    x = awkward(dtype, [-3.0, -1.0, 0.25, 1.0, 2.0, np.nan, -np.inf, np.inf])
    z = _core.simd_probe("clamp", x)
    np.testing.assert_array_equal(z, np.clip(x, -1, 1))  # np.clip keeps NaN as well


@pytest.mark.parametrize("dtype", DTYPES)
def test_ldexp_rounds_once_into_subnormals_and_overflows(isa, dtype):
    fi = np.finfo(dtype)
    deep = -fi.minexp - 2 + fi.nmant  # lands among the subnormals
    x = awkward(dtype, [1.5, 1.75, -1.25, 3.0, 1.0, 0.0, 1.5])
    n = awkward(dtype, [-deep, -deep - 1, -(fi.maxexp - 3), fi.maxexp, 5, 7, -(fi.maxexp + fi.nmant + 5)])
    z = _core.simd_probe("ldexp", x, n)
    with np.errstate(over="ignore"):
        want = np.ldexp(x, n.astype(np.int32))
    np.testing.assert_array_equal(z, want)
    assert np.any((want != 0) & (np.abs(want) < fi.tiny)), "the sweep reaches subnormal results"
    assert np.any(np.isinf(want)), "and overflow"


@pytest.mark.parametrize("dtype", DTYPES)
def test_frexp_of_normal_and_subnormal_numbers(isa, dtype):
    fi = np.finfo(dtype)
    x = awkward(dtype, [1.0, 3.0, 0.75, fi.max, fi.tiny, fi.smallest_subnormal, 5 * fi.smallest_subnormal, 1e-3])
    m, e = _core.simd_probe("frexp", x)
    assert np.all((m >= 1) & (m < 2))
    np.testing.assert_array_equal(np.ldexp(m.astype(np.float64), e.astype(np.int64)), x.astype(np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_hmax_sees_nan_in_any_lane_and_ignores_the_tail(isa, dtype):
    width = _core.simd_width(dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4 * width + max(width - 1, 1)).astype(dtype)
    x[width + width // 2] = np.nan  # the second vector holds a NaN
    z = _core.simd_probe("hmax", x)
    want = [np.max(x[j:j + width]) for j in range(0, x.size, width)]
    np.testing.assert_array_equal(z, np.array(want, dtype=dtype))
    assert np.isnan(z[1]) and not np.isnan(z[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_ties_to_even(isa, dtype):
    x = awkward(dtype, [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -3.7, 1e30])
    z = _core.simd_probe("round", x)
    np.testing.assert_array_equal(z, np.rint(x))
    assert np.signbit(z[3]), "-0.5 rounds to -0"


@pytest.mark.parametrize("dtype", DTYPES)
def test_copysign(isa, dtype):
    a = awkward(dtype, [1.0, -2.0, 0.0, np.inf, 3.0])
    s = awkward(dtype, [-1.0, 1.0, -0.0, -5.0, np.nan])
    np.testing.assert_array_equal(_core.simd_probe("copysign", a, s), np.copysign(a, s))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("extra", [0, 1, 3])
def test_tails_move_exactly_their_lanes(isa, dtype, extra):
    """Every length from 1 to 2 vectors and a few more: the masked load and
    store of a tail move its lanes and nothing else."""
    width = _core.simd_width(dtype)
    for n in range(1, 2 * width + extra + 1):
        x = np.arange(1, n + 1, dtype=dtype)
        np.testing.assert_array_equal(_core.simd_probe("load_part", x), x)


def test_unknown_primitive():
    with pytest.raises(ValueError, match="unknown primitive"):
        _core.simd_probe("sqrt2", np.zeros(3))
