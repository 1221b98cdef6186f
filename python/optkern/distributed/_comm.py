"""What optkern.distributed asks of MPI (docs/distributed.md): the
communicator, the abort guard, waits with a deadline, and agreement on an
error before any collective that moves data, so that bad input on one rank
raises on every rank instead of leaving the others waiting.

mpi4py is imported here, when a distributed object is made; `import
optkern` never imports it.
"""

import sys
import time

import numpy as np

__all__ = ["mpi", "world", "install_abort_guard", "wait", "agree", "checked", "mpi_type"]


def mpi():
    """mpi4py's MPI module (ImportError with the install line without it)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError('optkern.distributed needs mpi4py: pip install "optkern[mpi]" mpich (on a cluster, '
                          "pip install mpi4py against the site's MPI)") from e
    return MPI


def world(comm):
    """comm, or MPI.COMM_WORLD for None; TypeError for anything but an
    mpi4py intracommunicator."""
    MPI = mpi()
    if comm is None:
        return MPI.COMM_WORLD
    if not isinstance(comm, MPI.Intracomm):
        raise TypeError(f"comm must be an mpi4py intracommunicator (MPI.COMM_WORLD, comm.Split(...)), got "
                        f"{type(comm).__name__}")
    return comm


_guarded = False


def install_abort_guard():
    """Make an unhandled exception on this rank abort the whole MPI job
    (MPI_Abort at exit), as `python -m mpi4py script.py` does, instead of
    leaving the other ranks waiting in a collective for ever. Idempotent;
    optkern.distributed's objects install it when they are made."""
    global _guarded
    if _guarded:
        return
    mpi()
    from mpi4py import run

    previous = sys.excepthook

    def hook(kind, value, traceback):
        run.set_abort_status(value if isinstance(value, SystemExit) else 1)
        previous(kind, value, traceback)

    sys.excepthook = hook
    _guarded = True


def wait(comm, requests, deadline, what):
    """Wait for every request; with a deadline (seconds, or None: for
    ever), a wait longer than that aborts the job with a message naming
    `what` was pending: a rank that died or hangs does not hold a cluster
    allocation for ever."""
    MPI = mpi()
    if deadline is None:
        MPI.Request.Waitall(requests)
        return
    end = time.monotonic() + deadline
    while not MPI.Request.Testall(requests):
        if time.monotonic() > end:
            sys.stderr.write(f"optkern.distributed: rank {comm.rank} of {comm.size} waited more than {deadline} s "
                             f"for {what}; aborting the job\n")
            sys.stderr.flush()
            time.sleep(0.5)  # for the launcher to forward the message before the abort tears the job down
            comm.Abort(1)
        time.sleep(0.0002)


_KINDS = {"TypeError": TypeError, "ValueError": ValueError, "IndexError": IndexError}


def agree(comm, error, numbers=(), deadline=None):
    """Every rank learns whether any rank has an error (an exception, or
    None) and raises it: the same type, its message naming the rank. One
    small all-reduce when all is well, which also returns the largest of
    each of `numbers` (ints) over the ranks; deadline: as wait's."""
    MPI = mpi()
    flag = np.array([error is not None, *numbers], dtype=np.int64)
    wait(comm, [comm.Iallreduce(MPI.IN_PLACE, flag, op=MPI.MAX)], deadline, "the other ranks to start the step")
    if not flag[0]:
        return flag[1:].tolist()
    reports = comm.allgather(None if error is None else (type(error).__name__, str(error)))
    rank, (kind, message) = next((r, e) for r, e in enumerate(reports) if e is not None)
    if error is not None and rank == comm.rank:
        raise error
    raise _KINDS.get(kind, RuntimeError)(f"rank {rank}: {message}")


def checked(comm, work):
    """work() on every rank, its exception (TypeError, ValueError,
    IndexError) agreed on (agree): raised on every rank. Returns work()'s
    result."""
    try:
        result, error = work(), None
    except (TypeError, ValueError, IndexError) as e:
        result, error = None, e
    agree(comm, error)
    return result


def mpi_type(dtype):
    """The MPI datatype of a NumPy dtype of the buffers (float32, float64,
    int64)."""
    MPI = mpi()
    return {np.dtype(np.float32): MPI.FLOAT, np.dtype(np.float64): MPI.DOUBLE,
            np.dtype(np.int64): MPI.INT64_T}[np.dtype(dtype)]
