"""The optimizer comparison recorded in bench/RESULTS.md.

    python bench/report_optim.py [--rounds 15] [--record]

For each optimizer and workload, every implementation is timed interleaved
(one call each per round), all in this one process and run:

  ms/step          median time of one optkern step
  GB/s             bytes the update must move (Adam: 28 per float32
                   element, SGD with momentum: 20) / median time
  of roofline      roofline time / optkern time, paired per round; the
                   roofline is a C loop moving the same bytes with no
                   arithmetic, same ISA, same threads (optkern._core.roofline)
  x torch fused    torch fused time / optkern time, paired (higher: optkern faster)
  x best torch     the same against the fastest torch variant of the row
  x numpy          the same against the best in-place NumPy implementation
"""

import argparse
import os
import sys

import benchutil
from optkern.benchmark import peers, timing
from optkern.benchmark.optimizers import ELEMENTWISE, OPTIMIZERS, OWN_WORKLOADS, WORKLOADS, elements, measure

# The implementations of the main table: optkern, its roofline, and the
# NumPy and torch peers (where torch is installed).
IMPLS = ["optkern", "roofline", "numpy"] + [
    p for p in ("torch fused", "torch foreach", "torch for-loop") if peers.missing(p) is None]


def peer_cells(times, peer, ours):
    """The peer's median ms and its paired ratio to optkern, or dashes
    where that peer has no such optimizer."""
    if peer not in times:
        return ["-", "-"]
    return [f"{timing.median_ms(times[peer]):.3f}", f"{timing.paired_ratio(times[peer], ours):.2f}"]


def measure_row(optimizer, workload, rounds):
    shapes = WORKLOADS[workload]
    times, _ = measure(optimizer, shapes, IMPLS, rounds=rounds)
    ours = times["optkern"]
    nbytes = elements(shapes) * OPTIMIZERS[optimizer].bytes_per_element
    row = [optimizer, workload, f"{timing.median_ms(ours):.3f}", f"{timing.gbps(nbytes, ours):.1f}",
           f"{timing.paired_ratio(times['roofline'], ours):.0%}"]
    torch_names = [n for n in times if n.startswith("torch")]
    row += peer_cells(times, "torch fused", ours)
    if torch_names:
        best = min(torch_names, key=lambda n: timing.median_ms(times[n]))
        row.append(f"{best[6:]} {timing.paired_ratio(times[best], ours):.2f}")
    else:
        row.append("-")
    row += peer_cells(times, "numpy", ours)
    return row


# The speed targets: (optimizer, workload, column, minimum). The column is
# "x torch fused" or "x best torch" (ratios), or "of roofline" (a fraction).
# Under the tuned allocator torch allocates less per step, and the elementwise
# family's goal against it is half.
FAMILY = ["RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]


def targets(tuned):
    return [
        ("Adam", "16M", "x torch fused", 1.0),
        ("SGD momentum", "16M", "x torch fused", 1.0),
        ("Adam", "1000x1024", "x torch fused", 10.0),
        ("Adam", "ViT-S (200 arrays)", "x torch fused", 1.0),
        ("Adagrad", "16M", "x torch fused", 1.0),
        *[(name, "16M", "x best torch", 2.0 if tuned else 4.0) for name in FAMILY],
        *[(name, "16M", "of roofline", 0.9) for name in FAMILY],
        *[(name, "1000x1024", "x best torch", 10.0) for name in FAMILY],
    ]


def targets_summary(rows, tuned):
    """One line per target this run measured: the figure, met or not."""
    lines = []
    for optimizer, workload, column, goal in targets(tuned):
        row = next((r for r in rows if r[0] == optimizer and r[1] == workload), None)
        cell = row[HEADER.index(column)] if row else "-"
        if cell == "-":
            continue
        if column == "of roofline":
            value, shown, wanted = float(cell.rstrip("%")) / 100, cell, f"{goal:.0%}"
        else:
            value = float(cell.split()[-1])  # "x best torch" cells read "foreach 4.20"
            shown, wanted = f"{value:.2f}x ({column[2:]})", f"{goal:g}x"
        verdict = "met" if value >= goal else "NOT met"
        lines.append(f"- {optimizer}, {workload}: {shown} (target at least {wanted}): {verdict}")
    return "\n".join(lines)


HEADER = ["optimizer", "workload", "optkern ms/step", "GB/s", "of roofline", "torch fused ms",
          "x torch fused", "x best torch", "numpy ms", "x numpy"]


# glibc's allocator tuned as torch's performance guide suggests: freed
# blocks are kept instead of returned to the system, so torch's temporaries
# cost less. optkern allocates nothing per step; torch's figures change.
TUNED_ALLOCATOR = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"


# Muon, LBFGS and Adafactor, on workloads of their own
# (optkern.benchmark.optimizers.OWN_WORKLOADS): optkern against torch as it
# ships them (their for-loop), paired, and each's target (minimum x torch).
OWN_HEADER = ["optimizer", "workload", "optkern ms/step", "torch ms/step", "x torch"]
OWN_TARGETS = {"Muon": 1.0, "LBFGS": 1.0, "Adafactor": 3.0}


def measure_own(name, workload, rounds):
    impls = ["optkern"] + [p for p in ["torch for-loop"] if p in IMPLS]
    times, _ = measure(name, OWN_WORKLOADS[name][workload], impls, rounds=rounds)
    ours = times["optkern"]
    return [name, workload, f"{timing.median_ms(ours):.3f}", *peer_cells(times, "torch for-loop", ours)]


def own_summary(rows):
    return "\n".join(f"- {row[0]}, {row[1]}: {row[4]}x torch (target at least {OWN_TARGETS[row[0]]:g}x): "
                     f"{'met' if row[4] != '-' and float(row[4]) >= OWN_TARGETS[row[0]] else 'NOT met'}"
                     for row in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--only", nargs="*", help="optimizers to run (default: all)")
    parser.add_argument("--workloads", nargs="*", help="workloads to run (default: all)")
    parser.add_argument("--tuned-allocator", action="store_true",
                        help=f"run (this process, every peer) with GLIBC_TUNABLES={TUNED_ALLOCATOR}")
    args = parser.parse_args()
    if args.tuned_allocator and os.environ.get("GLIBC_TUNABLES") != TUNED_ALLOCATOR:
        # glibc reads its tunables at start-up: start again with them
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "GLIBC_TUNABLES": TUNED_ALLOCATOR})
    rows = []
    for optimizer in [o for o in args.only or ELEMENTWISE if o in ELEMENTWISE]:
        for workload in args.workloads or WORKLOADS:
            rows.append(measure_row(optimizer, workload, args.rounds))
            print(" | ".join(rows[-1]), flush=True)
    tuned = " --tuned-allocator" if args.tuned_allocator else ""
    allocator = f" glibc's allocator tuned: GLIBC_TUNABLES={TUNED_ALLOCATOR}." if tuned else ""
    if rows:
        benchutil.finish_report(
            "Optimizers" + (", tuned allocator" if tuned else ""),
            f"python bench/report_optim.py --rounds {args.rounds}{tuned}",
            f"float32, medians of {args.rounds} interleaved rounds; ratios are paired per round (x: peer time / "
            f"optkern time, higher is faster for optkern).{allocator}", timing.markdown_table(HEADER, rows),
            targets_summary(rows, args.tuned_allocator), args.record)
    own = [measure_own(name, workload, args.rounds) for name in OWN_WORKLOADS if not args.only or name in args.only
           for workload in OWN_WORKLOADS[name]]
    if own:
        benchutil.finish_report(
            "Muon, LBFGS and Adafactor" + (", tuned allocator" if tuned else ""),
            f"python bench/report_optim.py --rounds {args.rounds} --only Muon LBFGS Adafactor{tuned}",
            f"float32, medians of {args.rounds} interleaved rounds, ratios paired per round. Muon: one step on a "
            "4096x4096 matrix (Newton-Schulz in float32 through NumPy's BLAS; torch's in bfloat16). LBFGS: one "
            "iteration (max_iter=1, a full history of 10 pairs) on a separable quadratic of 10M elements in 10 "
            "arrays, closures doing the same work on both sides. Adafactor: one step on a 4096x4096 matrix, "
            f"against torch's default (its for-loop).{allocator}",
            timing.markdown_table(OWN_HEADER, own), own_summary(own), args.record)


if __name__ == "__main__":
    main()
