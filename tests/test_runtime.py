"""The runtime: threads across fork, the thread cap, OPTKERN_ISA parsing."""

import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

import optkern
from helpers import threaded

N = 100_000  # well above the 16384 elements a pass needs to use a second thread


def work(seed):
    """An Adam step and a cross-entropy on arrays large enough to thread."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(N).astype(np.float32)
    g = rng.standard_normal(N).astype(np.float32)
    opt = optkern.Adam([p], lr=1e-2)
    opt.step([g])
    opt.step([g * 0.5])
    x = rng.standard_normal((N // 100, 100)).astype(np.float32)
    t = rng.integers(0, 100, N // 100)
    loss, grad = optkern.losses.cross_entropy(x, t)
    return p, float(loss), grad, optkern.get_num_threads()


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, **env})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_forked_child_after_threaded_call(num_threads):
    """libgomp's pool does not survive fork: a child runs on one thread
    instead of hanging, with the parent's results bitwise."""
    num_threads(2)
    with threaded():
        expected = [work(seed) for seed in range(2)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map_async(work, range(2)).get(timeout=60)
    for (p, loss, grad, _), (cp, closs, cgrad, cthreads) in zip(expected, got):
        assert p.tobytes() == cp.tobytes() and loss == closs and grad.tobytes() == cgrad.tobytes()
        assert cthreads == 1
    assert work(0)[0].tobytes() == expected[0][0].tobytes()  # the parent still threads
    assert optkern.get_num_threads() == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_os_fork_child_after_threaded_call(num_threads):
    num_threads(2)
    with threaded():
        expected = work(3)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            p, loss, grad, threads = work(3)
            code = 0 if (p.tobytes() == expected[0].tobytes() and loss == expected[1]
                         and grad.tobytes() == expected[2].tobytes() and threads == 1) else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(0)
    os.close(write)
    import select
    ready, _, _ = select.select([read], [], [], 60)
    try:
        assert ready, "the forked child hung"
        assert os.read(read, 1) == b"\x00"
    finally:
        os.close(read)
        if not ready:
            os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_too_many_threads_are_refused(num_threads):
    before = optkern.get_num_threads()
    with pytest.raises(ValueError, match="at most"):
        num_threads(10**6)
    with pytest.raises(ValueError, match="at most"):
        num_threads(optkern.config()["max_threads"] + 1)
    assert optkern.get_num_threads() == before
    p, loss, grad, _ = work(5)
    assert np.isfinite(p).all() and np.isfinite(loss)


def test_the_most_threads_allowed_work(num_threads):
    expected = work(6)
    most = optkern.config()["max_threads"]
    assert most >= 64
    num_threads(most)
    assert optkern.get_num_threads() == most
    rng = np.random.default_rng(6)
    big = rng.standard_normal(most * 8192).astype(np.float32)  # enough for every thread
    optkern.Adam([big]).step([big.copy()])
    got = work(6)
    assert got[0].tobytes() == expected[0].tobytes() and got[2].tobytes() == expected[2].tobytes()


def test_omp_num_threads_beyond_the_cap_is_clamped():
    if not optkern.config()["openmp"]:
        pytest.skip("built without OpenMP")
    out = run_python("import optkern; print(optkern.get_num_threads(), optkern.config()['max_threads'])",
                     OMP_NUM_THREADS="1000000")
    threads, most = out.stdout.split()
    assert threads == most


def test_parse_isa():
    parse = optkern._core.parse_isa
    assert parse(" avx2\n") == "avx2" and parse("\tAVX512 ") == "avx512" and parse("Scalar") == "scalar"
    for bad in ["avx9", "", "   ", "avx 2", "avx2x", "sse"]:
        assert parse(bad) is None


# The lowest instruction set above scalar this build and CPU have (every
# build has scalar): a cap the parser must read through the whitespace.
CAP = (optkern._core.available_isas()[1:] or ["scalar"])[0]


@pytest.mark.parametrize("raw", [f" {CAP}\n", f"{CAP.upper()} ", f"\t{CAP}"])
def test_optkern_isa_with_whitespace(raw):
    out = run_python("import optkern; print(optkern.get_isa())", OPTKERN_ISA=raw)
    assert out.stdout.strip() == CAP
    assert "Warning" not in out.stderr


@pytest.mark.parametrize("raw", ["avx9", "avx 2", "scalar,avx2"])
def test_optkern_isa_not_understood_warns(raw):
    out = run_python("import optkern; print(optkern.get_isa())", OPTKERN_ISA=raw)
    assert out.stdout.strip() == optkern._core.best_isa()
    assert "RuntimeWarning" in out.stderr and "OPTKERN_ISA" in out.stderr


def test_threads_back_off_after_a_region_that_waited(num_threads):
    """A threaded region whose threads waited for each other (a busy
    machine) sends the next passes to one thread, for longer while it
    lasts; a clean region resets the pause. bench/contention.py measures
    the effect."""
    if not optkern.config()["openmp"]:
        pytest.skip("built without OpenMP: one thread always")
    core = optkern._core
    num_threads(2)  # with the backoff off: a waited region changes nothing
    big = 1 << 22
    core.threads_observe(10e-3, 1e-3)
    assert core.threads_for(big) == 2
    core.set_threads_backoff(True)  # on, from a clean start
    core.threads_observe(1e-3, 1e-3)  # clean: no pause
    assert core.threads_for(big) == 2
    core.threads_observe(10e-3, 1e-3)  # waited: a pause of 16 passes
    assert [core.threads_for(big) for _ in range(16)] == [1] * 16
    assert core.threads_for(big) == 2
    core.threads_observe(10e-3, 1e-3)  # again: the pause doubles
    assert [core.threads_for(big) for _ in range(32)] == [1] * 32
    assert core.threads_for(big) == 2
    core.threads_observe(1e-3, 1e-3)  # clean again: back to 16
    core.threads_observe(10e-3, 1e-3)
    assert [core.threads_for(big) for _ in range(17)] == [1] * 16 + [2]
    core.threads_observe(1e-3, 1e-3)
