/*
 * Adagrad's descriptor: torch.optim.Adagrad, docs/optimizers.md#adagrad.
 * The kernel body is optim/adagrad-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADAGRAD_H
#define OPTKERN_OPTIM_ADAGRAD_H

#include "optim/descriptor.h"

typedef struct ok_adagrad_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double clr;          /* lr / (1 + (t - 1) * lr_decay) */
    double weight_decay; /* coupled: g += weight_decay * param */
    double eps;
    int maximize, has_weight_decay;
} ok_adagrad_coeffs;
OK_GRAD_SCALING_FIRST(ok_adagrad_coeffs, grad);

enum { OK_ADAGRAD_SUM = OK_OPT_STATE };

OK_FN ok_status ok_adagrad_checked(const void *hparams) {
    const ok_adagrad_hparams *hp = (const ok_adagrad_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->lr_decay >= 0) || !(hp->weight_decay >= 0) || !(hp->eps >= 0))
        return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_adagrad_prepare(const void *hparams, void *coeffs) {
    const ok_adagrad_hparams *hp = (const ok_adagrad_hparams *)hparams;
    ok_adagrad_coeffs *c = (ok_adagrad_coeffs *)coeffs;
    c->clr = hp->lr / (1.0 + (double)(hp->step - 1) * hp->lr_decay);
    c->weight_decay = hp->weight_decay;
    c->eps = hp->eps;
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
}

/* The sum of squares, always. */
OK_FN unsigned ok_adagrad_required(const void *hparams) {
    (void)hparams;
    return 1u;
}

static const ok_field ok_adagrad_fields[] = {
    OK_FIELD(ok_adagrad_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adagrad_hparams, lr_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adagrad_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adagrad_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adagrad_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adagrad_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_adagrad_states[] = {"sum"};

OK_HOST_ONLY(static const ok_optimizer ok_adagrad_optimizer = {OK_DESCRIPTOR(adagrad)};)

#endif /* OPTKERN_OPTIM_ADAGRAD_H */
