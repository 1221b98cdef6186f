"""Accuracy of the loss kernels' vector math (kernels/src/target/vmath-inl.h) on every
instruction set: the maximum error in ULPs against a float64 reference (for
float32) or a long double one (for float64), over inputs spread evenly across
the bit patterns of each function's whole range, plus the special values.

The bound asserted is 4 ULP (docs/losses.md#accuracy); kernels/src/target/vmath-inl.h
states the measured maxima.
"""

import numpy as np
import pytest

from optkern import _core
# isa (conftest.py): every test runs on every instruction set

MAX_ULP = 4.0
POINTS = 200_001  # per range; every range is swept on every ISA and dtype

FINFO = {np.float32: np.finfo(np.float32), np.float64: np.finfo(np.float64)}


def _ordered(dtype, value):
    """A signed integer that orders like the float `value` of `dtype`."""
    itype = np.int32 if dtype == np.float32 else np.int64
    b = int(np.array([value], dtype).view(itype)[0])
    return b if b >= 0 else -(b & (2 ** (8 * np.dtype(dtype).itemsize - 1) - 1))


def sweep(dtype, lo, hi, count=POINTS):
    """About `count` values of `dtype` between lo and hi, evenly spaced in
    their bit patterns (so every binade gets its share)."""
    a, b = _ordered(dtype, lo), _ordered(dtype, hi)
    keys = np.unique(np.array([a + (b - a) * i // (count - 1) for i in range(count)], dtype=np.int64))
    utype = np.uint32 if dtype == np.float32 else np.uint64
    sign = utype(1) << utype(8 * np.dtype(dtype).itemsize - 1)
    magnitude = np.abs(keys).astype(utype)
    return np.where(keys >= 0, magnitude, magnitude | sign).view(dtype)


REFERENCE = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "tanh": np.tanh}


def ranges(name, dtype):
    fi = FINFO[dtype]
    tiny, big = float(fi.smallest_subnormal), float(fi.max)
    below_one = float(np.nextafter(dtype(-1), dtype(0)))
    exp_lo, exp_hi = (-110.0, 90.0) if dtype == np.float32 else (-750.0, 711.0)
    return {
        # subnormal results below -87.3 (f32) / -708.4 (f64), overflow above
        "exp": [(exp_lo, exp_hi), (-1.0, 1.0)],
        "log": [(tiny, big), (0.5, 2.0)],
        "log1p": [(below_one, -tiny), (tiny, big), (-0.5, 1.0)],
        "tanh": [(-30.0, -tiny), (tiny, 30.0), (-1.0, 1.0)],
    }[name]


SPECIALS = [0.0, -0.0, 1.0, -1.0, -2.0, np.inf, -np.inf, np.nan]


def ulp_errors(name, x):
    """|f(x) - reference| in units of the last place of the rounded reference,
    for finite references; the non-finite ones must match exactly."""
    y = _core.vmath(name, x)
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    with np.errstate(all="ignore"):
        exact = REFERENCE[name](x.astype(wide))
        rounded = exact.astype(x.dtype)
        finite = np.isfinite(rounded)
        err = np.abs(y.astype(wide) - exact) / np.spacing(np.abs(rounded)).astype(wide)
    special = ~finite
    assert np.array_equal(y[special], rounded[special], equal_nan=True), (
        f"{name} special values: {x[special]} -> {y[special]}, expected {rounded[special]}")
    return np.where(finite, err, 0).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["exp", "log", "log1p", "tanh"])
def test_max_ulp_error(isa, name, dtype):
    x = np.concatenate([sweep(dtype, lo, hi) for lo, hi in ranges(name, dtype)]
                       + [np.array(SPECIALS + [FINFO[dtype].max, -FINFO[dtype].max], dtype)])
    err = ulp_errors(name, x)
    worst = int(np.argmax(err))
    assert err[worst] <= MAX_ULP, f"{name}({x[worst]!r}) is off by {err[worst]:.2f} ULP on {isa}"


def test_special_values(isa):
    inf, nan = np.inf, np.nan
    for dtype in (np.float32, np.float64):
        def f(name, values):
            return _core.vmath(name, np.array(values, dtype))

        np.testing.assert_array_equal(f("exp", [-inf, inf, 0.0, -1e30]), [0.0, inf, 1.0, 0.0])
        np.testing.assert_array_equal(f("log", [0.0, -0.0, inf, 1.0]), [-inf, -inf, inf, 0.0])
        assert np.isnan(f("log", [-1.0, -inf, nan])).all()
        np.testing.assert_array_equal(f("log1p", [-1.0, inf, 0.0]), [-inf, inf, 0.0])
        assert np.isnan(f("log1p", [-2.0, nan])).all()
        np.testing.assert_array_equal(f("tanh", [inf, -inf, 0.0, 50.0]), [1.0, -1.0, 0.0, 1.0])
        assert np.signbit(f("tanh", [-0.0]))[0]
        assert np.isnan(f("exp", [nan])).all() and np.isnan(f("tanh", [nan])).all()


def test_subnormal_results_are_not_flushed(isa):
    # exp(x) whose result is subnormal: within the ULP bound of the subnormal
    # spacing, and never 0 where e^x is at least the smallest subnormal
    x = np.linspace(-103.2, -87.4, 10001).astype(np.float32)
    y = _core.vmath("exp", x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))
    assert np.all(np.abs(y - exact) <= MAX_ULP * 2.0 ** -149)
    assert np.all(y > 0)


def test_read_only_input(isa):
    # The hook only reads x: a read-only array is fine, and errors name x.
    x = np.linspace(-5, 5, 101, dtype=np.float32)
    want = _core.vmath("exp", x)
    x.flags.writeable = False
    assert np.array_equal(_core.vmath("exp", x), want)
    with pytest.raises(ValueError, match=r"^x is not C-contiguous"):
        _core.vmath("exp", np.linspace(-5, 5, 102, dtype=np.float32)[::2])
