/*
 * ASGD's descriptor: torch.optim.ASGD, docs/optimizers.md#asgd. The
 * kernel body is optim/asgd-inl.h. Its states eta and mu are scalar states
 * (optim/descriptor.h), a float per tensor as torch keeps them.
 */
#ifndef OPTKERN_OPTIM_ASGD_H
#define OPTKERN_OPTIM_ASGD_H

#include <math.h>

#include "optim/descriptor.h"

typedef struct ok_asgd_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lambd, weight_decay;
    float first_eta;              /* float32(lr): eta on step 1 */
    float new_eta, new_mu;        /* every tensor's eta and mu after this step */
    int maximize, has_weight_decay, first;
} ok_asgd_coeffs;
OK_GRAD_SCALING_FIRST(ok_asgd_coeffs, grad);

/* torch's functional asgd's order: axs, mus, etas */
enum { OK_ASGD_AX = OK_OPT_STATE, OK_ASGD_MU, OK_ASGD_ETA };

OK_FN ok_status ok_asgd_checked(const void *hparams) {
    const ok_asgd_hparams *hp = (const ok_asgd_hparams *)hparams;
    /* Written so that NaN fails; torch checks lambd, alpha and t0 not at all. */
    if (!(hp->lr >= 0) || !(hp->weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (isnan(hp->lambd) || isnan(hp->alpha) || isnan(hp->t0)) return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

/* The new eta and mu, computed in double as torch's Python computes them
 * and rounded to float32 as its 0-d tensors store them. */
OK_FN void ok_asgd_prepare(const void *hparams, void *coeffs) {
    const ok_asgd_hparams *hp = (const ok_asgd_hparams *)hparams;
    ok_asgd_coeffs *c = (ok_asgd_coeffs *)coeffs;
    double t = (double)hp->step;
    c->lambd = hp->lambd;
    c->weight_decay = hp->weight_decay;
    c->first_eta = (float)hp->lr;
    c->new_eta = (float)(hp->lr / pow(1.0 + hp->lambd * hp->lr * t, hp->alpha));
    c->new_mu = (float)(1.0 / fmax(1.0, t - hp->t0));
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
    c->first = hp->step == 1;
}

OK_FN void ok_asgd_advance(const void *coeffs, float *const *scalar) {
    const ok_asgd_coeffs *c = (const ok_asgd_coeffs *)coeffs;
    float *mu = scalar[OK_ASGD_MU - OK_OPT_STATE], *eta = scalar[OK_ASGD_ETA - OK_OPT_STATE];
    if (mu) *mu = c->new_mu;
    if (eta) *eta = c->new_eta;
}

OK_FN unsigned ok_asgd_required(const void *hparams) {
    (void)hparams;
    return 7u;
}

static const ok_field ok_asgd_fields[] = {
    OK_FIELD(ok_asgd_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_asgd_hparams, lambd, OK_FIELD_DOUBLE),
    OK_FIELD(ok_asgd_hparams, alpha, OK_FIELD_DOUBLE),
    OK_FIELD(ok_asgd_hparams, t0, OK_FIELD_DOUBLE),
    OK_FIELD(ok_asgd_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_asgd_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_asgd_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_asgd_states[] = {"ax", "mu", "eta"};

OK_HOST_ONLY(static const ok_optimizer ok_asgd_optimizer = {OK_DESCRIPTOR(asgd),
    .scalars = 1u << (OK_ASGD_MU - OK_OPT_STATE) | 1u << (OK_ASGD_ETA - OK_OPT_STATE), .advance = ok_asgd_advance};)

#endif /* OPTKERN_OPTIM_ASGD_H */
