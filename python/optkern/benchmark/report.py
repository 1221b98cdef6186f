"""What `optkern bench` shows of its results: the table (text), every
number (JSON) and optkern's speed-ups (a picture, with matplotlib)."""

import json
import sys
import textwrap

from optkern.benchmark.timing import machine_line

__all__ = ["text", "write_json", "plot"]

_LEGEND = (
    "float32; every figure is the median of {rounds} rounds, each calling every implementation once, in turn. "
    "optkern ms: one optimizer step, or one loss with its gradient written into a preallocated array (out=). "
    "GB/s: the bytes the call must move (reading each input and writing each output once: Adam 28 per "
    "element) / optkern's time; none for Muon, LBFGS and Adafactor, whose work is not one pass. roofline: "
    "the roofline's time / optkern's, paired per round (100%: as fast as moving those bytes with no "
    "arithmetic can be). peer ms (x): the peer's time and optkern's speed-up over it, its time / optkern's "
    "paired per round (above 1x: optkern is faster); -: the peer has no such optimizer or loss. torch "
    "and DeepSpeed run on as many threads as optkern; optax on XLA's own; NumPy on one (matrix products, "
    "as Muon's, optkern's included, on its BLAS's threads)."
)


def _ms(v):
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def _ratio(x):
    return f"{x:.0f}x" if x >= 100 else f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


def _table(header, rows):
    """Columns padded to their widest cell: the first two left-aligned, the rest right."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _peers_line(peers):
    """The peers that ran, with their versions, and those that did not, with why."""
    ran, versions = [], {}
    for peer, status in peers.items():
        if "version" in status:
            library = peer.split()[0]
            versions.setdefault(f"{library} {status['version']}", []).append(peer[len(library) + 1:])
    for name, variants in versions.items():
        variants = [v for v in variants if v]
        ran.append(f"{name} ({', '.join(variants)})" if variants else name)
    line = "peers: " + ", ".join(ran)
    left_out = [f"{peer} ({status['unavailable']})" for peer, status in peers.items() if "unavailable" in status]
    if left_out:
        line += "; not run: " + ", ".join(left_out)
    return line


def _section(rows, kind, first):
    ran = [peer for peer in dict.fromkeys(p for r in rows for p in r["peers"])]
    header = [first, "size x tensors" if kind == "optimizer" else "shape", "threads", "optkern ms", "GB/s",
              "roofline", *[f"{peer} ms (x)" for peer in ran]]
    body = []
    for r in rows:
        cells = [r["name"], r["shape"], r["threads"], _ms(r["optkern_ms"]),
                 "-" if r["gbps"] is None else f"{r['gbps']:.1f}",
                 "-" if r["of_roofline"] is None else f"{r['of_roofline']:.0%}"]
        for peer in ran:
            cell = r["peers"].get(peer)
            cells.append(f"{_ms(cell['ms'])} ({_ratio(cell['speedup'])})" if cell else "-")
        body.append(cells)
    return _table(header, body)


def text(results):
    """The report as printed: the machine, the peers, what the columns
    mean, then a table of the optimizers and one of the losses."""
    parts = [f"optkern bench: {machine_line(results['machine'])}", _peers_line(results["peers"])]
    load, cores = results["load_before"], results["machine"]["cores"]
    if load is not None and cores and load > cores / 2:
        parts.append(textwrap.fill(
            f"note: the machine was busy as this run began (load average {load:.1f} over {cores} cores): the "
            "figures are noisy, and threads that wait for each other, torch's most, lose the most. A quiet "
            "machine gives steadier ones.", 100))
    parts.append(textwrap.fill(_LEGEND.format(rounds=results["rounds"]), 100))
    for kind, first in (("optimizer", "optimizer"), ("loss", "loss")):
        rows = [r for r in results["rows"] if r["kind"] == kind]
        if rows:
            parts.append(_section(rows, kind, first))
    return "\n\n".join(parts)


def write_json(results, path):
    """Every number of the run as JSON, into path ('-': stdout)."""
    if path == "-":
        json.dump(results, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


def plot(results, path):
    """optkern's speed-up over each peer, one group of bars per row of the
    table, on a log scale (1x: as fast as the peer), into path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows = results["rows"]
    ran = list(dict.fromkeys(p for r in rows for p in r["peers"]))
    colour = {peer: f"C{i}" for i, peer in enumerate(ran)}
    bars = sum(max(1, len(r["peers"])) for r in rows)
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.25 * bars + 0.4 * len(rows) + 1.5)))
    y, ticks, labelled = 0.0, [], set()
    for r in rows:  # a group of bars per row, one per peer it ran, from 1x to the speed-up
        first = y
        for peer, cell in r["peers"].items():
            label = None if peer in labelled else peer
            labelled.add(peer)
            ax.barh(y, cell["speedup"] - 1.0, left=1.0, height=0.8, color=colour[peer], label=label)
            y += 1
        ticks.append((first + max(y, first + 1) - 1) / 2)
        y = max(y, first + 1) + 0.6
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{r['name']} {r['shape']}, {r['threads']} thr" for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ticks_as_ratios = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x")
    ax.xaxis.set_major_formatter(ticks_as_ratios)
    ax.xaxis.set_minor_formatter(ticks_as_ratios)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("optkern's speed-up: peer time / optkern time (paired median; right of 1: optkern faster)")
    ax.set_title(textwrap.fill(f"optkern bench: {machine_line(results['machine'])}", 90), fontsize=8)
    if ran:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
