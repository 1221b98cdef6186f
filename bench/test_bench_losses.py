"""pytest-benchmark suite of the losses: every case of
optkern.benchmark.losses.all_cases(), each optkern variant and each peer
(torch forward + backward, NumPy), and the memory roofline, as separate
benchmarks grouped by case.

    python -m pytest bench/test_bench_losses.py --benchmark-only
    python -m pytest bench/test_bench_losses.py --benchmark-only -k "65536"

For the table with effective GB/s, roofline fractions and paired ratios
(and torch with the tuned allocator), run bench/report_losses.py.
"""

import pytest

import optkern
from optkern.benchmark import losses, peers

pytest.importorskip("pytest_benchmark")

CASES = losses.all_cases()
NAMES = ("optkern", "optkern out=", "optkern out=input", "torch", "numpy", "roofline", "roofline in place")
_built = {}


def built(index):
    """Each case's inputs are built once (the big ones take seconds), and
    only one case is kept at a time."""
    if index not in _built:
        _built.clear()
        peers.set_threads(optkern.get_num_threads())  # torch's as optkern's
        _built[index] = CASES[index][1]()
    return _built[index]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[name for name, _ in CASES])
def test_loss(benchmark, index, name):
    case = built(index)
    if name not in case.fns:
        pytest.skip(f"{name} does not apply to {CASES[index][0]}")
    benchmark.group = CASES[index][0]
    benchmark.extra_info["effective_bytes"] = case.nbytes
    benchmark.pedantic(case.fns[name], rounds=7, warmup_rounds=1)
