"""The first example of every course, on several processes: linear
regression (1000 samples x 10 features, y = X.w + 10), full-batch gradient
descent on the MSE loss at lr 0.01, each rank holding its share of the
samples, the optimizer state sharded by optkern.distributed.ZeroOptimizer.

    mpiexec -n 2 python -m mpi4py -m optkern.distributed.demo
    mpiexec -n 1 python -m mpi4py -m optkern.distributed.demo --resume

The first trains for --epochs epochs and saves a checkpoint; the second
(on any number of ranks) loads it and trains --epochs more. Each rank's
gradient is the mean over its samples; the optimizer averages the ranks'
(equal shares: the mean over every sample, the single-process gradient).
"""

import argparse
import os
import tempfile

import numpy as np

import optkern
from optkern.datasets import linear_regression
from optkern.distributed import ZeroOptimizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--optimizer", default="SGD", help="an optkern optimizer class (SGD, Adam, AdamW, ...)")
    parser.add_argument("--checkpoint", default=os.path.join(tempfile.gettempdir(), "optkern-distributed-demo"))
    parser.add_argument("--resume", action="store_true", help="load --checkpoint first")
    args = parser.parse_args(argv)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    X, y, w_true, b_true = linear_regression(1000, 10, bias=10.0)
    mine = slice(comm.rank * len(X) // comm.size, (comm.rank + 1) * len(X) // comm.size)  # this rank's samples
    X, y = X[mine], y[mine]
    zopt = ZeroOptimizer([np.zeros(10, np.float32), np.zeros(1, np.float32)], getattr(optkern, args.optimizer),
                         comm=comm, lr=0.01)
    w, b = zopt.params  # views of the optimizer's flat buffer: the parameters from now on
    if args.resume:
        zopt.load(args.checkpoint)
    say = print if comm.rank == 0 else (lambda *a, **k: None)
    say(f"{comm.size} rank(s), {len(X)} samples each; {args.optimizer}, lr 0.01, from step {zopt.steps}")
    for epoch in range(args.epochs + 1):
        loss, dpred = optkern.losses.mse_loss(X @ w + b, y)
        if epoch % 100 == 0:
            say(f"   step {zopt.steps:5d}   loss on rank 0's samples {float(loss):.6g}")
        if epoch < args.epochs:
            zopt.step([X.T @ dpred, dpred.sum(keepdims=True)])
    zopt.save(args.checkpoint)
    say("   weights  true     " + " ".join(f"{v:7.4f}" for v in w_true))
    say("            learned  " + " ".join(f"{v:7.4f}" for v in w))
    say(f"   bias     true     {b_true:7.4f}\n            learned  {b[0]:7.4f}")
    say(f"   checkpoint: {args.checkpoint} (resume it on any number of ranks with --resume)")


if __name__ == "__main__":
    main()
