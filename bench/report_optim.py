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
import gc

import benchutil
from optim_workloads import FACTORIES, OPTIMIZERS, OWN_FACTORIES, OWN_WORKLOADS, WORKLOADS, elements


def peer_cells(times, peer, ours):
    """The peer's median ms and its paired ratio to optkern, or dashes
    where that peer has no such optimizer."""
    if peer not in times:
        return ["-", "-"]
    return [f"{benchutil.median_ms(times[peer]):.3f}", f"{benchutil.paired_ratio(times[peer], ours):.2f}"]


def measure(optimizer, workload, rounds):
    shapes = WORKLOADS[workload]
    impls = {name: make(optimizer, shapes) for name, make in FACTORIES.items()}
    impls = {name: fn for name, fn in impls.items() if fn is not None}
    times = benchutil.interleaved(impls, rounds=rounds)
    del impls
    gc.collect()
    ours = times["optkern"]
    nbytes = elements(shapes) * OPTIMIZERS[optimizer][2]
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


# The speed targets of the core issue: (optimizer, workload, minimum x torch fused).
TARGETS = [
    ("Adam", "16M", 1.0),
    ("SGD momentum", "16M", 1.0),
    ("Adam", "1000x1024", 10.0),
    ("Adam", "ViT-S (200 arrays)", 1.0),
]


def targets_summary(rows):
    """One line per target: the measured ratio to torch fused, met or not."""
    lines = []
    for optimizer, workload, goal in TARGETS:
        row = next((r for r in rows if r[0] == optimizer and r[1] == workload), None)
        if row is None or row[6] == "-":
            continue
        ratio = float(row[6])
        verdict = "met" if ratio >= goal else "NOT met"
        lines.append(f"- {optimizer}, {workload}: {ratio:.2f}x torch fused "
                     f"(target at least {goal:g}x): {verdict}")
    return "\n".join(lines)


HEADER = ["optimizer", "workload", "optkern ms/step", "GB/s", "of roofline", "torch fused ms",
          "x torch fused", "x best torch", "numpy ms", "x numpy"]


# Muon and LBFGS, on workloads of their own (optim_workloads.OWN_WORKLOADS):
# optkern against torch, paired, and each's target (minimum x torch).
OWN_HEADER = ["optimizer", "workload", "optkern ms/step", "torch ms/step", "x torch"]
OWN_TARGETS = {"Muon": 1.0, "LBFGS": 1.0}


def measure_own(name, workload, rounds):
    impls = {impl: make(OWN_WORKLOADS[name][workload]) for impl, make in OWN_FACTORIES[name].items()}
    times = benchutil.interleaved({k: v for k, v in impls.items() if v is not None}, rounds=rounds)
    del impls
    gc.collect()
    ours = times["optkern"]
    return [name, workload, f"{benchutil.median_ms(ours):.3f}", *peer_cells(times, "torch", ours)]


def own_summary(rows):
    return "\n".join(f"- {row[0]}, {row[1]}: {row[4]}x torch (target at least {OWN_TARGETS[row[0]]:g}x): "
                     f"{'met' if row[4] != '-' and float(row[4]) >= OWN_TARGETS[row[0]] else 'NOT met'}"
                     for row in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--only", nargs="*", help="optimizers to run (default: all)")
    args = parser.parse_args()
    rows = []
    for optimizer in [o for o in args.only or OPTIMIZERS if o in OPTIMIZERS]:
        for workload in WORKLOADS:
            rows.append(measure(optimizer, workload, args.rounds))
            print(" | ".join(rows[-1]), flush=True)
    if rows:
        benchutil.finish_report(
            "Optimizers", f"python bench/report_optim.py --rounds {args.rounds}",
            f"float32, medians of {args.rounds} interleaved rounds; ratios are paired per round (x: peer time / "
            "optkern time, higher is faster for optkern).", benchutil.markdown_table(HEADER, rows),
            targets_summary(rows), args.record)
    own = [measure_own(name, workload, args.rounds) for name in OWN_WORKLOADS if not args.only or name in args.only
           for workload in OWN_WORKLOADS[name]]
    if own:
        benchutil.finish_report(
            "Muon and LBFGS", f"python bench/report_optim.py --rounds {args.rounds} --only Muon LBFGS",
            f"float32, medians of {args.rounds} interleaved rounds, ratios paired per round. Muon: one step on a "
            "4096x4096 matrix (Newton-Schulz in float32 through NumPy's BLAS; torch's in bfloat16). LBFGS: one "
            "iteration (max_iter=1, a full history of 10 pairs) on a separable quadratic of 10M elements in 10 "
            "arrays, closures doing the same work on both sides.", benchutil.markdown_table(OWN_HEADER, own),
            own_summary(own), args.record)


if __name__ == "__main__":
    main()
