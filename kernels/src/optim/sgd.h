/*
 * SGD's descriptor: torch.optim.SGD, docs/optimizers.md#sgd. The kernel
 * body is optim/sgd-inl.h.
 */
#ifndef OPTKERN_OPTIM_SGD_H
#define OPTKERN_OPTIM_SGD_H

#include <math.h>

#include "optim/descriptor.h"

typedef struct ok_sgd_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lr, momentum, one_minus_dampening, weight_decay;
    int maximize, has_weight_decay, has_momentum, nesterov, first_step;
} ok_sgd_coeffs;
OK_GRAD_SCALING_FIRST(ok_sgd_coeffs, grad);

enum { OK_SGD_BUF = OK_OPT_STATE };

OK_FN ok_status ok_sgd_checked(const void *hparams) {
    const ok_sgd_hparams *hp = (const ok_sgd_hparams *)hparams;
    /* Written as !(x >= 0) so that NaN fails too. */
    if (!(hp->lr >= 0) || !(hp->momentum >= 0) || !(hp->weight_decay >= 0) || isnan(hp->dampening))
        return OK_ERR_HYPERPARAMETER;
    if (hp->nesterov && (hp->momentum <= 0 || hp->dampening != 0)) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_sgd_prepare(const void *hparams, void *coeffs) {
    const ok_sgd_hparams *hp = (const ok_sgd_hparams *)hparams;
    ok_sgd_coeffs *c = (ok_sgd_coeffs *)coeffs;
    c->lr = hp->lr;
    c->momentum = hp->momentum;
    c->one_minus_dampening = 1.0 - hp->dampening;
    c->weight_decay = hp->weight_decay;
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
    c->has_momentum = hp->momentum != 0;
    c->nesterov = hp->nesterov != 0;
    c->first_step = hp->first_step != 0;
}

/* The momentum buffer exists only with momentum. */
OK_FN unsigned ok_sgd_required(const void *hparams) {
    return ((const ok_sgd_hparams *)hparams)->momentum != 0 ? 1u : 0u;
}

static const ok_field ok_sgd_fields[] = {
    OK_FIELD(ok_sgd_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_hparams, momentum, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_hparams, dampening, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_hparams, nesterov, OK_FIELD_INT),
    OK_FIELD(ok_sgd_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_sgd_hparams, first_step, OK_FIELD_INT),
};

static const char *const ok_sgd_states[] = {"momentum_buffer"};

OK_HOST_ONLY(static const ok_optimizer ok_sgd_optimizer = {OK_DESCRIPTOR(sgd)};)

#endif /* OPTKERN_OPTIM_SGD_H */
