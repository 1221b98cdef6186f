# Optimizer updates over tensor lists.

cdef class HparamSets:
    """The hyperparameter sets of one call in C memory, and for each set the
    streams a tensor using it must have (bit s: stream s, in gather's order)."""
    cdef void *hp
    cdef uint32_t *required
    cdef Py_ssize_t n

    def __cinit__(self, Py_ssize_t n, size_t size):
        if n == 0:
            raise ValueError("no hyperparameter set")
        self.n = n
        self.hp = PyMem_Calloc(n, size)
        self.required = <uint32_t *>PyMem_Calloc(n, sizeof(uint32_t))
        if self.hp == NULL or self.required == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self.hp)
        PyMem_Free(self.required)


def sgd(list params, list grads, momentum_buffers, list hparams, hp_index=None, WrittenIndex written=None):
    """SGD over a tensor list (one C call); see optkern.functional.sgd_.

    hparams: list of (lr, momentum, dampening, weight_decay, nesterov,
    maximize, first_step) tuples; hp_index: uint32 array, the set of each
    tensor (None: set 0). momentum_buffers: a list, a StateTable or None.
    written: see gather().
    """
    cdef HparamSets sets = HparamSets(len(hparams), sizeof(ok_sgd_hparams))
    cdef ok_sgd_hparams *hp = <ok_sgd_hparams *>sets.hp
    cdef Py_ssize_t k
    for k in range(sets.n):
        (hp[k].lr, hp[k].momentum, hp[k].dampening, hp[k].weight_decay,
         hp[k].nesterov, hp[k].maximize, hp[k].first_step) = hparams[k]
        if ok_sgd_check(&hp[k]) != OK_SUCCESS:
            raise ValueError(f"invalid SGD hyperparameters {hparams[k]}")
        sets.required[k] = (1u << 2) if hp[k].momentum != 0 else 0
    cdef Gathered g = gather("params", params, "grads", grads, ("momentum_buffers",), (momentum_buffers,),
                             hp_index, <uint32_t>sets.n, sets.required, written)
    cdef ok_status st
    with nogil:
        st = ok_sgd(hp, sets.n, g.index, g.count, g.numel, g.dtype, g.stream[0], <const void **>g.stream[1],
                    g.stream[2])
    raise_for(st)


def adam(list params, list grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, list hparams, hp_index=None,
         WrittenIndex written=None):
    """Adam / AdamW over a tensor list (one C call); see optkern.functional.adam_.

    hparams: list of (lr, beta1, beta2, eps, weight_decay, step, amsgrad,
    maximize, decoupled_weight_decay) tuples; the rest as for sgd().
    """
    cdef HparamSets sets = HparamSets(len(hparams), sizeof(ok_adam_hparams))
    cdef ok_adam_hparams *hp = <ok_adam_hparams *>sets.hp
    cdef Py_ssize_t k
    for k in range(sets.n):
        (hp[k].lr, hp[k].beta1, hp[k].beta2, hp[k].eps, hp[k].weight_decay, hp[k].step,
         hp[k].amsgrad, hp[k].maximize, hp[k].decoupled_weight_decay) = hparams[k]
        if ok_adam_check(&hp[k]) != OK_SUCCESS:
            raise ValueError(f"invalid Adam hyperparameters {hparams[k]}")
        sets.required[k] = (1u << 2) | (1u << 3) | ((1u << 4) if hp[k].amsgrad else 0)
    cdef Gathered g = gather("params", params, "grads", grads, ("exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"),
                             (exp_avgs, exp_avg_sqs, max_exp_avg_sqs), hp_index, <uint32_t>sets.n,
                             sets.required, written)
    cdef ok_status st
    with nogil:
        st = ok_adam(hp, sets.n, g.index, g.count, g.numel, g.dtype, g.stream[0], <const void **>g.stream[1],
                     g.stream[2], g.stream[3], g.stream[4])
    raise_for(st)
