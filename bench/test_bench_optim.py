"""pytest-benchmark suite: one optimizer step, every implementation.

    python -m pytest bench/test_bench_optim.py --benchmark-group-by=param:workload,param:optimizer

(bench/report_optim.py prints the interleaved comparison recorded in RESULTS.md.)
"""

import pytest

from optim_workloads import FACTORIES, OPTIMIZERS, OWN_FACTORIES, OWN_WORKLOADS, WORKLOADS

pytest.importorskip("pytest_benchmark")


@pytest.mark.parametrize("impl", list(FACTORIES))
@pytest.mark.parametrize("workload", list(WORKLOADS))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_step(benchmark, optimizer, workload, impl):
    step = FACTORIES[impl](optimizer, WORKLOADS[workload])
    if step is None:
        pytest.skip(f"{impl} has no {optimizer}")
    benchmark(step)


@pytest.mark.parametrize("impl", ["optkern", "torch"])
@pytest.mark.parametrize("optimizer, workload", [(o, w) for o in OWN_WORKLOADS for w in OWN_WORKLOADS[o]])
def test_own_workload_step(benchmark, optimizer, workload, impl):
    """Muon and LBFGS on their own workloads (optim_workloads.OWN_WORKLOADS)."""
    make = OWN_FACTORIES[optimizer].get(impl)
    step = make(OWN_WORKLOADS[optimizer][workload]) if make else None
    if step is None:
        pytest.skip(f"{impl} has no {optimizer}")
    benchmark(step)
