"""optkern.losses.linear_cross_entropy: the cross-entropy of hidden @ weight.T
+ bias, taken chunk by chunk, against the whole logits materialised (the
float64 reference, optkern's own cross_entropy, torch's autograd), on every
instruction set: every option, ignored rows, all rows ignored, chunks of 1
row, an odd number of rows and more rows than there are; 1 vs 2 threads
bitwise; the float32 accumulation of grad_weight; the bad-input table; the
peak memory, traced.

Each entry of a gradient is a sum of products (grad_weight[v, k] =
sum_n G[n, v] hidden[n, k], G the logits' gradient), so it is held to the
dtype's relative tolerance of the sum of their magnitudes (|G|.T @ |hidden|,
|G| @ |weight|, the column sums of |G|): an entry whose terms cancel is
only as precise as its largest terms (docs/losses.md#linear_cross_entropy).
"""

import tracemalloc
from contextlib import nullcontext

import numpy as np
import pytest

import loss_reference as ref
from helpers import DTYPES, REDUCTIONS, TOLERANCE, assert_close, raises_unchanged, require_module, rng_for, threaded
from optkern import losses as L

# Options of cross_entropy, plus data options: bias=True, ignored=True (every
# third target ignore_index).
OPTIONS = [
    {},
    {"bias": True},
    {"ignored": True},
    {"label_smoothing": 0.1},
    {"z_loss": 1e-3},
    {"softcap": 3.0},
    {"ignore_index": 2},
    {"bias": True, "ignored": True, "label_smoothing": 0.2, "z_loss": 1e-2, "softcap": 5.0},
]
CHUNKS = [None, 1, 7, 1000]  # the default, one row, an odd number, more rows than there are
# (batch shape, hidden, vocabulary): (N,), (..., H) and a single sample (H,)
SHAPES = [((37,), 16, 53), ((3, 5), 8, 40), ((), 12, 30)]


def make(batch=(37,), hidden=16, vocab=53, dtype=np.float64, seed=0, bias=False, ignored=False, **options):
    """(hidden, weight, target, bias, the options left): logits of size
    about 2, class targets (every third ignore_index when `ignored`)."""
    rng = rng_for("linear_ce", batch, hidden, vocab, seed, bias, ignored)
    h = rng.standard_normal(batch + (hidden,)).astype(dtype)
    w = (2 / np.sqrt(max(hidden, 1)) * rng.standard_normal((vocab, hidden))).astype(dtype)
    b = rng.standard_normal(vocab).astype(dtype) if bias else None
    t = rng.integers(0, vocab, batch)
    if ignored and t.size:
        t.flat[::3] = options.get("ignore_index", -100)
    return h, w, t, b, options


def magnitudes(h, w, t, b, **options):
    """The sums of the magnitudes of the terms of each gradient entry, from
    the float64 reference's logits gradient G."""
    h64, w64 = (np.asarray(a, np.float64) for a in (h, w))
    h64 = h64.reshape(t.size, w.shape[1])
    logits = h64 @ w64.T + (0.0 if b is None else np.asarray(b, np.float64))
    _, g = ref.cross_entropy(logits, t.reshape(-1), **options)
    g = np.nan_to_num(np.abs(g))  # every sample ignored: 'mean' makes 0 / 0 of it
    return (g @ np.abs(w64)).reshape(h.shape), g.T @ np.abs(h64), g.sum(axis=0)


def assert_matches(ours, expected, scales, dtype, reduction, what, tolerance=None):
    """(loss, grad_hidden, grad_weight, grad_bias) against expected: the
    loss within the dtype's tolerance, each gradient entry within its rtol
    of its magnitude (`scales`); types, shapes and dtypes as promised."""
    rtol = (tolerance or TOLERANCE[dtype])[0]
    loss, *grads = ours
    want_loss, *want_grads = expected
    if reduction != "none":
        assert isinstance(loss, dtype), f"{what}: loss is {type(loss)}"
    else:
        assert isinstance(loss, np.ndarray) and loss.dtype == dtype and loss.shape == np.shape(want_loss), what
    assert_close(loss, want_loss, dtype, what + " loss", tolerance=tolerance)
    for name, got, want, scale in zip(("grad_hidden", "grad_weight", "grad_bias"), grads, want_grads, scales):
        if want is None:
            assert got is None, f"{what}: {name} without a bias"
            continue
        assert got.dtype == dtype and got.shape == want.shape, f"{what}: {name} {got.dtype} {got.shape}"
        err = np.abs(got.astype(np.float64) - want)
        worst = np.unravel_index(np.argmax(err - rtol * scale), err.shape) if err.size else ()
        assert np.all(err <= rtol * scale + 1e-300), \
            f"{what}: {name}{list(worst)} = {got[worst]!r}, expected {want[worst]!r} (scale {scale[worst]:.3g})"


def call(h, w, t, b, reduction="mean", **options):
    return L.linear_cross_entropy(h, w, t, b, reduction=reduction, **options)


# ----------------------------------------------------------------- the values

def unfused(h, w, t, b, reduction="mean", **options):
    """optkern's unfused path, in the inputs' dtype: the logits whole,
    cross_entropy's gradient in their place, the three products."""
    rows = h.reshape(t.size, w.shape[1])
    logits = rows @ w.T + (0 if b is None else b)
    loss, g = L.cross_entropy(logits, t.reshape(-1), reduction=reduction, out=logits, **options)
    return (loss.reshape(t.shape) if reduction == "none" else loss, (g @ w).reshape(h.shape), g.T @ rows,
            None if b is None else g.sum(axis=0))


WHOLE_LOGITS = {"float64 reference": ref.linear_cross_entropy, "cross_entropy": unfused}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("oracle", WHOLE_LOGITS)
def test_matches_the_whole_logits(isa, oracle, options, reduction, dtype):
    """Against the float64 reference and against optkern's own cross_entropy
    on the materialised logits, in the same dtype."""
    for batch, hidden, vocab in SHAPES:
        h, w, t, b, kw = make(batch, hidden, vocab, dtype, **options)
        expected = WHOLE_LOGITS[oracle](h, w, t, b, reduction=reduction, **kw)
        scales = magnitudes(h, w, t, b, reduction=reduction, **kw)
        for chunk in CHUNKS:
            assert_matches(call(h, w, t, b, reduction, chunk_size=chunk, **kw), expected, scales, dtype, reduction,
                           f"{batch} {hidden} {vocab} chunk {chunk}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_torch_autograd(isa, options, reduction, dtype):
    """torch's F.linear then cross_entropy (the composition of loss_cases for
    z_loss and softcap), backward through autograd, in float64 on the same
    values."""
    torch = require_module("torch")
    from loss_cases import torch_cross_entropy
    h, w, t, b, kw = make((4, 9), 16, 53, dtype, **options)
    leaves = [None if a is None else torch.tensor(a.astype(np.float64), requires_grad=True) for a in (h, w, b)]
    th, tw, tb = leaves
    loss = torch_cross_entropy(torch.nn.functional.linear(th, tw, tb).reshape(-1, w.shape[0]),
                               torch.from_numpy(t.reshape(-1)), reduction=reduction, **kw)
    loss.sum().backward()
    loss = loss.detach().numpy()
    expected = (loss.reshape(t.shape) if reduction == "none" else loss,
                *(None if a is None else a.grad.numpy() for a in leaves))
    scales = magnitudes(h, w, t, b, reduction=reduction, **kw)
    assert_matches(call(h, w, t, b, reduction, chunk_size=5, **kw), expected, scales, dtype, reduction, "torch",
                   tolerance=None if dtype == np.float32 else (1e-10, 1e-12))


# ------------------------------------------------------------ rows and chunks

@pytest.mark.parametrize("dtype", DTYPES)
def test_ignored_rows_are_skipped(isa, dtype):
    """An ignored row's loss and grad_hidden are exactly 0, and its hidden is
    not read: NaN there changes nothing."""
    h, w, t, b, _ = make(dtype=dtype, bias=True, ignored=True)
    clean = call(h, w, t, b, "none", chunk_size=4)
    h[t == -100] = np.nan
    for chunk in (None, 1, 4):
        loss, gh, gw, gb = call(h, w, t, b, "none", chunk_size=chunk)
        assert np.all(loss[t == -100] == 0) and np.all(gh[t == -100] == 0)
        assert np.isfinite(gw).all() and np.isfinite(gb).all()
        np.testing.assert_allclose(loss, clean[0], rtol=TOLERANCE[dtype][0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_row_ignored(isa, dtype):
    """As cross_entropy: 'mean' is NaN (0 / 0), 'sum' 0, every gradient 0."""
    h, w, t, b, _ = make(dtype=dtype, bias=True)
    t[:] = -100
    for reduction in REDUCTIONS:
        loss, *grads = call(h, w, t, b, reduction)
        assert np.isnan(loss) if reduction == "mean" else np.all(loss == 0)
        for g in grads:
            assert g.dtype == dtype and not g.any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch_and_no_features(isa, dtype):
    for batch, hidden in (((0,), 8), ((2, 0), 8), ((6,), 0)):
        h, w, t, b, _ = make(batch, hidden, 5, dtype, bias=True)
        for reduction in REDUCTIONS:
            ours = call(h, w, t, b, reduction)
            expected = ref.linear_cross_entropy(h, w, t, b, reduction=reduction)
            assert_matches(ours, expected, magnitudes(h, w, t, b, reduction=reduction), dtype, reduction,
                           f"{batch} {hidden}")


def test_chunk_sizes_agree_in_float64(isa):
    h, w, t, b, _ = make((101,), 16, 40, bias=True, ignored=True, label_smoothing=0.1)
    results = [call(h, w, t, b, label_smoothing=0.1, chunk_size=c) for c in (1, 2, 7, 50, 101, 500, None)]
    for r in results[1:]:
        for got, want in zip(r, results[0]):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_chunk_is_the_materialised_path_bitwise_in_loss(isa, dtype):
    """Within one chunk the logits are the materialised ones, and the loss
    is cross_entropy's 'sum' over them; 'none' is its per-row losses."""
    h, w, t, b, _ = make(dtype=dtype, bias=True)
    logits = h @ w.T + b
    assert call(h, w, t, b, "sum")[0] == L.cross_entropy(logits, t, reduction="sum")[0]
    assert np.array_equal(call(h, w, t, b, "none")[0], L.cross_entropy(logits, t, reduction="none")[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_do_not_change_results(isa, num_threads, dtype):
    """optkern's thread count (the cross_entropy kernel on each chunk): the
    same bits. The matrix products are NumPy's, on its BLAS's threads."""
    h, w, t, b, _ = make((600,), 32, 1000, dtype, bias=True, ignored=True)
    results = []
    for n in (1, 2, 1, 3):
        num_threads(n)
        with threaded() if n > 1 else nullcontext():
            out = call(h, w, t, b, chunk_size=300, z_loss=1e-3)
        results.append([np.asarray(a).tobytes() for a in out])
    assert all(r == results[0] for r in results), "the result depends on the thread count"


def test_grad_weight_accumulates_in_float32(isa):
    """grad_weight and grad_bias add up the chunks' products in float32. With
    one row per chunk (N float32 additions, the worst case) their error, in
    units of 2^-24 of the magnitude of the terms, is still a few units, as
    that of one product over all the rows (the BLAS's own float32 sum, whose
    order, and so whose error, depends on the BLAS kernel the CPU gets)."""
    n = 2048
    h, w, t, b, _ = make((n,), 8, 16, np.float32, bias=True)
    _, _, want_w, want_b = ref.linear_cross_entropy(h, w, t, b, reduction="sum")
    _, scale_w, scale_b = magnitudes(h, w, t, b, reduction="sum")

    def errors(chunk):
        _, _, gw, gb = call(h, w, t, b, "sum", chunk_size=chunk)
        return [np.abs(got.astype(np.float64) - want) / scale / 2.0 ** -24
                for got, want, scale in ((gw, want_w, scale_w), (gb, want_b, scale_b))]

    for by_row, whole in zip(errors(1), errors(n)):
        assert by_row.max() <= 32 and whole.max() <= 32
        assert np.sqrt(np.mean(by_row ** 2)) <= 6 and np.sqrt(np.mean(whole ** 2)) <= 6


# ----------------------------------------------------------------- bad input

def _good():
    h, w, t, b, _ = make((6,), 4, 5, np.float32, bias=True)
    return {"hidden": h, "weight": w, "target": t, "bias": b}


BAD = [  # (id, what replaces the good call's arguments, exception, message)
    ("hidden-list", {"hidden": [[0.0] * 4] * 6}, TypeError, "hidden must be a numpy.ndarray"),
    ("hidden-int", {"hidden": np.zeros((6, 4), np.int64)}, TypeError, "hidden has dtype int64"),
    ("hidden-0d", {"hidden": np.zeros((), np.float32)}, ValueError, "at least one dimension"),
    ("hidden-strided", {"hidden": np.zeros((6, 8), np.float32)[:, ::2]}, ValueError, "hidden is not C-contiguous"),
    ("hidden-byteorder", {"hidden": np.zeros((6, 4), ">f4")}, TypeError, "non-native byte order"),
    ("weight-float64", {"weight": np.zeros((5, 4))}, TypeError, "weight has dtype float64 but hidden"),
    ("weight-1d", {"weight": np.zeros(4, np.float32)}, ValueError, r"weight has shape \(4,\)"),
    ("weight-features", {"weight": np.zeros((5, 3), np.float32)}, ValueError, r"\(vocabulary, 4\)"),
    ("weight-transposed", {"weight": np.zeros((4, 5), np.float32).T}, ValueError, "weight is not C-contiguous"),
    ("bias-shape", {"bias": np.zeros(4, np.float32)}, ValueError, r"bias has shape \(4,\)"),
    ("bias-float64", {"bias": np.zeros(5)}, TypeError, "bias has dtype float64"),
    ("target-float", {"target": np.zeros(6)}, TypeError, "integer dtype"),
    ("target-shape", {"target": np.zeros(5, np.int64)}, ValueError, r"target has shape \(5,\)"),
    ("target-list", {"target": [0] * 6}, TypeError, "target must be a numpy.ndarray"),
    ("target-high", {"target": np.array([0, 1, 5, 2, 0, 0])}, IndexError, "Target 5 is out of bounds"),
    ("target-negative", {"target": np.array([0, -1, 1, 2, 0, 0])}, IndexError, "Target -1 is out of bounds"),
    ("reduction", {"reduction": "avg"}, ValueError, "not a valid value for reduction"),
    ("batchmean", {"reduction": "batchmean"}, ValueError, "not a valid value for reduction"),
    ("label_smoothing", {"label_smoothing": 1.5}, ValueError, "label_smoothing must be between"),
    ("z_loss", {"z_loss": -1.0}, ValueError, "z_loss must be a finite number >= 0"),
    ("softcap", {"softcap": 0.0}, ValueError, "softcap must be None or a finite number > 0"),
    ("softcap-nan", {"softcap": np.nan}, ValueError, "softcap must be None or a finite number > 0"),
    ("ignore_index-float", {"ignore_index": -100.0}, TypeError, "argument 'ignore_index' must be int"),
    ("chunk_size-0", {"chunk_size": 0}, ValueError, "chunk_size must be >= 1"),
    ("chunk_size-float", {"chunk_size": 2.0}, TypeError, "chunk_size must be None or an int"),
    ("chunk_size-bool", {"chunk_size": True}, TypeError, "chunk_size must be None or an int"),
]


@pytest.mark.parametrize("change,exc,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_before_anything_runs(isa, change, exc, match):
    args = dict(_good(), **change)
    arrays = [a for a in args.values() if isinstance(a, np.ndarray)]
    raises_unchanged(exc, lambda: L.linear_cross_entropy(**args), *arrays, match=match)


def test_targets_of_any_integer_dtype_and_an_ignore_index_that_is_a_class(isa):
    h, w, t, b, _ = make((6,), 4, 5, np.float64, bias=True)
    want = call(h, w, t, b)
    for dtype in (np.int32, np.uint8, np.int16, np.uint64):
        for got, expected in zip(call(h, w, t.astype(dtype), b), want):
            np.testing.assert_array_equal(got, expected)
    loss = call(h, w, t, b, "none", ignore_index=int(t[0]))[0]
    assert np.all(loss[t == t[0]] == 0) and np.all(loss[t != t[0]] > 0)


def test_inputs_are_only_read(isa):
    """Read-only arrays are taken, and nothing the caller passed is written."""
    h, w, t, b, _ = make(bias=True, ignored=True)
    arrays = (h, w, t, b)
    before = [a.copy() for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    for got, want in zip(call(h, w, t, b, chunk_size=4), call(*before, chunk_size=4)):
        np.testing.assert_array_equal(got, want)
    for a, copy in zip(arrays, before):
        np.testing.assert_array_equal(a, copy)


# ---------------------------------------------------------------- the memory

@pytest.mark.parametrize("ignored", [False, True])
def test_peak_memory_is_one_chunk_of_logits_plus_the_gradients(isa, ignored):
    """Traced (NumPy reports its allocations to tracemalloc): the extra
    memory of a call is its gradients, one chunk of logits, a chunk's
    grad_hidden (and with ignored rows its hidden rows) and the targets: a
    small fraction of the whole logits the unfused path holds (torch holds
    them three times)."""
    n, hidden, vocab, chunk = 4096, 32, 4000, 64
    h, w, t, b, _ = make((n,), hidden, vocab, np.float32, bias=True, ignored=ignored)
    call(h, w, t, b, chunk_size=chunk)  # warm up: nothing allocated once is counted
    tracemalloc.start()
    try:
        result = call(h, w, t, b, chunk_size=chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    gradients = sum(g.nbytes for g in result[1:])
    chunk_logits = chunk * vocab * 4
    chunk_hidden = chunk * hidden * 4 * (2 if ignored else 1)
    targets = 3 * n * 8  # int64 index arrays: the targets, the rows kept, theirs
    assert peak <= gradients + chunk_logits + chunk_hidden + targets + 16 * 1024, (peak, gradients, chunk_logits)
    assert peak <= (n * vocab * 4 + gradients) / 8


def test_default_chunk_rows():
    """chunk_size=None: 48 MiB of logits, at least 384 rows (docs/losses.md)."""
    from optkern.losses import _chunk_rows

    assert _chunk_rows(None, 32000, 4) == 393
    assert _chunk_rows(None, 128256, 4) == 384
    assert _chunk_rows(None, 1000, 8) == (48 << 20) // 8000
    assert _chunk_rows(7, 128256, 4) == 7
