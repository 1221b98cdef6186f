"""The step-time model of docs/scaling.md: its constants measured on this
machine, its bandwidth term checked on a rate-limited loopback, and its
predictions for 8 to 1024 ranks.

    python bench/scaling.py [--rate 1] [--no-netns] [--record]

1. Calibration (mpiexec -n p on shared memory, p = 1, 2, 4): the Adam
   update's bandwidth (28 bytes per element over the time of one
   optkern.Adam step of 16M float32), and each collective's latency from a
   1 KiB all-reduce.
2. The bandwidth term: in a private network namespace whose loopback is
   limited to --rate Gbit/s (tc tbf; needs root, ip and tc), MPICH over TCP
   (MPIR_CVAR_NOLOCAL=1, the OFI tcp provider), p = 2 and 4: the measured
   all-reduce, reduce-scatter and all-gather of 16 MiB against the model,
   in which every rank shares the one limited link (bytes moved by all
   ranks over the rate).
3. The model's predictions (no compute: the communication and the update
   a step needs, for a model of --billion parameters) for DataParallel,
   ZeRO-1/2 and DiLoCo.

--record writes the three tables into bench/RESULTS.md.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

NS = "optkern-scaling"


def worker(what):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    out = {}
    n = 4 << 20  # 16 MiB of float32
    a = np.ones(n, np.float32)
    small = np.ones(256, np.float32)

    def timed(fn, reps):
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        comm.Barrier()
        return (time.perf_counter() - start) / reps

    reps = 3 if what == "netns" else 10
    out["allreduce_ms"] = timed(lambda: comm.Allreduce(MPI.IN_PLACE, a), reps) * 1e3
    out["reduce_scatter_ms"] = timed(lambda: comm.Reduce_scatter_block(MPI.IN_PLACE, a), reps) * 1e3
    out["allgather_ms"] = timed(lambda: comm.Allgather(MPI.IN_PLACE, a), reps) * 1e3
    if what == "shm":
        out["latency_us"] = timed(lambda: comm.Allreduce(MPI.IN_PLACE, small), 200) * 1e6
        if comm.size == 1:
            import optkern

            p = [np.zeros(n * 4, np.float32)]
            g = [np.ones(n * 4, np.float32)]
            opt = optkern.Adam(p, lr=1e-3)
            opt.step(g)
            out["update_gbps"] = 28 * n * 4 / timed(lambda: opt.step(g), 10) / 1e9
    if comm.rank == 0:
        print("RESULT " + json.dumps(out), flush=True)


def launch(p, what, netns=False):
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    env = {**os.environ, "UCX_NET_DEVICES": "lo", "OMP_NUM_THREADS": "1"}
    command = [mpiexec, "-n", str(p), sys.executable, os.path.abspath(__file__), "--worker", what]
    if netns:
        env.update(MPIR_CVAR_NOLOCAL="1", MPIR_CVAR_CH4_NETMOD="ofi", FI_PROVIDER="tcp", FI_TCP_IFACE="lo")
        command = ["ip", "netns", "exec", NS] + command
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


def netns(rate_gbit):
    """A namespace with only a loopback limited to rate_gbit; False if it
    cannot be made here."""
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    steps = [["ip", "netns", "add", NS], ["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"],
             ["ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate",
              f"{rate_gbit}gbit", "burst", "256kb", "latency", "100ms"]]
    try:
        for step in steps:
            subprocess.run(step, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


# ------------------------------------------------------------------ model

def collective_s(kind, p, nbytes, alpha, beta):
    """A ring collective over p ranks, each with its own link of beta bytes/s
    and alpha s per message: reduce-scatter and all-gather move (p-1)/p of
    the buffer per rank in p-1 messages, an all-reduce both."""
    if p == 1:
        return 0.0
    one = (p - 1) * alpha + (p - 1) / p * nbytes / beta
    return 2 * one if kind == "allreduce" else one


def step_s(design, p, psi, alpha, beta, update_bps, sync_every=500):
    """Communication plus optimizer update per step, float32 Adam of psi
    parameters: DataParallel all-reduces and updates everything; ZeRO-1/2
    reduce-scatter and all-gather (the all-reduce's bytes) and update 1/p;
    DiLoCo updates everything every step and all-reduces every sync_every."""
    nbytes, update = 4 * psi, 28 * psi / update_bps
    if design == "DataParallel":
        return collective_s("allreduce", p, nbytes, alpha, beta) + update
    if design == "ZeRO-1/2":
        return 2 * collective_s("reduce_scatter", p, nbytes, alpha, beta) + update / p
    if design == "DiLoCo":
        return collective_s("allreduce", p, nbytes, alpha, beta) / sync_every + update
    raise ValueError(design)


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1.0, help="the loopback's limit, Gbit/s")
    parser.add_argument("--billion", type=float, default=1.5, help="the modelled parameters, in billions")
    parser.add_argument("--no-netns", action="store_true")
    parser.add_argument("--record", action="store_true", help="write the tables into bench/RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    out = []
    say = out.append
    shm = {p: launch(p, "shm") for p in (1, 2, 4)}
    update_bps = shm[1]["update_gbps"] * 1e9
    alpha = float(np.median([shm[p]["latency_us"] for p in (2, 4)])) * 1e-6 / 2  # an all-reduce is 2 rounds
    say("## Calibration on this machine (shared memory)\n")
    say(table(["p", "all-reduce 16 MiB ms", "reduce-scatter ms", "all-gather ms", "1 KiB all-reduce us"],
                [[str(p), f"{r['allreduce_ms']:.1f}", f"{r['reduce_scatter_ms']:.1f}", f"{r['allgather_ms']:.1f}",
                  f"{r['latency_us']:.1f}"] for p, r in shm.items()]))
    say(f"\nAdam update (optkern, 16M float32, 28 bytes per element): {update_bps / 1e9:.1f} GB/s; "
          f"latency per message alpha = {alpha * 1e6:.1f} us\n")
    if not args.no_netns and netns(args.rate):
        try:
            rate = args.rate * 1e9 / 8
            rows = []
            for p in (2, 4):
                r = launch(p, "netns", netns=True)
                nbytes = 16 << 20
                # one shared link: the bytes every rank sends, over the rate
                model = {"allreduce": 2 * (p - 1) * nbytes / rate, "reduce_scatter": (p - 1) * nbytes / rate,
                         "allgather": (p - 1) * nbytes / rate}
                for kind in ("allreduce", "reduce_scatter", "allgather"):
                    measured = r[f"{kind}_ms"]
                    rows.append([str(p), kind.replace("_", "-"), f"{model[kind] * 1e3:.0f}", f"{measured:.0f}",
                                 f"{measured / (model[kind] * 1e3):.2f}"])
            say(f"## The bandwidth term at {args.rate:g} Gbit/s (a rate-limited loopback, MPICH over TCP)\n")
            say(table(["p", "collective, 16 MiB", "model ms", "measured ms", "measured / model"], rows))
            say("")
        finally:
            subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    psi = args.billion * 1e9
    networks = [("10 Gbit/s, 20 us", 10e9 / 8, 20e-6), ("100 Gbit/s, 5 us", 100e9 / 8, 5e-6),
                ("400 Gbit/s, 2 us", 400e9 / 8, 2e-6), ("internet, 1 Gbit/s, 30 ms", 1e9 / 8, 30e-3)]
    ranks = [8, 64, 256, 1024]
    say(f"## Predicted communication + update per step, {args.billion:g}B float32 parameters, Adam "
          f"({update_bps / 1e9:.1f} GB/s update), one rank per node\n")
    rows = []
    for name, beta, a in networks:
        for design in ("DataParallel", "ZeRO-1/2", "DiLoCo"):
            rows.append([name, design] + [f"{step_s(design, p, psi, a, beta, update_bps):.3g}" for p in ranks])
    say(table(["network", "design"] + [f"p = {p} (s)" for p in ranks], rows))
    text = "\n".join(out).replace("## ", "### ")
    print(text)
    if args.record:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import benchutil
        from optkern.benchmark.timing import machine_line

        benchutil.record("Distributed: the scaling model (docs/scaling.md)",
                         f"{machine_line()}\n\n`python bench/scaling.py --record`: the model's constants measured here, "
                         "its bandwidth term checked on a rate-limited loopback, and its predictions (DiLoCo "
                         "syncing every 500 steps).\n\n" + text)


if __name__ == "__main__":
    main()
