"""Timing helpers shared by the benchmark reports.

The machine is shared and noisy, so implementations are timed interleaved:
each round calls every implementation once, in turn, and ratios are taken
round by round ("paired") before the median. Only figures from the same run
are ever compared.
"""

import argparse
import datetime
import os
import platform
import statistics
import time

import numpy as np

import optkern


def interleaved(fns, rounds=15, warmup=2):
    """{name: [seconds per call, one per round]} for each callable in fns."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def paired_parser(doc, rounds=15):
    """The command line of a report paired against torch: --rounds, --threads
    (for both libraries) and --record; the caller adds its own options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    return parser


def torch_with_threads(threads):
    """torch, with optkern and torch both set to `threads` threads."""
    import torch

    torch.set_num_threads(threads)
    optkern.set_num_threads(threads)
    return torch


def verdict(met):
    return "met" if met else "NOT met"


def median_ms(samples):
    return 1e3 * statistics.median(samples)


def paired_ratio(numerator, denominator):
    """Median over rounds of numerator[r] / denominator[r]."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def gbps(nbytes, samples):
    """Effective bandwidth: the bytes the operation must move / median time."""
    return nbytes / statistics.median(samples) / 1e9


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line():
    """Date, CPU, cores, library versions: the header of every recorded table."""
    parts = [
        datetime.date.today().isoformat(),
        f"{cpu_model()}, {os.cpu_count()} cores",
        f"optkern {optkern.__version__} ({optkern.get_isa()}, {optkern.get_num_threads()} threads)",
        f"numpy {np.__version__}",
        f"Python {platform.python_version()}",
    ]
    try:
        import torch

        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        parts.append("torch not installed")
    return "; ".join(parts)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


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
