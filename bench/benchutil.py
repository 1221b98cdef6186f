"""What writes bench/RESULTS.md, and the command line of the reports that
record into it. The measuring itself is optkern.benchmark's (timing,
optimizers, losses), which `optkern bench` shares."""

import argparse
import os

from optkern.benchmark import timing
from optkern.benchmark.timing import machine_line


def paired_parser(doc, rounds=15):
    """The command line of a report paired against torch: --rounds, --threads
    (for both libraries) and --record; the caller adds its own options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    return parser


def bytes_table(what, times, moved, elements, base, speedup):
    """The table of a paired run of cases that each move a known number of
    bytes: case, bytes per element, median ms, GB/s, and the paired speed-up
    over base(case)'s times. moved[case]: its bytes; elements(case): the
    elements it covers; speedup: that column's heading."""
    rows = [[name, str(moved[name] // elements(name)), f"{timing.median_ms(s):.2f}",
             f"{timing.gbps(moved[name], s):.1f}", f"{timing.paired_ratio(base(name), s):.2f}"]
            for name, s in times.items()]
    return timing.markdown_table([what, "bytes/element", "ms", "GB/s", speedup], rows)


RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
RESULTS_TITLE = "# optkern benchmark results\n"


def record(section, body, path=RESULTS):
    """Replace (or add) the section "## <section>" of bench/RESULTS.md with body."""
    text = open(path).read() if os.path.exists(path) else RESULTS_TITLE
    heading = f"## {section}\n"
    start = text.find(heading)
    block = heading + "\n" + body.strip("\n") + "\n\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + block + (text[end + 1:] if end >= 0 else "")
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def finish_report(section, command, explanation, table, targets, record_it):
    """Print a report, and with record_it write it as bench/RESULTS.md's
    section: machine and date, the command, what the columns mean, the table
    and the speed targets as this run measured them."""
    body = f"{machine_line()}\n\n`{command}`: {explanation}\n\n{table}"
    if targets:
        body += "\n\nSpeed targets, from this run:\n\n" + targets
    print("\n" + body)
    if record_it:
        record(section, body)
