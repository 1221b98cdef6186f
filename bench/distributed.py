"""optkern.distributed's ZeRO step against the collectives it is made of,
at 1, 2 and 4 processes on this machine (docs/distributed.md, docs/scaling.md).

    python bench/distributed.py [--ranks 1 2 4] [--million 16] [--rounds 7] [--record]

For each world size p it launches `mpiexec -n p python -m mpi4py` on
itself; each rank holds the same 16M float32 parameters (8 tensors), and
times, in turn within each of --rounds rounds (the median is reported):

  step        ZeroOptimizer(params, optkern.Adam, stage=1).step() in each
              determinism mode: the reduction of 16 MiB buckets, one fused
              Adam call on this rank's pieces, the all-gather
  RS + AG     MPI's non-blocking reduce-scatter and all-gather of the same
              buckets alone (the library's collectives: the communication
              floor of a ZeRO step)
  update      the Adam call on this rank's pieces alone
  floor       RS + AG + update; a step's "x floor" is its time over that
  all-reduce  MPI's all-reduce of the whole buffer (DataParallel's floor)

and, per rank, in a process of its own holding one rank-order
ZeroOptimizer (stage 1, gradients written into zopt.grads; stage 2, the
caller's own gradient arrays passed to step) that has taken two steps: the
optimizer state's bytes (exp_avg and exp_avg_sq of its pieces: the total
over p plus at most one bucket) and the peak resident memory of the
process (the parameters, gradients and Python included). Target (issue
15): a rank-order ZeRO-1 step at p = 2 at most 1.15x its floor.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def worker(million, rounds):
    from mpi4py import MPI

    import optkern
    from optkern.distributed import ZeroOptimizer

    comm = MPI.COMM_WORLD
    n = million * (1 << 20)
    shapes = [(n // 8,)] * 8
    rng = np.random.default_rng(comm.rank)
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    zopts = {}
    for mode in ("rank-order", "library", "exact"):
        z = ZeroOptimizer([np.zeros(s, np.float32) for s in shapes], optkern.Adam, comm=comm, deterministic=mode,
                          lr=1e-3)
        for view, g in zip(z.grads, grads):
            np.copyto(view, g)
        z.step()  # the states made
        zopts[mode] = z
    z = zopts["rank-order"]
    layout, flat, store = z.layout, z._flat, z._store
    T = MPI.FLOAT
    allreduce_buffer = z._grads_flat.copy()

    def rs_ag():
        at = layout.store_starts(comm.rank)
        requests = []
        for k in range(len(layout.buckets)):
            a, b = int(layout.buckets[k, 0]), int(layout.buckets[k, -1])
            counts = layout.counts(k).tolist()
            mine = counts[comm.rank]
            requests.append(comm.Ireduce_scatter([z._grads_flat[a:b], T], [store[int(at[k]):int(at[k]) + mine], T],
                                                 counts, op=MPI.SUM))
        MPI.Request.Waitall(requests)
        requests = []
        for k in range(len(layout.buckets)):
            a, b = int(layout.buckets[k, 0]), int(layout.buckets[k, -1])
            counts = layout.counts(k)
            displs = layout.buckets[k, :-1] - a
            requests.append(comm.Iallgatherv(MPI.IN_PLACE, [flat[a:b], (counts.tolist(), displs.tolist()), T]))
        MPI.Request.Waitall(requests)

    def update():
        z.inner._step(z._grad_views, factor=1.0 / comm.size)

    def allreduce():
        comm.Allreduce(MPI.IN_PLACE, allreduce_buffer, op=MPI.SUM)

    cases = {f"step, {mode}": zopts[mode].step for mode in zopts}
    cases.update({"RS + AG": rs_ag, "update": update, "all-reduce": allreduce})
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            comm.Barrier()
            start = time.perf_counter()
            fn()
            comm.Barrier()
            times[name].append(time.perf_counter() - start)
    report = {"medians_ms": {k: float(np.median(v)) * 1e3 for k, v in times.items()}}
    if comm.rank == 0:
        print("RESULT " + json.dumps(report), flush=True)


def memory_worker(million, stage):
    """One rank-order ZeroOptimizer of `stage` after two steps, used as each
    stage is meant to be (stage 1: gradients written into zopt.grads;
    stage 2: gradients of the caller's passed to step): this rank's state
    bytes and peak resident memory."""
    from mpi4py import MPI

    import optkern
    from optkern.distributed import ZeroOptimizer

    comm = MPI.COMM_WORLD
    n = million * (1 << 20)
    shapes = [(n // 8,)] * 8
    z = ZeroOptimizer([np.zeros(s, np.float32) for s in shapes], optkern.Adam, comm=comm, stage=stage, lr=1e-3)
    grads = z.grads if stage == 1 else [np.empty(s, np.float32) for s in shapes]
    for _ in range(2):
        for g in grads:
            g.fill(1.0)
        z.step(None if stage == 1 else grads)
    state = sum(a.nbytes for e in z.inner.state_dict()["state"].values() for a in e.values()
                if isinstance(a, np.ndarray))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"state_mb": comm.gather(state / 2**20, root=0), "peak_mb": comm.gather(peak, root=0),
              "bucket_mb": int(z.layout.buckets[0, -1] - z.layout.buckets[0, 0]) * 4 / 2**20,
              "total_state_mb": n * 8 / 2**20}
    if comm.rank == 0:
        print("RESULT " + json.dumps(report), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--million", type=int, default=16, help="parameters, in units of 2^20")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--record", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.million, args.rounds)
        return
    if args.memory:
        memory_worker(args.million, args.memory)
        return
    import benchutil
    from optkern.benchmark import timing

    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    def launch(p, *options):
        env = {**os.environ, "UCX_NET_DEVICES": "lo", "OMP_NUM_THREADS": str(max(1, 2 // p))}
        out = subprocess.run([mpiexec, "-n", str(p), sys.executable, "-m", "mpi4py", os.path.abspath(__file__),
                              "--million", str(args.million), "--rounds", str(args.rounds), *options],
                             capture_output=True, text=True, env=env, check=True).stdout
        return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])

    results = {}
    for p in args.ranks:
        results[p] = launch(p, "--worker")
        for stage in (1, 2):
            results[p][f"stage{stage}"] = launch(p, "--memory", str(stage))
    names = list(next(iter(results.values()))["medians_ms"])
    rows = []
    for p, r in results.items():
        m = r["medians_ms"]
        floor = m["RS + AG"] + m["update"]
        s1, s2 = r["stage1"], r["stage2"]
        rows.append([str(p)] + [f"{m[name]:.1f}" for name in names] + [f"{floor:.1f}"] +
                    [f"{m[f'step, {mode}'] / floor:.2f}" for mode in ("rank-order", "library", "exact")] +
                    [f"{max(s1['state_mb']):.1f} / {s1['total_state_mb'] / p:.1f} + {s1['bucket_mb']:.0f}",
                     f"{max(s1['peak_mb']):.0f} / {max(s2['peak_mb']):.0f}"])
    table = timing.markdown_table(
        ["p"] + [f"{n} ms" for n in names] + ["floor ms", "x floor, rank-order", "x floor, library", "x floor, exact",
                                               "state MB per rank / total/p + bucket",
                                               "peak RSS MB per rank, stage 1 / 2"], rows)
    targets = ""
    if 2 in results:
        m = results[2]["medians_ms"]
        ratio = m["step, rank-order"] / (m["RS + AG"] + m["update"])
        targets = (f"- A rank-order ZeRO-1 step at p = 2 at most 1.15x its floor: {ratio:.2f}x "
                   f"({'met' if ratio <= 1.15 else 'not met'}).\n"
                   "- Optimizer state per rank at most the total over p plus one bucket: "
                   f"{'met' if all(max(r['stage1']['state_mb']) <= r['stage1']['total_state_mb'] / p + r['stage1']['bucket_mb'] + 1e-9 for p, r in results.items()) else 'not met'}.")
    benchutil.finish_report(
        "Distributed: a ZeRO-1 Adam step against its collectives",
        "python bench/distributed.py" + (" --record" if args.record else ""),
        f"{args.million}M float32 parameters (8 tensors), optkern.distributed.ZeroOptimizer with optkern.Adam, "
        "stage 1, 16 MiB buckets, MPICH (the mpich wheel) on this machine's shared memory, ranks sharing its "
        f"cores; the median over {args.rounds} rounds, the cases in turn within a round. The floor is MPI's "
        "reduce-scatter and all-gather of the same buckets alone plus the Adam call on one rank's pieces alone.",
        table, targets, args.record)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
