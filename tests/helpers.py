"""Assertion helpers shared by the test modules (no tests here)."""

import copy
import importlib
import os
import re
import subprocess
import sys
import zlib
from contextlib import contextmanager, nullcontext

import numpy as np
import pytest

import optkern

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
# float32: the spec's 1e-5 relative (plus an absolute floor relative to the
# largest value, for entries that cancel); float64: 1e-12.
TOLERANCE = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-13)}


# .ci/run sets this: there every tool a test needs is installed, and a
# missing one fails the run instead of skipping tests.
def c_uncommented(text):
    """C source with its comments blanked out."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def declared_c_functions(headers):
    """The ok_ functions the C headers (paths) declare, in order: a name with
    its parameter list at the start of a declaration (macros are OK_ and
    upper case)."""
    names = []
    for header in headers:
        names += re.findall(r"^(?!typedef|#)[A-Za-z_][\w *]*?\b(ok_\w+)\(", c_uncommented(header.read_text()),
                            flags=re.M)
    return names


# How the public headers must compile (tests/test_c_api.py, test_embedding.py).
STRICT_C = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror"]
STRICT_CXX = ["-std=c++11", "-Wall", "-Wextra", "-pedantic", "-Werror"]

STRICT = os.environ.get("OPTKERN_STRICT_TESTS") == "1"


def require(present, what):
    """Skip the calling test (or module) when `what` is missing on this
    machine; fail instead under OPTKERN_STRICT_TESTS=1."""
    if not present:
        message = f"{what} is not installed"
        if STRICT:
            pytest.fail(f"{message}, and .ci/run installs it", pytrace=False)
        pytest.skip(message, allow_module_level=True)


def require_module(name, what=None):
    """The module `name`, or `require`'s skip or failure."""
    try:
        return importlib.import_module(name)
    except ImportError:
        require(False, what or name)


@contextmanager
def threaded():
    """Fails unless the block ran at least one threaded region: a thread-count
    comparison whose "2 threads" ran on one would prove nothing."""
    before = optkern._core.threads_regions()
    yield
    if optkern.config()["openmp"]:
        assert optkern._core.threads_regions() > before, "no pass ran on several threads"


def assert_same_for_thread_counts(num_threads, call):
    """call() (a loss: (loss, grad)) gives the same bytes on 1, 2, 1 and 3
    threads; num_threads is the fixture of that name."""
    results = []
    for n in (1, 2, 1, 3):
        num_threads(n)
        with threaded() if n > 1 else nullcontext():
            loss, grad = call()
        results.append((np.asarray(loss).tobytes(), [g.tobytes() for g in as_gradients(grad)]))
    assert all(r == results[0] for r in results), "the result depends on the thread count"


def rng_for(*key):
    """A generator seeded by `key`, the same in every run (hash() of a str is not)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def assert_close(actual, expected, dtype, what="", unit=0.0, tolerance=None):
    """Within the dtype's relative tolerance, or an absolute floor relative
    to the largest expected value or to `unit`, the size of the terms that
    cancel into the expected values (a softmax gradient's is r w).
    tolerance: (rtol, floor) instead of TOLERANCE[dtype]."""
    rtol, floor = tolerance or TOLERANCE[dtype]
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = np.abs(expected[np.isfinite(expected)])
    atol = floor * max(finite.max() if finite.size else 1.0, unit)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def as_gradients(grad):
    """A loss's gradient as a tuple: one array, or the tuple of a loss with several."""
    return grad if isinstance(grad, tuple) else (grad,)


def check(result, expected, x, what, reduction="mean", unit=0.0, tolerance=None, inputs=None):
    """An optkern (loss, grad) against a reference one for input x: the
    types, shapes and dtypes optkern promises, and the values. A loss with
    several gradients: grad and the reference's are tuples, one per array
    of `inputs` (x alone by default)."""
    loss, grad = result
    want_loss, want_grad = expected
    dtype = x.dtype.type
    inputs = (x,) if inputs is None else inputs
    grads, wants = as_gradients(grad), as_gradients(want_grad)
    assert len(grads) == len(inputs) == len(wants), f"{what}: {len(grads)} gradients"
    for g, a in zip(grads, inputs):
        assert g.shape == a.shape and g.dtype == a.dtype, what
    if reduction == "none":
        assert isinstance(loss, np.ndarray) and loss.dtype == x.dtype, what
    else:
        assert isinstance(loss, dtype), f"{what}: loss is {type(loss)}, not a {dtype.__name__} scalar"
    assert_close(loss, want_loss, dtype, what + " loss", tolerance=tolerance)
    for k, (g, w) in enumerate(zip(grads, wants)):
        assert_close(g, w, dtype, f"{what} grad {k}", unit, tolerance=tolerance)


def raises_unchanged(exc, f, *arrays, match=None):
    """f() raises exc and leaves every array as it was."""
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=match):
        f()
    for a, b in zip(arrays, before):
        assert np.array_equal(a, b, equal_nan=True), "an array was written before the error"


def assert_state_unchanged(opt, before):
    """opt's state_dict() is still `before` (a deep copy taken earlier)."""
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert sorted(after["state"]) == sorted(before["state"])
    for i in before["state"]:
        assert sorted(after["state"][i]) == sorted(before["state"][i])
        for key, value in before["state"][i].items():
            np.testing.assert_array_equal(after["state"][i][key], value)


def refuses_to_load(opt, mutate, match):
    """opt.load_state_dict of its own state dict changed by mutate(sd)
    raises ValueError(match) and changes nothing."""
    before = copy.deepcopy(opt.state_dict())
    sd = copy.deepcopy(opt.state_dict())
    mutate(sd)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    assert_state_unchanged(opt, before)


def finite_difference(f, x, h=1e-6):
    """d f / d x by central differences (x float64, f -> scalar)."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = h
        grad.flat[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


# Runs optkern's command line with the named modules unimportable, as on a
# machine without them (sys.modules[name] = None makes `import name` fail),
# after `setup` (more Python, run first).
_OPTKERN_COMMAND = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
{setup}
from optkern.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_optkern(*args, blocked=(), setup="", cwd=None, timeout=300):
    """The finished subprocess (subprocess.CompletedProcess, text output)
    of `optkern ARGS` with the modules `blocked` unimportable."""
    script = _OPTKERN_COMMAND.format(blocked=list(blocked), setup=setup)
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"})
