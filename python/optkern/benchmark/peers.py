"""The libraries optkern is measured against, and whether each can run here.

optkern's only run-time dependency is NumPy: every peer but the NumPy
reference is imported only when it is measured, and is left out (with the
reason) where it is not installed or cannot run.

    numpy           in-place NumPy implementations (always there)
    torch           torch's losses (forward and backward through autograd)
    torch for-loop  torch.optim's classes with foreach=False
    torch foreach   torch.optim's classes with foreach=True
    torch fused     torch.optim's classes with fused=True (SGD, Adam, AdamW, Adagrad)
    optax           optax's transformations (and losses), jitted by jax
    deepspeed       DeepSpeedCPUAdam (Adam, AdamW): it compiles its C++ op
                    on first use, which may fail; then it is left out
    reference       the reference implementation, on torch, of an optimizer
                    beyond torch.optim (lion-pytorch's Lion, pytorch-optimizer's
                    Adan, AdEMAMix, ADOPT, Lamb and LARS, schedulefree's
                    optimizers): each where its package is installed
"""

import contextlib
import os
import sys

__all__ = ["PEERS", "Unavailable", "missing", "version", "set_threads", "stdout_to_stderr"]

PEERS = ("numpy", "torch", "torch for-loop", "torch foreach", "torch fused", "optax", "deepspeed", "reference")

# peer: (the modules it imports, the pip package that brings them)
_NEEDS = {
    "torch": (("torch",), "torch"),
    "torch for-loop": (("torch",), "torch"),
    "torch foreach": (("torch",), "torch"),
    "torch fused": (("torch",), "torch"),
    "optax": (("jax", "optax"), "optax"),
    "deepspeed": (("torch", "deepspeed"), "deepspeed"),
    "reference": (("torch",), "torch"),  # and each optimizer's package (optimizers.REFERENCES)
}


class Unavailable(Exception):
    """A peer that is installed but cannot run here (its message: why)."""


def missing(peer):
    """None where `peer` can be imported, else why not (one line)."""
    modules, package = _NEEDS.get(peer, ((), None))
    for module in modules:
        try:
            with stdout_to_stderr():  # deepspeed talks as it imports
                __import__(module)
        except ImportError:
            return f"not installed: pip install {package}"
        except Exception as e:  # an installed library that fails to import
            return f"{module} fails to import: {first_line(e)}"
    return None


def version(peer):
    """The version of the library behind `peer` (imported by missing())."""
    if peer == "numpy":
        module = "numpy"
    else:
        module = _NEEDS[peer][0][-1]
    return getattr(sys.modules[module], "__version__", "?")


def set_threads(n):
    """optkern's and torch's thread counts to n (torch's where it has been
    imported: missing() imports it)."""
    import optkern

    optkern.set_num_threads(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


def first_line(exc):
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


@contextlib.contextmanager
def stdout_to_stderr():
    """Send what is written to file descriptor 1 (Python's and C's output,
    a compiler's included) to 2 meanwhile: a benchmark's table on stdout
    stays clean of a peer's build log."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to guard
        yield
        return
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
