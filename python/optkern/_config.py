"""Runtime configuration: instruction set, threads, and a summary of both."""

import os
import warnings

from optkern import _core

__all__ = ["config", "show_config", "set_num_threads", "get_num_threads", "set_isa", "get_isa"]


def _apply_isa_cap():
    """Report what OPTKERN_ISA did. The C library applies the cap itself on
    first use (so C programs embedding it behave the same); here a request
    it could not honour becomes a warning."""
    requested = os.environ.get("OPTKERN_ISA", "").strip().lower()
    if not requested:
        return
    names = _core.isa_names()
    if requested not in names:
        warnings.warn(
            f"OPTKERN_ISA={requested!r} is not one of {names}; using {_core.get_isa()}",
            RuntimeWarning,
            stacklevel=3,
        )
    elif names.index(requested) > names.index(_core.best_isa()):
        warnings.warn(
            f"OPTKERN_ISA={requested!r} is not available on this CPU; falling back to {_core.get_isa()}",
            RuntimeWarning,
            stacklevel=3,
        )


def set_num_threads(n):
    """Use `n` threads in every kernel (n >= 1), or None for the default
    (OMP_NUM_THREADS, else the number of processors). Results do not depend
    on it."""
    if n is None:
        _core.set_num_threads(0)
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"number of threads must be a positive int or None, got {n!r}")
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
    num_threads  threads per kernel call
    """
    return {
        "version": _core.version(),
        "isa": _core.get_isa(),
        "isas": _core.available_isas(),
        "openmp": _core.has_openmp(),
        "num_threads": _core.get_num_threads(),
    }


def show_config():
    """Print config(), one entry per line."""
    for key, value in config().items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key + ':':<13}{value}")
