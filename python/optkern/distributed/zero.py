"""ZeRO stages 1 and 2 over MPI: the optimizer state sharded across the
ranks, each rank updating only its own pieces of the parameters
(docs/distributed.md)."""

import hashlib
import math
import numbers
import threading

import numpy as np

from optkern import _core
from optkern.clip import _coefficient
from optkern.distributed import _checkpoint, _comm
from optkern.distributed._layout import Layout, Reducer, check_options
from optkern.optim import _engine
from optkern.optim.eightbit import _Optimizer8bit
from optkern.optim.lbfgs import LBFGS
from optkern.optim.optimizer import Optimizer

__all__ = ["ZeroOptimizer"]

_BCAST_ELEMENTS = 1 << 26  # a broadcast of the parameters goes in pieces of this many elements


def param_groups_of(params, what):
    """params (a sequence of arrays, or of param-group dicts with "params")
    as a list of groups: {"params": [arrays], hyperparameter: value}."""
    if isinstance(params, np.ndarray) or not hasattr(params, "__iter__"):
        raise TypeError(f"{what} must be a sequence of NumPy arrays or of param-group dicts")
    params = list(params)
    if not params:
        raise ValueError(f"{what} is an empty list")
    groups = [dict(g) for g in params] if isinstance(params[0], dict) else [{"params": params}]
    for k, g in enumerate(groups):
        if not isinstance(g.get("params"), (list, tuple)) or not g["params"]:
            raise ValueError(f"param group {k} must have a non-empty list under 'params'")
        g["params"] = list(g["params"])
        for i, p in enumerate(g["params"]):
            if not isinstance(p, np.ndarray):
                raise TypeError(f"param group {k}, params[{i}] must be a numpy.ndarray, got {type(p).__name__}")
    dtypes = {p.dtype for g in groups for p in g["params"]}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        raise TypeError(f"{what} must share one dtype, float32 or float64; got {sorted(map(str, dtypes))}")
    return groups


def broadcast_flat(comm, flat):
    """Rank 0's flat buffer into every rank's, in pieces."""
    for a in range(0, flat.size, _BCAST_ELEMENTS):
        comm.Bcast(flat[a:a + _BCAST_ELEMENTS], root=0)


def check_same_everywhere(comm, description, what):
    """ValueError on every rank unless every rank's description (a string)
    is rank 0's: one all-gather of a digest."""
    digest = hashlib.sha256(description.encode()).hexdigest()
    digests = comm.allgather(digest)
    differ = [r for r, d in enumerate(digests) if d != digests[0]]
    if differ:
        raise ValueError(f"the ranks passed different {what}: rank {differ[0]}'s differ from rank 0's (shapes, "
                         "dtypes, param groups or hyperparameters); every rank must make the same call")


class ZeroOptimizer:
    """optimizer_class (an optkern optimizer) over the params, its state
    sharded across the ranks of `comm` (ZeRO stage 1 or 2; docs/distributed.md).

    The parameters are copied into one flat buffer, rank 0's values on
    every rank; use `zopt.params` (views of that buffer, the same shapes and
    groups) from then on. A step:

    1. each bucket of gradients is reduced onto the ranks that own its pieces
       (deterministic= says how: "library", "rank-order", "exact");
    2. ONE optkern call updates this rank's pieces, the mean over the
       contributions (1/p for one per rank) applied as the kernel reads the
       gradients; optimizer state exists only for these pieces;
    3. each bucket of parameters is all-gathered in place.

    The elementwise optimizers are sharded by elements (each rank a piece
    of every bucket); those that need whole tensors or norms of them
    (LAMB, LARS, Adafactor, Muon, the 8-bit ones) by whole parameters.

    stage=1 keeps a flat gradient buffer: write gradients into `zopt.grads`
    (views of it) and call step() without copying. stage=2 keeps none:
    step(grads) copies them bucket by bucket into a window of two buckets.
    step(grads): grads, one array (or None: zeros) per parameter, or a
    sequence of such lists (micro-batches, each one contribution; every
    rank passes the same number). max_grad_norm clips the norm of the mean
    gradient over every parameter (a sum of the ranks' partial sums in rank
    order). deadline: seconds a collective may wait before the job is
    aborted (None: no limit).

    Construction checks that every rank passed the same shapes, dtypes,
    groups and hyperparameters; bad input raises on every rank before any
    collective moves data. An unhandled exception aborts the job
    (_comm.install_abort_guard).
    """

    def __init__(self, params, optimizer_class, *, comm=None, stage=1, bucket_mb=16, deterministic="rank-order",
                 deadline=None, max_grad_norm=None, **optimizer_kwargs):
        self.comm = comm = _comm.world(comm)
        _comm.install_abort_guard()
        groups, defaults = _comm.checked(comm, lambda: self._checked(params, optimizer_class, stage, bucket_mb,
                                                                     deterministic, deadline, max_grad_norm,
                                                                     optimizer_kwargs))
        #: each group's hyperparameters with the optimizer's defaults filled in
        self._group_defaults = defaults
        self.optimizer_class, self.stage, self.deterministic, self.deadline = (optimizer_class, stage, deterministic,
                                                                               deadline)
        self.max_grad_norm, self.optimizer_kwargs = max_grad_norm, dict(optimizer_kwargs)
        shapes = [p.shape for g in groups for p in g["params"]]
        self.dtype = groups[0]["params"][0].dtype
        hyper = [{k: v for k, v in g.items() if k != "params"} for g in groups]
        check_same_everywhere(comm, repr((optimizer_class.__module__, optimizer_class.__qualname__, stage, bucket_mb,
                                          deterministic, max_grad_norm, sorted(optimizer_kwargs.items()),
                                          [(s, str(self.dtype)) for s in shapes], [len(g["params"]) for g in groups],
                                          [sorted(h.items(), key=repr) for h in hyper])), "arguments to ZeroOptimizer")
        kind = _engine.kind(optimizer_class._kind)
        element = kind.elementwise and not kind.work and not issubclass(optimizer_class, _Optimizer8bit)
        #: LAMB clips by the norm of every gradient of the step (apex's
        #: max_grad_norm, a group hyperparameter): taken here over every rank
        self._global_clip = kind.name == "lamb"
        self.layout = layout = Layout([math.prod(s) for s in shapes], comm.size,
                                      int(bucket_mb * (1 << 20)) // self.dtype.itemsize, element)
        self.reducer = Reducer(comm, layout, self.dtype, deterministic, deadline)
        self._shapes = shapes
        self._group_of = np.repeat(np.arange(len(groups)), [len(g["params"]) for g in groups])
        # the flat parameters, rank 0's on every rank
        self._flat = np.zeros(layout.length, self.dtype)
        for p, (a, b) in zip((p for g in groups for p in g["params"]), zip(layout.starts[:-1], layout.starts[1:])):
            self._flat[a:b] = p.reshape(-1)
        broadcast_flat(comm, self._flat)
        self._grads_flat = np.zeros(layout.length, self.dtype) if stage == 1 else None
        #: the parameters, as views of the flat buffer (use these)
        self.params = [self._flat[a:b].reshape(s) for s, a, b in zip(shapes, layout.starts[:-1], layout.starts[1:])]
        #: the param groups, as given, their "params" the views
        self.param_groups = []
        for k, h in enumerate(hyper):
            self.param_groups.append({"params": [self.params[i] for i in np.flatnonzero(self._group_of == k)], **h})
        # this rank's pieces, their optimizer and its gradient views
        self._pieces = layout.pieces(comm.rank)
        self._store = np.zeros(int(layout.store_starts(comm.rank)[-1]), self.dtype)
        inner_groups, self._inner_group_of, self._grad_views = [], [], []
        for k in range(len(groups)):
            mine = [q for q in self._pieces if self._group_of[q[0]] == k]
            if not mine:
                continue
            views = [self._piece_view(self._flat, q, q[2]) for q in mine]
            self._grad_views += [self._piece_view(self._store, q, q[4]) for q in mine]
            inner_groups.append({"params": views, **hyper[k]})
            self._inner_group_of.append(k)
        self._piece_order = [q for k in range(len(groups)) for q in self._pieces if self._group_of[q[0]] == k]
        self._template = optimizer_class([{"params": [np.zeros((1,) * g["params"][0].ndim, self.dtype)], **h}
                                          for g, h in zip(groups, hyper)], max_grad_norm=max_grad_norm,
                                         **optimizer_kwargs) if max_grad_norm is not None else None
        # (checked on every rank: a parameter the optimizer refuses is on one rank only)
        self.inner = _comm.checked(comm, lambda: optimizer_class(inner_groups, **optimizer_kwargs)
                                   if inner_groups else None)
        #: the norm of the mean gradient before clipping, with max_grad_norm
        self.last_grad_norm = None
        #: the steps taken
        self.steps = 0
        self._lock = threading.Lock()

    # ----------------------------------------------------------- checks

    @staticmethod
    def _checked(params, optimizer_class, stage, bucket_mb, deterministic, deadline, max_grad_norm, kwargs):
        if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, Optimizer)):
            raise TypeError(f"optimizer_class must be an optkern optimizer class (optkern.AdamW, ...), got "
                            f"{optimizer_class!r}")
        if issubclass(optimizer_class, LBFGS):
            raise TypeError("LBFGS takes a closure and keeps one vector of every parameter: it is not sharded; use "
                            "DataParallel or all_reduce_grads")
        if stage not in (1, 2):
            raise ValueError(f"stage must be 1 or 2, got {stage!r}")
        check_options(bucket_mb, deterministic, deadline)
        if max_grad_norm is not None and not (isinstance(max_grad_norm, numbers.Real) and max_grad_norm > 0):
            raise ValueError(f"max_grad_norm must be None or a number > 0, got {max_grad_norm!r}")
        groups = param_groups_of(params, "params")
        # the hyperparameters, checked by the optimizer itself, the same way on every rank
        dtype = groups[0]["params"][0].dtype
        hyper = [{k: v for k, v in g.items() if k != "params"} for g in groups]
        # (a probe parameter of each group's first one's ndim: Muon takes matrices only)
        probe = optimizer_class([{"params": [np.zeros((1,) * g["params"][0].ndim, dtype)], **h}
                                 for g, h in zip(groups, hyper)], **kwargs)
        return groups, [{k: v for k, v in g.items() if k != "params"} for g in probe.param_groups]

    def _piece_view(self, buffer, piece, at):
        """A piece's view of `buffer` from element `at`: flat, or its
        parameter's shape when it is a whole parameter (parameter-granular)."""
        i, _, _, n, _ = piece
        view = buffer[at:at + n]
        return view if self.layout.element_granular else view.reshape(self._shapes[i])

    @property
    def grads(self):
        """Stage 1: views of the flat gradient buffer, one per parameter:
        write this rank's gradients here and call step()."""
        if self._grads_flat is None:
            raise AttributeError("stage 2 keeps no flat gradient buffer: pass the gradients to step(grads)")
        return [self._grads_flat[a:b].reshape(s)
                for s, a, b in zip(self._shapes, self.layout.starts[:-1], self.layout.starts[1:])]

    def _contributions(self, grads):
        """The step's contributions: None (stage 1's flat buffer), or a list
        of gradient lists, checked against the parameters."""
        if grads is None:
            if self._grads_flat is None:
                raise ValueError("stage 2 keeps no gradient buffer: pass the gradients to step(grads)")
            return None
        if isinstance(grads, np.ndarray) or not hasattr(grads, "__len__"):
            raise TypeError("grads must be a sequence with one array per parameter (or of such sequences)")
        grads = list(grads)
        lists = [list(g) for g in grads] if grads and isinstance(grads[0], (list, tuple)) else [grads]
        for c, lst in enumerate(lists):
            where = "" if len(lists) == 1 else f" (micro-batch {c})"
            if len(lst) != len(self._shapes):
                raise ValueError(f"expected {len(self._shapes)} grads, one per parameter; got {len(lst)}{where}")
            for i, g in enumerate(lst):
                if g is None:
                    continue
                if not isinstance(g, np.ndarray):
                    raise TypeError(f"grads[{i}]{where} must be a numpy.ndarray, got {type(g).__name__}")
                if g.shape != self._shapes[i] or g.dtype != self.dtype:
                    raise ValueError(f"grads[{i}]{where} has shape {g.shape} and dtype {g.dtype}; its parameter's "
                                     f"are {self._shapes[i]} and {self.dtype}")
        return lists

    # ------------------------------------------------------------- step

    def step(self, grads=None):
        """One optimizer step of every rank (a collective: every rank calls
        it). grads: None (stage 1: the gradients written into zopt.grads),
        this rank's gradients (one array or None per parameter), or a
        sequence of such lists (micro-batches)."""
        with self._lock:
            self._step(grads)

    def _step(self, grads):
        comm, layout = self.comm, self.layout
        try:
            contributions, error = self._contributions(grads), None
        except (TypeError, ValueError) as e:
            contributions, error = None, e
        count = 1 if contributions is None else len(contributions)
        most, least = _comm.agree(comm, error, (count, -count), self.deadline)
        if most != -least:
            raise ValueError(f"every rank must pass the same number of gradient lists to step(); they passed "
                             f"{-least} to {most}")
        total = count * comm.size
        if contributions is None:  # stage 1's flat buffer
            contributions = [self.grads]
            source = lambda k, c, window: self._grads_flat[int(layout.buckets[k, 0]):int(layout.buckets[k, -1])]  # noqa: E731
        else:
            source = layout.source(contributions)
        scales = None
        if self.deterministic == "exact":
            scales = _comm.checked(comm, lambda: self.reducer.scales(layout.maxima(contributions), total))
        self.reducer.reduce(source, count, self._store, scales)
        factor = 1.0 / total
        if self.max_grad_norm is not None:
            factor *= self._clip_factor(total)
        clips = self._lamb_clips(total) if self._global_clip else None
        if self.inner is not None:
            for j, (inner_group, k) in enumerate(zip(self.inner.param_groups, self._inner_group_of)):
                inner_group.update({key: v for key, v in self.param_groups[k].items() if key != "params"})
                if clips is not None:  # clipped here, by the norm over every rank
                    inner_group["max_grad_norm"] = None
                    if clips[k] != 1.0:
                        for g in self._inner_grads(j):
                            np.divide(g, clips[k], out=g)
            self.inner._step(self._grad_views, factor=factor)
        self.reducer.all_gather(self._flat, "the all-gather of the updated parameters")
        self.steps += 1

    def _inner_grads(self, j):
        """The gradient views of inner param group j."""
        start = sum(len(g["params"]) for g in self.inner.param_groups[:j])
        return self._grad_views[start:start + len(self.inner.param_groups[j]["params"])]

    def _global_norm(self, total):
        """The norm of the mean gradient over every parameter: each rank's
        sum of squares of its reduced pieces, added in rank order."""
        mine = float(_core.vec_dot([self._store], [self._store])) if self._store.size else 0.0
        parts = np.zeros(self.comm.size)
        self.comm.Allgather(np.array([mine]), parts)
        s = 0.0
        for v in parts:  # rank order
            s += float(v)
        return math.sqrt(s) / total

    def _lamb_clips(self, total):
        """LAMB: what each group's gradient sums are divided by, G /
        max_grad_norm where the norm G of every mean gradient exceeds it
        (apex's rule, optim/lamb.h), else 1."""
        norm = self._global_norm(total)
        clips = []
        for g in self.param_groups:
            bound = g.get("max_grad_norm", self._template_default("max_grad_norm"))
            clips.append(norm / bound if bound is not None and norm > bound else 1.0)
        return clips

    def _template_default(self, name):
        return (self.inner.defaults if self.inner is not None else {}).get(name)

    def _clip_factor(self, total):
        """max_grad_norm's factor for the mean gradient (the optimizer's
        own formula: clip_grad_norm_'s, or Adan's)."""
        norm = self._global_norm(total)
        coefficient = type(self._template)._clip_coefficient
        if coefficient is None:
            self.last_grad_norm, coef = _coefficient(norm, self.max_grad_norm, self.dtype)
        else:
            self.last_grad_norm, coef = coefficient(self._template, norm, self.dtype)
        return float(coef)

    # ------------------------------------------------------ checkpoints

    def full_param_groups(self):
        """The param groups' hyperparameters, the optimizer's defaults
        filled in (what a single-process optimizer's state_dict holds)."""
        return [{**d, **{k: v for k, v in g.items() if k != "params"}}
                for d, g in zip(self._group_defaults, self.param_groups)]

    def save(self, path):
        """Write a checkpoint into directory `path` (a collective): every
        rank writes its own pieces into one logical, single-process layout
        (docs/distributed.md#checkpoints), atomically: path/latest points to
        the new checkpoint only once it is complete."""
        with self._lock:
            _checkpoint.save(self, path)

    def load(self, path):
        """Load a checkpoint written by save() at any world size, or by
        optkern.distributed.save_checkpoint from a single-process optimizer
        (a collective)."""
        with self._lock:
            _checkpoint.load(self, path)
