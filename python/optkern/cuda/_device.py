"""Where the GPU kernels run: a CuPy device, or (for the tests) the CPU
emulation of one.

A device compiles the CUDA sources shipped in the package (optkern/kernels:
kernels/cuda and the kernel-body headers of kernels/src, docs/gpu.md) at
first use, once per source, kernel variant and GPU, keeps the module for
the process, and launches its kernels by name. Everything above this module (the plans, the
checks) is written once for both devices.

  CupyDevice      cupy.ndarray memory; NVRTC through CuPy's compiler
  EmulatedDevice  numpy.ndarray memory; the same sources compiled as C++
                  with OK_CUDA_EMULATE (kernels/cuda/launch.cuh) by the
                  host's C++ compiler, each block's threads run as real
                  threads. Slow, exact, and available on any machine: the
                  tests run the whole GPU path through it.
"""

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from importlib import resources

import numpy as np

__all__ = ["CupyDevice", "EmulatedDevice", "sources", "compile_options"]

#: the options every compilation of a kernel source takes: no contraction
#: into fused multiply-adds (the C kernels build with -ffp-contract=off),
#: IEEE division and square root and no flushing of subnormals (CUDA's
#: defaults, stated: CuPy's own compilation would flush them), the C++
#: whose designated initializers the descriptors use
NVRTC_OPTIONS = ("-std=c++20", "--fmad=false", "--prec-div=true", "--prec-sqrt=true", "--ftz=false", "-default-device")


def sources():
    """The folder holding kernels/cuda, kernels/src and include as the
    package ships them."""
    return resources.files("optkern") / "kernels"


def include_dirs(root=None):
    """The include folders of a kernel compilation, in search order."""
    root = os.fspath(sources() if root is None else root)
    package = os.path.dirname(root)
    return [os.path.join(root, "cuda"), os.path.join(root, "src"), os.path.join(package, "include")]


def compile_options(variant, nvrtc=True, block=256, parts=1024):
    """NVRTC's options for a source at kernel variant `variant` (variants.h),
    with reductions of `parts` parts of `block` threads (kernels/cuda/
    reduce.cuh); nvrtc=False: those an nvcc compilation takes (with the
    real system headers instead of kernels/cuda/nvrtc)."""
    dirs = include_dirs()
    if nvrtc:
        dirs.append(os.path.join(dirs[0], "nvrtc"))
    return (*NVRTC_OPTIONS, f"-DOK_CUDA_VARIANT={variant}", f"-DOK_CUDA_BLOCK={block}",
            f"-DOK_CUDA_PARTS={parts}", *[f"-I{d}" for d in dirs])


class _Modules:
    """A cache of compiled modules, by key (source, variant[, device]),
    each built once, under a lock, by build(*key)."""

    def __init__(self, build):
        self._build = build
        self._modules = {}
        self._lock = threading.Lock()

    def get(self, *key):
        module = self._modules.get(key)
        if module is None:
            with self._lock:
                module = self._modules.get(key)
                if module is None:
                    module = self._modules[key] = self._build(*key)
        return module


class CupyDevice:
    """The current CuPy device."""

    name = "cuda"
    #: elements per chunk of a multi-tensor launch
    chunk_size = 32768
    #: threads per block, and parts of a sum (reduce.cuh): fixed, so that
    #: sums are the same on every GPU
    block = 256
    parts = 1024

    def __init__(self):
        import cupy

        self.xp = cupy
        self._modules = _Modules(self._compile)
        self._functions = {}
        self._sms = {}

    @staticmethod
    def owns(a):
        return type(a).__module__.split(".")[0] == "cupy"

    def pointer(self, a):
        return a.data.ptr

    def check_device(self, a, what):
        """ValueError unless a lives on the current CUDA device, where the
        kernels run."""
        if a.device.id != self.xp.cuda.Device().id:
            raise ValueError(f"{what} is on GPU {a.device.id}, not the current GPU {self.xp.cuda.Device().id}; "
                             "run the call under `with cupy.cuda.Device(...)` of its arrays")

    def grid(self, chunks):
        """A persistent grid: a few blocks per multiprocessor, at most one
        per chunk."""
        dev = self.xp.cuda.Device()
        sms = self._sms.get(dev.id)
        if sms is None:
            sms = self._sms[dev.id] = dev.attributes["MultiProcessorCount"]
        return max(1, min(chunks, 8 * sms))

    def _compile(self, source, variant, device):
        """The module of `source` at `variant`, loaded on GPU `device`. It is
        compiled with NVRTC through CuPy's compile_using_nvrtc, not through
        RawModule: RawModule adds -ftz=true (flushing float32 subnormals,
        which the CPU keeps), and its disk cache is keyed by the .cu file
        alone, not by the headers it includes."""
        from cupy.cuda import compiler, function

        code = (sources() / "cuda" / source).read_text()
        with self.xp.cuda.Device(device):
            image = compiler.compile_using_nvrtc(code, compile_options(variant, True, self.block, self.parts),
                                                 filename=source)
            module = function.Module()
            module.load(image if isinstance(image, bytes) else image.encode())
        return module

    def upload(self, words):
        """The plan `words` (uint64), copied to the device; freed when the
        last launch using it is done (CuPy's stream-ordered pool)."""
        return self.xp.asarray(words)

    def download(self, plan, count):
        """The first `count` words of an uploaded plan (waits for the GPU)."""
        return plan[:count].get()

    def launch(self, source, variant, kernel, grid, block, plan):
        """kernel(plan), `plan` uploaded (upload) or host words."""
        device = self.xp.cuda.Device().id
        key = (source, variant, kernel, device)
        fn = self._functions.get(key)
        if fn is None:
            fn = self._functions[key] = self._modules.get(source, variant, device).get_function(kernel)
        if isinstance(plan, np.ndarray):
            plan = self.upload(plan)
        fn((grid,), (block,), (plan,))

    def synchronize(self):
        self.xp.cuda.get_current_stream().synchronize()


class EmulatedDevice:
    """The CPU emulation of a GPU (kernels/cuda/launch.cuh), over NumPy
    arrays; for the tests. Needs a C++20 compiler (CXX, else c++)."""

    name = "emulated"
    xp = np
    chunk_size = 64
    block = 8
    parts = 4
    blocks = 3

    def __init__(self, cache=None):
        self._cache = cache or tempfile.mkdtemp(prefix="optkern-emulated-")
        os.makedirs(self._cache, exist_ok=True)
        self._modules = _Modules(self._compile)

    @staticmethod
    def owns(a):
        return isinstance(a, np.ndarray)

    def pointer(self, a):
        return a.ctypes.data

    def check_device(self, a, what):
        pass

    def grid(self, chunks):
        return max(1, min(chunks, self.blocks))

    def _compile(self, source, variant):
        src = sources() / "cuda" / source
        cxx = os.environ.get("CXX") or shutil.which("c++") or "g++"
        flags = ["-std=c++20", "-x", "c++", "-O1", "-ffp-contract=off", "-fPIC", "-shared", "-pthread",
                 "-Wno-deprecated-enum-enum-conversion", "-DOK_CUDA_EMULATE", f"-DOK_CUDA_VARIANT={variant}",
                 f"-DOK_CUDA_BLOCK={self.block}", f"-DOK_CUDA_PARTS={self.parts}"]
        flags += [f"-I{d}" for d in include_dirs()]
        tag = hashlib.sha256((src.read_text() + " ".join(flags)).encode()).hexdigest()[:16]
        out = os.path.join(self._cache, f"{source}.{variant}.{tag}.so")
        if not os.path.exists(out):
            done = subprocess.run([cxx, *flags, os.fspath(src), "-o", out + ".tmp"], capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"compiling {source} for the emulated GPU failed:\n{done.stderr[-4000:]}")
            os.replace(out + ".tmp", out)
        return ctypes.CDLL(out)

    def upload(self, words):
        return words.copy()

    def download(self, plan, count):
        return plan[:count].copy()

    def launch(self, source, variant, kernel, grid, block, plan):
        fn = getattr(self._modules.get(source, variant), kernel)
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p]
        fn(grid, block, plan.ctypes.data)

    def synchronize(self):
        pass
