"""linear_cross_entropy against torch's F.cross_entropy(h @ W.T, y), forward
and backward: time and peak extra memory, paired in one run.

    python bench/linear_ce.py [--vocab 32000] [--n 8192] [--hidden 2048] [--chunk ROWS]
                              [--rounds 5] [--threads 2] [--record]

Memory can only be measured one process at a time, so every measurement
runs in a fresh subprocess: it makes float32 inputs (hidden N x H, weight
V x H with scale 0.02, random targets), warms up on 512 rows (libraries
loaded, threads started), then makes two full-size calls:

  first    the first full-size call: the BLAS's and the allocator's
           buffers grow during it
  steady   the next call, with them in place (a training loop's case)

Each call is timed (wall and CPU seconds) and its peak extra memory taken
as the peak resident set during the call (VmHWM, reset before it through
/proc/self/clear_refs) less the resident set before it; optkern's Python
allocations are also traced by tracemalloc (torch's are not Python's).
The two libraries alternate which goes first, round by round; ratios are
paired per round, then the median. Linux only (/proc).

Targets (issue 11, vocabulary 32000): peak extra memory at most 1/8 of
torch's, and at least as fast as torch's forward and backward.
"""

import json
import os
import statistics
import subprocess
import sys

import benchutil

from optkern.benchmark import timing

CHILD = r'''
import json, resource, sys, time, tracemalloc
import numpy as np
which, n, hidden, vocab, chunk, threads = sys.argv[1], *map(int, sys.argv[2:])
rng = np.random.default_rng(0)
h = rng.standard_normal((n, hidden), dtype=np.float32)
w = rng.standard_normal((vocab, hidden), dtype=np.float32) * np.float32(0.02)
y = rng.integers(0, vocab, n)

def status(key):  # a /proc/self/status entry, in bytes
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

if which == "torch":
    import torch
    torch.set_num_threads(threads)
    def run(h, w, y):
        th = torch.from_numpy(h).requires_grad_()
        tw = torch.from_numpy(w).requires_grad_()
        loss = torch.nn.functional.cross_entropy(th @ tw.T, torch.from_numpy(y))
        loss.backward()
        return float(loss.detach()), th.grad, tw.grad
else:
    import optkern
    optkern.set_num_threads(threads)
    def run(h, w, y):
        return optkern.losses.linear_cross_entropy(h, w, y, chunk_size=chunk or None)

run(h[:512], w, y[:512])
result = {}
for call in ("first", "steady"):
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS
    base = status("VmRSS")
    tracemalloc.start()
    start, cpu_start = time.perf_counter(), cpu_seconds()
    out = run(h, w, y)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result[call] = {"seconds": seconds, "cpu_seconds": cpu, "peak_extra": status("VmHWM") - base,
                    "traced_peak": traced, "loss": float(out[0])}
    del out
print(json.dumps(result))
'''

LIBRARIES = ("torch", "optkern")
MiB = 2**20


def measure(which, args):
    """One fresh process's {call: figures} for `which`."""
    threads = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    argv = [sys.executable, "-c", CHILD, which, str(args.n), str(args.hidden), str(args.vocab), str(args.chunk),
            threads]
    return json.loads(subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout)


def main():
    parser = benchutil.paired_parser(__doc__, rounds=5)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--chunk", type=int, default=0, help="chunk_size in rows (default: optkern's choice)")
    args = parser.parse_args()

    rounds = []
    for r in range(args.rounds):
        order = LIBRARIES if r % 2 == 0 else LIBRARIES[::-1]
        rounds.append({which: measure(which, args) for which in order})
        print(f"round {r + 1}: " + ", ".join(f"{which} {rounds[-1][which]['steady']['seconds']:.2f} s"
                                             for which in LIBRARIES), file=sys.stderr, flush=True)
    losses = {which: rounds[0][which]["steady"]["loss"] for which in LIBRARIES}

    def figures(which, call, key):
        return [r[which][call][key] for r in rounds]

    def ratio(call, key):  # torch / optkern, paired per round
        return timing.paired_ratio(figures("torch", call, key), figures("optkern", call, key))

    def spread(call, key):
        values = sorted(t / o for t, o in zip(figures("torch", call, key), figures("optkern", call, key)))
        return f"{values[0]:.2f}-{values[-1]:.2f}"

    rows = []
    for call in ("steady", "first"):
        for key, what, unit, scale, fmt in (("seconds", "time", "s", 1, ".2f"),
                                             ("cpu_seconds", "CPU time", "s", 1, ".2f"),
                                             ("peak_extra", "peak extra memory (RSS)", "MiB", MiB, ".0f")):
            medians = [statistics.median(figures(which, call, key)) / scale for which in LIBRARIES]
            rows.append([f"{what}, {call} call", *(f"{m:{fmt}} {unit}" for m in medians),
                         f"{ratio(call, key):.2f} ({spread(call, key)})"])
    table = timing.markdown_table(["measurement", "torch", "optkern", "torch / optkern (range)"], rows)
    traced = statistics.median(figures("optkern", "steady", "traced_peak")) / MiB
    table += (f"\n\noptkern's tracemalloc peak (steady call): {traced:.0f} MiB. Losses: torch "
              f"{losses['torch']:.6f}, optkern {losses['optkern']:.6f}.")

    speed, memory, memory_first = ratio("steady", "seconds"), ratio("steady", "peak_extra"), ratio("first", "peak_extra")
    targets = "\n".join([
        f"- Peak extra memory: torch's is {memory:.2f}x optkern's in the steady call, {memory_first:.2f}x in the first "
        f"(target at least 8x: {timing.verdict(memory >= 8)} steady, {timing.verdict(memory_first >= 8)} first).",
        f"- Time: torch takes {speed:.2f}x optkern's (target at least 1x: {timing.verdict(speed >= 1)}).",
    ]) if args.vocab == 32000 and args.n == 8192 and args.hidden == 2048 else ""
    options = [f"--{name} {getattr(args, name)}" for name, default in
               (("vocab", 32000), ("n", 8192), ("hidden", 2048), ("chunk", 0), ("rounds", 5), ("threads", 2))
               if getattr(args, name) != default]
    command = " ".join(["python bench/linear_ce.py", *options])
    chunk = f"chunk_size={args.chunk}" if args.chunk else "optkern's default chunk_size"
    explanation = (f"N={args.n} rows, hidden {args.hidden}, vocabulary {args.vocab}, float32, {args.threads} threads, "
                   f"{chunk}: `optkern.losses.linear_cross_entropy(h, W, y)` against torch's "
                   "`F.cross_entropy(h @ W.T, y)` and `backward()`, each measurement in a fresh process, "
                   f"the order alternating per round, {args.rounds} rounds; medians, ratios paired per round.")
    benchutil.finish_report(f"linear_cross_entropy, vocabulary {args.vocab}", command, explanation, table, targets,
                            args.record)


if __name__ == "__main__":
    main()
