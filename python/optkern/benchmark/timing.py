"""How optkern's benchmarks time things and describe the machine.

The machines benchmarks run on are shared and noisy, so implementations are
timed interleaved: each round calls every implementation once, in turn,
and ratios are taken round by round ("paired") before the median. Only
figures from the same run are ever compared.
"""

import datetime
import statistics
import time

__all__ = ["interleaved", "median_ms", "paired_ratio", "gbps", "verdict", "markdown_table", "machine",
           "machine_line"]


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


def median_ms(samples):
    return 1e3 * statistics.median(samples)


def paired_ratio(numerator, denominator):
    """Median over rounds of numerator[r] / denominator[r]."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def gbps(nbytes, samples):
    """Effective bandwidth: the bytes the operation must move / median time."""
    return nbytes / statistics.median(samples) / 1e9


def verdict(met):
    return "met" if met else "NOT met"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine():
    """What `optkern info` reports (optkern.cli.info), the date, and torch's
    version and thread count (None where torch is not installed): the
    machine a run measured."""
    from importlib import metadata

    from optkern.cli import info

    data = {"date": datetime.date.today().isoformat(), **info()}
    try:
        import torch
    except ImportError:
        data["torch"] = None
    else:
        data["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    if data["optional"].get("optax"):  # optax runs on jax: its version matters as much
        try:
            data["optional"]["jax"] = metadata.version("jax")
        except metadata.PackageNotFoundError:
            data["optional"]["jax"] = None
    return data


# The peers' libraries named in machine_line when installed (torch always,
# installed or not: most tables compare against it).
_PEER_LIBRARIES = ("optax", "jax", "deepspeed", "bitsandbytes", "torchao")


def machine_line(data=None):
    """Date, CPU, cores, library versions: the header of every table
    (data: a machine() taken earlier, else now)."""
    m = data or machine()
    optional = m["optional"]
    parts = [
        m["date"],
        f"{m['cpu']}, {m['cores']} cores",
        f"optkern {m['version']} ({m['isa']}, {m['threads']} threads)",
        f"numpy {m['numpy']}",
        f"Python {m['python']}",
    ]
    if m["torch"] is None:
        parts.append("torch not installed")
    else:
        parts.append(f"torch {m['torch']['version']} ({m['torch']['threads']} threads)")
    parts += [f"{name} {optional[name]}" for name in _PEER_LIBRARIES if optional.get(name)]
    return "; ".join(parts)
