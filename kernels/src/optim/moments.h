/*
 * What Adam, RAdam, NAdam and AdEMAMix share: the first half of their update
 * (maximize, weight decay coupled or decoupled, the two moment averages),
 * docs/optimizers.md#adam-and-adamw. Each of their coefficient structs holds
 * an ok_moments_coeffs, prepared by ok_moments_prepare; the lanes that apply
 * it are in optim/moments-inl.h.
 */
#ifndef OPTKERN_OPTIM_MOMENTS_H
#define OPTKERN_OPTIM_MOMENTS_H

#include "optim/descriptor.h"

typedef struct ok_moments_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    ok_lerp exp_avg_lerp;         /* m <- lerp(m, g, 1 - beta1): exact at beta1 = 0 (m becomes g) */
    double beta2, one_minus_beta2;
    double weight_decay;          /* coupled: g += weight_decay * param */
    double decay;                 /* decoupled: param *= 1 - lr * weight_decay */
    int maximize, wd_mode;
} ok_moments_coeffs;
OK_GRAD_SCALING_FIRST(ok_moments_coeffs, grad);

OK_FN void ok_moments_prepare(ok_moments_coeffs *c, double lr, double beta1, double beta2,
                                      double weight_decay, int maximize, int decoupled_weight_decay) {
    c->exp_avg_lerp = ok_lerp_weight(1.0 - beta1);
    c->beta2 = beta2;
    c->one_minus_beta2 = 1.0 - beta2;
    c->weight_decay = weight_decay;
    c->decay = 1.0 - lr * weight_decay;
    c->maximize = maximize != 0;
    c->wd_mode = weight_decay == 0 ? OK_WD_NONE : decoupled_weight_decay ? OK_WD_DECOUPLED : OK_WD_COUPLED;
}

/* The checks the three share: lr, eps and weight_decay >= 0, both betas in
 * [0, 1), written so that NaN fails; step >= 1. */
OK_FN ok_status ok_moments_checked(double lr, double beta1, double beta2, double eps, double weight_decay,
                                           int64_t step) {
    if (!(lr >= 0) || !(eps >= 0) || !(weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) return OK_ERR_HYPERPARAMETER;
    if (step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

#endif /* OPTKERN_OPTIM_MOMENTS_H */
