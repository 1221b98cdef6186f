"""pytest-benchmark suite: one optimizer step, every implementation.

    python -m pytest bench/test_bench_optim.py --benchmark-group-by=param:workload,param:optimizer

(bench/report_optim.py prints the interleaved comparison recorded in RESULTS.md.)
"""

import pytest

from optim_workloads import FACTORIES, OPTIMIZERS, workloads_for

pytest.importorskip("pytest_benchmark")


@pytest.mark.parametrize("impl", list(FACTORIES))
@pytest.mark.parametrize("optimizer, workload", [(o, w) for o in OPTIMIZERS for w in workloads_for(o)])
def test_step(benchmark, optimizer, workload, impl):
    step = FACTORIES[impl](optimizer, workloads_for(optimizer)[workload])
    if step is None:
        pytest.skip(f"{impl} has no {optimizer}")
    benchmark(step)
