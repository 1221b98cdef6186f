/*
 * Lion's descriptor: lion-pytorch's Lion (Chen et al. 2023),
 * docs/optimizers.md#lion. The kernel body is optim/lion-inl.h.
 */
#ifndef OPTKERN_OPTIM_LION_H
#define OPTKERN_OPTIM_LION_H

#include "optim/descriptor.h"

typedef struct ok_lion_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lr, beta1, one_minus_beta1, beta2, one_minus_beta2;
    double decay;         /* 1 - lr * weight_decay */
    int has_weight_decay;
} ok_lion_coeffs;
OK_GRAD_SCALING_FIRST(ok_lion_coeffs, grad);

enum { OK_LION_EXP_AVG = OK_OPT_STATE };

/* lion-pytorch asserts lr > 0 and betas in [0, 1] at construction; the
 * class checks lr > 0 there, the step lr >= 0 (a schedule may reach 0).
 * It does not check weight_decay; optkern refuses a negative one. Written
 * so that NaN fails. */
OK_FN ok_status ok_lion_checked(const void *hparams) {
    const ok_lion_hparams *hp = (const ok_lion_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(hp->beta1 >= 0 && hp->beta1 <= 1) || !(hp->beta2 >= 0 && hp->beta2 <= 1)) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_lion_prepare(const void *hparams, void *coeffs) {
    const ok_lion_hparams *hp = (const ok_lion_hparams *)hparams;
    ok_lion_coeffs *c = (ok_lion_coeffs *)coeffs;
    c->lr = hp->lr;
    c->beta1 = hp->beta1;
    c->one_minus_beta1 = 1.0 - hp->beta1;
    c->beta2 = hp->beta2;
    c->one_minus_beta2 = 1.0 - hp->beta2;
    c->decay = 1.0 - hp->lr * hp->weight_decay;
    c->has_weight_decay = hp->weight_decay != 0;
}

OK_FN unsigned ok_lion_required(const void *hparams) {
    (void)hparams;
    return 1u;
}

static const ok_field ok_lion_fields[] = {
    OK_FIELD(ok_lion_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lion_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lion_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lion_hparams, weight_decay, OK_FIELD_DOUBLE),
};

static const char *const ok_lion_states[] = {"exp_avg"};

OK_HOST_ONLY(static const ok_optimizer ok_lion_optimizer = {OK_DESCRIPTOR(lion)};)

#endif /* OPTKERN_OPTIM_LION_H */
