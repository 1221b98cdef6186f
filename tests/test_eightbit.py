"""8-bit optimizer states (docs/precision.md#8-bit-states).

The format is checked bitwise against a NumPy model of it
(tools/gen_quant8_maps.py: the maps, their thresholds, the nearest-code
search) and bitsandbytes' maps; a step against the float32 kernel run on
the dequantised states and quantised again (bitwise: it is the same
per-element rule), under every ISA, at awkward sizes, on 1 and 2 threads;
then each optimizer against its 32-bit optimizer over 1000 steps, and
against bitsandbytes' CPU optimizers where bitsandbytes is importable.
"""

import os
import sys

import numpy as np
import pytest

import optkern
from helpers import require_module, threaded
from optkern import _core
from optkern import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import gen_quant8_maps as model  # noqa: E402

SIZES = [0, 1, 7, 15, 16, 17, 255, 256, 257, 1023, 4095, 4096, 65537]
ALL = ["Adam8bit", "AdamW8bit", "SGD8bit", "Lion8bit", "RMSprop8bit", "Adagrad8bit"]


def model_quantize(x, unsigned):
    """(codes, absmax) as docs/precision.md#8-bit-states defines them."""
    x = np.asarray(x, np.float32).reshape(-1)
    n = x.size
    blocks = np.concatenate([x, np.zeros(-n % 256, np.float32)]).reshape(-1, 256)
    absmax = np.abs(blocks).max(axis=1).astype(np.float32) if n else np.zeros(0, np.float32)
    inv = np.where(absmax > 0, np.float32(1) / np.where(absmax > 0, absmax, 1), 0).astype(np.float32)
    codes = model.nearest_code(model.dynamic_map(not unsigned), (blocks * inv[:, None]).astype(np.float32))
    return codes.reshape(-1)[:n], absmax


def model_dequantize(codes, absmax, unsigned):
    m = model.dynamic_map(not unsigned)
    return (m[codes] * np.repeat(absmax, 256)[:codes.size]).astype(np.float32)


def test_maps_are_the_model_and_bitsandbytes():
    for unsigned in (False, True):
        np.testing.assert_array_equal(_core.q8_map(unsigned).view(np.uint32),
                                      model.dynamic_map(not unsigned).view(np.uint32))
    codes = model.dynamic_map(True)
    assert codes.size == 256 and (np.diff(codes) > 0).all() and codes[-1] == 1 and 0 in codes
    bnb = require_module("bitsandbytes")
    for signed in (True, False):
        np.testing.assert_array_equal(bnb.functional.create_dynamic_map(signed=signed).numpy().view(np.uint32),
                                      model.dynamic_map(signed).view(np.uint32))


def test_header_is_generated():
    with open(os.path.join(os.path.dirname(__file__), "..", "kernels", "src", "quant8_maps.h")) as f:
        assert f.read() == model.header()


def test_nearest_code_is_the_nearest():
    for unsigned in (False, True):
        codes = model.dynamic_map(not unsigned)
        mids = ((codes[:-1].astype(np.float64) + codes[1:]) / 2).astype(np.float32)
        x = np.concatenate([codes, mids, np.nextafter(mids, 2), np.nextafter(mids, -2),
                            np.random.default_rng(0).uniform(-1, 1, 5000).astype(np.float32)])
        dist = np.abs(x[:, None].astype(np.float64) - codes[None, :])
        np.testing.assert_array_equal(model.nearest_code(codes, x), dist.argmin(axis=1))  # argmin: ties to the lower


@pytest.mark.parametrize("unsigned", [False, True])
def test_encoder_is_the_heap_search_at_every_float(isa, unsigned):
    """The kernels' bucket-table encoder (kernels/src/quant8.h) against the
    format's heap search at each of the 2^31 float32 from -1 to 1
    (testing.c's ok_q8_check_all), and at -0, NaN, infinities, values past
    +-1 and subnormals against the NumPy model's search; the model's own
    bucket encoder too."""
    assert _core.q8_check_all(unsigned) == (0, None)
    tiny = np.array([1, 2, 0x7fffff, 0x800000], np.uint32).view(np.float32)
    x = np.concatenate([np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1.0, -1.0, 1.5, -1.5, 3e38, -3e38],
                                 np.float32),
                        np.nextafter(np.float32([1, -1]), np.float32([2, -2])), tiny, -tiny,
                        np.random.default_rng(1).standard_normal(1000).astype(np.float32)]).astype(np.float32)
    codes = model.dynamic_map(not unsigned)
    np.testing.assert_array_equal(_core.q8_codes(x, unsigned), model.nearest_code(codes, x))
    np.testing.assert_array_equal(model.bucket_code(not unsigned, x), model.nearest_code(codes, x))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("unsigned", [False, True])
def test_quantize_is_the_model(isa, n, unsigned):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * np.exp(rng.uniform(-12, 4, n))).astype(np.float32)
    if unsigned:
        x = np.abs(x)
    if n > 300:
        x[256:512] = 0  # a block of zeros: scale 0
    q, a = _core.quantize_8bit(x, unsigned)
    mq, ma = model_quantize(x, unsigned)
    np.testing.assert_array_equal(a.view(np.uint32), ma.view(np.uint32))
    np.testing.assert_array_equal(q, mq)
    back = _core.dequantize_8bit(q, a, unsigned)
    np.testing.assert_array_equal(back.view(np.uint32), model_dequantize(mq, ma, unsigned).view(np.uint32))
    if n:  # the format's error: half the widest gap of the map, times the block's scale (and x * (1/a) rounded)
        gap = np.diff(model.dynamic_map(not unsigned)).max() / 2
        assert (np.abs(back - x) <= gap * np.repeat(a, 256)[:n] * 1.001).all()


def adam_reference(p, g, states, step, lr, betas, eps, wd):
    """One Adam8bit step as docs/precision.md#8-bit-states defines it: the
    float32 kernel (optkern.functional.adamw_) on the dequantised states,
    which are then quantised again."""
    p = p.copy()
    m = model_dequantize(states["state1"].reshape(-1), states["absmax1"], False).reshape(p.shape)
    v = model_dequantize(states["state2"].reshape(-1), states["absmax2"], True).reshape(p.shape)
    F.adamw_([p], [g], [m], [v], step=step, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    q1, a1 = model_quantize(m, False)
    q2, a2 = model_quantize(v, True)
    return p, {"state1": q1.reshape(p.shape), "absmax1": a1, "state2": q2.reshape(p.shape), "absmax2": a2}


@pytest.mark.parametrize("n", [4096, 4097, 65537])
@pytest.mark.parametrize("pdtype", ["float32", "bfloat16"])
def test_adam8bit_step_is_the_float32_step_on_the_codes(isa, n, pdtype):
    dtype = np.dtype(require_module("ml_dtypes").bfloat16) if pdtype == "bfloat16" else np.dtype(np.float32)
    rng = np.random.default_rng(n)
    p = rng.standard_normal(n).astype(dtype)
    opt = optkern.Adam8bit([p], lr=1e-2, weight_decay=0.1)
    for step in range(1, 4):
        g = rng.standard_normal(n).astype(dtype)
        before = {k: np.array(v) for k, v in opt.state_dict()["state"].get(0, {}).items() if k != "step"}
        if not before:
            before = {"state1": np.zeros(n, np.uint8), "absmax1": np.zeros(-(-n // 256), np.float32),
                      "state2": np.zeros(n, np.uint8), "absmax2": np.zeros(-(-n // 256), np.float32)}
        want_p, want = adam_reference(p.astype(np.float32), g.astype(np.float32), before, step, 1e-2,
                                      (0.9, 0.999), 1e-8, 0.1)
        opt.step([g])
        np.testing.assert_array_equal(p, want_p.astype(dtype))
        for k, v in want.items():
            np.testing.assert_array_equal(opt.state[p][k], v, err_msg=k)


def test_small_tensors_keep_float32_states():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((63, 65)).astype(np.float32)  # 4095 < min_8bit_size
    q = p.copy()
    a, b = optkern.Adam8bit([p], lr=1e-2, weight_decay=0.1), optkern.AdamW([q], lr=1e-2, weight_decay=0.1)
    for _ in range(5):
        g = rng.standard_normal(p.shape).astype(np.float32)
        a.step([g]), b.step([g])
    np.testing.assert_array_equal(p, q)
    assert a.state[p]["state1"].dtype == np.float32
    np.testing.assert_array_equal(a.state[p]["state2"], b.state[q]["exp_avg_sq"])


def make(name, params, **kw):
    lr = {"SGD8bit": 1e-2, "Lion8bit": 1e-4}.get(name, 1e-3)
    kw = {"lr": lr, **({"momentum": 0.9} if name == "SGD8bit" else {}), **kw}
    return getattr(optkern, name)(params, **kw)


@pytest.mark.parametrize("name", ALL)
def test_threads_bitwise(num_threads, name):
    rng = np.random.default_rng(1)
    runs = []
    for t in (1, 2):
        num_threads(t)
        ps = [rng.standard_normal(300001).astype(np.float32) * 0 + np.float32(1.5), np.ones(70000, np.float32)]
        opt = make(name, ps)
        grads = [np.sin(np.arange(p.size, dtype=np.float32) * 0.37 + k) for k, p in enumerate(ps)]
        with threaded() if t == 2 else _nothing():
            for _ in range(3):
                opt.step(grads)
        runs.append([p.copy() for p in ps] + [np.array(v) for s in opt.state_dict()["state"].values()
                                                for k, v in s.items() if k != "step"])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# The documented error after 1000 steps: |p8 - p32| <= bound * lr * steps
# (docs/precision.md#8-bit-states), on a noisy quadratic.
BOUND = {"Adam8bit": 0.15, "AdamW8bit": 0.15, "SGD8bit": 0.02, "Lion8bit": 0.15, "RMSprop8bit": 0.2,
         "Adagrad8bit": 0.02}
PEER = {"Adam8bit": ("AdamW", {"weight_decay": 0}), "AdamW8bit": ("AdamW", {}), "SGD8bit": ("SGD", {"momentum": 0.9}),
        "Lion8bit": ("Lion", {}), "RMSprop8bit": ("RMSprop", {}), "Adagrad8bit": ("Adagrad", {})}


@pytest.mark.parametrize("name", ALL)
def test_within_the_documented_error_of_32_bit(name):
    rng = np.random.default_rng(2)
    n, steps = 20000, 1000
    p = rng.standard_normal(n).astype(np.float32)
    q = p.copy()
    opt = make(name, [p])
    lr = opt.param_groups[0]["lr"]
    peer, kw = PEER[name]
    kw = {**({"weight_decay": opt.param_groups[0]["weight_decay"]} if peer != "SGD" else {}), **kw}
    ref = getattr(optkern, peer)([q], lr=lr, **kw)
    for _ in range(steps):
        g = (p + rng.standard_normal(n).astype(np.float32)).astype(np.float32)
        gq = (q + (g - p)).astype(np.float32)
        opt.step([g]), ref.step([gq])
    err = np.abs(p - q).max() / (lr * steps)
    assert err <= BOUND[name], err


@pytest.mark.parametrize("name, peer", [("Adam8bit", "Adam8bit"), ("AdamW8bit", "AdamW8bit"),
                                        ("Lion8bit", "Lion8bit"), ("RMSprop8bit", "RMSprop8bit"),
                                        ("Adagrad8bit", "Adagrad8bit"), ("SGD8bit", "SGD8bit")])
def test_parity_with_bitsandbytes(name, peer):
    bnb = require_module("bitsandbytes")
    torch = require_module("torch")
    rng = np.random.default_rng(3)
    n = 8192
    p = rng.standard_normal(n).astype(np.float32)
    t = torch.nn.Parameter(torch.tensor(p))
    opt = make(name, [p])
    kw = {k: v for k, v in opt.param_groups[0].items() if k in ("lr", "betas", "eps", "weight_decay", "momentum",
                                                                 "alpha")}
    ref = getattr(bnb.optim, peer)([t], **kw)
    for _ in range(100):
        g = rng.standard_normal(n).astype(np.float32)
        t.grad = torch.tensor(g)
        opt.step([g]), ref.step()
    # bitsandbytes' CPU quantiser finds the nearest code through a table of
    # 65536 bins, which now and then picks a neighbour: the codes drift apart
    lr = opt.param_groups[0]["lr"]
    assert np.abs(p - t.detach().numpy()).max() <= 0.1 * lr * 100


def test_bad_input_raises_and_writes_nothing():
    p = np.ones(5000, np.float32)
    with pytest.raises(ValueError, match="amsgrad"):
        optkern.Adam8bit([p], amsgrad=True)
    with pytest.raises(ValueError, match="percentile_clipping"):
        optkern.Adam8bit([p], percentile_clipping=5)
    with pytest.raises(ValueError, match="optim_bits"):
        optkern.Adam8bit([p], optim_bits=32)
    with pytest.raises(NotImplementedError, match="momentum"):
        optkern.SGD8bit([p], lr=0.1)
    with pytest.raises(TypeError, match="float64"):
        optkern.Adam8bit([np.ones(5000)]).step([np.ones(5000)])
    kind = optkern.optim._engine.kind("adam")
    hp = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "step": 1, "amsgrad": False,
          "maximize": False, "decoupled_weight_decay": True}
    good = (np.zeros(5000, np.uint8), np.zeros(20, np.float32), np.zeros(5000, np.uint8), np.zeros(20, np.float32))
    for bad, match in [((np.zeros(5000, np.int8),) + good[1:], "uint8"), (good[:1] + (np.zeros(19, np.float32),) + good[2:], "shape"),
                       ((good[0], good[1], good[0], good[3]), "overlaps")]:
        with pytest.raises((TypeError, ValueError), match=match):
            _core.step_8bit(kind, [p], [np.ones(5000, np.float32)], tuple([x] for x in bad), [hp])
        np.testing.assert_array_equal(p, 1)
    with pytest.raises(RuntimeError):  # amsgrad needs a third state
        _core.step_8bit(kind, [p], [np.ones(5000, np.float32)], tuple([x] for x in good), [{**hp, "amsgrad": True}])
    np.testing.assert_array_equal(p, 1)


def test_mlp_trains_like_float32():
    """A small MLP (optkern's own cross_entropy) on synthetic classes: Adam8bit
    ends within noise of AdamW's loss."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((512, 32)).astype(np.float32)
    y = (x[:, :4].argmax(axis=1)).astype(np.int64)
    losses = {}
    for name in ("AdamW", "AdamW8bit"):
        r = np.random.default_rng(5)
        w1 = (r.standard_normal((32, 256)) * 0.1).astype(np.float32)
        w2 = (r.standard_normal((256, 4)) * 0.1).astype(np.float32)
        opt = getattr(optkern, name)([w1, w2], lr=3e-3)
        for _ in range(300):
            h = np.maximum(x @ w1, 0)
            logits = h @ w2
            loss, d = optkern.losses.cross_entropy(logits, y, out=logits)
            dh = (d @ w2.T) * (h > 0)
            opt.step([x.T @ dh, h.T @ d])
        losses[name] = float(loss)
    assert losses["AdamW8bit"] <= losses["AdamW"] * 1.5 + 0.02, losses


def _trained(name, steps, **kw):
    """An 8-bit optimizer (or its 32-bit peer, PEER) after `steps` steps on
    two parameters, one 8-bit and one under min_8bit_size, and the rng that
    makes its next gradients."""
    rng = np.random.default_rng(6)
    params = [rng.standard_normal(5000).astype(np.float32), rng.standard_normal(100).astype(np.float32)]
    peer, peer_kw = PEER[name]
    opt = make(name, params) if not kw.get("peer") else getattr(optkern, peer)(
        params, lr=make(name, [np.ones(1, np.float32)]).param_groups[0]["lr"], **peer_kw)
    for _ in range(steps):
        opt.step([rng.standard_normal(p.shape).astype(np.float32) for p in params])
    return opt, params, rng


def _entry(opt, i=0):
    return {k: np.array(v) for k, v in opt.state_dict()["state"][i].items() if k != "step"}


@pytest.mark.parametrize("name", ALL)
def test_state_dict_resumes_bitwise(name):
    """Saving and loading into a new optimizer, then stepping on, gives what
    the uninterrupted optimizer gives."""
    opt, params, rng = _trained(name, 3)
    saved = {"state": {i: {k: np.array(v) for k, v in e.items()} for i, e in opt.state_dict()["state"].items()},
             "param_groups": opt.state_dict()["param_groups"]}
    copies = [p.copy() for p in params]
    other = make(name, copies)
    other.load_state_dict(saved)
    for _ in range(2):
        grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
        opt.step(grads), other.step(grads)
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a, b)
    for k, v in _entry(opt).items():
        np.testing.assert_array_equal(_entry(other)[k], v)


@pytest.mark.parametrize("name", ALL)
def test_state_dict_converts_between_8_and_32_bit(name):
    """An 8-bit state_dict loads into the 32-bit optimizer as its decoded
    states; a 32-bit one loads into the 8-bit optimizer as their codes;
    a parameter under min_8bit_size keeps its float32 states both ways."""
    opt, params, _ = _trained(name, 3)
    names = optkern.optim._engine.kind(opt._kind).states
    eight = _entry(opt)
    peer, peer_kw = PEER[name]
    wide = getattr(optkern, peer)([p.copy() for p in params], **peer_kw)
    wide.load_state_dict(opt.state_dict())
    for k in range(1, opt._states + 1):
        decoded = model_dequantize(eight[f"state{k}"], eight[f"absmax{k}"], k == 2)
        np.testing.assert_array_equal(_entry(wide)[names[k - 1]], decoded)
        np.testing.assert_array_equal(_entry(wide, 1)[names[k - 1]], _entry(opt, 1)[f"state{k}"])
    back = make(name, [p.copy() for p in params])
    back.load_state_dict(wide.state_dict())
    for k in range(1, opt._states + 1):
        codes, absmax = model_quantize(_entry(wide)[names[k - 1]], k == 2)
        np.testing.assert_array_equal(_entry(back)[f"state{k}"], codes)
        np.testing.assert_array_equal(_entry(back)[f"absmax{k}"], absmax)
        np.testing.assert_array_equal(_entry(back, 1)[f"state{k}"], _entry(wide, 1)[names[k - 1]])
    # a larger min_8bit_size decodes the codes it is given
    small = make(name, [p.copy() for p in params], min_8bit_size=10**6)
    small.load_state_dict(opt.state_dict())
    np.testing.assert_array_equal(_entry(small)["state1"], model_dequantize(eight["state1"], eight["absmax1"], False))


def test_state_dict_refuses_what_it_cannot_hold():
    opt, params, _ = _trained("Adam8bit", 2)
    good = opt.state_dict()
    fresh = make("Adam8bit", [p.copy() for p in params])
    before = _entry(fresh) if 0 in fresh.state_dict()["state"] else None
    for change, match in [({"absmax1": np.zeros(3, np.float32)}, "absmax1"),
                          ({"state2": np.zeros(7, np.uint8)}, "state2"),
                          ({"qmap1": np.linspace(-1, 1, 256)}, "qmap1"),
                          ({"exp_avg": np.zeros(5000, np.float32)}, "both"),
                          ({"absmax2": None}, "absmax2")]:
        bad = {"state": {**good["state"], 0: {**good["state"][0], **change}}, "param_groups": good["param_groups"]}
        with pytest.raises(ValueError, match=match):
            fresh.load_state_dict(bad)
        assert (0 in fresh.state_dict()["state"]) == (before is not None)
    with pytest.raises(ValueError, match="absmax1"):  # a 32-bit optimizer needs the scales to decode the codes
        optkern.Adam([p.copy() for p in params]).load_state_dict(
            {"state": {0: {k: v for k, v in good["state"][0].items() if k != "absmax1"}},
             "param_groups": good["param_groups"]})


def test_loads_bitsandbytes_state_dict():
    """bitsandbytes' Adam8bit state (its tensors as arrays, its qmaps with
    them) loads and decodes to what bitsandbytes decodes."""
    bnb = require_module("bitsandbytes")
    torch = require_module("torch")
    rng = np.random.default_rng(7)
    t = torch.nn.Parameter(torch.tensor(rng.standard_normal(8192).astype(np.float32)))
    ref = bnb.optim.Adam8bit([t])
    for _ in range(3):
        t.grad = torch.tensor(rng.standard_normal(8192).astype(np.float32))
        ref.step()
    sd = ref.state_dict()

    def arrays(entry):
        return {k: arrays(v) if isinstance(v, dict) else v.numpy() if torch.is_tensor(v) else v for k, v in entry.items()}
    state = {i: arrays(e) for i, e in sd["state"].items()}
    opt = optkern.Adam8bit([t.detach().numpy().copy()])
    opt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    quant = state[0]["__bnb_optimizer_quant_state__"]  # how bitsandbytes >= 0.45 saves them
    for k in (1, 2):
        np.testing.assert_array_equal(_entry(opt)[f"state{k}"], quant[f"state{k}"])
    wide = optkern.Adam([t.detach().numpy().copy()])
    wide.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    decoded = bnb.functional.dequantize_blockwise(torch.tensor(quant["state2"]), absmax=torch.tensor(quant["absmax2"]),
                                                  code=torch.tensor(quant["qmap2"]), blocksize=256).numpy()
    np.testing.assert_array_equal(_entry(wide)["exp_avg_sq"], decoded)
