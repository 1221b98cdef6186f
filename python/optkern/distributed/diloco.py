"""DiLoCo (Douillard et al. 2023, arXiv:2311.08105): data parallelism for
slow links. Each rank takes H steps of its own inner optimizer; then the
ranks average how far their parameters moved (one all-reduce every H
steps instead of every step) and an outer optimizer, SGD with Nesterov
momentum, steps the shared parameters by that average
(docs/distributed.md#diloco, docs/scaling.md)."""

import numbers

import numpy as np

from optkern.distributed import _comm
from optkern.distributed._layout import check_options
from optkern.distributed.data_parallel import AllReduce
from optkern.distributed.zero import broadcast_flat, check_same_everywhere
from optkern.optim.optimizer import Optimizer
from optkern.optim.sgd import SGD

__all__ = ["DiLoCo"]


class DiLoCo:
    """inner_optimizer (an optkern optimizer over this rank's copy of the
    parameters) for H = sync_every local steps; then, on every rank,

        delta = theta - p          (theta: the parameters at the last sync)
        delta <- mean of delta over the ranks
        theta <- SGD(lr=outer_lr, momentum=outer_momentum, nesterov=True) step of theta with gradient delta
        p <- theta

    so that every rank leaves a sync with the same parameters. Construction
    broadcasts rank 0's parameters (after checking that every rank passed
    the same shapes). step(grads) is the inner step, a collective every H
    steps. deterministic, bucket_mb, deadline: the all-reduce's
    (docs/distributed.md#determinism)."""

    def __init__(self, inner_optimizer, outer_lr=0.7, outer_momentum=0.9, sync_every=500, comm=None, *,
                 bucket_mb=16, deterministic="rank-order", deadline=None):
        self.comm = comm = _comm.world(comm)
        _comm.install_abort_guard()

        def checked():
            if not isinstance(inner_optimizer, Optimizer):
                raise TypeError(f"inner_optimizer must be an optkern optimizer, got {type(inner_optimizer).__name__}")
            if isinstance(sync_every, bool) or not isinstance(sync_every, numbers.Integral) or sync_every < 1:
                raise ValueError(f"sync_every must be an int >= 1, got {sync_every!r}")
            check_options(bucket_mb, deterministic, deadline)
            params = [p for g in inner_optimizer.param_groups for p in g["params"]]
            dtypes = {p.dtype for p in params}
            if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
                raise TypeError(f"DiLoCo's parameters must share one dtype, float32 or float64; got "
                                f"{sorted(map(str, dtypes))}")
            outer = SGD([np.zeros(1, params[0].dtype)], lr=outer_lr, momentum=outer_momentum, nesterov=True)
            return params, outer

        self.params, _ = _comm.checked(comm, checked)
        self.inner, self.sync_every = inner_optimizer, int(sync_every)
        check_same_everywhere(comm, repr(([p.shape for p in self.params], str(self.params[0].dtype), outer_lr,
                                          outer_momentum, sync_every, bucket_mb, deterministic)),
                              "arguments to DiLoCo")
        self._reduce = AllReduce(comm, [p.shape for p in self.params], self.params[0].dtype, bucket_mb, deterministic,
                                 deadline)
        for v, p in zip(self._reduce.views, self.params):
            np.copyto(v, p)
        broadcast_flat(comm, self._reduce.flat)
        for v, p in zip(self._reduce.views, self.params):
            np.copyto(p, v)
        #: the shared parameters at the last sync, and their outer optimizer
        self.theta = [p.copy() for p in self.params]
        self.outer = SGD(self.theta, lr=outer_lr, momentum=outer_momentum, nesterov=True)
        #: inner steps taken
        self.steps = 0

    def step(self, grads):
        """The inner optimizer's step on this rank's parameters; every
        sync_every-th step, the sync (a collective)."""
        self.inner.step(grads)
        self.steps += 1
        if self.steps % self.sync_every == 0:
            self.sync()

    def sync(self):
        """Average the ranks' moves since the last sync and take the outer
        step (a collective)."""
        deltas = [theta - p for theta, p in zip(self.theta, self.params)]
        mean = self._reduce(deltas, "parameter deltas")
        for v in mean:
            np.divide(v, self.comm.size, out=v)
        self.outer.step(mean)
        for p, theta in zip(self.params, self.theta):
            np.copyto(p, theta)
