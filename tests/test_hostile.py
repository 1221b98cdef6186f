"""Hostile callers: other threads, extreme step counts, arguments of the wrong type."""

import copy
import os
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import optkern
from optkern import losses

# ------------------------------------------------------------------ threads

_REPLACER = textwrap.dedent("""
    import threading
    import numpy as np
    import optkern
    from optkern import functional as F

    N, STEPS = 1 << 20, 150
    params = [np.zeros(N) for _ in range(4)]
    grads = [np.ones(N) for _ in range(4)]
    stop = threading.Event()

    def replace():
        i = 0
        while not stop.is_set():
            grads[i % 4] = np.ones(N)  # the old array is freed, if nothing else holds it
            i += 1

    thread = threading.Thread(target=replace)
    thread.start()
    try:
        opt = optkern.SGD(params, lr=1.0)
        for _ in range(STEPS):
            opt.step(grads)
        plain = [np.zeros(N) for _ in range(4)]
        for _ in range(STEPS):
            F.sgd_(plain, grads, lr=1.0)
    finally:
        stop.set()
        thread.join()
    assert all((p == -STEPS).all() for p in params), [np.unique(p) for p in params]
    assert all((p == -STEPS).all() for p in plain), [np.unique(p) for p in plain]
    print("ok")
""")


def test_grads_replaced_by_another_thread_during_steps():
    """The kernel runs without the GIL: the arrays it reads must stay alive
    even when another thread drops them from the caller's list."""
    done = subprocess.run([sys.executable, "-c", _REPLACER], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stdout, done.stderr[-2000:])


def test_one_optimizer_stepped_from_several_threads():
    """Concurrent steps of one optimizer equal some sequential order."""
    params = [np.zeros(1 << 18), np.zeros((3, 1000)), np.zeros(1 << 17, np.float32)]
    grads = [np.ones_like(p) for p in params]
    opt = optkern.SGD(params, lr=1.0)
    barrier = threading.Barrier(4)

    def run():
        barrier.wait()
        for _ in range(50):
            opt.step(grads)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in params:
        assert (p == -200).all()


def test_locked_optimizer_still_copies_and_pickles():
    for make in (lambda p: optkern.SGD(p, lr=0.5, momentum=0.9), lambda p: optkern.Adam(p, lr=0.5)):
        params = [np.zeros(5), np.zeros(3)]
        for clone in (copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))):
            twin = clone(make(params))
            twin.step([np.ones(5), np.ones(3)])
            assert twin.state_dict()["state"]
            assert (params[0] == 0).all()  # the copy has its own parameters


# ------------------------------------------------------- huge step counts

def test_step_count_beyond_2_to_the_40_keeps_its_group():
    """Each (group, step) pair gets its own hyperparameter set, however large the step."""
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal(6) for _ in range(3))
    ga, gb = rng.standard_normal(6), rng.standard_normal(6)
    moments = {"exp_avg": np.full(6, 0.1), "exp_avg_sq": np.full(6, 0.2)}

    opt = optkern.Adam([{"params": [a.copy()], "lr": 0.1}, {"params": [b.copy(), c.copy()], "lr": 0.001}])
    sd = opt.state_dict()
    sd["state"] = {0: {"step": 2 ** 40, **moments}, 1: {"step": 1, **moments}, 2: {"step": 1, **moments}}
    opt.load_state_dict(sd)
    opt.step([ga, gb, None])  # c has no gradient: the per-tensor path

    alone_a = optkern.Adam([a.copy()], lr=0.1)
    sd = alone_a.state_dict()
    sd["state"] = {0: {"step": 2 ** 40, **moments}}
    alone_a.load_state_dict(sd)
    alone_a.step([ga])
    alone_bc = optkern.Adam([b.copy(), c.copy()], lr=0.001)
    sd = alone_bc.state_dict()
    sd["state"] = {0: {"step": 1, **moments}, 1: {"step": 1, **moments}}
    alone_bc.load_state_dict(sd)
    alone_bc.step([gb, None])

    got = [g["params"] for g in opt.param_groups]
    np.testing.assert_array_equal(got[0][0], alone_a.param_groups[0]["params"][0])
    np.testing.assert_array_equal(got[1][0], alone_bc.param_groups[0]["params"][0])
    np.testing.assert_array_equal(got[1][1], c)
    assert opt.state_dict()["state"][0]["step"] == 2 ** 40 + 1


# ------------------------------------------------------- argument types

def test_uint64_class_target_beyond_int64_is_out_of_bounds():
    x = np.zeros((2, 3))
    target = np.array([1, 2 ** 64 - 100], dtype=np.uint64)  # would wrap to -100, the ignore_index
    for loss in (losses.cross_entropy, losses.nll_loss):
        with pytest.raises(IndexError, match=r"Target 18446744073709551516 is out of bounds\."):
            loss(x, target)
    # in range: converted as before
    loss, _ = losses.cross_entropy(x, np.array([1, 2], dtype=np.uint64))
    assert loss == pytest.approx(np.log(3))


@pytest.mark.parametrize("log_target", ["False", 0, 1, None, np.True_])
def test_kl_div_log_target_must_be_bool(log_target):
    x = np.zeros(4)
    with pytest.raises(TypeError, match="log_target"):
        losses.kl_div(x, x, log_target=log_target)


@pytest.mark.parametrize("loss", [losses.cross_entropy, losses.nll_loss])
@pytest.mark.parametrize("ignore_index", [1.5, "4", True, np.True_, 2.0])
def test_ignore_index_must_be_int(loss, ignore_index):
    with pytest.raises(TypeError, match="ignore_index"):
        loss(np.zeros((2, 3)), np.array([0, 1]), ignore_index=ignore_index)


@pytest.mark.parametrize("ignore_index", [1, np.int64(1), np.int32(1), np.uint8(1)])
def test_ignore_index_integers_accepted(ignore_index):
    loss, grad = losses.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), ignore_index=ignore_index)
    assert loss == pytest.approx(np.log(3)) and (grad[1] == 0).all()


@pytest.mark.parametrize("value", [np.True_, np.False_, np.array(True), 1 + 2j, np.complex128(1 + 0j),
                                   np.array(0.5 + 0j)])
@pytest.mark.parametrize("make", [
    lambda v: optkern.SGD([np.zeros(2)], lr=v),
    lambda v: optkern.Adam([np.zeros(2)], lr=v),
    lambda v: optkern.Adam([np.zeros(2)], betas=(v, 0.999)),
    lambda v: losses.huber_loss(np.zeros(2), np.zeros(2), delta=v),
])
def test_hyperparameters_refuse_bools_and_complex(make, value):
    with pytest.raises(TypeError, match=r"(lr|betas\[0\]|delta) must be a real number"):
        make(value)


def test_hyperparameters_still_take_numpy_reals():
    for v in (np.float32(0.5), np.float64(0.5), np.int64(1), np.array(0.5)):
        optkern.SGD([np.zeros(2)], lr=v).step([np.ones(2)])


def resident_bytes():
    """This process's resident memory now (Linux /proc), in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="resident memory is read from Linux's /proc")
def test_memory_stays_flat_over_many_calls():
    """Thousands of steps, failing steps and loss calls leave the resident
    memory where it was: nothing is leaked per call."""
    params = [np.zeros(257, np.float32) for _ in range(20)]
    grads = [np.ones_like(p) for p in params]
    opt = optkern.Adam(params, amsgrad=True)
    x = np.random.default_rng(0).standard_normal((64, 33)).astype(np.float32)
    y = np.zeros(64, np.int64)
    bad = grads[:-1] + [np.ones(3, np.float32)]

    def calls(n):
        for _ in range(n):
            opt.step(grads)
            with pytest.raises(ValueError):
                opt.step(bad)
            losses.cross_entropy(x, y)
            losses.mse_loss(x, x)
            optkern.functional.adam_(params[:2], grads[:2], [np.zeros_like(p) for p in params[:2]],
                    [np.zeros_like(p) for p in params[:2]], step=1)

    calls(500)  # warm up: caches, allocator pools
    before = resident_bytes()
    calls(5000)
    assert resident_bytes() - before < 4 << 20
