/*
 * Adadelta's descriptor: torch.optim.Adadelta, docs/optimizers.md#adadelta.
 * The kernel body is optim/adadelta-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADADELTA_H
#define OPTKERN_OPTIM_ADADELTA_H

#include "optim/descriptor.h"

typedef struct ok_adadelta_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lr, rho, one_minus_rho, eps;
    double weight_decay; /* coupled: g += weight_decay * param */
    int maximize, has_weight_decay;
} ok_adadelta_coeffs;
OK_GRAD_SCALING_FIRST(ok_adadelta_coeffs, grad);

/* The states in the order of torch's functional adadelta. */
enum { OK_ADADELTA_SQUARE_AVG = OK_OPT_STATE, OK_ADADELTA_ACC_DELTA };

OK_FN ok_status ok_adadelta_checked(const void *hparams) {
    const ok_adadelta_hparams *hp = (const ok_adadelta_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->rho >= 0 && hp->rho <= 1) || !(hp->eps >= 0) || !(hp->weight_decay >= 0))
        return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_adadelta_prepare(const void *hparams, void *coeffs) {
    const ok_adadelta_hparams *hp = (const ok_adadelta_hparams *)hparams;
    ok_adadelta_coeffs *c = (ok_adadelta_coeffs *)coeffs;
    c->lr = hp->lr;
    c->rho = hp->rho;
    c->one_minus_rho = 1.0 - hp->rho;
    c->eps = hp->eps;
    c->weight_decay = hp->weight_decay;
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
}

/* Both averages, always. */
OK_FN unsigned ok_adadelta_required(const void *hparams) {
    (void)hparams;
    return 3u;
}

static const ok_field ok_adadelta_fields[] = {
    OK_FIELD(ok_adadelta_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adadelta_hparams, rho, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adadelta_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adadelta_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adadelta_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_adadelta_states[] = {"square_avg", "acc_delta"};

OK_HOST_ONLY(static const ok_optimizer ok_adadelta_optimizer = {OK_DESCRIPTOR(adadelta)};)

#endif /* OPTKERN_OPTIM_ADADELTA_H */
