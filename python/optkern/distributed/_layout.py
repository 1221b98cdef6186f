"""The flat, bucketed layout of a parameter list across the ranks, and the
reduction of gradients onto it in each determinism mode
(docs/distributed.md#layout, #determinism).

Every parameter lies in one flat buffer, in order. The buffer is cut into
buckets; a bucket is one collective, and each rank owns one contiguous
piece of every bucket (possibly empty):

  element-granular   bucket k is [k L, (k+1) L), L a multiple of p * ALIGN;
                     rank r owns [k L + r S, k L + (r+1) S), S = L / p. The
                     buffer is padded with zeros to B L elements. For the
                     elementwise optimizers.
  parameter-granular rank r owns the whole parameters of one contiguous
                     range of the buffer, the ranges balanced by elements;
                     bucket k is [k L, (k+1) L) of the N elements, cut at the
                     owners' boundaries. For those that need whole tensors
                     (per-tensor norms, matrices: LAMB, LARS, Adafactor,
                     Muon, the 8-bit optimizers).

A rank keeps the sum of every contribution to its pieces in its "store": its
pieces one after another, in bucket order.
"""

import collections
import math
import numbers

import numpy as np

from optkern.distributed import _comm

__all__ = ["Layout", "Reducer", "ALIGN", "MODES", "check_options"]

#: the elements a rank's piece of an element-granular bucket is a multiple of
#: (a cache line of float64 and the 8-bit optimizers' 256-element blocks)
ALIGN = 256

#: the determinism modes (docs/distributed.md#determinism)
MODES = ("library", "rank-order", "exact")


def check_options(bucket_mb, deterministic, deadline):
    """ValueError unless the options every distributed object takes are
    valid: bucket_mb > 0, deterministic one of MODES, deadline None or > 0."""
    if not isinstance(bucket_mb, numbers.Real) or not bucket_mb > 0:
        raise ValueError(f"bucket_mb must be a number > 0, got {bucket_mb!r}")
    if deterministic not in MODES:
        raise ValueError(f"deterministic must be one of {MODES}, got {deterministic!r}")
    if deadline is not None and not (isinstance(deadline, numbers.Real) and deadline > 0):
        raise ValueError(f"deadline must be None or a number of seconds > 0, got {deadline!r}")


class Layout:
    """Parameters of `sizes` elements in one flat buffer over `ranks` ranks,
    in buckets of about `bucket_elements` elements, element- or
    parameter-granular (the module's docstring)."""

    def __init__(self, sizes, ranks, bucket_elements, element_granular):
        self.sizes = [int(n) for n in sizes]
        self.starts = np.concatenate([[0], np.cumsum(self.sizes, dtype=np.int64)]).astype(np.int64)
        self.numel = int(self.starts[-1])
        self.ranks = p = ranks
        self.element_granular = element_granular
        n = self.numel
        if element_granular:
            unit = p * ALIGN
            length = min(max(unit, bucket_elements // unit * unit), max(unit, -(-n // unit) * unit))
            count = -(-n // length)
            self.length = count * length
            share = length // p
            bounds = [[k * length + r * share for r in range(p + 1)] for k in range(count)]
        else:
            edges = self._owner_edges()
            length = max(1, int(bucket_elements))
            count = -(-n // length)
            self.length = n
            bounds = [[min(max(e, k * length), min((k + 1) * length, n)) for e in edges] for k in range(count)]
        self.buckets = np.array(bounds, dtype=np.int64).reshape(-1, p + 1)

    def _owner_edges(self):
        """Where each rank's whole parameters begin (and the end): the
        parameter boundaries nearest to r N / p, never decreasing."""
        edges, j = [0], 0
        for r in range(1, self.ranks):
            target = r * self.numel / self.ranks
            while j < len(self.sizes) and abs(self.starts[j + 1] - target) <= abs(self.starts[j] - target):
                j += 1
            edges.append(int(self.starts[j]))
        return edges + [self.numel]

    def counts(self, k):
        """Each rank's elements of bucket k."""
        return np.diff(self.buckets[k])

    def store_starts(self, rank):
        """Where bucket k's piece of `rank` begins in its store, for each k,
        and the store's length."""
        counts = self.buckets[:, rank + 1] - self.buckets[:, rank]
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def pieces(self, rank):
        """The parts of the parameters `rank` owns, in order: (parameter,
        first element in it, its first element in the flat buffer, length,
        first element in the store). Parameter-granular: whole parameters."""
        at = self.store_starts(rank)
        out = []
        for k in range(len(self.buckets)):
            lo, hi = int(self.buckets[k, rank]), int(min(self.buckets[k, rank + 1], self.numel))
            i = int(np.searchsorted(self.starts, lo, side="right")) - 1
            while lo < hi:
                end = min(hi, int(self.starts[i + 1]))
                if end > lo:
                    if out and not self.element_granular and out[-1][0] == i:  # a parameter across buckets
                        q = out[-1]
                        out[-1] = (i, q[1], q[2], q[3] + end - lo, q[4])
                    else:
                        out.append((i, lo - int(self.starts[i]), lo, end - lo, int(at[k]) + lo - int(self.buckets[k, rank])))
                lo = end
                i += 1
        return out

    def segments(self, a, b):
        """The parameters over flat elements [a, b): (parameter, first
        element in it, first element in [a, b), length)."""
        i = int(np.searchsorted(self.starts, a, side="right")) - 1
        out = []
        while a < b and i < len(self.sizes):
            end = min(b, int(self.starts[i + 1]))
            if end > a:
                out.append((i, a - int(self.starts[i]), a, end - a))
            a = end
            i += 1
        return out


    def source(self, contributions):
        """Reducer.reduce's source over contributions (lists of one array
        or None per parameter): contribution c's elements of bucket k copied
        into the window (None and the padding: zeros)."""
        def source(k, c, window):
            a, b = int(self.buckets[k, 0]), int(self.buckets[k, -1])
            for i, o, at, n in self.segments(a, b):
                g = contributions[c][i]
                if g is None:
                    window[at - a:at - a + n] = 0
                else:
                    window[at - a:at - a + n] = g.reshape(-1)[o:o + n]
            window[max(self.numel, a) - a:] = 0
            return window
        return source

    def maxima(self, contributions):
        """Exact mode: the largest |g| of each parameter over contributions."""
        out = np.zeros(len(self.sizes))
        for lst in contributions:
            for i, g in enumerate(lst):
                if g is not None and g.size:
                    out[i] = max(out[i], float(np.max(np.abs(g))))
        return out


class Reducer:
    """The sum of the ranks' contributions to every bucket, onto each rank's
    store, in one determinism mode (MODES); and the all-gather of a flat
    buffer from each rank's pieces. At most two buckets are in flight; the
    collectives are non-blocking, waited with the deadline (_comm.wait).

      library     MPI's reduce-scatter (its reduction order)
      rank-order  an all-to-all, then each piece summed in rank order
      exact       each contribution in 64-bit fixed point, scaled per
                  parameter by a power of two from the largest |g| of
                  every rank's contributions; an integer reduce-scatter
                  (exact, so any order gives the same sum), converted back
    """

    def __init__(self, comm, layout, dtype, mode, deadline=None):
        self.comm, self.layout, self.dtype, self.mode, self.deadline = comm, layout, np.dtype(dtype), mode, deadline
        self.type = _comm.mpi_type(dtype)
        widest = int(np.diff(layout.buckets, axis=1).max(initial=0))
        longest = int(np.diff(layout.buckets[:, [0, -1]], axis=1).max(initial=0))
        p = layout.ranks
        self.windows = [np.zeros(longest, self.dtype) for _ in range(2)]
        if mode == "rank-order":
            self.received = [np.empty(p * widest, self.dtype) for _ in range(2)]
        if mode == "exact":
            self.fixed = [np.zeros(longest, np.int64) for _ in range(2)]
            self.received = [np.empty(widest, np.int64) for _ in range(2)]
            self.scaled = np.empty(longest)  # a contribution times its scales, rounded
            self.rounded = np.empty(longest, np.int64)

    def scales(self, maxima, total):
        """Exact mode: each parameter's scale, 2^(62 - e - ceil(log2 total))
        with max |g| < 2^e over every rank's contributions (maxima: this
        rank's per parameter; total: the contributions of every rank), so
        that any sum of them fits in 62 bits. ValueError on every rank for
        an inf or NaN."""
        MPI = _comm.mpi()
        maxima = np.ascontiguousarray(maxima, dtype=np.float64)
        self.comm.Allreduce(MPI.IN_PLACE, maxima, op=MPI.MAX)
        if not np.isfinite(maxima).all():
            bad = int(np.flatnonzero(~np.isfinite(maxima))[0])
            raise ValueError(f'deterministic="exact" sums finite gradients only; the gradients of params[{bad}] '
                             "hold an inf or NaN")
        exponents = np.frexp(maxima)[1]
        room = 62 - int(math.ceil(math.log2(max(total, 1))))
        return np.where(maxima > 0, np.ldexp(1.0, room - exponents), 1.0)

    def _scale_vector(self, scales, a, b):
        out = np.ones(b - a)
        for i, _, at, n in self.layout.segments(a, b):
            out[at - a:at - a + n] = scales[i]
        return out

    def reduce(self, source, count, store, scales=None):
        """Every bucket's sum onto this rank's store. source(k, c, window):
        contribution c (of `count`) to bucket k, as an array of the
        bucket's length (a view, or `window` filled). scales: exact mode's
        (Reducer.scales)."""
        MPI = _comm.mpi()
        layout, comm, rank = self.layout, self.comm, self.comm.rank
        at = layout.store_starts(rank)
        pending = collections.deque()
        for k in range(len(layout.buckets)):
            while len(pending) >= 2:
                self._finish(*pending.popleft())
            slot = k % 2
            a, b = int(layout.buckets[k, 0]), int(layout.buckets[k, -1])
            counts = layout.counts(k)
            displs = layout.buckets[k, :-1] - a
            mine = int(counts[rank])
            dst = store[int(at[k]):int(at[k]) + mine]
            if self.mode == "exact":
                fixed, scaled = self.fixed[slot][:b - a], self.scaled[:b - a]
                scale = self._scale_vector(scales, a, b)
                for c in range(count):  # exact: each product is the contribution times a power of two
                    np.multiply(source(k, c, self.windows[slot][:b - a]), scale, out=scaled)
                    np.rint(scaled, out=scaled)
                    if c == 0:
                        np.copyto(fixed, scaled, casting="unsafe")
                    else:
                        np.copyto(self.rounded[:b - a], scaled, casting="unsafe")
                        fixed += self.rounded[:b - a]
                received = self.received[slot][:mine]
                request = comm.Ireduce_scatter([fixed, MPI.INT64_T], [received, MPI.INT64_T], counts.tolist(),
                                               op=MPI.SUM)
                finish = ("exact", dst, received, scale[int(displs[rank]):int(displs[rank]) + mine])
            else:
                window = self.windows[slot][:b - a]
                data = source(k, 0, window)
                if count > 1:  # this rank's contributions summed, in order, in the window
                    if data is not window:
                        np.copyto(window, data)
                    data, spare = window, np.empty(b - a, self.dtype)
                    for c in range(1, count):
                        np.add(data, source(k, c, spare), out=data)
                if self.mode == "library":
                    request = comm.Ireduce_scatter([data, self.type], [dst, self.type], counts.tolist(), op=MPI.SUM)
                    finish = ("library", data)
                else:
                    received = self.received[slot][:layout.ranks * mine]
                    request = comm.Ialltoallv([data, (counts.tolist(), displs.tolist()), self.type],
                                              [received, ([mine] * layout.ranks,
                                                          [q * mine for q in range(layout.ranks)]), self.type])
                    finish = ("rank-order", dst, received, mine, data)
            pending.append((k, request, finish))
        while pending:
            self._finish(*pending.popleft())

    def _finish(self, k, request, finish):
        _comm.wait(self.comm, [request], self.deadline, f"the reduction of gradient bucket {k}")
        if finish[0] == "rank-order":
            _, dst, received, mine, _ = finish
            np.copyto(dst, received[:mine])
            for q in range(1, self.layout.ranks):  # the ranks' sums, in rank order
                np.add(dst, received[q * mine:(q + 1) * mine], out=dst)
        elif finish[0] == "exact":
            _, dst, received, scale = finish
            np.copyto(dst, received.astype(np.float64) / scale, casting="unsafe")

    def all_gather(self, flat, what):
        """Each rank's pieces of flat (a buffer of the layout's length),
        gathered in place into every rank's."""
        MPI = _comm.mpi()
        requests = []
        for k in range(len(self.layout.buckets)):
            a, b = int(self.layout.buckets[k, 0]), int(self.layout.buckets[k, -1])
            counts = self.layout.counts(k)
            displs = self.layout.buckets[k, :-1] - a
            requests.append(self.comm.Iallgatherv(MPI.IN_PLACE, [flat[a:b], (counts.tolist(), displs.tolist()),
                                                                 self.type]))
        _comm.wait(self.comm, requests, self.deadline, what)
