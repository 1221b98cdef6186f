"""pytest-benchmark suite: one optimizer step, every implementation.

    python -m pytest bench/test_bench_optim.py --benchmark-group-by=param:workload,param:optimizer

(bench/report_optim.py prints the interleaved comparison recorded in
RESULTS.md; `optkern bench` the same at the sizes a user picks.)
"""

import pytest

from optkern.benchmark.optimizers import ELEMENTWISE, IMPLEMENTATIONS, OWN_WORKLOADS, WORKLOADS, step
from optkern.benchmark.peers import Unavailable, missing

pytest.importorskip("pytest_benchmark")


def built(impl, optimizer, shapes):
    """The implementation's step, or the test skipped where it has no such
    optimizer or its library is not installed or cannot run here."""
    why = None if impl in ("optkern", "roofline") else missing(impl)
    if why:
        pytest.skip(f"{impl}: {why}")
    try:
        fn = step(impl, optimizer, shapes)
    except Unavailable as e:
        pytest.skip(str(e))
    if fn is None:
        pytest.skip(f"{impl} has no {optimizer}")
    return fn


@pytest.mark.parametrize("impl", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("optimizer", ELEMENTWISE)
def test_step(benchmark, optimizer, workload, impl):
    benchmark(built(impl, optimizer, WORKLOADS[workload]))


@pytest.mark.parametrize("impl", ["optkern", "torch for-loop"])
@pytest.mark.parametrize("optimizer, workload", [(o, w) for o in OWN_WORKLOADS for w in OWN_WORKLOADS[o]])
def test_own_workload_step(benchmark, optimizer, workload, impl):
    """Muon, LBFGS and Adafactor on their own workloads (OWN_WORKLOADS)."""
    benchmark(built(impl, optimizer, OWN_WORKLOADS[optimizer][workload]))
