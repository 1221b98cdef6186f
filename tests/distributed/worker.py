"""The MPI side of tests/test_distributed.py: run as
`mpiexec -n P python -m mpi4py tests/distributed/worker.py CASE ARGS...`;
rank 0 prints one line "RESULT <json>" that the test reads.

Every case uses the same small problem: parameters of awkward shapes, and
per step G = 4 "virtual workers'" gradients, rank r of p taking workers
[r G/p, (r+1) G/p) as its micro-batches (or their sum, one contribution), so
that the mean gradient of a step is the same at every world size.
"""

import hashlib
import json
import os
import signal
import sys
import time

import numpy as np
from mpi4py import MPI

import optkern
from optkern.distributed import DataParallel, DiLoCo, ZeroOptimizer, all_reduce_grads, read_checkpoint

comm = MPI.COMM_WORLD
SHAPES = [(37, 5), (1000,), (3,), (2, 3, 4), (64, 9)]
WORKERS = 4
rng = np.random.default_rng(0)
START = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
GRADS = [[[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(WORKERS)] for _ in range(6)]


def report(result):
    if comm.rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def digest(arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()[:16]


def micro_batches(t):
    """This rank's virtual workers' gradients of step t."""
    per = WORKERS // comm.size
    return GRADS[t][comm.rank * per:(comm.rank + 1) * per]


def local_sum(t):
    """This rank's one contribution of step t: its workers' gradients summed in order."""
    batches = micro_batches(t)
    return [sum(b[i] for b in batches[1:]) + batches[0][i] if len(batches) > 1 else batches[0][i]
            for i in range(len(SHAPES))]


def mean_in_rank_order(t):
    """(the sum of step t's contributions added in rank order, p): the
    reference of rank-order mode, whose mean is that sum times 1/p."""
    per = WORKERS // comm.size
    sums = []
    for r in range(comm.size):
        batches = GRADS[t][r * per:(r + 1) * per]
        sums.append([sum(b[i] for b in batches[1:]) + batches[0][i] if len(batches) > 1 else batches[0][i]
                     for i in range(len(SHAPES))])
    out = []
    for i in range(len(SHAPES)):
        s = sums[0][i].copy()
        for r in range(1, comm.size):
            s += sums[r][i]
        out.append(s)
    return out, comm.size


def identical_on_ranks(arrays):
    hashes = comm.allgather(digest(arrays))
    return all(h == hashes[0] for h in hashes)


def shapes_for(cls):
    return [s for s in SHAPES if len(s) == 2] if cls is optkern.Muon else SHAPES


def case_parity(mode, name, stage):
    """Three ZeRO steps against a single-process optimizer stepped with
    the mean gradient (the rank-order sum times 1/p, as the kernel reads
    it): the largest difference, and whether the parameters were identical
    on every rank after every step."""
    cls = getattr(optkern, name)
    keep = [i for i, s in enumerate(SHAPES) if s in shapes_for(cls)]
    kwargs = {"lr": 0.01} if cls is not optkern.Adafactor else {}
    zopt = ZeroOptimizer([START[i].copy() for i in keep], cls, comm=comm, stage=int(stage), bucket_mb=0.004,
                         deterministic=mode, **kwargs)
    ref = cls([START[i].copy() for i in keep], **kwargs)
    same = True
    for t in range(3):
        grads = local_sum(t)
        if int(stage) == 1:
            for view, i in zip(zopt.grads, keep):
                np.copyto(view, grads[i])
            zopt.step()
        else:
            zopt.step([grads[i] for i in keep])
        same &= identical_on_ranks(zopt.params)
        total, p = mean_in_rank_order(t)
        ref._step([total[i] for i in keep], factor=1.0 / p)
    diff = max(float(np.max(np.abs(a - b), initial=0)) for a, b in zip(zopt.params, ref._plan.params))
    report({"diff": diff, "identical": bool(same), "granular": "element" if zopt.layout.element_granular else
            "parameter"})


def run_zero(mode, bucket_mb, micro=False, steps=3, cls=optkern.AdamW, **kwargs):
    zopt = ZeroOptimizer([p.copy() for p in START], cls, comm=comm, bucket_mb=bucket_mb, deterministic=mode,
                         lr=0.01, **kwargs)
    for t in range(steps):
        zopt.step(micro_batches(t) if micro else local_sum(t))
    return zopt


def case_buckets(mode):
    """The parameters' digest after three steps at three bucket sizes."""
    report({"digests": [digest(run_zero(mode, mb).params) for mb in (0.002, 0.01, 16)]})


def case_exact():
    """Exact mode's digest, micro-batches as contributions: the same at any
    world size."""
    report({"digest": digest(run_zero("exact", 0.004, micro=True).params)})


def case_clip():
    """max_grad_norm over every rank against clip_grad_norm_ of the mean
    gradient in a single process."""
    zopt = run_zero("rank-order", 0.004, steps=1, max_grad_norm=0.5)
    total, p = mean_in_rank_order(0)
    mean = [g / np.float32(p) for g in total]
    norm = optkern.clip_grad_norm_([g.copy() for g in mean], 0.5)
    report({"norm": float(zopt.last_grad_norm), "expected": float(norm)})


def case_save(root, kill):
    """Three steps, save, three more: the uninterrupted digest. kill: a
    second save dies (SIGKILL) before its rename; latest must stay the
    first."""
    zopt = run_zero("exact", 0.004, micro=True)
    zopt.save(root)
    if kill == "kill":
        def die(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        os.rename = die
        zopt.step(micro_batches(3))
        zopt.save(root)
    for t in range(3, 6):
        zopt.step(micro_batches(t))
    report({"digest": digest(zopt.params)})


def case_resume(root):
    """Load the checkpoint at this world size, take the last three steps:
    the digest; at one rank also a plain optimizer from read_checkpoint."""
    zopt = ZeroOptimizer([np.zeros_like(p) for p in START], optkern.AdamW, comm=comm, bucket_mb=0.004,
                         deterministic="exact", lr=0.5)
    zopt.load(root)
    result = {"steps": zopt.steps, "lr": zopt.param_groups[0]["lr"]}
    for t in range(3, 6):
        zopt.step(micro_batches(t))
    result["digest"] = digest(zopt.params)
    if comm.size == 1:
        params, state_dict = read_checkpoint(root)
        plain = optkern.AdamW(params)
        plain.load_state_dict(state_dict)
        for t in range(3, 6):
            total = [sum(b[i] for b in GRADS[t][1:]) + GRADS[t][0][i] for i in range(len(SHAPES))]
            plain._step(total, factor=1.0 / WORKERS)
        result["plain_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(plain._plan.params, zopt.params))
    report(result)


def case_mismatch():
    """Rank 1 passes another shape: every rank must raise."""
    shapes = [s if comm.rank != 1 or i else (36, 5) for i, s in enumerate(SHAPES)]
    try:
        ZeroOptimizer([np.zeros(s, np.float32) for s in shapes], optkern.Adam, comm=comm)
        outcome = "made"
    except ValueError as e:
        outcome = "ValueError: " + str(e)
    report({"outcomes": comm.gather(outcome, root=0)})


def case_bad_options():
    """Each bad argument raises the same exception on every rank, before
    any collective moves data (the last rank alone passes a bad lr)."""
    bad = [({"deterministic": "sometimes"}, optkern.Adam), ({"stage": 3}, optkern.Adam),
           ({"bucket_mb": 0}, optkern.Adam), ({"deadline": -1}, optkern.Adam), ({}, optkern.LBFGS),
           ({"lr": -1.0} if comm.rank == comm.size - 1 else {}, optkern.Adam)]
    outcomes = []
    for kwargs, cls in bad:
        try:
            ZeroOptimizer([p.copy() for p in START], cls, comm=comm, **kwargs)
            outcomes.append("made")
        except (TypeError, ValueError) as e:
            outcomes.append(type(e).__name__)
    report({"outcomes": comm.gather(outcomes, root=0)})


def case_bad_grads():
    """Rank 1's gradients have a wrong shape: every rank raises, no
    parameter changes."""
    zopt = ZeroOptimizer([p.copy() for p in START], optkern.Adam, comm=comm, bucket_mb=0.004)
    before = digest(zopt.params)
    grads = local_sum(0)
    if comm.rank == comm.size - 1:
        grads[1] = np.zeros(999, np.float32)
    try:
        zopt.step(grads)
        outcome = "stepped"
    except ValueError as e:
        outcome = "ValueError: " + str(e)
    report({"outcomes": comm.gather(outcome, root=0), "unchanged": digest(zopt.params) == before})


def case_abort():
    """The last rank raises an unhandled exception while the others wait
    in a step: the job must end (the abort guard), not hang."""
    zopt = ZeroOptimizer([p.copy() for p in START], optkern.Adam, comm=comm)
    if comm.rank == comm.size - 1:
        time.sleep(0.5)
        raise RuntimeError("a failure on one rank")
    zopt.step(local_sum(0))
    report({"finished": True})


def case_deadline():
    """The last rank never steps: the others' deadline must abort the job,
    naming what they waited for."""
    zopt = ZeroOptimizer([p.copy() for p in START], optkern.Adam, comm=comm, deadline=1.0)
    if comm.rank == comm.size - 1:
        time.sleep(60)
    zopt.step(local_sum(0))
    report({"finished": True})


def case_data_parallel(mode):
    """DataParallel and all_reduce_grads against the mean gradient."""
    params = [p.copy() for p in START]
    opt = optkern.AdamW(params, lr=0.01)
    dp = DataParallel(params, opt, comm, bucket_mb=0.004, deterministic=mode)
    ref = optkern.AdamW([p.copy() for p in START], lr=0.01)
    for t in range(3):
        dp.step(local_sum(t))
        total, p = mean_in_rank_order(t)
        ref.step([g / np.float32(p) for g in total])
    grads = local_sum(0)
    all_reduce_grads(grads, comm, deterministic=mode)
    total, p = mean_in_rank_order(0)
    report({"diff": max(float(np.max(np.abs(a - b))) for a, b in zip(params, ref._plan.params)),
            "allreduce_diff": max(float(np.max(np.abs(a - b / np.float32(p)))) for a, b in zip(grads, total)),
            "identical": identical_on_ranks(params)})


def case_diloco():
    """DiLoCo: after each sync every rank holds the same parameters, the
    outer Nesterov step of the mean change."""
    params = [p.copy() for p in START]
    inner = optkern.AdamW(params, lr=0.01)
    outer_lr, momentum = 0.7, 0.9
    diloco = DiLoCo(inner, outer_lr, momentum, sync_every=3, comm=comm)
    theta = [p.copy() for p in START]
    for t in range(3):
        diloco.step(local_sum(t))
    same = identical_on_ranks(params)
    # the reference: each rank's three inner steps, the deltas' mean, one outer step
    deltas = []
    for r in range(comm.size):
        q = [p.copy() for p in START]
        o = optkern.AdamW(q, lr=0.01)
        per = WORKERS // comm.size
        for t in range(3):
            batches = GRADS[t][r * per:(r + 1) * per]
            o.step([sum(b[i] for b in batches[1:]) + batches[0][i] if len(batches) > 1 else batches[0][i]
                    for i in range(len(SHAPES))])
        deltas.append([a - b for a, b in zip(theta, q)])
    mean = []
    for i in range(len(SHAPES)):
        s = deltas[0][i].copy()
        for r in range(1, comm.size):
            s += deltas[r][i]
        mean.append(s / np.float32(comm.size))
    optkern.SGD(theta, lr=outer_lr, momentum=momentum, nesterov=True).step(mean)
    report({"identical": same, "diff": max(float(np.max(np.abs(a - b))) for a, b in zip(params, theta))})


if __name__ == "__main__":
    globals()["case_" + sys.argv[1]](*sys.argv[2:])
