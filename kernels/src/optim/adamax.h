/*
 * Adamax's descriptor: torch.optim.Adamax, docs/optimizers.md#adamax. The
 * kernel body is optim/adamax-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADAMAX_H
#define OPTKERN_OPTIM_ADAMAX_H

#include <math.h>

#include "optim/descriptor.h"
#include "optim/moments.h"

typedef struct ok_adamax_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    ok_lerp exp_avg_lerp; /* m <- lerp(m, g, 1 - beta1), as Adam's */
    double beta2, eps;
    double weight_decay;  /* coupled: g += weight_decay * param */
    double step_size;     /* lr / (1 - beta1^t) */
    int maximize, has_weight_decay;
} ok_adamax_coeffs;
OK_GRAD_SCALING_FIRST(ok_adamax_coeffs, grad);

/* The states in the order of torch's functional adamax. */
enum { OK_ADAMAX_EXP_AVG = OK_OPT_STATE, OK_ADAMAX_EXP_INF };

/* Adam's checks (optim/moments.h). */
OK_FN ok_status ok_adamax_checked(const void *hparams) {
    const ok_adamax_hparams *hp = (const ok_adamax_hparams *)hparams;
    return ok_moments_checked(hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, hp->step);
}

OK_FN void ok_adamax_prepare(const void *hparams, void *coeffs) {
    const ok_adamax_hparams *hp = (const ok_adamax_hparams *)hparams;
    ok_adamax_coeffs *c = (ok_adamax_coeffs *)coeffs;
    c->exp_avg_lerp = ok_lerp_weight(1.0 - hp->beta1);
    c->beta2 = hp->beta2;
    c->eps = hp->eps;
    c->weight_decay = hp->weight_decay;
    c->step_size = hp->lr / (1.0 - pow(hp->beta1, (double)hp->step));
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
}

/* Both moments, always. */
OK_FN unsigned ok_adamax_required(const void *hparams) {
    (void)hparams;
    return 3u;
}

static const ok_field ok_adamax_fields[] = {
    OK_FIELD(ok_adamax_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamax_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamax_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamax_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamax_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamax_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adamax_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_adamax_states[] = {"exp_avg", "exp_inf"};

OK_HOST_ONLY(static const ok_optimizer ok_adamax_optimizer = {OK_DESCRIPTOR(adamax)};)

#endif /* OPTKERN_OPTIM_ADAMAX_H */
