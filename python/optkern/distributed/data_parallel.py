"""Plain data parallelism over MPI: every rank keeps every parameter and the
whole optimizer state; the gradients are all-reduced (docs/distributed.md)."""

import math

import numpy as np

from optkern.distributed import _comm
from optkern.distributed._layout import Layout, Reducer, check_options
from optkern.distributed.zero import broadcast_flat, check_same_everywhere
from optkern.optim.optimizer import Optimizer

__all__ = ["AllReduce", "DataParallel", "all_reduce_grads"]


class AllReduce:
    """The all-reduce of lists of arrays of fixed shapes and one dtype over
    comm, in a determinism mode (docs/distributed.md#determinism): each
    bucket reduced onto its owners' pieces (_layout.Reducer), then
    all-gathered, in one flat buffer of every element."""

    def __init__(self, comm, shapes, dtype, bucket_mb=16, deterministic="rank-order", deadline=None):
        self.comm, self.shapes, self.dtype = comm, list(shapes), np.dtype(dtype)
        self.layout = Layout([math.prod(s) for s in self.shapes], comm.size,
                             int(bucket_mb * (1 << 20)) // self.dtype.itemsize, True)
        self.reducer = Reducer(comm, self.layout, self.dtype, deterministic, deadline)
        self.mode = deterministic
        self.flat = np.zeros(self.layout.length, self.dtype)
        self._store = np.zeros(int(self.layout.store_starts(comm.rank)[-1]), self.dtype)
        self.views = [self.flat[a:b].reshape(s)
                      for s, a, b in zip(self.shapes, self.layout.starts[:-1], self.layout.starts[1:])]

    def __call__(self, arrays, what="gradients"):
        """The element-wise sum over the ranks of `arrays` (one array or None
        per shape), into self.views (which it returns). A collective."""
        layout, rank = self.layout, self.comm.rank
        contributions = [arrays]
        scales = None
        if self.mode == "exact":
            scales = _comm.checked(self.comm, lambda: self.reducer.scales(layout.maxima(contributions),
                                                                         self.comm.size))
        self.reducer.reduce(layout.source(contributions), 1, self._store, scales)
        at = layout.store_starts(rank)
        for k in range(len(layout.buckets)):
            lo, hi = int(layout.buckets[k, rank]), int(layout.buckets[k, rank + 1])
            self.flat[lo:hi] = self._store[int(at[k]):int(at[k]) + hi - lo]
        self.reducer.all_gather(self.flat, f"the all-gather of the reduced {what}")
        return self.views


def _checked_arrays(arrays, what):
    if isinstance(arrays, np.ndarray) or not hasattr(arrays, "__iter__"):
        raise TypeError(f"{what} must be a sequence of NumPy arrays")
    arrays = list(arrays)
    for i, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{what}[{i}] must be a numpy.ndarray, got {type(a).__name__}")
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) > 1 or (dtypes and next(iter(dtypes)) not in (np.float32, np.float64)):
        raise TypeError(f"{what} must share one dtype, float32 or float64; got {sorted(map(str, dtypes))}")
    return arrays


def all_reduce_grads(grads, comm=None, op="mean", *, bucket_mb=16, deterministic="rank-order", deadline=None):
    """All-reduce a list of gradient arrays in place: their sum (op="sum")
    or mean (op="mean") over the ranks of comm, for users who keep their own
    training loop. Every rank passes arrays of the same shapes and dtype;
    bad input raises on every rank before any data moves. Returns grads."""
    comm = _comm.world(comm)
    _comm.install_abort_guard()

    def checked():
        arrays = _checked_arrays(grads, "grads")
        if op not in ("mean", "sum"):
            raise ValueError(f'op must be "mean" or "sum", got {op!r}')
        check_options(bucket_mb, deterministic, deadline)
        return arrays

    arrays = _comm.checked(comm, checked)
    check_same_everywhere(comm, repr(([a.shape for a in arrays], [str(a.dtype) for a in arrays[:1]], op, bucket_mb,
                                      deterministic)), "arguments to all_reduce_grads")
    if not arrays:
        return grads
    reduce = AllReduce(comm, [a.shape for a in arrays], arrays[0].dtype, bucket_mb, deterministic, deadline)
    for a, v in zip(arrays, reduce(arrays)):
        if op == "mean":
            np.divide(v, comm.size, out=a)
        else:
            np.copyto(a, v)
    return grads


class DataParallel:
    """Data parallelism: `optimizer` (an optkern optimizer over params) on
    every rank of comm, its state replicated. Construction broadcasts rank
    0's parameters into every rank's (in place), after checking that every
    rank passed the same shapes and dtype. step(grads) all-reduces this
    rank's gradients (their mean over the ranks, in the determinism mode of
    `deterministic`) and steps the optimizer on every rank: the parameters
    stay identical everywhere. A collective."""

    def __init__(self, params, optimizer, comm=None, bucket_mb=16, *, deterministic="rank-order", deadline=None):
        self.comm = comm = _comm.world(comm)
        _comm.install_abort_guard()

        def checked():
            arrays = _checked_arrays(params, "params")
            if not arrays:
                raise ValueError("params is an empty list")
            if not isinstance(optimizer, Optimizer):
                raise TypeError(f"optimizer must be an optkern optimizer, got {type(optimizer).__name__}")
            check_options(bucket_mb, deterministic, deadline)
            return arrays

        self.params = _comm.checked(comm, checked)
        self.optimizer = optimizer
        check_same_everywhere(comm, repr(([p.shape for p in self.params], str(self.params[0].dtype), bucket_mb,
                                          deterministic, type(optimizer).__qualname__)), "arguments to DataParallel")
        self._reduce = AllReduce(comm, [p.shape for p in self.params], self.params[0].dtype, bucket_mb, deterministic,
                                 deadline)
        flat = self._reduce.flat
        for v, p in zip(self._reduce.views, self.params):
            np.copyto(v, p)
        broadcast_flat(comm, flat)
        for v, p in zip(self._reduce.views, self.params):
            np.copyto(p, v)

    def step(self, grads):
        """All-reduce this rank's grads (one array or None per parameter) to
        their mean, and step the optimizer with it on every rank."""
        def checked():
            lst = list(grads)
            if len(lst) != len(self.params):
                raise ValueError(f"expected {len(self.params)} grads, one per parameter; got {len(lst)}")
            for i, (g, p) in enumerate(zip(lst, self.params)):
                if g is not None and (not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype != p.dtype):
                    raise ValueError(f"grads[{i}] must be an array of its parameter's shape {p.shape} and dtype "
                                     f"{p.dtype}")
            return lst

        lst = _comm.checked(self.comm, checked)
        views = self._reduce(lst)
        for v in views:
            np.divide(v, self.comm.size, out=v)
        self.optimizer.step(views)
