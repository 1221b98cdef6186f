"""optkern beyond one process: sharded optimizer state and data parallelism
over MPI, through mpi4py (pip install "optkern[mpi]" mpich;
docs/distributed.md).

  ZeroOptimizer     ZeRO stages 1 and 2: each rank keeps and updates only
                    its share of the optimizer state
  DataParallel      the gradients all-reduced, the state replicated
  all_reduce_grads  the all-reduce alone, for a loop of your own
  DiLoCo            H local steps, then an outer Nesterov step on the
                    ranks' mean parameter change: for slow links
  read_checkpoint   a ZeroOptimizer checkpoint as a single-process
                    optimizer's parameters and state_dict
  install_abort_guard   an unhandled exception aborts the whole job

Every collective has a determinism mode (deterministic="library",
"rank-order", "exact"). Importing this package does not import mpi4py;
making one of its objects does. Nothing MPI-specific is in the C library
or in `import optkern`.
"""

from optkern.distributed._checkpoint import read_checkpoint
from optkern.distributed._comm import install_abort_guard
from optkern.distributed.data_parallel import DataParallel, all_reduce_grads
from optkern.distributed.diloco import DiLoCo
from optkern.distributed.zero import ZeroOptimizer

__all__ = ["ZeroOptimizer", "DataParallel", "all_reduce_grads", "DiLoCo", "read_checkpoint", "install_abort_guard"]
