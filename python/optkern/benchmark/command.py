"""optkern bench: optkern's optimizers and losses against the installed
peers, on this machine, at the sizes the user picks.

This module is the command line (its options, their checks, the order of
the measurements); the measuring is optkern.benchmark's (timing,
optimizers, losses: the same core as bench/'s reports and suites) and the
output report.py's. It imports nothing heavy until it runs: `optkern`'s
other subcommands build this parser too.
"""

import os
import re
import sys

DESCRIPTION = """\
Time optkern's optimizers and losses against every peer installed here. Each
row of the table is one optimizer or loss at one size, tensor count and
thread count, and times together, interleaved (each round calls every
implementation once, in turn, so all share the machine's noise): optkern,
the memory roofline (a C loop that moves the bytes the update must move
with no arithmetic: the fastest any implementation could be) and each peer.
It shows optkern's time, its effective bandwidth (those bytes / its time),
that as a fraction of the roofline's, and each peer's time with optkern's
speed-up over it (paired per round).

Peers: a NumPy reference (always); torch.optim's for-loop, foreach and fused
variants and torch's losses (forward and backward through autograd), when
torch is installed; optax's transformations and losses (jitted by jax) when
optax is; DeepSpeed's DeepSpeedCPUAdam (Adam, AdamW) when deepspeed is (it
compiles its op on first use: where that fails it is reported, not run).

Progress goes to stderr, the table to stdout. Data is float32."""

EPILOG = """\
examples:
  optkern bench --quick                       a first look, in seconds
  optkern bench                               SGD, Adam, AdamW, cross_entropy, mse_loss at 1M and 16M
  optkern bench --optimizers Adam --size 64K --size 16M --tensors 1,100 --losses none
  optkern bench --optimizers all --threads 1 --threads 2 --json results.json
  optkern bench --peers torch --plot speedups.png   (the plot needs matplotlib)

sizes take K, M and G suffixes (binary: 1K = 1024 elements); every list
option takes a comma-separated list, or the option repeated."""

# The default selection: a few of each, quick enough on a laptop.
DEFAULT_OPTIMIZERS = ("SGD", "Adam", "AdamW")
DEFAULT_LOSSES = ("cross_entropy", "mse_loss")
DEFAULT_SIZES = ("1M", "16M")
DEFAULT_ROUNDS = 10
QUICK_SIZES = ("64K",)
QUICK_ROUNDS = 3

# --peers names: the command line's spelling (no spaces) of peers.PEERS;
# "torch" is all of torch's.
PEER_NAMES = {
    "numpy": ("numpy",),
    "torch": ("torch", "torch for-loop", "torch foreach", "torch fused"),
    "torch-for-loop": ("torch", "torch for-loop"),
    "torch-foreach": ("torch", "torch foreach"),
    "torch-fused": ("torch", "torch fused"),
    "optax": ("optax",),
    "deepspeed": ("deepspeed",),
    "reference": ("reference",),
}


def add_arguments(parser):
    what = parser.add_argument_group("what to measure")
    what.add_argument("--optimizers", action="append", metavar="NAMES",
                      help="optimizers by their class name (SGD, Adam, ..., all, or none; default: "
                           f"{','.join(DEFAULT_OPTIMIZERS)})")
    what.add_argument("--losses", action="append", metavar="NAMES",
                      help=f"losses (cross_entropy, mse_loss, ... all, or none; default: {','.join(DEFAULT_LOSSES)})")
    what.add_argument("--size", action="append", metavar="N",
                      help=f"elements per tensor, e.g. 64K, 1M, 16M (default: {','.join(DEFAULT_SIZES)}); Muon and "
                           "Adafactor take the largest square matrix that fits, row losses N // classes rows")
    what.add_argument("--tensors", action="append", metavar="K",
                      help="tensors of that size in one step (default: 1); not for losses")
    what.add_argument("--threads", action="append", metavar="T",
                      help="threads for optkern and torch (default: optkern's, as `optkern info` shows)")
    what.add_argument("--classes", type=str, default="32000", metavar="C",
                      help="classes of the row losses, cross_entropy and nll_loss (default: 32000)")
    what.add_argument("--peers", action="append", metavar="NAMES",
                      help=f"peers to run besides NumPy ({', '.join(n for n in PEER_NAMES if n != 'numpy')}; "
                           "default: every one installed)")
    how = parser.add_argument_group("how")
    how.add_argument("--rounds", type=str, default=None, metavar="R",
                     help=f"interleaved rounds per measurement; the median is reported (default: {DEFAULT_ROUNDS})")
    how.add_argument("--quick", action="store_true",
                     help=f"tiny sizes ({','.join(QUICK_SIZES)}) and {QUICK_ROUNDS} rounds unless given: seconds")
    how.add_argument("--json", metavar="FILE", help="also write every number (per-round times, machine, versions) "
                                                    "as JSON to FILE ('-': to stdout, instead of the table)")
    how.add_argument("--plot", metavar="FILE.png", help="also draw optkern's speed-ups as a picture (needs matplotlib)")


def run(args):
    from optkern.benchmark import report

    plan = _plan(args)
    results = _measure(plan)
    if plan["json"]:
        report.write_json(results, plan["json"])
    if plan["json"] != "-":
        print(report.text(results))
    if plan["plot"]:
        report.plot(results, plan["plot"])
        print(f"optkern bench: the plot is in {plan['plot']}", file=sys.stderr)
    return 0


# ------------------------------------------------------------- the checks

def _usage(message):
    from optkern.cli import UsageError

    return UsageError(message)


def _items(values, option):
    """The comma-separated items of every use of the option, in order."""
    items = [item.strip() for value in values or () for item in value.split(",")]
    if values and not all(items):
        raise _usage(f"{option}: an empty name or value in {','.join(values)!r}")
    return items


_COUNT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([kmg]?)", re.IGNORECASE)
_SUFFIX = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def count(text, option, least=1):
    """An element count as the options take it: 4096, 64K, 1.5M, 2G (binary
    suffixes, case-insensitive), at least `least`."""
    match = _COUNT.fullmatch(text.strip())
    if not match:
        raise _usage(f"{option}: {text!r} is not a count (examples: 4096, 64K, 16M)")
    value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if value != int(value):
        raise _usage(f"{option}: {text!r} is not a whole number of elements")
    if value < least:
        raise _usage(f"{option}: {text!r}: must be at least {least}")
    return int(value)


def _names(values, option, known, default, extra=()):
    """The names asked for (matched case-insensitively to `known`), in the
    order asked, each once; "all" is every one, and `extra` words map to lists."""
    asked = _items(values, option) or list(default)
    if len(asked) > 1 and "none" in extra and "none" in map(str.lower, asked):
        raise _usage(f"{option}: 'none' goes alone")
    by_lower = {name.lower(): name for name in known}
    chosen = []
    for name in asked:
        if name.lower() == "all":
            chosen += known
        elif name.lower() in extra:
            chosen += extra[name.lower()]
        elif name.lower() in by_lower:
            chosen.append(by_lower[name.lower()])
        else:
            words = ", ".join(list(known) + ["all"] + list(extra))
            raise _usage(f"{option}: unknown name {name!r}; choose from {words}")
    return list(dict.fromkeys(chosen))


def _plan(args):
    """Everything the run will do, checked before anything is measured."""
    import optkern
    from optkern.benchmark import losses, optimizers, peers

    by_class = {spec.cls: label for label, spec in optimizers.OPTIMIZERS.items()}
    classes = list(by_class)
    chosen_optimizers = [by_class[c] for c in _names(args.optimizers, "--optimizers", classes, DEFAULT_OPTIMIZERS,
                                                      extra={"none": ()})]
    chosen_losses = _names(args.losses, "--losses", losses.LOSSES, DEFAULT_LOSSES, extra={"none": ()})
    sizes = [count(s, "--size") for s in _items(args.size, "--size") or (QUICK_SIZES if args.quick else DEFAULT_SIZES)]
    tensors = [count(s, "--tensors") for s in _items(args.tensors, "--tensors") or ("1",)]
    cap = optkern.config()["max_threads"]
    threads = [count(s, "--threads") for s in _items(args.threads, "--threads")] or [optkern.get_num_threads()]
    for t in threads:
        if t > cap:
            raise _usage(f"--threads: {t} is above optkern's cap of {cap} threads")
    rounds = count(args.rounds, "--rounds") if args.rounds else (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    classes_n = count(args.classes, "--classes", least=2)
    if not chosen_optimizers and not chosen_losses:
        raise _usage("nothing to measure: --optimizers none and --losses none")

    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise _usage("--plot needs matplotlib, which is not installed: pip install matplotlib") from None
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path and path != "-":
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise _usage(f"{option}: no folder {folder} to write {os.path.basename(path)} into")
            if os.path.isdir(path):
                raise _usage(f"{option}: {path} is a folder, not a file")
    if args.plot == "-":
        raise _usage("--plot: give a file name (the picture's format follows its ending, e.g. .png)")

    asked_peers = _items(args.peers, "--peers")
    for name in asked_peers:
        if name.lower() not in PEER_NAMES:
            raise _usage(f"--peers: unknown peer {name!r}; choose from {', '.join(PEER_NAMES)}")
    if asked_peers:
        wanted = {"numpy"} | {p for name in asked_peers for p in PEER_NAMES[name.lower()]}
    else:
        wanted = set(peers.PEERS)
    # peer: None where it can run, else why not
    status = {peer: peers.missing(peer) for peer in peers.PEERS if peer in wanted}
    for name in asked_peers:  # a peer asked for by name must be there
        for peer in PEER_NAMES[name.lower()]:
            if status.get(peer):
                raise _usage(f"--peers {name}: {status[peer]}")

    return {
        "optimizers": chosen_optimizers, "losses": chosen_losses, "sizes": sizes, "tensors": tensors,
        "threads": threads, "rounds": rounds, "warmup": 1 if args.quick else 2, "classes": classes_n,
        "peers": status, "json": args.json, "plot": args.plot,
        "command": _command_line(),
    }


def _command_line():
    """This run's command line, where sys.argv holds it (not when
    optkern.cli.main was given its own argv)."""
    import shlex

    if sys.argv[1:2] == ["bench"]:
        return shlex.join(["optkern", *sys.argv[1:]])
    return None


# ------------------------------------------------------------ the measuring

def _measure(plan):
    """Every measurement of the plan, in order, a progress line each on
    stderr: the results report.py prints, writes and draws."""
    import optkern
    from optkern.benchmark import peers, timing

    status = dict(plan["peers"])
    before = optkern.get_num_threads()
    jobs = [("optimizer", name, size, k, t) for name in plan["optimizers"] for size in plan["sizes"]
            for k in plan["tensors"] for t in plan["threads"]]
    jobs += [("loss", name, size, 1, t) for name in plan["losses"] for size in plan["sizes"] for t in plan["threads"]]
    print(f"optkern bench: {len(jobs)} measurements of {plan['rounds']} rounds; peers: "
          + ", ".join(p for p, why in status.items() if why is None), file=sys.stderr, flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # other work on the machine
    rows = []
    try:
        for i, (kind, name, size, k, t) in enumerate(jobs, 1):
            peers.set_threads(t)
            measure = _optimizer_row if kind == "optimizer" else _loss_row
            row = measure(name, size, k, t, plan, status)
            rows.append(row)
            print(f"[{i}/{len(jobs)}] {_progress(row)}", file=sys.stderr, flush=True)
    finally:
        peers.set_threads(before)
    return {
        "command": plan["command"],
        "machine": timing.machine(),
        "rounds": plan["rounds"],
        "warmup": plan["warmup"],
        "load_before": load,
        "peers": {p: ({"version": peers.version(p)} if why is None else {"unavailable": why})
                  for p, why in status.items()},
        "rows": rows,
    }


def _row(kind, name, shape_text, size, k, t, nbytes, times, peer_names):
    """The record of one measurement (times in seconds per round, by implementation)."""
    from optkern.benchmark import timing

    ours = times["optkern"]
    row = {
        "kind": kind, "name": name, "shape": shape_text, "size": size, "tensors": k, "threads": t,
        "bytes": nbytes,
        "optkern_ms": timing.median_ms(ours),
        "gbps": timing.gbps(nbytes, ours) if nbytes else None,
        "roofline_ms": timing.median_ms(times["roofline"]) if "roofline" in times else None,
        "of_roofline": timing.paired_ratio(times["roofline"], ours) if "roofline" in times else None,
        "peers": {},
        "times_ms": {impl: [1e3 * s for s in samples] for impl, samples in times.items()},
    }
    for peer in peer_names:
        if peer in times:
            row["peers"][peer] = {"ms": timing.median_ms(times[peer]),
                                  "speedup": timing.paired_ratio(times[peer], ours)}
    return row


def _optimizer_row(label, size, k, t, plan, status):
    from optkern.benchmark import optimizers

    shapes = optimizers.shapes_for(label, size, k)
    peer_names = [p for p, why in status.items() if why is None and p != "torch"]
    times, unavailable = optimizers.measure(label, shapes, ["optkern", "roofline", *peer_names],
                                            rounds=plan["rounds"], warmup=plan["warmup"])
    for peer, why in unavailable.items():  # installed, but cannot run: not tried again
        status[peer] = why
        print(f"optkern bench: {peer} left out: {why}", file=sys.stderr, flush=True)
    spec = optimizers.OPTIMIZERS[label]
    nbytes = optimizers.elements(shapes) * spec.bytes_per_element if spec.bytes_per_element else None
    shape = "x".join(map(str, shapes[0])) if len(shapes[0]) > 1 else short(size)
    return _row("optimizer", label, f"{shape} x {k}", size, k, t, nbytes, times, peer_names)


def _loss_row(loss, size, _k, t, plan, status):
    import gc

    from optkern.benchmark import losses, timing

    shape = losses.shape_for(loss, size, plan["classes"])
    peer_names = [p for p in losses.PEERS if status.get(p) is None and p in status]
    case = losses.case(loss, shape, peers=peer_names)
    fns = {"optkern": case.fns["optkern out="], "roofline": case.fns["roofline"],
           **{p: case.fns[p] for p in peer_names if p in case.fns}}
    times = timing.interleaved(fns, rounds=plan["rounds"], warmup=plan["warmup"])
    nbytes = case.nbytes
    del case, fns
    gc.collect()  # this case's arrays go before the next one's are made
    shape_text = "x".join(map(str, shape)) if len(shape) > 1 else short(size)
    return _row("loss", loss, shape_text, size, 1, t, nbytes, times, peer_names)


def short(n):
    """An element count as the options write it: 64K, 16M, 1000."""
    for suffix, unit in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def _progress(row):
    threads = f"{row['threads']} thread" + ("s" if row["threads"] > 1 else "")
    line = f"{row['name']} {row['shape']}, {threads}: optkern {row['optkern_ms']:.3f} ms"
    if row["of_roofline"] is not None:
        line += f" ({row['of_roofline']:.0%} of roofline)"
    for peer, cell in row["peers"].items():
        line += f", {peer} {cell['speedup']:.2f}x"
    return line
