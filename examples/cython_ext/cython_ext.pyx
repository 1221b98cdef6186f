# cython: language_level=3, boundscheck=False, wraparound=False
"""A Cython module that calls optkern through `from optkern.capi cimport`
(docs/embedding.md#cython): the C declarations come from the installed
optkern package, the calls go through its C-API capsule, so this module
links nothing and runs optkern's own kernels, with the instruction set and
thread count the optkern package has set.

    python setup.py build_ext --inplace

    import numpy as np, cython_ext
    cython_ext.adam_step(param, grad, exp_avg, exp_avg_sq, step, lr)  # float32, in place
    loss = cython_ext.cross_entropy(logits, target, grad)   # float32 (N, C), int64 (N,)
"""
from libc.stdint cimport int64_t

from optkern.capi cimport (OK_INDEX_INT64, OK_SUCCESS, import_optkern, ok_adam_f32, ok_adam_hparams,
                           ok_cross_entropy_f32, ok_get_isa, ok_get_num_threads, ok_isa_name, ok_status,
                           ok_status_string)

import_optkern()


cdef check(ok_status status):
    if status != OK_SUCCESS:
        raise ValueError("optkern: " + ok_status_string(status).decode())


def adam_step(float[::1] param, const float[::1] grad, float[::1] exp_avg, float[::1] exp_avg_sq,
              int64_t step, double lr):
    """One torch.optim.Adam step of the float32 vector param, its states
    updated in place."""
    n = param.shape[0]
    if grad.shape[0] != n or exp_avg.shape[0] != n or exp_avg_sq.shape[0] != n:
        raise ValueError("param, grad, exp_avg and exp_avg_sq must have one length")
    # torch's defaults but lr and step (C has OK_ADAM_DEFAULTS; Cython sets every field)
    cdef ok_adam_hparams hp = ok_adam_hparams(lr=lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                                              step=step, amsgrad=0, maximize=0, decoupled_weight_decay=0)
    cdef size_t numel = n
    cdef float *p = &param[0]
    cdef const float *g = &grad[0]
    cdef float *m = &exp_avg[0]
    cdef float *v = &exp_avg_sq[0]
    cdef ok_status status
    with nogil:
        status = ok_adam_f32(&hp, 1, NULL, 1, &numel, &p, &g, &m, &v, NULL)
    check(status)


def cross_entropy(const float[:, ::1] logits, const int64_t[::1] target, float[:, ::1] grad):
    """The mean cross-entropy of float32 logits (N, C) against int64 classes
    (N,), its gradient written to grad."""
    if target.shape[0] != logits.shape[0] or grad.shape[0] != logits.shape[0] or grad.shape[1] != logits.shape[1]:
        raise ValueError("logits must be (N, C), target (N,) and grad like logits")
    cdef float loss
    cdef ok_status status
    with nogil:
        status = ok_cross_entropy_f32(logits.shape[0], logits.shape[1], 1, &logits[0, 0], &target[0],
                                      OK_INDEX_INT64, NULL, &loss, &grad[0, 0])
    check(status)
    return loss


def isa():
    """The instruction set optkern's kernels run with."""
    return ok_isa_name(ok_get_isa()).decode()


def num_threads():
    """The number of threads optkern's kernels use."""
    return ok_get_num_threads()
