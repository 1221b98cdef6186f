"""optkern.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils (2.13)."""

import math

import numpy as np
import pytest
from helpers import require_module, threaded

import optkern

torch = pytest.importorskip("torch")

NORMS = [1.0, 2.0, math.inf, "inf", 3.0, 0.5]
# Relative tolerance against torch: torch sums float32 in float32, optkern in
# double, so the float32 norms differ by torch's rounding error.
RTOL = {np.float32: 2e-5, np.float64: 1e-12}

LISTS = {
    "one": [(7,)],
    "mixed_shapes": [(3, 4), (0,), (17,), (2, 3, 5), (), (0, 4)],
    "many_small": [(1024,)] * 1000,
    "big": [(70001,), (3, 1000)],
}


def make(shapes, dtype, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [np.array(rng.standard_normal(s) * scale, dtype=dtype) for s in shapes]


def torch_clip(grads, max_norm, norm_type, **kw):
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type, **kw)
    return total, [p.grad.numpy() for p in params]


def close(a, b, rtol):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", NORMS, ids=str)
@pytest.mark.parametrize("which", list(LISTS))
@pytest.mark.parametrize("ratio", [0.1, 10.0], ids=["clipped", "unclipped"])
def test_against_torch(dtype, norm_type, which, ratio):
    grads = make(LISTS[which], dtype)
    # torch's _foreach_norm refuses the inf norm of an empty tensor (no
    # identity); optkern counts it as 0, so torch gets the non-empty ones.
    compared = [i for i, g in enumerate(grads) if g.size or float(norm_type) != math.inf]
    reference = float(
        torch_clip([grads[i] for i in compared], 1.0, norm_type)[0]
    )  # the norm, to place max_norm around it
    max_norm = reference * ratio
    t_total, t_grads = torch_clip([grads[i] for i in compared], max_norm, norm_type)
    total = optkern.clip_grad_norm_(grads, max_norm, norm_type)
    assert isinstance(total, np.floating) and total.dtype == dtype
    close(total, t_total.item(), RTOL[dtype])
    for g, t in zip([grads[i] for i in compared], t_grads):
        assert g.dtype == dtype
        close(g, t, RTOL[dtype] * 2)
    if ratio > 1:  # coefficient clamped to 1: gradients multiplied by 1.0, unchanged
        for g, g0 in zip(grads, make(LISTS[which], dtype)):
            assert g.tobytes() == g0.tobytes()


def test_single_array_none_entries_and_empty():
    g = make([(100,)], np.float64)[0]
    t_total, (t,) = torch_clip([g], 0.5, 2.0)
    total = optkern.clip_grad_norm_(g, 0.5)
    close(total, t_total.item(), 1e-12)
    close(g, t, 1e-12)
    a, b = make([(5,), (6,)], np.float32, seed=3)
    t_total, ta = torch_clip([a, b], 0.1, 2.0)
    total = optkern.clip_grad_norm_([None, a, None, b], 0.1)
    close(total, t_total.item(), 2e-5)
    close(a, ta[0], 4e-5)
    for empty in ([], (), [None], iter([])):
        total = optkern.clip_grad_norm_(empty, 1.0)
        assert total == 0.0 and total.dtype == np.float32  # torch.tensor(0.0)
    e = np.zeros(0, np.float64)
    assert optkern.clip_grad_norm_([e], 1.0) == 0.0


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf, 3.0], ids=str)
def test_sixteen_bit_gradients(name, norm_type):
    """bfloat16 and float16 gradients: the norm (in their dtype, as torch
    returns it) within one rounding of torch's; the factor computed in the
    dtype (docs/clipping.md), the gradients multiplied by it in float32 and
    rounded once, and within two units in the last place of torch's."""
    dtype = np.dtype(require_module("ml_dtypes", "ml_dtypes (bfloat16)").bfloat16) if name == "bfloat16" \
        else np.dtype(np.float16)
    grads = [g.astype(dtype) for g in make([(3, 70), (1,), (1001,)], np.float32, seed=4)]
    wide = [g.astype(np.float32) for g in grads]
    tgt = {"bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    params = [torch.zeros(g.shape, dtype=tgt, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.astype(np.float32)).to(tgt)
    t16 = torch.nn.utils.clip_grad_norm_(params, 1.0, norm_type)
    total = optkern.clip_grad_norm_(grads, 1.0, norm_type)
    assert total.dtype == dtype
    eps = {"bfloat16": 2.0**-7, "float16": 2.0**-10}[name]  # machine epsilon
    close(total, t16.float().item(), eps)
    one = dtype.type(1.0)
    coef = min(one / (total + dtype.type(1e-6)) * one, one)
    for g, w, t in zip(grads, wide, params):
        np.testing.assert_array_equal(g.view(np.uint16), (w * np.float32(coef)).astype(dtype).view(np.uint16))
        close(g.astype(np.float32), t.grad.float().numpy(), 2 * eps)  # two roundings: torch's factor may be one off


def test_mixed_dtypes():
    a = make([(300,)], np.float32, seed=1)[0]
    b = make([(200,)], np.float64, seed=2)[0]
    for norm_type in (1.0, 2.0, math.inf, 3.0):
        x, y = a.copy(), b.copy()
        t_total, (ta, tb) = torch_clip([x, y], 1.0, norm_type)
        total = optkern.clip_grad_norm_([x, y], 1.0, norm_type)
        assert total.dtype == np.float64 and t_total.dtype == torch.float64
        close(total, t_total.item(), 1e-6)  # torch's float32 part is summed in float32
        close(x, ta, 4e-5)
        close(y, tb, 1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf])
def test_one_and_two_threads_bitwise(num_threads, dtype, norm_type):
    shapes = [(1024,)] * 1000 + [(65537,), (17,), (0,)]
    results = []
    for threads in (1, 2):
        num_threads(threads)
        grads = make(shapes, dtype, seed=5)
        if threads == 1:
            total = optkern.clip_grad_norm_(grads, 1.0, norm_type)
        else:
            with threaded():
                total = optkern.clip_grad_norm_(grads, 1.0, norm_type)
        results.append((total.tobytes(), b"".join(g.tobytes() for g in grads)))
    assert results[0] == results[1]


def test_large_dynamic_range_float64():
    # 10^7 float64 elements, magnitudes spread over 1e-20 .. 1e20, against
    # math.fsum (exactly rounded) of the same squares / absolute values.
    # Tolerance: 1e-13 relative (double accumulation of 1e7 terms in blocks,
    # each term of one sign; the bound n*eps is 2e-9, the observed error is
    # at the level of a few eps).
    rng = np.random.default_rng(11)
    n = 10**7
    g = (10.0 ** rng.uniform(-20, 20, n)) * rng.choice([-1.0, 1.0], n)
    parts = np.array_split(g, 1000)
    arrays = [np.ascontiguousarray(p) for p in parts]
    for norm_type, ref in (
        (2.0, math.sqrt(math.fsum((g * g).tolist()))),
        (1.0, math.fsum(np.abs(g).tolist())),
        (math.inf, float(np.abs(g).max())),
    ):
        xs = [a.copy() for a in arrays]
        total = optkern.clip_grad_norm_(xs, 1e30, norm_type)  # coefficient 1: nothing changes
        assert abs(float(total) - ref) <= 1e-13 * ref, (norm_type, float(total), ref)


def test_large_dynamic_range_float32_1e8():
    # 10^8 float32 elements in 1000 arrays, magnitudes spread over
    # 1e-18 .. 1e18 (their float32 squares over 1e-36 .. 1e36), against a
    # reference summed in long double, chunk by chunk, then with math.fsum:
    # each square rounded to float32 first, as optkern and torch round it.
    # A float32 accumulator would be off by far more than 1e-3 here; the
    # double accumulation is within 1e-12 relative (observed: a few 1e-16).
    rng = np.random.default_rng(12)
    arrays = [(10.0 ** rng.uniform(-18, 18, 10**5) * rng.choice([-1.0, 1.0], 10**5)).astype(np.float32)
              for _ in range(1000)]
    squares, absolutes, largest = [], [], 0.0
    for a in arrays:
        squares.append(float(np.sum(np.square(a).astype(np.longdouble))))
        absolutes.append(float(np.sum(np.abs(a).astype(np.longdouble))))
        largest = max(largest, float(np.abs(a).max()))
    sum_sq, sum_abs = math.fsum(squares), math.fsum(absolutes)
    # the sums in double, as the norms' C calls return them
    assert abs(optkern._core.vec_dot(arrays, arrays) - sum_sq) <= 1e-12 * sum_sq
    assert abs(optkern._core.vec_abs_sum(arrays) - sum_abs) <= 1e-12 * sum_abs
    for norm_type, ref in ((2.0, math.sqrt(sum_sq)), (1.0, sum_abs), (math.inf, largest)):
        total = optkern.clip_grad_norm_(arrays, np.inf, norm_type)  # coefficient 1: nothing changes
        assert total.dtype == np.float32 and total == np.float32(ref), (norm_type, total, ref)


def test_float32_accumulates_in_double():
    # Many equal float32 terms: a float32 running sum would stall far below.
    g = np.full(10**6 * 4, 0.1, np.float32)
    ref = math.sqrt(math.fsum((g.astype(np.float64) * g.astype(np.float64)).astype(np.float32).tolist()))
    total = optkern.clip_grad_norm_([g[: 2 * 10**6], g[2 * 10**6 :]], 1e9)
    assert abs(float(total) - ref) <= 1e-6 * ref
    assert optkern.clip_grad_norm_(g, 1e9, 1) == np.float32(math.fsum(g.astype(np.float64).tolist()))


@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf, 3.0])
def test_error_if_nonfinite(bad, norm_type):
    g = np.array([1.0, bad, 2.0], np.float32)
    keep = g.copy()
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.from_numpy(g.copy())
    with pytest.raises(RuntimeError) as t_err:
        torch.nn.utils.clip_grad_norm_([p], 1.0, norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as err:
        optkern.clip_grad_norm_([g], 1.0, norm_type, error_if_nonfinite=True)
    assert str(err.value) == str(t_err.value)
    assert g.tobytes() == keep.tobytes()  # nothing written
    # Without the flag: scaled by the non-finite norm, as torch does.
    t_total, (t,) = torch_clip([g], 1.0, norm_type)
    total = optkern.clip_grad_norm_([g], 1.0, norm_type)
    np.testing.assert_array_equal(np.isnan(total), np.isnan(t_total.numpy()))
    np.testing.assert_array_equal(g, t)


def test_negative_and_zero_max_norm_as_torch():
    for max_norm in (-1.0, 0.0):
        g = make([(50,)], np.float64, seed=7)[0]
        _, (t,) = torch_clip([g], max_norm, 2.0)
        optkern.clip_grad_norm_([g], max_norm)
        close(g, t, 1e-12)


def test_bad_input():
    g = np.ones(3, np.float32)
    for bad in (None, 1.0, "abc", {"a": g}, np.float32(1.0)):
        with pytest.raises(TypeError, match="grads must be"):
            optkern.clip_grad_norm_(bad, 1.0)
    with pytest.raises(TypeError, match=r"grads\[1\] must be a numpy.ndarray"):
        optkern.clip_grad_norm_([g, [1.0, 2.0]], 1.0)
    with pytest.raises(TypeError, match=r"grads\[0\] must be a numpy.ndarray"):
        optkern.clip_grad_value_([torch.ones(3)], 1.0)
    with pytest.raises(TypeError, match="dtype int64"):
        optkern.clip_grad_norm_([np.ones(3, np.int64)], 1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        optkern.clip_grad_norm_([np.ones((4, 4))[:, 0]], 1.0)
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optkern.clip_grad_norm_([ro], 1.0)
    for norm_type in (0, -1.0, float("nan"), -math.inf):
        with pytest.raises(ValueError, match="norm_type"):
            optkern.clip_grad_norm_([g], 1.0, norm_type)
    with pytest.raises(TypeError, match="norm_type"):
        optkern.clip_grad_norm_([g], 1.0, "fro")
    with pytest.raises(ValueError):  # float("x"), as in torch
        optkern.clip_grad_norm_([g], "x")
    assert g.tobytes() == np.ones(3, np.float32).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_value", [0.5, 0.0, -0.3, 1e9])
def test_clip_grad_value_against_torch(dtype, clip_value):
    grads = make([(100,), (0,), (3, 7)], dtype, seed=9)
    grads[0][3] = np.nan
    grads[0][4] = np.inf
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    assert optkern.clip_grad_value_([grads[0], None, grads[1], grads[2]], clip_value) is None
    for g, p in zip(grads, params):
        np.testing.assert_array_equal(g, p.grad.numpy())
    single = np.array([-2.0, 2.0], dtype)
    optkern.clip_grad_value_(single, 1.0)
    np.testing.assert_array_equal(single, [-1.0, 1.0])


def test_nothing_written_when_a_check_fails():
    a = np.full(10, 5.0, np.float32)
    ro = np.full(10, 5.0, np.float64)
    ro.flags.writeable = False
    for grads in ([a, ro], [ro, a], [a, np.full(10, 5.0, np.float32)[::2]], [a, np.ones(3, np.int32)]):
        with pytest.raises((TypeError, ValueError), match=r"grads\[\d\]"):
            optkern.clip_grad_norm_(grads, 1.0)
        for norm_type in (1.0, 2.0, math.inf, 3.0):
            with pytest.raises((TypeError, ValueError), match=r"grads\[\d\]"):
                optkern.clip_grad_norm_(grads, 1.0, norm_type)
        assert (a == 5.0).all()
    with pytest.raises(TypeError, match=r"grads\[1\] must be a numpy.ndarray"):
        optkern.clip_grad_norm_([a, torch.ones(3)], 1.0)
    assert (a == 5.0).all()
