/*
 * AdEMAMix's descriptor: pytorch-optimizer's AdEMAMix (Pagliardini et al.
 * 2024), docs/optimizers.md#ademamix. The kernel body is
 * optim/ademamix-inl.h. Its fast moment and second moment are Adam's
 * (optim/moments.h); the slow moment is its own.
 */
#ifndef OPTKERN_OPTIM_ADEMAMIX_H
#define OPTKERN_OPTIM_ADEMAMIX_H

#include <math.h>

#include "optim/descriptor.h"
#include "optim/moments.h"

typedef struct ok_ademamix_coeffs {
    ok_moments_coeffs moments;  /* maximize, weight decay, m and v: optim/moments.h */
    ok_lerp slow_lerp;          /* exp_avg_slow <- lerp(exp_avg_slow, g, 1 - beta3_t) */
    double alpha;               /* alpha_t */
    double bias_correction1;    /* 1 - beta1^t: m is divided by it */
    double bias_correction2_sqrt; /* sqrt(1 - beta2^t): sqrt(v) is divided by it */
    double eps, lr;
} ok_ademamix_coeffs;
OK_GRAD_SCALING_FIRST(ok_ademamix_coeffs, moments.grad);

/* pytorch-optimizer's state order. */
enum { OK_ADEMAMIX_EXP_AVG = OK_OPT_STATE, OK_ADEMAMIX_EXP_AVG_SQ, OK_ADEMAMIX_EXP_AVG_SLOW };

/* pytorch-optimizer's checks: lr, alpha, eps, weight_decay >= 0, beta1 and
 * beta2 in [0, 1), beta3 in [0, 1]. Its warm-up interpolates the logarithms
 * of beta1 and beta3, which it cannot take at 0 (nor divide by a warm-up of
 * 0 steps): with a warm-up, both betas must be > 0 (it raises there too).
 * Written so that NaN fails. */
OK_FN ok_status ok_ademamix_checked(const void *hparams) {
    const ok_ademamix_hparams *hp = (const ok_ademamix_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->alpha >= 0) || !(hp->eps >= 0) || !(hp->weight_decay >= 0))
        return OK_ERR_HYPERPARAMETER;
    if (!(hp->beta1 >= 0 && hp->beta1 < 1) || !(hp->beta2 >= 0 && hp->beta2 < 1) || !(hp->beta3 >= 0 && hp->beta3 <= 1))
        return OK_ERR_HYPERPARAMETER;
    if (!(hp->t_alpha_beta3 >= 0)) return OK_ERR_HYPERPARAMETER;
    if (hp->t_alpha_beta3 > 0 && !(hp->beta1 > 0 && hp->beta3 > 0)) return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

/* alpha_t = min(t alpha / T, alpha) and
 * beta3_t = min(exp(ln beta1 ln beta3 / ((1 - t/T) ln beta3 + (t/T) ln beta1)), beta3),
 * the paper's warm-ups over T = t_alpha_beta3 steps, in pytorch-optimizer's
 * order of operations (in double, as its Python). */
OK_FN double ok_ademamix_alpha(const ok_ademamix_hparams *hp, double t) {
    return hp->t_alpha_beta3 > 0 ? fmin(t * hp->alpha / hp->t_alpha_beta3, hp->alpha) : hp->alpha;
}

OK_FN double ok_ademamix_beta3(const ok_ademamix_hparams *hp, double t) {
    if (!(hp->t_alpha_beta3 > 0)) return hp->beta3;
    double log_beta1 = log(hp->beta1), log_beta3 = log(hp->beta3), s = t / hp->t_alpha_beta3;
    return fmin(exp(log_beta1 * log_beta3 / ((1.0 - s) * log_beta3 + s * log_beta1)), hp->beta3);
}

OK_FN void ok_ademamix_prepare(const void *hparams, void *coeffs) {
    const ok_ademamix_hparams *hp = (const ok_ademamix_hparams *)hparams;
    ok_ademamix_coeffs *c = (ok_ademamix_coeffs *)coeffs;
    double t = (double)hp->step;
    /* the decoupled decay is 1 - lr wd, or 1 - wd with fixed_decay */
    ok_moments_prepare(&c->moments, hp->fixed_decay ? 1.0 : hp->lr, hp->beta1, hp->beta2, hp->weight_decay,
                       hp->maximize, hp->weight_decouple);
    c->slow_lerp = ok_lerp_weight(1.0 - ok_ademamix_beta3(hp, t));
    c->alpha = ok_ademamix_alpha(hp, t);
    c->bias_correction1 = 1.0 - pow(hp->beta1, t);
    c->bias_correction2_sqrt = sqrt(1.0 - pow(hp->beta2, t));
    c->eps = hp->eps;
    c->lr = hp->lr;
}

OK_FN unsigned ok_ademamix_required(const void *hparams) {
    (void)hparams;
    return 7u;
}

static const ok_field ok_ademamix_fields[] = {
    OK_FIELD(ok_ademamix_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, beta3, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, alpha, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, t_alpha_beta3, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_ademamix_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_ademamix_hparams, weight_decouple, OK_FIELD_INT),
    OK_FIELD(ok_ademamix_hparams, fixed_decay, OK_FIELD_INT),
    OK_FIELD(ok_ademamix_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_ademamix_states[] = {"exp_avg", "exp_avg_sq", "exp_avg_slow"};

OK_HOST_ONLY(static const ok_optimizer ok_ademamix_optimizer = {OK_DESCRIPTOR(ademamix)};)

#endif /* OPTKERN_OPTIM_ADEMAMIX_H */
