/*
 * Adam's (and AdamW's) descriptor: torch.optim.Adam,
 * docs/optimizers.md#adam-and-adamw. The kernel body is optim/adam-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADAM_H
#define OPTKERN_OPTIM_ADAM_H

#include <math.h>

#include "optim/descriptor.h"
#include "optim/moments.h"

typedef struct ok_adam_coeffs {
    ok_moments_coeffs moments;    /* maximize, weight decay, m and v: optim/moments.h */
    double eps;
    double step_size;             /* lr / (1 - beta1^t) */
    double inv_bias_correction2_sqrt; /* 1 / sqrt(1 - beta2^t) */
    int amsgrad;
} ok_adam_coeffs;
OK_GRAD_SCALING_FIRST(ok_adam_coeffs, moments.grad);

enum { OK_ADAM_EXP_AVG = OK_OPT_STATE, OK_ADAM_EXP_AVG_SQ, OK_ADAM_MAX_EXP_AVG_SQ };

OK_FN ok_status ok_adam_checked(const void *hparams) {
    const ok_adam_hparams *hp = (const ok_adam_hparams *)hparams;
    return ok_moments_checked(hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, hp->step);
}

OK_FN void ok_adam_prepare(const void *hparams, void *coeffs) {
    const ok_adam_hparams *hp = (const ok_adam_hparams *)hparams;
    ok_adam_coeffs *c = (ok_adam_coeffs *)coeffs;
    double t = (double)hp->step;
    ok_moments_prepare(&c->moments, hp->lr, hp->beta1, hp->beta2, hp->weight_decay, hp->maximize,
                       hp->decoupled_weight_decay);
    c->eps = hp->eps;
    c->step_size = hp->lr / (1.0 - pow(hp->beta1, t));
    c->inv_bias_correction2_sqrt = 1.0 / sqrt(1.0 - pow(hp->beta2, t));
    c->amsgrad = hp->amsgrad != 0;
}

/* exp_avg and exp_avg_sq always; max_exp_avg_sq with amsgrad. */
OK_FN unsigned ok_adam_required(const void *hparams) {
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

OK_HOST_ONLY(static const ok_optimizer ok_adam_optimizer = {OK_DESCRIPTOR(adam)};)

#endif /* OPTKERN_OPTIM_ADAM_H */
