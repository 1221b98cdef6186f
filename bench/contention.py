"""An optimizer step on a busy machine: 1 vs 2 threads while other work keeps
every core busy.

    python bench/contention.py [--rounds 30] [--elements 1048576] [--record]

Starts one spinning background process per core, then times an Adam step
(float32) with 1 thread and with 2 threads, interleaved, and again with the
background load stopped. When every core is busy, a step's threads are
scheduled among the other work and wait for each other at the end of the
parallel region; the ratio "2 threads / 1 thread" says what that costs.
"""

import argparse
import multiprocessing
import os
import time

import numpy as np

import benchutil
import optkern
from optkern.benchmark import timing


def spin(stop):
    while not stop.is_set():
        pass


def step_fn(n, threads):
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    opt = optkern.Adam([p])

    def step():
        optkern.set_num_threads(threads)
        opt.step([g])
    return step


def measure(n, rounds):
    fns = {"1 thread": step_fn(n, 1), "2 threads": step_fn(n, 2)}
    times = timing.interleaved(fns, rounds=rounds)
    one, two = times["1 thread"], times["2 threads"]
    return [f"{timing.median_ms(one):.3f}", f"{timing.median_ms(two):.3f}",
            f"{timing.paired_ratio(two, one):.2f}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--elements", type=int, default=1 << 20)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    before = optkern.get_num_threads()
    rows = []
    try:
        rows.append(["idle"] + measure(args.elements, args.rounds))
        stop = multiprocessing.Event()
        workers = [multiprocessing.Process(target=spin, args=(stop,)) for _ in range(os.cpu_count() or 1)]
        for w in workers:
            w.start()
        time.sleep(0.5)
        try:
            rows.append([f"{len(workers)} spinning processes"] + measure(args.elements, args.rounds))
        finally:
            stop.set()
            for w in workers:
                w.join()
    finally:
        optkern.set_num_threads(before)
    table = timing.markdown_table(["machine", "1 thread ms", "2 threads ms", "2 threads / 1 thread"], rows)
    benchutil.finish_report(
        "Contention", f"python bench/contention.py --rounds {args.rounds} --elements {args.elements}",
        f"Adam float32, {args.elements} elements, median of {args.rounds} interleaved rounds; the ratio is "
        "paired per round (above 1: the second thread costs time).", table, "", args.record)


if __name__ == "__main__":
    main()
