"""optkern.losses on bfloat16 and float16 inputs (docs/precision.md#losses-in-16-bits).

A 16-bit loss computes in float32 exactly as the float32 loss does on the
widened arrays, and rounds each gradient element once to the input's
dtype; the loss is float32. So, for every loss of the registry
(loss_cases.LOSSES) on its reference grid, under every instruction set:
  - the loss is the float32 loss of the widened inputs, bitwise, and the
    gradient that float32 gradient rounded to nearest even, bitwise (where
    a gradient element is finished in double, a class target's, the float32
    path rounds twice and the 16-bit one once: they may differ at a tie);
  - against the float64 reference of the same (rounded) inputs, the
    gradient is within one 16-bit rounding, eps / 2 relative (eps 2^-7 for
    bfloat16, 2^-10 for float16; plus half a float16 subnormal step), on
    top of float32's own tolerance, and the loss within float32's.
Then torch's own bfloat16 and float16 CPU results, awkward sizes, 1 vs 2
threads bitwise, out=input, and the errors of mixed dtypes.
"""

import numpy as np
import pytest

from helpers import (TOLERANCE, assert_close, assert_same_for_thread_counts, raises_unchanged, require_module,
                     rng_for)
from loss_cases import LOSSES, examples, out_and_in_place, variants
from optkern import losses as L

ml_dtypes = require_module("ml_dtypes", "ml_dtypes (bfloat16)")
BF16 = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
SIXTEEN = [BF16, F16]
EPS = {BF16: 2.0 ** -7, F16: 2.0 ** -10}
# the smallest positive value: a float16 gradient below 2^-14 is subnormal,
# its rounding error up to half of this, whatever its size
TINY = {BF16: 0.0, F16: 2.0 ** -24}
SIZES = [0, 1, 7, 15, 16, 17, 1023, 65537]
HALF = lambda case: case.half  # noqa: E731  the losses with 16-bit forms (LossCase.half)


def takes_16_bits(case):
    """The losses that take 16-bit inputs (the others: test_float32_float64_only_losses_refuse_16_bits)."""
    return case.half


def name(dtype):
    return np.dtype(dtype).name


def narrowed(x, t, kw, dtype):
    """The float32 case data in `dtype`: x, a float target and float options."""
    def cast(a):
        return a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype == F32 else a
    return cast(x), cast(t), {k: cast(v) for k, v in kw.items()}


def widened(x, t, kw):
    def cast(a):
        return a.astype(F32) if isinstance(a, np.ndarray) and a.dtype in SIXTEEN else a
    return cast(x), cast(t), {k: cast(v) for k, v in kw.items()}


def assert_rounded_from(grad, g32, what):
    """grad is g32 rounded to grad's dtype, bitwise, but where g32 is a tie
    of that dtype (a double rounded once may go the other way)."""
    expected = g32.astype(grad.dtype)
    differ = grad.view(np.uint16) != expected.view(np.uint16)
    midpoint = (grad[differ].astype(np.float64) + expected[differ].astype(np.float64)) / 2
    np.testing.assert_array_equal(midpoint, g32[differ].astype(np.float64), err_msg=what)


def check_16bit(case, x, t, kw, reduction, what):
    """The checks of the module docstring for one call."""
    loss, grad = case.fn(x, t, reduction=reduction, **kw)
    x32, t32, kw32 = widened(x, t, kw)
    loss32, grad32 = case.fn(x32, t32, reduction=reduction, **kw32)
    grads = case.gradients(grad)
    for g, a in zip(grads, case.inputs(x, t, kw)):
        assert g.dtype == a.dtype and g.shape == a.shape, what
    if reduction == "none":
        assert isinstance(loss, np.ndarray) and loss.dtype == F32, what
    else:
        assert isinstance(loss, np.float32), f"{what}: loss is {type(loss)}"
    np.testing.assert_array_equal(np.asarray(loss).view(np.uint32), np.asarray(loss32).view(np.uint32), what)
    for g, g32 in zip(grads, case.gradients(grad32)):
        assert_rounded_from(g, g32, what)
    x64, t64, kw64 = _as64(x, t, kw)
    want_loss, want_grad = case.ref(x64, t64, reduction=reduction, **kw64)
    assert_close(loss, want_loss, np.float32, what + " loss")
    rtol, floor = TOLERANCE[np.float32]
    unit = case.unit_of(t64, kw64, reduction)
    for g, want in zip(grads, case.gradients(want_grad)):
        finite = np.abs(want[np.isfinite(want)])
        atol = floor * max(finite.max() if finite.size else 1.0, unit) + TINY[x.dtype] / 2
        np.testing.assert_allclose(g.astype(np.float64), want, rtol=rtol + EPS[x.dtype] / 2, atol=atol,
                                   equal_nan=True, err_msg=what + " grad")


def _as64(x, t, kw):
    def cast(a):
        return a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == x.dtype else a
    return cast(x), cast(t), {k: cast(v) for k, v in kw.items()}


# ------------------------------------------------------------- generic suites

@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
@pytest.mark.parametrize("case,variant,reduction", variants("grid", where=takes_16_bits))
def test_16bit_is_the_float32_loss_rounded(isa, case, variant, reduction, dtype):
    for shape in variant.shapes:
        x, t, kw = narrowed(*case.make(shape, F32, **variant.options), dtype)
        check_16bit(case, x, t, kw, reduction, f"{case.name} {variant.id} {shape} {reduction} {name(dtype)}")


@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
@pytest.mark.parametrize("case", [c for c in LOSSES if c.half], ids=lambda c: c.name)
def test_awkward_sizes(isa, case, dtype):
    """Elementwise: n elements; row losses: 3 rows of n classes, and n
    columns of 3 classes (the (N, C, d) layout)."""
    for n in SIZES:
        shapes = [(3, n), (2, 3, n)] if case.rows else [(n,)]
        for shape in shapes:
            if case.rows and 0 in shape:
                continue  # no class or no sample: test_losses.py's empty cases
            options = {k: v for k, v in case.examples[-1].items() if k != "reduction"}
            x, t, kw = narrowed(*case.make(shape, F32, **options), dtype)
            for reduction in ("none", "mean"):
                check_16bit(case, x, t, kw, reduction, f"{case.name} {shape} {reduction} {name(dtype)}")


@pytest.mark.parametrize("shape", [(6, 37), (3, 7, 5)])
@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
@pytest.mark.parametrize("case,options", examples(lambda case, options: case.half))
def test_out_and_in_place(isa, case, options, dtype, shape):
    x, t, kw = narrowed(*case.make(shape, F32, **options), dtype)
    out_and_in_place(case, x, t, kw, bits=lambda a: a.view(np.uint16))


@pytest.mark.parametrize("shape", [(300, 1000), (30, 100, 100)])
@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
@pytest.mark.parametrize("case,options", examples(lambda case, options: case.half))
def test_threads_do_not_change_results(isa, num_threads, case, options, dtype, shape):
    x, t, kw = narrowed(*case.make(shape, F32, **options), dtype)
    assert_same_for_thread_counts(num_threads, lambda: case.fn(x, t, **kw))


# ------------------------------------------------------------------- torch

def torch_result(case, x, t, kw, reduction):
    """torch's loss (as float64) and gradient of loss.sum() in x's own dtype,
    on the CPU. Where torch has no CPU kernel of that dtype (multi_margin_loss),
    its float32 result on the same values, rounded to the dtype."""
    torch = require_module("torch")
    tdtype = {BF16: torch.bfloat16, F16: torch.float16}[x.dtype]

    def run(dtype):
        def as_torch(a):
            if not isinstance(a, np.ndarray):
                return a
            if np.issubdtype(a.dtype, np.integer):
                return torch.from_numpy(a.astype(np.int64))
            return torch.from_numpy(a.astype(np.float32)).to(dtype)

        leaves = {}

        def tensor(name, value):
            if name in case.grads:
                leaves[name] = as_torch(value).requires_grad_(True)
                return leaves[name]
            return as_torch(value)

        loss = case.oracle(tensor("input", x), tensor("target", t), reduction=reduction,
                           **{k: tensor(k, v) for k, v in kw.items()})
        loss.sum().backward()
        return loss.detach().to(tdtype).double().numpy(), case.out_of(
            [leaves[name].grad.to(tdtype).double().numpy() for name in case.grads])

    try:
        return run(tdtype)
    except NotImplementedError:
        return run(torch.float32)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
@pytest.mark.parametrize("case,variant,reduction", variants("torch_grid", where=takes_16_bits))
def test_matches_torch_in_16_bits(isa, case, variant, reduction, dtype):
    """torch computes in its 16-bit dtype and rounds its loss and gradient
    to it: both within a few of the dtype's eps, relative to the largest
    value (or the gradient's unit). A reduced loss may be summed in the
    16-bit dtype (torch's CPU nll_loss in float16 is): each of its n
    additions rounds by up to eps / 2 more."""
    tolerance = (4 * EPS[dtype], 4 * EPS[dtype])
    for shape in variant.shapes:
        x, t, kw = narrowed(*case.make(shape, F32, seed=2, **variant.options), dtype)
        loss, grad = case.fn(x, t, reduction=reduction, **kw)
        want_loss, want_grad = torch_result(case, x, t, kw, reduction)
        what = f"{case.name} {variant.id} {shape} {reduction} {name(dtype)}"
        summed = 0 if reduction == "none" else np.size(t) if case.rows else x.size
        sum_tolerance = tuple(v + EPS[dtype] / 2 * summed for v in tolerance)
        assert_close(loss, want_loss, None, what + " loss", tolerance=sum_tolerance)
        unit = case.unit_of(*_as64(x, t, kw)[1:], reduction)
        for g, want in zip(case.gradients(grad), case.gradients(want_grad)):
            assert_close(g.astype(np.float64), want, None, what + " grad", unit, tolerance=tolerance)


# ----------------------------------------------------------------- specifics

def exact_bf16(v):
    """float64 values (normal in bfloat16) rounded once to bfloat16, to nearest even."""
    bits = v.view(np.uint64)
    drop = np.uint64(52 - 7)
    bits = (bits + (np.uint64(1) << (drop - np.uint64(1))) - np.uint64(1) + ((bits >> drop) & np.uint64(1))) >> drop
    return (bits << drop).view(np.float64).astype(BF16)


@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
def test_gradients_finished_in_double_are_rounded_once(isa, dtype):
    """nll_loss's gradient -w_y / sum(w) ('mean', sample i of class i) is a
    double rounded once: at the weights (searched for here) where float32
    would land on a 16-bit tie and round it the wrong way, the kernel must
    not. A sum of 8 weights spread over decades has the bits for it."""
    exact = {BF16: exact_bf16, F16: lambda v: v.astype(F16)}[dtype]  # NumPy rounds float64 to float16 once
    rng = rng_for("once", name(dtype))
    w = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), (500000, 8))).astype(dtype).astype(np.float64)
    v = -w[:, 0] / w.sum(axis=1)
    traps = np.flatnonzero(exact(v).view(np.uint16) != v.astype(F32).astype(dtype).view(np.uint16))
    assert traps.size >= 1, "no value whose float32 rounding is a tie"
    for k in traps[:20]:
        weight = w[k].astype(dtype)
        _, grad = L.nll_loss(np.zeros((8, 8), dtype), np.arange(8), weight=weight)
        assert grad.view(np.uint16)[0, 0] == exact(v[k:k + 1]).view(np.uint16)[0], (weight, v[k])


@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
def test_mixed_dtypes_raise_type_error(isa, dtype):
    rng = rng_for("mixed", name(dtype))
    x = rng.standard_normal((4, 5)).astype(dtype)
    other = x.astype(F32)
    labels = np.array([0, 1, 2, 3])
    message = "has the input's dtype|have the input's dtype"
    for call in (lambda: L.mse_loss(x, other),
                 lambda: L.mse_loss(x, x, weight=other),
                 lambda: L.binary_cross_entropy_with_logits(x, x, pos_weight=other[0]),
                 lambda: L.cross_entropy(x, other),
                 lambda: L.cross_entropy(x, labels, weight=other[0]),
                 lambda: L.nll_loss(x, labels, weight=other[0]),
                 lambda: L.cross_entropy(x, labels, out=other),
                 lambda: L.kl_div(other, x)):
        with pytest.raises(TypeError, match=message):
            call()
    buffer = x.copy()
    raises_unchanged(TypeError, lambda: L.mse_loss(buffer, other, out=buffer), buffer)


@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
def test_linear_cross_entropy_refuses_16_bits(isa, dtype):
    hidden, weight = np.ones((3, 4), dtype), np.ones((5, 4), dtype)
    with pytest.raises(TypeError, match="float32 or float64"):
        L.linear_cross_entropy(hidden, weight, np.array([0, 1, 2]))


@pytest.mark.parametrize("dtype", SIXTEEN, ids=name)
@pytest.mark.parametrize("case", [c for c in LOSSES if not c.half], ids=lambda c: c.name)
def test_float32_float64_only_losses_refuse_16_bits(isa, case, dtype):
    x, t, kw = narrowed(*case.make((4, 3), F32, **case.examples[0]), dtype)
    outs = case.gradients(case.new_out(x, t, kw, 1.0))
    with pytest.raises(TypeError):
        case.fn(x, t, out=case.out_of(outs), **kw)
    assert all((o == 1).all() for o in outs)
