/*
 * NAdam's descriptor: torch.optim.NAdam, docs/optimizers.md#nadam. The
 * kernel body is optim/nadam-inl.h. Its state mu_product is a scalar
 * state (optim/descriptor.h), a float per tensor as torch keeps it.
 */
#ifndef OPTKERN_OPTIM_NADAM_H
#define OPTKERN_OPTIM_NADAM_H

#include <math.h>

#include "optim/descriptor.h"
#include "optim/moments.h"

typedef struct ok_nadam_coeffs {
    ok_moments_coeffs moments;    /* maximize, weight decay, m and v: optim/moments.h */
    double eps;
    double bias_correction2;      /* 1 - beta2^t: v is divided by it */
    double lr, mu, mu_next;       /* mu_t and mu_{t+1} */
    float mu_f32;                 /* mu_t as torch multiplies its float32 mu_product by it */
    int first;                    /* t = 1: mu_product starts at 1 */
} ok_nadam_coeffs;
OK_GRAD_SCALING_FIRST(ok_nadam_coeffs, moments.grad);

enum { OK_NADAM_EXP_AVG = OK_OPT_STATE, OK_NADAM_EXP_AVG_SQ, OK_NADAM_MU_PRODUCT };

OK_FN ok_status ok_nadam_checked(const void *hparams) {
    const ok_nadam_hparams *hp = (const ok_nadam_hparams *)hparams;
    if (!(hp->momentum_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    return ok_moments_checked(hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, hp->step);
}

/* mu_t = beta1 (1 - 0.96^(t psi) / 2), psi = momentum_decay, in double as torch's Python does. */
OK_FN double ok_nadam_mu(const ok_nadam_hparams *hp, double t) {
    return hp->beta1 * (1.0 - 0.5 * pow(0.96, t * hp->momentum_decay));
}

OK_FN void ok_nadam_prepare(const void *hparams, void *coeffs) {
    const ok_nadam_hparams *hp = (const ok_nadam_hparams *)hparams;
    ok_nadam_coeffs *c = (ok_nadam_coeffs *)coeffs;
    double t = (double)hp->step;
    ok_moments_prepare(&c->moments, hp->lr, hp->beta1, hp->beta2, hp->weight_decay, hp->maximize,
                       hp->decoupled_weight_decay);
    c->eps = hp->eps;
    c->bias_correction2 = 1.0 - pow(hp->beta2, t);
    c->lr = hp->lr;
    c->mu = ok_nadam_mu(hp, t);
    c->mu_next = ok_nadam_mu(hp, t + 1.0);
    c->mu_f32 = (float)c->mu;
    c->first = hp->step == 1;
}

/* The tensor's mu_product after this step, from the one before it: torch's
 * float32 `mu_product *= mu` (the float product of two floats is rounded
 * once, as torch's is). */
OK_FN float ok_nadam_mu_product(const ok_nadam_coeffs *c, float before) {
    return (c->first ? 1.0f : before) * c->mu_f32;
}

OK_FN void ok_nadam_advance(const void *coeffs, float *const *scalar) {
    float *mu_product = scalar[OK_NADAM_MU_PRODUCT - OK_OPT_STATE];
    if (mu_product) *mu_product = ok_nadam_mu_product((const ok_nadam_coeffs *)coeffs, *mu_product);
}

OK_FN unsigned ok_nadam_required(const void *hparams) {
    (void)hparams;
    return 7u;
}

static const ok_field ok_nadam_fields[] = {
    OK_FIELD(ok_nadam_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_nadam_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_nadam_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_nadam_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_nadam_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_nadam_hparams, momentum_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_nadam_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_nadam_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_nadam_hparams, decoupled_weight_decay, OK_FIELD_INT),
};

/* torch's functional nadam's order: exp_avgs, exp_avg_sqs, mu_products */
static const char *const ok_nadam_states[] = {"exp_avg", "exp_avg_sq", "mu_product"};

OK_HOST_ONLY(static const ok_optimizer ok_nadam_optimizer = {OK_DESCRIPTOR(nadam),
                                                  .scalars = 1u << (OK_NADAM_MU_PRODUCT - OK_OPT_STATE), .advance = ok_nadam_advance};)

#endif /* OPTKERN_OPTIM_NADAM_H */
