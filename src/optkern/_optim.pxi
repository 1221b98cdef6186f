# Optimizer updates over tensor lists.

def sgd(list params, list grads, momentum_buffers, list hparams, hp_index=None,
        ParamIndex param_index=None):
    """SGD over a tensor list; see optkern.functional.sgd_.

    hparams: list of (lr, momentum, dampening, weight_decay, nesterov,
    maximize, first_step) tuples; hp_index: uint32 array, the set of each
    tensor (None: set 0). State arguments: a list, a StateTable, or None.
    """
    cdef Py_ssize_t n_sets = len(hparams), k
    if n_sets == 0:
        raise ValueError("no hyperparameter set")
    cdef ok_sgd_hparams *hp = <ok_sgd_hparams *>PyMem_Malloc(n_sets * sizeof(ok_sgd_hparams))
    cdef uint32_t *required = <uint32_t *>PyMem_Malloc(n_sets * sizeof(uint32_t))
    cdef Gathered g
    cdef ok_status st = OK_SUCCESS
    if hp == NULL or required == NULL:
        PyMem_Free(hp)
        PyMem_Free(required)
        raise MemoryError()
    try:
        for k in range(n_sets):
            (hp[k].lr, hp[k].momentum, hp[k].dampening, hp[k].weight_decay,
             hp[k].nesterov, hp[k].maximize, hp[k].first_step) = hparams[k]
            if ok_sgd_check(&hp[k]) != OK_SUCCESS:
                raise ValueError(f"invalid SGD hyperparameters {hparams[k]}")
            required[k] = (1u << 2) if hp[k].momentum != 0 else 0
        g = gather("params", params, "grads", grads, ("momentum_buffers",), (momentum_buffers,),
                   hp_index, <uint32_t>n_sets, required, param_index)
        with nogil:
            if g.count[0]:
                st = ok_sgd_f32(hp, n_sets, g.index[0], g.count[0], g.numel[0], <float **>g.stream[0][0],
                                <const float **>g.stream[0][1], <float **>g.stream[0][2])
            if st == OK_SUCCESS and g.count[1]:
                st = ok_sgd_f64(hp, n_sets, g.index[1], g.count[1], g.numel[1], <double **>g.stream[1][0],
                                <const double **>g.stream[1][1], <double **>g.stream[1][2])
    finally:
        PyMem_Free(hp)
        PyMem_Free(required)
    raise_for(st)


def adam(list params, list grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
         list hparams, hp_index=None, ParamIndex param_index=None):
    """Adam / AdamW over a tensor list; see optkern.functional.adam_.

    hparams: list of (lr, beta1, beta2, eps, weight_decay, step, amsgrad,
    maximize, decoupled_weight_decay) tuples; hp_index as for sgd().
    """
    cdef Py_ssize_t n_sets = len(hparams), k
    if n_sets == 0:
        raise ValueError("no hyperparameter set")
    cdef ok_adam_hparams *hp = <ok_adam_hparams *>PyMem_Malloc(n_sets * sizeof(ok_adam_hparams))
    cdef uint32_t *required = <uint32_t *>PyMem_Malloc(n_sets * sizeof(uint32_t))
    cdef Gathered g
    cdef ok_status st = OK_SUCCESS
    if hp == NULL or required == NULL:
        PyMem_Free(hp)
        PyMem_Free(required)
        raise MemoryError()
    try:
        for k in range(n_sets):
            (hp[k].lr, hp[k].beta1, hp[k].beta2, hp[k].eps, hp[k].weight_decay, hp[k].step,
             hp[k].amsgrad, hp[k].maximize, hp[k].decoupled_weight_decay) = hparams[k]
            if ok_adam_check(&hp[k]) != OK_SUCCESS:
                raise ValueError(f"invalid Adam hyperparameters {hparams[k]}")
            required[k] = (1u << 2) | (1u << 3) | ((1u << 4) if hp[k].amsgrad else 0)
        g = gather("params", params, "grads", grads, ("exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"),
                   (exp_avgs, exp_avg_sqs, max_exp_avg_sqs), hp_index, <uint32_t>n_sets, required,
                   param_index)
        with nogil:
            if g.count[0]:
                st = ok_adam_f32(hp, n_sets, g.index[0], g.count[0], g.numel[0], <float **>g.stream[0][0],
                                 <const float **>g.stream[0][1], <float **>g.stream[0][2],
                                 <float **>g.stream[0][3], <float **>g.stream[0][4])
            if st == OK_SUCCESS and g.count[1]:
                st = ok_adam_f64(hp, n_sets, g.index[1], g.count[1], g.numel[1], <double **>g.stream[1][0],
                                 <const double **>g.stream[1][1], <double **>g.stream[1][2],
                                 <double **>g.stream[1][3], <double **>g.stream[1][4])
    finally:
        PyMem_Free(hp)
        PyMem_Free(required)
    raise_for(st)
