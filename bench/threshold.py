"""Measure the size below which a kernel should stay on one thread.

    python bench/threshold.py [--record]

Times an Adam step (float32, one array) at a range of sizes on 1 thread and
on 2 threads with the single-thread cutoff disabled, interleaved. Two
regimes: back to back (the second thread is still spinning from the last
call) and with 2 ms of other work between steps, as in training, where the
thread has gone to sleep and must be woken. The cutoff compiled into
kernels/src/multi_tensor.c (OK_PARALLEL_MIN_ELEMENTS) comes from the second.
"""

import argparse
import time

import numpy as np

import benchutil
import optkern
from optkern import _core
from optkern.benchmark import timing

SIZES = [1 << k for k in range(10, 19)] + [3 << 13, 3 << 14]


def step_fn(n, threads, gap):
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)

    def step():
        optkern.set_num_threads(threads)
        optkern.functional.adam_([p], [g], [m], [v], step=1)

    if not gap:
        return step

    def step_after_other_work():
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < gap:  # busy, as a forward/backward pass would be
            pass
        step()
    return step_after_other_work


def measure(gap, rounds):
    rows = []
    for n in sorted(SIZES):
        fns = {"1 thread": step_fn(n, 1, gap), "2 threads": step_fn(n, 2, gap)}
        if gap:  # time only the step: subtract the known busy time
            times = timing.interleaved(fns, rounds=rounds)
            times = {k: [max(t - gap, 1e-9) for t in v] for k, v in times.items()}
        else:
            times = timing.interleaved(fns, rounds=rounds)
        one, two = times["1 thread"], times["2 threads"]
        rows.append([n, f"{1e6 * np.median(one):.1f}", f"{1e6 * np.median(two):.1f}",
                     f"{timing.paired_ratio(one, two):.2f}"])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    before = optkern.get_num_threads()
    _core.set_parallel_min(1)  # let 2 threads run at every size
    try:
        sections = []
        for label, gap in [("back to back", 0.0), ("2 ms of other work between steps", 2e-3)]:
            rows = measure(gap, args.rounds)
            table = timing.markdown_table(["elements", "1 thread us", "2 threads us", "speed-up"], rows)
            sections.append(f"{label}:\n\n{table}")
            print(f"\n{label}\n{table}", flush=True)
    finally:
        _core.set_parallel_min(0)
        optkern.set_num_threads(before)
    body = (f"{timing.machine_line()}\n\n`python bench/threshold.py`: Adam float32, one array, median "
            f"microseconds of {args.rounds} interleaved rounds; speed-up = 1-thread time / 2-thread time, "
            "paired.\n\n" + "\n\n".join(sections))
    if args.record:
        benchutil.record("Threading threshold", body)


if __name__ == "__main__":
    main()
