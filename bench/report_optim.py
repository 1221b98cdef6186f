"""The optimizer comparison recorded in bench/RESULTS.md.

    python bench/report_optim.py [--rounds 15] [--record]

For each optimizer and workload, every implementation is timed interleaved
(one call each per round), all in this one process and run:

  ms/step          median time of one optkern step
  GB/s             bytes the update must move (Adam: 28 per float32
                   element, SGD with momentum: 20; Adafactor's three passes
                   over a matrix: 24) / median time
  of roofline      roofline time / optkern time, paired per round; the
                   roofline is a C loop moving the same bytes with no
                   arithmetic, same ISA, same threads (optkern._core.roofline)
  x torch fused    torch fused time / optkern time, paired (higher: optkern faster)
  x best torch     the same against the fastest torch variant of the row
  x numpy          the same against the best in-place NumPy implementation
"""

import argparse
import gc

import benchutil
from optim_workloads import FACTORIES, OPTIMIZERS, bytes_moved, workloads_for


def peer_cells(times, peer, ours):
    """The peer's median ms and its paired ratio to optkern, or dashes
    where that peer has no such optimizer."""
    if peer not in times:
        return ["-", "-"]
    return [f"{benchutil.median_ms(times[peer]):.3f}", f"{benchutil.paired_ratio(times[peer], ours):.2f}"]


def measure(optimizer, workload, rounds):
    shapes = workloads_for(optimizer)[workload]
    impls = {name: make(optimizer, shapes) for name, make in FACTORIES.items()}
    impls = {name: fn for name, fn in impls.items() if fn is not None}
    times = benchutil.interleaved(impls, rounds=rounds)
    del impls
    gc.collect()
    ours = times["optkern"]
    nbytes = bytes_moved(optimizer, shapes)
    row = [optimizer, workload, f"{benchutil.median_ms(ours):.3f}", f"{benchutil.gbps(nbytes, ours):.1f}",
           f"{benchutil.paired_ratio(times['roofline'], ours):.0%}"]
    torch_names = [n for n in times if n.startswith("torch")]
    row += peer_cells(times, "torch fused", ours)
    if torch_names:
        best = min(torch_names, key=lambda n: benchutil.median_ms(times[n]))
        row.append(f"{best[6:]} {benchutil.paired_ratio(times[best], ours):.2f}")
    else:
        row.append("-")
    row += peer_cells(times, "numpy", ours)
    return row


# The speed targets of the issues: (optimizer, workload, minimum ratio, peer):
# the peer is "torch fused" or "best torch" (the fastest torch variant).
TARGETS = [
    ("Adam", "16M", 1.0, "torch fused"),
    ("SGD momentum", "16M", 1.0, "torch fused"),
    ("Adam", "1000x1024", 10.0, "torch fused"),
    ("Adam", "ViT-S (200 arrays)", 1.0, "torch fused"),
    ("Adafactor", "4096x4096", 3.0, "best torch"),
]


def targets_summary(rows):
    """One line per target: the measured ratio to its peer, met or not."""
    lines = []
    for optimizer, workload, goal, peer in TARGETS:
        row = next((r for r in rows if r[0] == optimizer and r[1] == workload), None)
        cell = None if row is None else row[6] if peer == "torch fused" else row[7]
        if cell is None or cell == "-":
            continue
        ratio = float(cell.split()[-1])  # "best torch" cells read "<variant> <ratio>"
        verdict = "met" if ratio >= goal else "NOT met"
        lines.append(f"- {optimizer}, {workload}: {ratio:.2f}x {peer} "
                     f"(target at least {goal:g}x): {verdict}")
    return "\n".join(lines)


HEADER = ["optimizer", "workload", "optkern ms/step", "GB/s", "of roofline", "torch fused ms",
          "x torch fused", "x best torch", "numpy ms", "x numpy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--only", nargs="*", help="optimizers to run (default: all)")
    args = parser.parse_args()
    rows = []
    for optimizer in args.only or OPTIMIZERS:
        for workload in workloads_for(optimizer):
            rows.append(measure(optimizer, workload, args.rounds))
            print(" | ".join(rows[-1]), flush=True)
    benchutil.finish_report(
        "Optimizers", f"python bench/report_optim.py --rounds {args.rounds}",
        f"float32, medians of {args.rounds} interleaved rounds; ratios are paired per round (x: peer time / "
        "optkern time, higher is faster for optkern).", benchutil.markdown_table(HEADER, rows),
        targets_summary(rows), args.record)


if __name__ == "__main__":
    main()
