/*
 * RAdam's descriptor: torch.optim.RAdam, docs/optimizers.md#radam. The
 * kernel body is optim/radam-inl.h.
 */
#ifndef OPTKERN_OPTIM_RADAM_H
#define OPTKERN_OPTIM_RADAM_H

#include <math.h>

#include "optim/descriptor.h"
#include "optim/moments.h"

typedef struct ok_radam_coeffs {
    ok_moments_coeffs moments;    /* maximize, weight decay, m and v: optim/moments.h */
    double eps;
    /* rectified: lr * r * sqrt(1 - beta2^t) / (1 - beta1^t), else lr / (1 - beta1^t) */
    double step_size;
    int rectified;                /* rho_t > 5: the step divides by sqrt(v) + eps */
} ok_radam_coeffs;
OK_GRAD_SCALING_FIRST(ok_radam_coeffs, moments.grad);

enum { OK_RADAM_EXP_AVG = OK_OPT_STATE, OK_RADAM_EXP_AVG_SQ };

OK_FN ok_status ok_radam_checked(const void *hparams) {
    const ok_radam_hparams *hp = (const ok_radam_hparams *)hparams;
    return ok_moments_checked(hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, hp->step);
}

/* rho_inf = 2/(1 - beta2) - 1, rho_t = rho_inf - 2t beta2^t/(1 - beta2^t);
 * r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)). */
OK_FN void ok_radam_prepare(const void *hparams, void *coeffs) {
    const ok_radam_hparams *hp = (const ok_radam_hparams *)hparams;
    ok_radam_coeffs *c = (ok_radam_coeffs *)coeffs;
    double t = (double)hp->step;
    ok_moments_prepare(&c->moments, hp->lr, hp->beta1, hp->beta2, hp->weight_decay, hp->maximize,
                       hp->decoupled_weight_decay);
    c->eps = hp->eps;
    double bias_correction1 = 1.0 - pow(hp->beta1, t);
    double beta2_t = pow(hp->beta2, t), bias_correction2 = 1.0 - beta2_t;
    double rho_inf = 2.0 / (1.0 - hp->beta2) - 1.0;
    double rho_t = rho_inf - 2.0 * t * beta2_t / bias_correction2;
    c->rectified = rho_t > 5.0;
    if (c->rectified) {
        double r = sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
        c->step_size = hp->lr * r * sqrt(bias_correction2) / bias_correction1;
    } else {
        c->step_size = hp->lr / bias_correction1;
    }
}

OK_FN unsigned ok_radam_required(const void *hparams) {
    (void)hparams;
    return 3u;
}

static const ok_field ok_radam_fields[] = {
    OK_FIELD(ok_radam_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_radam_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_radam_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_radam_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_radam_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_radam_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_radam_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_radam_hparams, decoupled_weight_decay, OK_FIELD_INT),
};

static const char *const ok_radam_states[] = {"exp_avg", "exp_avg_sq"};

OK_HOST_ONLY(static const ok_optimizer ok_radam_optimizer = {OK_DESCRIPTOR(radam)};)

#endif /* OPTKERN_OPTIM_RADAM_H */
