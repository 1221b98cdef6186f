"""optkern: fast, exact optimizer updates and loss gradients for NumPy arrays.

Hand-written C kernels (AVX2 / AVX-512 with a scalar fallback, threaded with
OpenMP) apply the optimizer update to every parameter in place, in one call
per step, with torch.optim's names, defaults, checks and numbers:

    import optkern
    opt = optkern.Adam(params, lr=1e-3)
    opt.step(grads)

optkern.functional has the same updates as functions over explicit state.
optkern.losses computes a loss and its gradient in one fused call, with
torch.nn.functional's names and numbers:

    loss, grad = optkern.losses.cross_entropy(logits, labels)

optkern.data splits a data set and feeds it in mini-batches; optkern.save
and optkern.load write and read checkpoints (no pickle, atomic writes).
optkern.clip_grad_norm_ and optkern.clip_grad_value_ clip gradients in place
as torch.nn.utils does; an optimizer's max_grad_norm clips inside its step,
and optkern.amp.GradScaler scales the loss for mixed precision, unscaling
inside the step. optkern.lr_scheduler has torch.optim.lr_scheduler's schedulers, and
optkern.schedules optax-style schedules, which an optimizer takes as its lr.

The package also ships the C library itself, for C and C++ programs that
embed it: optkern.get_include(), optkern.get_library_dir() and
optkern.get_cmake_dir() say where (README: Embedding).
"""

from optkern import _core, amp, data, functional, losses, lr_scheduler, optim, schedules
from optkern.checkpoint import load, save
from optkern.clip import clip_grad_norm_, clip_grad_value_
from optkern._embedding import get_cmake_dir, get_include, get_library_dir
from optkern.optim import *  # noqa: F403 (every optimizer class: optim.__all__)
from optkern._config import (
    _apply_isa_cap,
    config,
    get_isa,
    get_num_threads,
    set_isa,
    set_num_threads,
    show_config,
)

__version__ = _core.version()

__all__ = [
    *optim.__all__,
    "optim",
    "functional",
    "losses",
    "data",
    "save",
    "load",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
    "schedules",
    "amp",
    "config",
    "show_config",
    "set_num_threads",
    "get_num_threads",
    "set_isa",
    "get_isa",
    "__version__",
    "get_include",
    "get_library_dir",
    "get_cmake_dir",
]

_apply_isa_cap()
del _apply_isa_cap
