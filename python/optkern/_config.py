"""Runtime configuration: instruction set, threads, and a summary of both."""

import os
import warnings

from optkern import _core

__all__ = ["config", "show_config", "set_num_threads", "get_num_threads", "set_isa", "get_isa"]


def _apply_isa_cap():
    """Report what OPTKERN_ISA did. The C library applies the cap itself on
    first use (so C programs embedding it behave the same), parsing it with
    the parser used here (_core.parse_isa); a value it does not understand,
    or a request it could not honour, becomes a warning. An empty or blank
    value means unset."""
    raw = os.environ.get("OPTKERN_ISA", "")
    if not raw.strip():
        return
    names = _core.isa_names()
    requested = _core.parse_isa(raw)
    if requested is None:
        warnings.warn(
            f"OPTKERN_ISA={raw!r} is not one of {names}; it is ignored, using {_core.get_isa()}",
            RuntimeWarning,
            stacklevel=3,
        )
    elif names.index(requested) > names.index(_core.best_isa()):
        warnings.warn(
            f"OPTKERN_ISA={raw!r} is not available on this CPU; falling back to {_core.get_isa()}",
            RuntimeWarning,
            stacklevel=3,
        )


def set_num_threads(n):
    """Use `n` threads in every kernel (1 <= n <= config()["max_threads"]),
    or None for the default (OMP_NUM_THREADS, else the number of processors,
    capped the same way). Results do not depend on it. In a process forked
    after kernels have run, kernels use one thread whatever is set: OpenMP's
    thread pool does not survive fork."""
    if n is None:
        _core.set_num_threads(0)
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"number of threads must be a positive int or None, got {n!r}")
    most = _core.max_threads()
    if n > most:
        raise ValueError(f"number of threads must be at most {most} (optkern's limit), got {n}")
    _core.set_num_threads(n)


def get_num_threads():
    """The number of threads kernels use: set_num_threads(), else
    OMP_NUM_THREADS, else the number of processors."""
    return _core.get_num_threads()


def set_isa(name):
    """Run the kernels with instruction set `name` ("scalar", "avx2" or
    "avx512"), which must be available on this CPU. For tests and
    benchmarks; the default is the best one."""
    _core.set_isa(str(name).lower())


def get_isa():
    """The instruction set the kernels run with."""
    return _core.get_isa()


def config():
    """How optkern runs here, as a dict:

    version      optkern's version
    isa          the instruction set the kernels run with
    isas         the instruction sets available on this CPU (and in this build)
    openmp       whether the kernels are threaded with OpenMP
    num_threads  threads per kernel call (1 in a process forked after
                 kernels ran)
    max_threads  the most set_num_threads() accepts
    gpu          the GPU that CuPy arrays run on (docs/gpu.md), or None
    gpu_status   that GPU's name, or why there is none (CuPy not
                 installed, no CUDA device)
    """
    from optkern import cuda

    available, status = cuda.available()
    return {
        "version": _core.version(),
        "isa": _core.get_isa(),
        "isas": _core.available_isas(),
        "openmp": _core.has_openmp(),
        "num_threads": _core.get_num_threads(),
        "max_threads": _core.max_threads(),
        "gpu": status if available else None,
        "gpu_status": status,
    }


def show_config():
    """Print config(), one entry per line."""
    for key, value in config().items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key + ':':<13}{value}")
