/*
 * Adan's descriptor: the official implementation of Xie et al.'s Adan
 * (pytorch-optimizer's Adan computes the same), docs/optimizers.md#adan.
 * The kernel body is optim/adan-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADAN_H
#define OPTKERN_OPTIM_ADAN_H

#include <math.h>

#include "optim/descriptor.h"

/* Weight decay, as Adan applies it. */
enum { OK_ADAN_WD_NONE = 0, OK_ADAN_WD_NO_PROX = 1, OK_ADAN_WD_PROX = 2 };

typedef struct ok_adan_coeffs {
    ok_grad_scaling grad;  /* first: the call's gradient scaling (optim/descriptor.h): max_grad_norm's clip */
    ok_lerp exp_avg_lerp;  /* m <- lerp(m, g, 1 - beta1) */
    ok_lerp diff_lerp;     /* d <- lerp(d, g - g_prev, 1 - beta2) */
    double beta2, beta3, one_minus_beta3, eps;
    double bias_correction3_sqrt; /* sqrt(1 - beta3^t): sqrt(n) is divided by it */
    double step_size;      /* lr / (1 - beta1^t) */
    double diff_step_size; /* lr beta2 / (1 - beta2^t) */
    double decay;          /* no_prox: p *= 1 - lr wd */
    double prox;           /* else: p /= 1 + lr wd */
    int wd_mode, first_step;
} ok_adan_coeffs;
OK_GRAD_SCALING_FIRST(ok_adan_coeffs, grad);

/* The states in the order of the official functional _single_tensor_adan. */
enum { OK_ADAN_EXP_AVG = OK_OPT_STATE, OK_ADAN_EXP_AVG_SQ, OK_ADAN_EXP_AVG_DIFF, OK_ADAN_NEG_PRE_GRAD };

/* The official checks (lr, eps >= 0, the betas in [0, 1)); it does not
 * check weight_decay, which pytorch-optimizer and optkern refuse below 0
 * (1 + lr wd would reach 0). Written so that NaN fails. */
OK_FN ok_status ok_adan_checked(const void *hparams) {
    const ok_adan_hparams *hp = (const ok_adan_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->eps >= 0) || !(hp->weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(hp->beta1 >= 0 && hp->beta1 < 1) || !(hp->beta2 >= 0 && hp->beta2 < 1) || !(hp->beta3 >= 0 && hp->beta3 < 1))
        return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_adan_prepare(const void *hparams, void *coeffs) {
    const ok_adan_hparams *hp = (const ok_adan_hparams *)hparams;
    ok_adan_coeffs *c = (ok_adan_coeffs *)coeffs;
    double t = (double)hp->step;
    c->exp_avg_lerp = ok_lerp_weight(1.0 - hp->beta1);
    c->diff_lerp = ok_lerp_weight(1.0 - hp->beta2);
    c->beta2 = hp->beta2;
    c->beta3 = hp->beta3;
    c->one_minus_beta3 = 1.0 - hp->beta3;
    c->eps = hp->eps;
    c->bias_correction3_sqrt = sqrt(1.0 - pow(hp->beta3, t));
    c->step_size = hp->lr / (1.0 - pow(hp->beta1, t));
    c->diff_step_size = hp->lr * hp->beta2 / (1.0 - pow(hp->beta2, t));
    c->decay = 1.0 - hp->lr * hp->weight_decay;
    c->prox = 1.0 + hp->lr * hp->weight_decay;
    c->wd_mode = hp->weight_decay == 0 ? OK_ADAN_WD_NONE : hp->no_prox ? OK_ADAN_WD_NO_PROX : OK_ADAN_WD_PROX;
    c->first_step = hp->first_step != 0;
}

OK_FN unsigned ok_adan_required(const void *hparams) {
    (void)hparams;
    return 15u;
}

static const ok_field ok_adan_fields[] = {
    OK_FIELD(ok_adan_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adan_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adan_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adan_hparams, beta3, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adan_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adan_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adan_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adan_hparams, no_prox, OK_FIELD_INT),
    OK_FIELD(ok_adan_hparams, first_step, OK_FIELD_INT),
};

static const char *const ok_adan_states[] = {"exp_avg", "exp_avg_sq", "exp_avg_diff", "neg_pre_grad"};

OK_HOST_ONLY(static const ok_optimizer ok_adan_optimizer = {OK_DESCRIPTOR(adan)};)

#endif /* OPTKERN_OPTIM_ADAN_H */
