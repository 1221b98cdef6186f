"""optkern.distributed over MPI (docs/distributed.md): each case runs
tests/distributed/worker.py under `mpiexec -n P python -m mpi4py` at world
sizes 1, 2 and 4 (4 ranks on 2 cores: MPICH needs no oversubscription flag),
with a timeout, and reads rank 0's one-line JSON result. The test extra
brings mpi4py and the mpich wheel; without them the cases skip, saying
why (CI, with OPTKERN_STRICT_TESTS, fails instead)."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from helpers import require

WORKER = os.path.join(os.path.dirname(__file__), "distributed", "worker.py")


def mpiexec():
    require(__import__("importlib").util.find_spec("mpi4py") is not None, "mpi4py (the test extra)")
    path = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    path = path if os.path.exists(path) else shutil.which("mpiexec")
    require(path is not None, "mpiexec (the mpich wheel of the test extra)")
    return path


def launch(ranks, case, *args, timeout=120, runner=("-m", "mpi4py")):
    """(return code, rank 0's result or None, output, seconds); runner: how
    python runs the worker (under mpi4py's own guard, or () as a plain
    script)."""
    env = {**os.environ, "UCX_NET_DEVICES": "lo", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    start = time.monotonic()
    done = subprocess.run([mpiexec(), "-n", str(ranks), sys.executable, *runner, WORKER, case, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(lines[-1][len("RESULT "):]) if lines else None
    return done.returncode, result, done.stdout + done.stderr, time.monotonic() - start


def run(ranks, case, *args):
    rc, result, output, _ = launch(ranks, case, *args)
    assert rc == 0 and result is not None, output[-4000:]
    return result


@pytest.mark.parametrize("ranks", [1, 2, 4])
@pytest.mark.parametrize("mode", ["rank-order", "library", "exact"])
def test_zero_step_is_the_single_process_step_on_the_mean_gradient(ranks, mode):
    """Bitwise in rank-order mode (and wherever the library's sum is the
    rank-order one); parameters identical on every rank after every step."""
    result = run(ranks, "parity", mode, "AdamW", 1)
    assert result["identical"] and result["granular"] == "element"
    if mode == "rank-order" or ranks <= 2:
        assert result["diff"] == 0.0
    else:
        assert result["diff"] < 1e-6


@pytest.mark.parametrize("name", ["NAdam", "SGD", "Lion", "LAMB", "LARS", "Adafactor", "Muon", "Adam8bit"])
def test_zero_shards_every_kind_of_optimizer(name):
    """Elementwise optimizers by elements; those with norms, matrices or
    8-bit blocks by whole parameters; stage 2 like stage 1."""
    result = run(2, "parity", "rank-order", name, 2)
    assert result["identical"]
    assert result["granular"] == ("element" if name in ("NAdam", "SGD", "Lion") else "parameter")
    assert result["diff"] == 0.0 if name != "LAMB" else result["diff"] < 1e-6


@pytest.mark.parametrize("ranks", [2, 4])
def test_rank_order_results_do_not_depend_on_the_buckets(ranks):
    digests = run(ranks, "buckets", "rank-order")["digests"]
    assert len(set(digests)) == 1


def test_exact_results_do_not_depend_on_the_world_size():
    digests = {ranks: run(ranks, "exact")["digest"] for ranks in (1, 2, 4)}
    assert len(set(digests.values())) == 1, digests


def test_max_grad_norm_clips_the_norm_over_every_rank():
    result = run(2, "clip")
    assert result["norm"] == pytest.approx(result["expected"], rel=1e-6)


def test_a_checkpoint_saved_at_4_ranks_resumes_at_2_and_1(tmp_path):
    root = tmp_path / "ckpt"
    uninterrupted = run(4, "save", root, "keep")["digest"]
    for ranks in (2, 1):
        result = run(ranks, "resume", root)
        assert result["steps"] == 3 and result["lr"] == 0.01  # the saved hyperparameters, not the constructor's
        assert result["digest"] == uninterrupted, ranks
    assert result["plain_diff"] < 1e-6  # a single-process AdamW from read_checkpoint


def test_kill_during_a_save_leaves_the_previous_checkpoint(tmp_path):
    root = tmp_path / "ckpt"
    rc, _, output, _ = launch(2, "save", root, "kill")
    assert rc != 0, output[-2000:]
    assert any(name.endswith(".tmp") for name in os.listdir(root))  # the killed save's remains
    result = run(2, "resume", root)
    assert result["steps"] == 3


def test_a_shape_mismatch_on_one_rank_raises_on_every_rank():
    outcomes = run(2, "mismatch")["outcomes"]
    assert all(o.startswith("ValueError: ") and "different" in o for o in outcomes), outcomes


def test_bad_options_raise_on_every_rank():
    outcomes = run(2, "bad_options")["outcomes"]
    assert outcomes[0] == outcomes[1] == ["ValueError"] * 4 + ["TypeError", "ValueError"], outcomes


def test_bad_gradients_on_one_rank_raise_on_every_rank_and_change_nothing():
    result = run(2, "bad_grads")
    assert all(o.startswith("ValueError: rank 1") or o.startswith("ValueError: grads[1]") for o in result["outcomes"])
    assert result["unchanged"]


@pytest.mark.parametrize("runner", [("-m", "mpi4py"), ()], ids=["python -m mpi4py", "plain python"])
def test_an_exception_on_one_rank_aborts_the_job_quickly(runner):
    """Under mpi4py's guard, and in a plain script under optkern's own
    (install_abort_guard), which a plain MPI program lacks: it would hang."""
    rc, result, output, seconds = launch(2, "abort", timeout=60, runner=runner)
    assert rc != 0 and result is None, output[-2000:]
    assert "a failure on one rank" in output
    assert seconds < 30


def test_a_deadline_aborts_a_wait_for_a_rank_that_does_not_come():
    rc, result, output, seconds = launch(2, "deadline", timeout=60)
    assert rc != 0 and result is None
    assert "waited more than 1.0 s for the other ranks to start the step" in output, output[-2000:]
    assert seconds < 30


@pytest.mark.parametrize("mode", ["rank-order", "library", "exact"])
def test_data_parallel_and_all_reduce_grads(mode):
    result = run(2, "data_parallel", mode)
    assert result["identical"]
    assert result["diff"] <= (0.0 if mode != "exact" else 1e-6)
    assert result["allreduce_diff"] <= (0.0 if mode != "exact" else 1e-6)


@pytest.mark.parametrize("ranks", [1, 2])
def test_diloco_syncs_every_rank_to_the_outer_step(ranks):
    result = run(ranks, "diloco")
    assert result["identical"] and result["diff"] == 0.0


def test_importing_optkern_and_its_distributed_package_does_not_import_mpi4py():
    code = "import sys, optkern, optkern.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_readme_demo_trains_on_two_ranks_and_resumes_on_one(tmp_path):
    """The README's Distributed commands, as written but for the checkpoint's folder."""
    env = {**os.environ, "UCX_NET_DEVICES": "lo"}
    outputs = []
    for ranks, extra in ((2, []), (1, ["--resume"])):
        done = subprocess.run([mpiexec(), "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m",
                               "optkern.distributed.demo", "--checkpoint", str(tmp_path / "ckpt"), *extra],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    assert "from step 500" in outputs[1]
    learned = [line for line in outputs[1].splitlines() if "learned" in line]
    true = [line for line in outputs[1].splitlines() if " true " in line]
    assert [line.split()[-10:] for line in learned[:1]] == [line.split()[-10:] for line in true[:1]]
