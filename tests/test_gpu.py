"""The GPU backend (optkern.cuda, docs/gpu.md), in three layers.

1. Every CUDA source compiles: with NVRTC, exactly as CuPy compiles it at
   run time (the NVRTC library of the nvidia-cuda-nvrtc wheel), and with
   nvcc. A machine without a GPU still catches a source that would not
   build on one.
2. The whole GPU path runs on the CPU emulation of a GPU (an
   EmulatedDevice: kernels/cuda/launch.cuh compiled by the host's C++
   compiler, each block's threads real threads): the optimizer classes, the
   plans, the chunk tables and the kernels. Its results must equal the C
   library's scalar target bitwise, since both run the same kernel bodies
   without contraction into fused multiply-adds; an optimizer with sums
   inside its step (Muon, LAMB, LARS, Adafactor) to the rounding of sums
   taken in another order.
3. On a real GPU (CuPy and a CUDA device; skipped otherwise, with the
   reason): the same comparisons on cupy arrays, and parity with torch on
   CUDA where torch sees the GPU.
"""

import ctypes
import ctypes.util
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import optkern
from helpers import require, require_module, rng_for
from optim_cases import RECORDS
from optkern import _backend, _core
from optkern.cuda import _device, _optim

SOURCES = sorted(p.name for p in (_device.sources() / "cuda").iterdir() if p.name.endswith(".cu"))
# optim.cu at every kernel variant (kernels/src/variants.h), the others at the
# data variants (every stream of one dtype)
COMPILES = [(s, v) for s in SOURCES for v, (p, g, st) in sorted((v, k) for k, v in _optim._variants().items())
            if s == "optim.cu" or p == g == st]
SHAPES = [(7,), (3, 5), (0,), (130,), (1,)]


# ------------------------------------------------------------- 1. compiling

def _nvrtc():
    """libnvrtc (the nvidia-cuda-nvrtc wheel's, else the system's), or None."""
    try:
        import nvidia

        for root in nvidia.__path__:
            for path in sorted(glob.glob(os.path.join(root, "*", "lib", "libnvrtc.so*"))):
                if "builtins" not in path:
                    return ctypes.CDLL(path)
    except ImportError:
        pass
    found = ctypes.util.find_library("nvrtc")
    return ctypes.CDLL(found) if found else None


def nvrtc_compile(lib, source, options):
    """(status, log) of compiling `source` with NVRTC's C API."""
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"kernel.cu", 0, None, None) == 0
    args = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
    status = lib.nvrtcCompileProgram(prog, len(options), args)
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return status, log.value.decode(errors="replace")


@pytest.fixture(scope="module")
def nvrtc():
    lib = _nvrtc()
    require(lib is not None, "NVRTC (pip install nvidia-cuda-nvrtc)")
    return lib


@pytest.mark.parametrize("source, variant", COMPILES)
def test_source_compiles_with_nvrtc(nvrtc, source, variant):
    text = (_device.sources() / "cuda" / source).read_text()
    # a cubin, not PTX: ptxas runs too, as it does where CuPy loads the module
    status, log = nvrtc_compile(nvrtc, text, ["-arch=sm_80", *_device.compile_options(variant)])
    assert status == 0, log


@pytest.mark.parametrize("source", SOURCES)
def test_source_compiles_with_nvcc(source, tmp_path):
    nvcc = shutil.which("nvcc")
    require(nvcc is not None, "nvcc (the CUDA toolkit)")
    src = os.fspath(_device.sources() / "cuda" / source)
    options = [o for o in _device.compile_options(0, nvrtc=False) if o != "-default-device"]
    done = subprocess.run([nvcc, "-c", "-x", "cu", "-arch=sm_80", *options, src, "-o", os.fspath(tmp_path / "k.o")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]


# -------------------------------------------------- 2. the emulated GPU

@pytest.fixture(scope="session")
def emulated(tmp_path_factory):
    require(shutil.which(os.environ.get("CXX") or "c++") is not None, "a C++20 compiler (g++)")
    return _device.EmulatedDevice(os.fspath(tmp_path_factory.mktemp("emulated")))


@pytest.fixture
def scalar_isa():
    before = optkern.get_isa()
    optkern.set_isa("scalar")
    yield
    optkern.set_isa(before)


def arrays(rng, shapes, dtype):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def run_steps(record, params, grads, kwargs, device=None):
    """record's optimizer over params, stepped once per list of grads; on
    `device` (an emulated GPU) or the C kernels. Returns the optimizer."""
    if device is None:
        opt = record.make(params, **kwargs)
        for g in grads:
            opt.step(g)
        return opt
    with _backend.emulating(device):
        opt = record.make(params, **kwargs)
        for g in grads:
            opt.step(g)
    return opt


def assert_same_state(a, b, rtol=0.0):
    """The two optimizers' parameters and states equal: bitwise, or (rtol)
    within a relative tolerance."""
    if rtol:
        for p, q in zip(a._plan.params, b._plan.params):
            np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol)
        return
    for p, q in zip(a._plan.params, b._plan.params):
        np.testing.assert_array_equal(p.view(np.uint8), q.view(np.uint8))
    for name, lst in a._plan.states.items():
        for x, y in zip(lst, b._plan.states[name]):
            assert (x is None) == (y is None), name
            if x is not None:
                np.testing.assert_array_equal(np.atleast_1d(x).view(np.uint8), np.atleast_1d(y).view(np.uint8), name)


def emulated_case_ids(case):
    record, kwargs = case
    return record.name + "-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


EMULATED_CASES = [(r, kw) for r in RECORDS for kw in [r.all_states] + r.configs[1:3]]


def tolerance(record, dtype):
    """How close the GPU's step is to the CPU's scalar target: bitwise (0)
    for one elementwise pass, else to the rounding of sums in another
    order."""
    kind = _core.kinds()[record.cls._kind]
    return 0.0 if kind.elementwise and not kind.work else 1e-5 if dtype == np.float32 else 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", EMULATED_CASES, ids=emulated_case_ids)
def test_emulated_step_is_the_scalar_target(emulated, scalar_isa, case, dtype):
    record, kwargs = case
    rng = rng_for("emulated", record.name, str(kwargs), dtype)
    shapes = [record.shape(s) for s in SHAPES]
    start = arrays(rng, shapes, dtype)
    grads = [arrays(rng, shapes, dtype) for _ in range(record.steps)]
    grads[1][2 % len(shapes)] = None  # a parameter without a gradient on one step
    cpu = run_steps(record, [p.copy() for p in start], grads, kwargs)
    gpu = run_steps(record, [p.copy() for p in start], grads, kwargs, emulated)
    # Muon's orthogonalisation and LAMB's and LARS's trust ratios divide by
    # norms, sums in the GPU's order (docs/gpu.md#reductions): bitwise for
    # the rest, not for them
    assert_same_state(cpu, gpu, tolerance(record, dtype))


def test_emulated_param_groups_and_many_tensors(emulated, scalar_isa):
    """Two groups of different hyperparameters (two coefficient sets, the
    plan's set index) over 300 tensors of awkward sizes, several chunks
    each."""
    rng = rng_for("groups")
    sizes = [int(n) for n in rng.integers(0, 200, 300)]
    start = arrays(rng, [(n,) for n in sizes], np.float32)
    grads = [arrays(rng, [(n,) for n in sizes], np.float32) for _ in range(3)]

    def groups(params):
        return [{"params": params[:120], "lr": 0.1}, {"params": params[120:], "lr": 0.01, "weight_decay": 0.1}]

    cpu_params, gpu_params = [p.copy() for p in start], [p.copy() for p in start]
    cpu = optkern.AdamW(groups(cpu_params))
    for g in grads:
        cpu.step(g)
    with _backend.emulating(emulated):
        gpu = optkern.AdamW(groups(gpu_params))
        for g in grads:
            gpu.step(g)
    assert_same_state(cpu, gpu)


@pytest.mark.parametrize("options", [
    {"master_weights": True},
    {"stochastic_rounding": True, "seed": 7},
    {"state_dtype": "bfloat16"},
])
def test_emulated_16_bit_steps(emulated, scalar_isa, options):
    ml_dtypes = require_module("ml_dtypes", "ml_dtypes (bfloat16)")
    rng = rng_for("sixteen", str(options))
    param_dtype = np.float32 if "state_dtype" in options else ml_dtypes.bfloat16
    start = arrays(rng, SHAPES, param_dtype)
    grads = [arrays(rng, SHAPES, param_dtype) for _ in range(3)]
    cpu_params, gpu_params = [p.copy() for p in start], [p.copy() for p in start]
    cpu = optkern.Adam(cpu_params, lr=0.01, **options)
    for g in grads:
        cpu.step(g)
    with _backend.emulating(emulated):
        gpu = optkern.Adam(gpu_params, lr=0.01, **options)
        for g in grads:
            gpu.step(g)
    assert_same_state(cpu, gpu)
    for a, b in zip(cpu._plan.master, gpu._plan.master):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls, kwargs", [(optkern.Adam, {"amsgrad": True}), (optkern.NAdam, {})])
def test_emulated_state_dict_loads_on_the_cpu_and_back(emulated, scalar_isa, cls, kwargs):
    """Two steps on the GPU, saved, loaded on the CPU, two more there, saved,
    loaded on the GPU, two more: the six steps of the CPU alone (NAdam's
    scalar states included)."""
    rng = rng_for("state dict", cls.__name__)
    start = arrays(rng, SHAPES, np.float32)
    grads = [arrays(rng, SHAPES, np.float32) for _ in range(6)]
    cpu = cls([p.copy() for p in start], lr=0.01, **kwargs)
    for g in grads:
        cpu.step(g)
    with _backend.emulating(emulated):
        gpu = cls([p.copy() for p in start], lr=0.01, **kwargs)
        for g in grads[:2]:
            gpu.step(g)
        saved = gpu.state_dict()
    moved = cls([p.copy() for p in gpu._plan.params], lr=0.01, **kwargs)
    moved.load_state_dict(saved)
    for g in grads[2:4]:
        moved.step(g)
    with _backend.emulating(emulated):
        back = cls([p.copy() for p in moved._plan.params], lr=0.01, **kwargs)
        back.load_state_dict(moved.state_dict())
        for g in grads[4:]:
            back.step(g)
    assert_same_state(cpu, back)


def test_bad_input_raises_before_any_launch(emulated):
    rng = rng_for("bad")
    params = arrays(rng, SHAPES, np.float32)
    before = [p.copy() for p in params]
    with _backend.emulating(emulated):
        opt = optkern.Adam(params, lr=0.1)
        good = arrays(rng, SHAPES, np.float32)
        with pytest.raises(ValueError, match="shape"):
            opt.step(good[:-1] + [np.zeros(3, np.float32)])
        with pytest.raises(TypeError, match="dtype"):
            opt.step(good[:-1] + [np.zeros(1, np.int32)])
        with pytest.raises(ValueError, match="overlaps"):
            opt.step(good[:-1] + [params[-1]])
        with pytest.raises(ValueError, match="C-contiguous"):
            opt.step(good[:1] + [np.zeros((5, 3), np.float32).T] + good[2:])
        with pytest.raises(ValueError, match="overlaps"):
            optkern.Adam([params[0], params[0][:3]])
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p, b)


@pytest.mark.parametrize("cls, kwargs", [
    (optkern.LAMB, {"lr": 0.1, "max_grad_norm": 1.0}),
    (optkern.LAMB, {"lr": 0.1, "max_grad_norm": None, "weight_decay": 0.0}),
    (optkern.LAMB, {"lr": 0.1, "use_nvlamb": True, "adam_w_mode": False}),
    (optkern.LARS, {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-2}),
])
def test_emulated_norm_optimizers_over_dtypes_and_groups(emulated, scalar_isa, cls, kwargs):
    """LAMB's global gradient norm spans the plans of every dtype signature
    (float32 and float64 tensors in one call, clipping on), its groups'
    trust ratios and LARS's excluded group: the CPU's numbers, to the
    rounding of sums taken in another order."""
    rng = rng_for("norms", cls.__name__, str(kwargs))
    shapes, dtypes = [(3,), (130,), (0,), (7, 19), (300,)], [np.float32, np.float64] * 2 + [np.float32]
    start = [rng.standard_normal(s).astype(d) for s, d in zip(shapes, dtypes)]
    grads = [[(3 * rng.standard_normal(s)).astype(d) for s, d in zip(shapes, dtypes)] for _ in range(3)]
    second = {"lr": 0.05} if cls is optkern.LAMB else {"lars_exclude": True}

    def run(params):
        opt = cls([{"params": params[:2]}, {"params": params[2:], **second}], **kwargs)
        for g in grads:
            opt.step(g)

    cpu, gpu = [p.copy() for p in start], [p.copy() for p in start]
    run(cpu)
    with _backend.emulating(emulated):
        run(gpu)
    for p, q, s in zip(cpu, gpu, start):
        np.testing.assert_allclose(q, p, rtol=1e-6, atol=1e-12)
        assert p.size == 0 or not np.array_equal(p, s)


EIGHT_BIT = [(optkern.Adam8bit, {"lr": 0.01}), (optkern.AdamW8bit, {"lr": 0.01}),
             (optkern.SGD8bit, {"lr": 0.01, "momentum": 0.9}), (optkern.Lion8bit, {"lr": 0.001}),
             (optkern.RMSprop8bit, {"lr": 0.01}), (optkern.Adagrad8bit, {"lr": 0.01})]


@pytest.mark.parametrize("cls, kwargs", EIGHT_BIT, ids=[c.__name__ for c, _ in EIGHT_BIT])
def test_emulated_8bit_step_is_the_scalar_target(emulated, scalar_isa, cls, kwargs):
    """Every 8-bit optimizer over tensors of awkward sizes (a partial last
    block, one under min_8bit_size keeping 32-bit states), two groups:
    parameters, codes and scales bitwise the CPU's scalar target; the state
    saved on the GPU continues on the CPU."""
    rng = rng_for("8bit", cls.__name__)
    shapes = [(300,), (7, 81), (5,), (1000,)]
    start = arrays(rng, shapes, np.float32)
    grads = [arrays(rng, shapes, np.float32) for _ in range(4)]

    def make(params):
        return cls([{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}], min_8bit_size=100,
                   **kwargs)

    cpu = make([p.copy() for p in start])
    for g in grads:
        cpu.step(g)
    with _backend.emulating(emulated):
        gpu = make([p.copy() for p in start])
        for g in grads[:3]:
            gpu.step(g)
        saved = gpu.state_dict()
    moved = make([p.copy() for p in gpu._plan.params])
    moved.load_state_dict(saved)
    moved.step(grads[3])
    with _backend.emulating(emulated):
        gpu.step(grads[3])
    assert_same_state(cpu, gpu)
    assert_same_state(cpu, moved)
    assert cpu._plan.states["state1"][0].dtype == np.uint8 and cpu._plan.states["state1"][2].dtype == np.float32


def test_emulated_8bit_bad_input_changes_nothing(emulated):
    rng = rng_for("8bit bad")
    params = arrays(rng, [(600,), (300,)], np.float32)
    with _backend.emulating(emulated):
        opt = optkern.Adam8bit(params, lr=0.01, min_8bit_size=1)
        opt.step(arrays(rng, [(600,), (300,)], np.float32))
        before = [p.copy() for p in params] + [a.copy() for a in opt._plan.states["state1"]]
        with pytest.raises(ValueError, match="overlaps"):
            opt.step([np.zeros(600, np.float32), params[0][:300]])  # a gradient that is a parameter's memory
        with pytest.raises(TypeError, match="dtype"):
            opt.step([np.zeros(600, np.float32), np.zeros(300, np.int16)])
    for a, b in zip(params + opt._plan.states["state1"], before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"weight_decay": 0.1, "maximize": True, "eps": (1e-30, 1e-3)}])
def test_emulated_adafactor_matches_the_cpu(emulated, scalar_isa, kwargs, dtype):
    """Adafactor's factored matrices (one, a batch of them, one of a single
    row, an empty one) and vectors, in two groups: the CPU's numbers to the
    rounding of sums taken in another order; the states too."""
    rng = rng_for("adafactor", str(kwargs), dtype)
    shapes = [(37, 21), (2, 3, 70, 5), (1, 9), (0, 4), (130,), (), (3, 1)]
    start = arrays(rng, shapes, dtype)
    grads = [arrays(rng, shapes, dtype) for _ in range(3)]

    def run(params):
        opt = optkern.Adafactor([{"params": params[:4]}, {"params": params[4:], "lr": 0.02}], **kwargs)
        for g in grads:
            opt.step(g)
        return opt

    cpu = run([p.copy() for p in start])
    with _backend.emulating(emulated):
        gpu = run([p.copy() for p in start])
    assert_same_state(cpu, gpu, 1e-5 if dtype == np.float32 else 1e-12)
    for name, lst in cpu._plan.states.items():
        for a, b in zip(lst, gpu._plan.states[name]):
            if a is not None:
                np.testing.assert_allclose(b, a, rtol=1e-5 if dtype == np.float32 else 1e-12, err_msg=name)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_emulated_lbfgs_matches_the_cpu(emulated, line_search_fn):
    """L-BFGS on a least-squares problem over three tensors: its vector
    operations on the GPU (sums in the GPU's order, so within a tolerance),
    the same iterations; its state saved on the GPU continues on the CPU."""
    rng = rng_for("lbfgs", str(line_search_fn))
    A = rng.standard_normal((40, 23))
    b = rng.standard_normal(40)

    def problem(params):
        def closure():
            x = np.concatenate([p.ravel() for p in params])
            r = A @ x - b
            g = A.T @ r
            return float(r @ r) / 2, [g[:5].reshape(5), g[5:17].reshape(3, 4), g[17:]]
        return closure

    def start():
        return [np.zeros(5), np.zeros((3, 4)), np.zeros(6)]

    kwargs = {"lr": 0.5, "max_iter": 7, "history_size": 4, "line_search_fn": line_search_fn}
    cpu_params = start()
    cpu = optkern.LBFGS(cpu_params, **kwargs)
    losses = [cpu.step(problem(cpu_params)) for _ in range(3)]
    gpu_params = start()
    with _backend.emulating(emulated):
        gpu = optkern.LBFGS(gpu_params, **kwargs)
        gpu_losses = [gpu.step(problem(gpu_params)) for _ in range(2)]
        saved = gpu.state_dict()
        with pytest.raises(TypeError, match="like the parameters"):
            gpu.step(lambda: (0.0, [1.0, None, None]))
    np.testing.assert_allclose(gpu_losses, losses[:2], rtol=1e-10)
    moved = optkern.LBFGS(gpu_params, **kwargs)
    moved.load_state_dict(saved)
    gpu_losses.append(moved.step(problem(gpu_params)))
    np.testing.assert_allclose(gpu_losses, losses, rtol=1e-10)
    for p, q in zip(cpu_params, gpu_params):
        np.testing.assert_allclose(q, p, rtol=1e-9, atol=1e-12)
    assert saved["state"][0]["n_iter"] == 14


class FakeCupyArray:
    """An object whose type says it is CuPy's: the dispatch reads the type's
    module and imports nothing."""


FakeCupyArray.__module__ = "cupy._core.core"


def test_mixing_numpy_and_cupy_arrays_is_a_type_error():
    with pytest.raises(TypeError, match="mix CuPy and NumPy"):
        _backend.device_for([np.ones(3), FakeCupyArray()], "params")
    assert _backend.device_for([np.ones(3), None]) is None


def test_import_optkern_does_not_import_cupy():
    code = "import sys, optkern, numpy as np; optkern.Adam([np.ones(3)]).step([np.ones(3)]); " \
           "assert 'cupy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plan_layout_is_read_from_the_source():
    layout = _optim._plan_layout()
    assert layout["OK_PLAN_TENSORS"] == 0 and layout["OK_PLAN_HEADER"] == layout["OK_PLAN_STREAM"] + 8
    assert len(_optim._variants()) == 11


# ------------------------------------------------------------ 3. a real GPU

def _cupy():
    ok, why = optkern.cuda.available()
    if not ok:
        pytest.skip(f"no GPU: {why}")
    import cupy

    return cupy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", EMULATED_CASES, ids=emulated_case_ids)
def test_gpu_step_is_the_scalar_target(scalar_isa, case, dtype):
    cupy = _cupy()
    record, kwargs = case
    rng = rng_for("gpu", record.name, str(kwargs), dtype)
    shapes = [record.shape(s) for s in [(0,), (1,), (7,), (1023,), (65537,), (200003,), (300, 257), (3, 40, 9)]]
    start = arrays(rng, shapes, dtype)
    grads = [arrays(rng, shapes, dtype) for _ in range(record.steps)]
    cpu = run_steps(record, [p.copy() for p in start], grads, kwargs)
    gpu = record.make([cupy.asarray(p) for p in start], **kwargs)
    for g in grads:
        gpu.step([cupy.asarray(x) for x in g])
    rtol = tolerance(record, dtype)
    for p, q in zip(cpu._plan.params, gpu._plan.params):
        if rtol:
            np.testing.assert_allclose(cupy.asnumpy(q), p, rtol=rtol, atol=rtol)
        else:
            np.testing.assert_array_equal(p, cupy.asnumpy(q))


@pytest.mark.parametrize("cls, kwargs", EIGHT_BIT, ids=[c.__name__ for c, _ in EIGHT_BIT])
def test_gpu_8bit_step_is_the_scalar_target(scalar_isa, cls, kwargs):
    cupy = _cupy()
    rng = rng_for("gpu 8bit", cls.__name__)
    shapes = [(300,), (7, 81), (5,), ((1 << 20) + 3,)]
    start = arrays(rng, shapes, np.float32)
    grads = [arrays(rng, shapes, np.float32) for _ in range(3)]
    cpu = cls([p.copy() for p in start], min_8bit_size=100, **kwargs)
    gpu = cls([cupy.asarray(p) for p in start], min_8bit_size=100, **kwargs)
    for g in grads:
        cpu.step(g)
        gpu.step([cupy.asarray(x) for x in g])
    for name, lst in [("params", cpu._plan.params)] + list(cpu._plan.states.items()):
        other = gpu._plan.params if name == "params" else gpu._plan.states[name]
        for a, b in zip(lst, other):
            if a is not None:
                np.testing.assert_array_equal(a, cupy.asnumpy(b), err_msg=name)


def test_gpu_adam_matches_torch_on_cuda():
    cupy = _cupy()
    torch = require_module("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    rng = rng_for("torch cuda")
    sizes = [(n,) for n in (1, 7, 1023, 65537)]
    start = arrays(rng, sizes, np.float32)
    grads = [arrays(rng, sizes, np.float32) for _ in range(5)]
    tp = [torch.tensor(p, device="cuda", requires_grad=True) for p in start]
    topt = torch.optim.Adam(tp, lr=1e-2, weight_decay=0.1, fused=True)
    gpu = optkern.Adam([cupy.asarray(p) for p in start], lr=1e-2, weight_decay=0.1)
    for g in grads:
        for t, x in zip(tp, g):
            t.grad = torch.tensor(x, device="cuda")
        topt.step()
        gpu.step([cupy.asarray(x) for x in g])
    for t, p in zip(tp, gpu._plan.params):
        np.testing.assert_allclose(cupy.asnumpy(p), t.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------- losses, emulated GPU

def loss_cases():
    """(case, options, shape, reduction) of every loss with a GPU kernel: each
    option set of its grid on a few of the grid's shapes."""
    import loss_cases as lc

    out = []
    for case in filter(lambda c: c.gpu, lc.LOSSES):
        for v in case.grid:
            for shape in v.shapes[::3]:
                for r in case.reductions:
                    out.append(pytest.param(case, v.options, shape, r,
                                            id=f"{case.name}-{v.id}-{'x'.join(map(str, shape))}-{r}"))
    return out


def run_loss(case, options, shape, reduction, dtype, device=None):
    x, target, kwargs = case.make(shape, dtype, 0, **options)
    if device is None:
        return case.fn(x, target, reduction=reduction, **kwargs), (target, kwargs)
    with _backend.emulating(device):
        return case.fn(x, target, reduction=reduction, **kwargs), (target, kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case, options, shape, reduction", loss_cases())
def test_emulated_loss_matches_the_cpu(emulated, case, options, shape, reduction, dtype):
    from helpers import assert_close

    (loss, grad), (target, kwargs) = run_loss(case, options, shape, reduction, dtype)
    (gl, gg), _ = run_loss(case, options, shape, reduction, dtype, emulated)
    assert np.asarray(gl).dtype == np.asarray(loss).dtype and np.shape(gl) == np.shape(loss)
    unit = case.unit_of(target, kwargs, reduction)
    assert_close(np.asarray(gl), np.asarray(loss), dtype, "loss", unit)
    assert_close(gg, grad, dtype, "grad", unit)


def cpu_only_losses():
    import loss_cases as lc

    return [pytest.param(case, id=case.name) for case in lc.LOSSES if not case.gpu]


@pytest.mark.parametrize("case", cpu_only_losses())
def test_emulated_losses_without_a_gpu_form_refuse(emulated, case):
    """A loss with no GPU kernel yet raises NotImplementedError on CuPy
    arrays, writing nothing."""
    x, t, kw = case.make((4, 3), np.float32, 0, **case.examples[0])
    outs = case.gradients(case.new_out(x, t, kw, 1.0))
    with _backend.emulating(emulated):
        with pytest.raises(NotImplementedError, match="no GPU form"):
            case.fn(x, t, out=case.out_of(outs), **kw)
    assert all((o == 1).all() for o in outs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_emulated_cross_entropy_in_place_and_masked(emulated, dtype):
    """out=input (the gradient over the logits) and rows with -inf logits
    (a masked vocabulary), against the CPU."""
    from helpers import assert_close

    rng = rng_for("masked", dtype)
    x = rng.standard_normal((6, 700)).astype(dtype) * 4
    y = rng.integers(0, 700, 6)
    x[:, ::3] = -np.inf
    x[np.arange(6), y] = 1.0  # the targets stay finite
    cpu_x, gpu_x = x.copy(), x.copy()
    loss, grad = optkern.losses.cross_entropy(cpu_x, y, label_smoothing=0.0, out=cpu_x)
    with _backend.emulating(emulated):
        gloss, ggrad = optkern.losses.cross_entropy(gpu_x, y, label_smoothing=0.0, out=gpu_x)
    assert ggrad is gpu_x and grad is cpu_x
    assert_close(np.asarray(gloss), np.asarray(loss), dtype, "loss")
    assert_close(ggrad, grad, dtype, "grad")


def test_emulated_cross_entropy_bad_target_writes_nothing(emulated):
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    out = np.full_like(x, 7.0)
    with _backend.emulating(emulated):
        with pytest.raises(IndexError, match="Target 9 is out of bounds"):
            optkern.losses.cross_entropy(x, np.array([0, 9, 1, 2]), out=out)
    assert (out == 7.0).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_emulated_linear_cross_entropy(emulated, reduction):
    """Chunks of logits through the GPU's cross_entropy and matmul, ignored
    rows and a bias included, against the CPU."""
    from helpers import assert_close

    rng = rng_for("linear ce", reduction)
    h, w = rng.standard_normal((37, 16)), rng.standard_normal((50, 16)) * 0.3
    b, t = rng.standard_normal(50), rng.integers(0, 50, 37)
    t[::5] = -100
    cpu = optkern.losses.linear_cross_entropy(h, w, t, b, reduction=reduction, chunk_size=8)
    with _backend.emulating(emulated):
        gpu = optkern.losses.linear_cross_entropy(h, w, t, b, reduction=reduction, chunk_size=8)
    for a, e in zip(gpu, cpu):
        assert_close(np.asarray(a), np.asarray(e), np.float64)


# ------------------------------------------------ clipping, emulated GPU

@pytest.mark.parametrize("norm_type", [2.0, 1.0, "inf", 3.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_emulated_clip_grad_norm(emulated, norm_type, dtype):
    rng = rng_for("clip", str(norm_type), dtype)
    grads = arrays(rng, [(300,), (7, 9), (0,), (1,)], dtype)
    cpu = [g.copy() for g in grads]
    norm = optkern.clip_grad_norm_(cpu, 0.5, norm_type)
    with _backend.emulating(emulated):
        gpu = [g.copy() for g in grads]
        gpu_norm = optkern.clip_grad_norm_(gpu, 0.5, norm_type)
    np.testing.assert_allclose(gpu_norm, norm, rtol=1e-6 if dtype == np.float32 else 1e-13)
    for a, b in zip(gpu, cpu):
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_emulated_clip_grad_value(emulated):
    rng = rng_for("clip value")
    grads = arrays(rng, [(300,), (7, 9), (1,)], np.float32)
    grads[0][3] = np.nan
    cpu = [g.copy() for g in grads]
    optkern.clip_grad_value_(cpu, 0.25)
    with _backend.emulating(emulated):
        gpu = [g.copy() for g in grads]
        optkern.clip_grad_value_(gpu, 0.25)
    for a, b in zip(gpu, cpu):
        np.testing.assert_array_equal(a, b)


def test_emulated_max_grad_norm_step(emulated, scalar_isa):
    rng = rng_for("max grad norm")
    start = arrays(rng, SHAPES, np.float32)
    grads = [arrays(rng, SHAPES, np.float32) for _ in range(3)]
    cpu = optkern.AdamW([p.copy() for p in start], lr=0.1, max_grad_norm=0.3)
    for g in grads:
        cpu.step(g)
    with _backend.emulating(emulated):
        gpu = optkern.AdamW([p.copy() for p in start], lr=0.1, max_grad_norm=0.3)
        for g in grads:
            gpu.step(g)
    np.testing.assert_allclose(gpu.last_grad_norm, cpu.last_grad_norm, rtol=1e-6)
    for a, b in zip(gpu._plan.params, cpu._plan.params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_emulated_functional_forms(emulated, scalar_isa):
    from optkern import functional as F

    rng = rng_for("functional")
    w, g = rng.standard_normal(37).astype(np.float32), rng.standard_normal(37).astype(np.float32)
    results = []
    for device in (None, emulated):
        p, buf = [w.copy()], [None]
        with _backend.emulating(device) if device else _nullcontext():
            F.sgd_(p, [g], buf, lr=0.1, momentum=0.9)
            F.sgd_(p, [g], buf, lr=0.1, momentum=0.9)
        results.append(p[0])
    np.testing.assert_array_equal(results[0], results[1])


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


def test_readme_quickstart_on_the_emulated_gpu(emulated):
    """The README's first example, its optkern calls on the GPU path."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    quickstart = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    scope = {}
    with _backend.emulating(emulated):
        exec(compile(quickstart.replace("range(100)", "range(20)"), "README.md", "exec"), scope)
    assert 0 < scope["loss"] < 2.3 and isinstance(scope["loss"], np.ndarray)


def test_gpu_readme_quickstart_runs_on_cupy():
    """The README's first example with `import cupy as np`: unchanged but
    for the array module."""
    _cupy()
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    quickstart = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    scope = {}
    exec(compile(quickstart.replace("import numpy as np", "import cupy as np"), "README.md", "exec"), scope)
    assert 0 < float(scope["loss"]) < 2.2


def test_emulated_grad_scaler(emulated, scalar_isa):
    """GradScaler's scale, its fused unscale and its skipped step on an
    inf, on the GPU path as on the CPU."""
    from optkern.amp import GradScaler

    rng = rng_for("scaler")
    start = arrays(rng, SHAPES, np.float32)
    grads = [arrays(rng, SHAPES, np.float32) for _ in range(3)]
    grads[1][0][0] = np.inf
    results = []
    for device in (None, emulated):
        with _backend.emulating(device) if device else _nullcontext():
            opt = optkern.Adam([p.copy() for p in start], lr=0.1)
            scaler = GradScaler(init_scale=1024.0)
            for g in grads:
                scaler.step(opt, [scaler.scale(x) for x in g])
                scaler.update()
            results.append((opt, scaler.get_scale()))
    assert results[0][1] == results[1][1]
    assert_same_state(results[0][0], results[1][0])
