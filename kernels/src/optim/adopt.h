/*
 * ADOPT's descriptor: the official implementation of Taniguchi et al. 2024,
 * docs/optimizers.md#adopt. The kernel body is optim/adopt-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADOPT_H
#define OPTKERN_OPTIM_ADOPT_H

#include "optim/descriptor.h"

typedef struct ok_adopt_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    ok_lerp exp_avg_lerp; /* m <- lerp(m, g / denom, 1 - beta1) */
    double lr, beta2, one_minus_beta2, eps, clip;
    double weight_decay;  /* coupled: g += weight_decay * param */
    double decay;         /* decoupled: param += -lr * weight_decay * param */
    int first;            /* t = 1: the step only starts exp_avg_sq */
    int clipped, maximize, wd_mode;
} ok_adopt_coeffs;
OK_GRAD_SCALING_FIRST(ok_adopt_coeffs, grad);

/* The states in the order of the official functional adopt. */
enum { OK_ADOPT_EXP_AVG = OK_OPT_STATE, OK_ADOPT_EXP_AVG_SQ };

/* The official checks (lr, eps, weight_decay >= 0, betas in [0, 1)); a
 * clip bound that is negative would cross the clamp's bounds: refused.
 * Written so that NaN fails. */
OK_FN ok_status ok_adopt_checked(const void *hparams) {
    const ok_adopt_hparams *hp = (const ok_adopt_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->eps >= 0) || !(hp->weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(hp->beta1 >= 0 && hp->beta1 < 1) || !(hp->beta2 >= 0 && hp->beta2 < 1)) return OK_ERR_HYPERPARAMETER;
    if (hp->clipped && !(hp->clip >= 0)) return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_adopt_prepare(const void *hparams, void *coeffs) {
    const ok_adopt_hparams *hp = (const ok_adopt_hparams *)hparams;
    ok_adopt_coeffs *c = (ok_adopt_coeffs *)coeffs;
    c->exp_avg_lerp = ok_lerp_weight(1.0 - hp->beta1);
    c->lr = hp->lr;
    c->beta2 = hp->beta2;
    c->one_minus_beta2 = 1.0 - hp->beta2;
    c->eps = hp->eps;
    c->clip = hp->clip;
    c->weight_decay = hp->weight_decay;
    c->decay = -hp->lr * hp->weight_decay;
    c->first = hp->step == 1;
    c->clipped = hp->clipped != 0;
    c->maximize = hp->maximize != 0;
    c->wd_mode = hp->weight_decay == 0 ? OK_WD_NONE : hp->decouple ? OK_WD_DECOUPLED : OK_WD_COUPLED;
}

OK_FN unsigned ok_adopt_required(const void *hparams) {
    (void)hparams;
    return 3u;
}

static const ok_field ok_adopt_fields[] = {
    OK_FIELD(ok_adopt_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adopt_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adopt_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adopt_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adopt_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adopt_hparams, clip, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adopt_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adopt_hparams, clipped, OK_FIELD_INT),
    OK_FIELD(ok_adopt_hparams, decouple, OK_FIELD_INT),
    OK_FIELD(ok_adopt_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_adopt_states[] = {"exp_avg", "exp_avg_sq"};

OK_HOST_ONLY(static const ok_optimizer ok_adopt_optimizer = {OK_DESCRIPTOR(adopt)};)

#endif /* OPTKERN_OPTIM_ADOPT_H */
