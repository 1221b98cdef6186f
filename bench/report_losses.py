"""The loss benchmark report: for each case (optkern.benchmark.losses) and each optkern
variant, the time, the effective bandwidth (the bytes the operation must
move / time), the fraction of the memory roofline, and how many times
faster it is than torch as installed, torch with the tuned allocator and
NumPy, all measured in this run.

Everything in one process is timed interleaved (each round runs every
callable once) and ratios are paired round by round before the median
(optkern.benchmark.timing). torch's tuned allocator needs GLIBC_TUNABLES at process start,
so each case is run again in a subprocess started with it, timing torch
and the optkern variants interleaved there; the "vs torch tuned" ratios
are paired within that subprocess (where optkern's own new arrays come from
the tuned allocator too).

    python bench/report_losses.py                 # print the table
    python bench/report_losses.py --record        # and write it into bench/RESULTS.md
    python bench/report_losses.py --only cross_entropy --rounds 9
    python bench/report_losses.py --only ctc,triplet --section "Losses: ..." --record
"""

import argparse
import json
import os
import subprocess
import sys

import benchutil
import optkern
from optkern.benchmark import losses, peers
from optkern.benchmark import timing

TUNED_ALLOCATOR = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"
VARIANTS = ("optkern", "optkern out=", "optkern out=input")


def tuned_worker(index, rounds):
    """Run in the subprocess: torch and the optkern variants of one case."""
    case = losses.all_cases()[index][1]()
    peers.set_threads(optkern.get_num_threads())
    fns = {k: v for k, v in case.fns.items() if k in VARIANTS or k == "torch"}
    if "torch" not in fns:
        print(json.dumps({}))
        return
    times = timing.interleaved(fns, rounds=rounds)
    print(json.dumps({"torch_ms": timing.median_ms(times["torch"]),
                      **{v: timing.paired_ratio(times["torch"], times[v]) for v in VARIANTS if v in times}}))


def run_tuned(index, rounds):
    env = dict(os.environ, GLIBC_TUNABLES=TUNED_ALLOCATOR)
    cmd = [sys.executable, os.path.abspath(__file__), "--tuned-worker", str(index), "--rounds", str(rounds)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(index, name, make, rounds):
    """The rows of one case: one per optkern variant, then the peers."""
    case = make()
    times = timing.interleaved(case.fns, rounds=rounds)
    del case.fns  # free the big arrays before the subprocess makes its own
    tuned = run_tuned(index, rounds)
    rows = []
    for v in VARIANTS:
        if v not in times:
            continue
        roof = times["roofline in place" if v == "optkern out=input" else "roofline"]
        rows.append([
            name, v, f"{timing.median_ms(times[v]):.2f}", f"{timing.gbps(case.nbytes, times[v]):.1f}",
            f"{timing.paired_ratio(roof, times[v]):.0%}",
            f"{timing.paired_ratio(times['torch'], times[v]):.1f}x" if "torch" in times else "n/a",
            f"{tuned[v]:.1f}x" if v in tuned else "n/a",
            f"{timing.paired_ratio(times['numpy'], times[v]):.1f}x" if "numpy" in times else "n/a",
        ])
    others = [f"torch {timing.median_ms(times['torch']):.1f}" if "torch" in times else "torch n/a",
             f"torch tuned {tuned['torch_ms']:.1f}" if tuned else "torch tuned n/a",
             f"NumPy {timing.median_ms(times['numpy']):.1f}" if "numpy" in times else "NumPy n/a",
             f"roofline {timing.median_ms(times['roofline']):.2f}"]
    if "roofline in place" in times:
        others.append(f"in place {timing.median_ms(times['roofline in place']):.2f}")
    rows.append([name, "peers (ms): " + ", ".join(others), "", "", "", "", "", ""])
    return rows


HEADER = ["case", "variant", "ms", "GB/s", "of roofline", "vs torch", "vs torch tuned", "vs NumPy"]

EXPLANATION = """\
Loss and gradient together (optkern: one call; torch: forward + backward through autograd; NumPy:
a careful, stable implementation on one thread), float32. Each case interleaves every callable;
times are medians, ratios are paired by round ("6.3x": optkern 6.3 times faster). "vs torch tuned"
is paired in a second process started with `GLIBC_TUNABLES={tuned}` (where optkern's own new arrays
come from the tuned heap too). Variants: `optkern` returns a new gradient array (so it pays the
first touch of fresh pages, which the OS zeroes), `out=` writes into a preallocated one,
`out=input` overwrites the input. GB/s: the bytes the operation must move (inputs read once,
gradient written once) over the time; "of roofline": the time of optkern's memory roofline (the
same reads and writes with no arithmetic, `optkern._core.roofline`, in place for `out=input`) over
the variant's."""

# The speed targets of the losses issue: (case, column, minimum). Columns:
# "vs torch", "vs torch tuned", "vs NumPy" (x faster), "of roofline".
TARGETS = [
    ("cross_entropy 4096x32000", "vs torch", 10.0),
    ("cross_entropy 4096x32000", "vs torch tuned", 3.0),
    ("cross_entropy 4096x32000", "vs NumPy", 3.0),
    ("cross_entropy 65536x10", "vs torch", 5.0),
    ("mse_loss 16M", "vs torch", 5.0),
    ("mse_loss 16M", "vs torch tuned", 2.0),
    ("mse_loss 16M", "of roofline", 1 / 1.15),  # within 15% of the roofline's time
    # the elementwise losses of torch.nn.functional's rest (16M elements)
    *[(f"{loss} 16M", column, goal) for loss in ("binary_cross_entropy", "poisson_nll_loss", "gaussian_nll_loss",
                                                 "hinge_embedding_loss", "soft_margin_loss", "margin_ranking_loss")
      for column, goal in (("vs torch", 5.0), ("of roofline", 1 / 1.15))],
    ("ctc_loss 500x32x64 S=100", "vs torch", 2.0),
]


def targets_summary(rows):
    """Per target, each variant's figure, met or not."""
    lines = []
    for case, column, goal in TARGETS:
        col = HEADER.index(column)
        found = [(r[1], r[col]) for r in rows if r[0] == case and r[1] in VARIANTS and r[col] != "n/a"]
        if not found:
            continue
        parts = []
        for variant, cell in found:
            value = float(cell.rstrip("x%")) / (100 if cell.endswith("%") else 1)
            parts.append(f"{variant} {cell} ({'met' if value >= goal else 'not met'})")
        want = f"at least {goal:.0%} (within 15% of its time)" if column == "of roofline" else f"at least {goal:g}x"
        lines.append(f"- {case}, {column} (target {want}): " + "; ".join(parts))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", help="only the cases whose name contains one of these (comma-separated)")
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--section", default="Losses", help="bench/RESULTS.md's section to write (--record)")
    parser.add_argument("--tuned-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tuned_worker is not None:
        tuned_worker(args.tuned_worker, args.rounds)
        return
    cases = losses.all_cases()
    peers.set_threads(optkern.get_num_threads())  # torch's as optkern's
    rows = []
    for index, (name, make) in enumerate(cases):
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        case_rows = measure(index, name, make, args.rounds)
        rows += case_rows
        for row in case_rows:
            print("  ".join(cell for cell in row if cell), flush=True)
    options = "".join(f" --{k} '{v}'" for k, v in (("only", args.only), ("section", args.section)) if v and
                      (k != "section" or v != "Losses"))
    benchutil.finish_report(args.section, f"python bench/report_losses.py --rounds {args.rounds}{options}",
                     f"{args.rounds} interleaved rounds per case. " + EXPLANATION.format(tuned=TUNED_ALLOCATOR),
                     timing.markdown_table(HEADER, rows), targets_summary(rows), args.record)


if __name__ == "__main__":
    main()
