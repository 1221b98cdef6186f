/*
 * LAMB's descriptor: NVIDIA apex's FusedLAMB, docs/optimizers.md#lamb.
 *
 * Not an elementwise optimizer: its gradients are clipped by their global
 * norm G before the moments see them, and each tensor's update is scaled
 * by |p| / |u|, norms of the whole tensor. Its runner (norms.c, on the
 * task of optim/norms.h) makes three passes over the tensor list:
 *
 *   grad_sq  (blocks)  the sum of g^2; G is their total over every tensor
 *                      (skipped when no set clips)
 *   moments  (blocks)  m, v and the update u; the sums of p^2 and u^2. A
 *                      tensor without the trust ratio takes its whole step
 *                      here: p <- p - lr u
 *   apply    (blocks)  the others: u again, from the new m and v;
 *                      p <- p - lr (|p| / |u|) u
 *
 * The kernel bodies are optim/lamb-inl.h.
 */
#ifndef OPTKERN_OPTIM_LAMB_H
#define OPTKERN_OPTIM_LAMB_H

#include <math.h>

#include "optim/descriptor.h"
#include "optim/moments.h"
#include "optim/norms.h"

typedef struct ok_lamb_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lr;
    double beta1, beta3;  /* m <- beta1 m + beta3 g: beta3 = 1 - beta1, or 1 without grad_averaging */
    double beta2, one_minus_beta2;
    double bias_correction1, bias_correction2; /* 1 - beta^t, or 1 without bias_correction */
    double eps, weight_decay, max_grad_norm;
    int wd_mode;          /* OK_WD_COUPLED: into g (adam_w_mode 0); OK_WD_DECOUPLED: into u */
    int adapt;            /* the trust ratio applies: weight_decay != 0 or use_nvlamb */
} ok_lamb_coeffs;
OK_GRAD_SCALING_FIRST(ok_lamb_coeffs, grad);

enum { OK_LAMB_EXP_AVG = OK_OPT_STATE, OK_LAMB_EXP_AVG_SQ };

/* Adam's checks (optim/moments.h) and max_grad_norm > 0 (inf: no clipping). */
OK_FN ok_status ok_lamb_checked(const void *hparams) {
    const ok_lamb_hparams *hp = (const ok_lamb_hparams *)hparams;
    if (!(hp->max_grad_norm > 0)) return OK_ERR_HYPERPARAMETER;
    return ok_moments_checked(hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, hp->step);
}

OK_FN void ok_lamb_prepare(const void *hparams, void *coeffs) {
    const ok_lamb_hparams *hp = (const ok_lamb_hparams *)hparams;
    ok_lamb_coeffs *c = (ok_lamb_coeffs *)coeffs;
    double t = (double)hp->step;
    c->lr = hp->lr;
    c->beta1 = hp->beta1;
    c->beta3 = hp->grad_averaging ? 1.0 - hp->beta1 : 1.0;
    c->beta2 = hp->beta2;
    c->one_minus_beta2 = 1.0 - hp->beta2;
    c->bias_correction1 = hp->bias_correction ? 1.0 - pow(hp->beta1, t) : 1.0;
    c->bias_correction2 = hp->bias_correction ? 1.0 - pow(hp->beta2, t) : 1.0;
    c->eps = hp->eps;
    c->weight_decay = hp->weight_decay;
    c->max_grad_norm = hp->max_grad_norm;
    c->wd_mode = hp->weight_decay == 0 ? OK_WD_NONE : hp->adam_w_mode ? OK_WD_DECOUPLED : OK_WD_COUPLED;
    c->adapt = hp->weight_decay != 0 || hp->use_nvlamb;
}

/* What a tensor's gradients are divided by, from G, the norm of every
 * gradient of the call: G / max_grad_norm where G exceeds it (not where G
 * is NaN, as apex's comparison), else 1. */
OK_FN double ok_lamb_clip(const ok_lamb_coeffs *c, double norm) {
    return norm > c->max_grad_norm ? norm / c->max_grad_norm : 1.0;
}

/* lr times the trust ratio |p| / |u|, the ratio 1 where either is 0 (NaN
 * stays: apex's != 0). */
OK_FN double ok_lamb_scale(const ok_lamb_coeffs *c, double p_norm, double u_norm) {
    return p_norm != 0 && u_norm != 0 ? c->lr * (p_norm / u_norm) : c->lr;
}

OK_FN unsigned ok_lamb_required(const void *hparams) {
    (void)hparams;
    return 3u;
}

static const ok_field ok_lamb_fields[] = {
    OK_FIELD(ok_lamb_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lamb_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lamb_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lamb_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lamb_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lamb_hparams, max_grad_norm, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lamb_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_lamb_hparams, bias_correction, OK_FIELD_INT),
    OK_FIELD(ok_lamb_hparams, adam_w_mode, OK_FIELD_INT),
    OK_FIELD(ok_lamb_hparams, grad_averaging, OK_FIELD_INT),
    OK_FIELD(ok_lamb_hparams, use_nvlamb, OK_FIELD_INT),
};

static const char *const ok_lamb_states[] = {"exp_avg", "exp_avg_sq"};

ok_status ok_lamb_run(const ok_mt_task *task);

OK_HOST_ONLY(static const ok_optimizer ok_lamb_optimizer = {OK_DESCRIPTOR(lamb), .run = ok_lamb_run};)

#endif /* OPTKERN_OPTIM_LAMB_H */
