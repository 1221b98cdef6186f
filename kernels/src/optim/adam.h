/*
 * Adam's (and AdamW's) descriptor: torch.optim.Adam,
 * docs/optimizers.md#adam-and-adamw. The kernel body is optim/adam-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADAM_H
#define OPTKERN_OPTIM_ADAM_H

#include <math.h>

#include "optim/descriptor.h"

typedef struct ok_adam_coeffs {
    ok_lerp exp_avg_lerp;         /* m <- lerp(m, g, 1 - beta1): exact at beta1 = 0 (m becomes g) */
    double beta2, one_minus_beta2;
    double eps;
    double weight_decay;          /* coupled: g += weight_decay * param */
    double decay;                 /* decoupled: param *= 1 - lr * weight_decay */
    double step_size;             /* lr / (1 - beta1^t) */
    double inv_bias_correction2_sqrt; /* 1 / sqrt(1 - beta2^t) */
    int maximize, amsgrad, wd_mode;
} ok_adam_coeffs;

enum { OK_ADAM_EXP_AVG = OK_OPT_STATE, OK_ADAM_EXP_AVG_SQ, OK_ADAM_MAX_EXP_AVG_SQ };

static inline ok_status ok_adam_checked(const void *hparams) {
    const ok_adam_hparams *hp = (const ok_adam_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->eps >= 0) || !(hp->weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(hp->beta1 >= 0 && hp->beta1 < 1) || !(hp->beta2 >= 0 && hp->beta2 < 1)) return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

static inline void ok_adam_prepare(const void *hparams, void *coeffs) {
    const ok_adam_hparams *hp = (const ok_adam_hparams *)hparams;
    ok_adam_coeffs *c = (ok_adam_coeffs *)coeffs;
    double t = (double)hp->step;
    c->exp_avg_lerp = ok_lerp_weight(1.0 - hp->beta1);
    c->beta2 = hp->beta2;
    c->one_minus_beta2 = 1.0 - hp->beta2;
    c->eps = hp->eps;
    c->weight_decay = hp->weight_decay;
    c->decay = 1.0 - hp->lr * hp->weight_decay;
    c->step_size = hp->lr / (1.0 - pow(hp->beta1, t));
    c->inv_bias_correction2_sqrt = 1.0 / sqrt(1.0 - pow(hp->beta2, t));
    c->maximize = hp->maximize != 0;
    c->amsgrad = hp->amsgrad != 0;
    c->wd_mode = hp->weight_decay == 0 ? OK_WD_NONE : hp->decoupled_weight_decay ? OK_WD_DECOUPLED : OK_WD_COUPLED;
}

/* exp_avg and exp_avg_sq always; max_exp_avg_sq with amsgrad. */
static inline unsigned ok_adam_required(const void *hparams) {
    return 3u | (((const ok_adam_hparams *)hparams)->amsgrad ? 4u : 0u);
}

static const ok_field ok_adam_fields[] = {
    OK_FIELD(ok_adam_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adam_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adam_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adam_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adam_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adam_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adam_hparams, amsgrad, OK_FIELD_INT),
    OK_FIELD(ok_adam_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_adam_hparams, decoupled_weight_decay, OK_FIELD_INT),
};

static const char *const ok_adam_states[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

static const ok_optimizer ok_adam_optimizer = {
    "adam", OK_OPT_adam, sizeof(ok_adam_hparams), OK_COUNT_OF(ok_adam_fields), ok_adam_fields,
    OK_COUNT_OF(ok_adam_states), ok_adam_states, sizeof(ok_adam_coeffs), ok_adam_checked, ok_adam_prepare,
    ok_adam_required,
};

#endif /* OPTKERN_OPTIM_ADAM_H */
