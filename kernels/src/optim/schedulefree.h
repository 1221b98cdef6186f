/*
 * The descriptors of schedule-free SGD and AdamW: facebookresearch's
 * schedulefree package (SGDScheduleFree, AdamWScheduleFree),
 * docs/optimizers.md#schedule-free-sgd-and-adamw. The kernel bodies are
 * optim/schedulefree-inl.h.
 *
 * Both end their step alike (y and z from a direction u: the gradient, or
 * AdamW's normalised one) and switch the parameters between y and x alike
 * (train(), eval()): ok_schedulefree_coeffs holds what that part reads, and
 * each optimizer's coefficients begin with it.
 */
#ifndef OPTKERN_OPTIM_SCHEDULEFREE_H
#define OPTKERN_OPTIM_SCHEDULEFREE_H

#include <math.h>

#include "optim/descriptor.h"

typedef struct ok_schedulefree_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    /* a step: y <- lerp(y, z, ckp1); a switch: p <- lerp(p, z, 1 - beta) or
     * lerp(p, z, 1 - 1/beta) (torch's two-sided lerp, ok_lerp) */
    ok_lerp toward_z;
    double y_step;        /* lr * (beta * (1 - ckp1) - 1): y's step along u */
    double lr;            /* z's step along u */
    double weight_decay;  /* u <- u + weight_decay * y */
    int has_weight_decay, first_step, mode;
} ok_schedulefree_coeffs;
OK_GRAD_SCALING_FIRST(ok_schedulefree_coeffs, grad);

/* The checks both make, written so that NaN fails: lr and weight_decay
 * >= 0, beta in (0, 1) (eval() divides by it), ckp1 in [0, 1], a known mode. */
OK_FN ok_status ok_schedulefree_checked(double lr, double beta, double weight_decay, double ckp1,
                                                int64_t mode) {
    if (!(lr >= 0) || !(weight_decay >= 0) || !(beta > 0 && beta < 1) || !(ckp1 >= 0 && ckp1 <= 1))
        return OK_ERR_HYPERPARAMETER;
    if (mode != OK_SCHEDULEFREE_STEP && mode != OK_SCHEDULEFREE_TO_Y && mode != OK_SCHEDULEFREE_TO_X)
        return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

/* The scalars in double, as the reference computes them in Python. */
OK_FN void ok_schedulefree_prepare(ok_schedulefree_coeffs *c, double lr, double beta, double weight_decay,
                                           double ckp1, int first_step, int64_t mode) {
    double w = mode == OK_SCHEDULEFREE_TO_Y ? 1.0 - beta : mode == OK_SCHEDULEFREE_TO_X ? 1.0 - 1.0 / beta : ckp1;
    c->toward_z = ok_lerp_weight(w);
    c->y_step = lr * (beta * (1.0 - ckp1) - 1.0);
    c->lr = lr;
    c->weight_decay = weight_decay;
    c->has_weight_decay = weight_decay != 0;
    c->first_step = first_step != 0;
    c->mode = (int)mode;
}

/* A step needs `states` (its bits), a switch none: z comes in the
 * gradient's stream. */
OK_FN unsigned ok_schedulefree_required(int64_t mode, unsigned states) {
    return mode == OK_SCHEDULEFREE_STEP ? states : 0u;
}

/* ------------------------------------------------------------------ SGD */

typedef ok_schedulefree_coeffs ok_sgd_schedulefree_coeffs;

enum { OK_SGD_SCHEDULEFREE_Z = OK_OPT_STATE };

OK_FN ok_status ok_sgd_schedulefree_checked(const void *hparams) {
    const ok_sgd_schedulefree_hparams *hp = (const ok_sgd_schedulefree_hparams *)hparams;
    return ok_schedulefree_checked(hp->lr, hp->momentum, hp->weight_decay, hp->ckp1, hp->mode);
}

OK_FN void ok_sgd_schedulefree_prepare(const void *hparams, void *coeffs) {
    const ok_sgd_schedulefree_hparams *hp = (const ok_sgd_schedulefree_hparams *)hparams;
    ok_schedulefree_prepare((ok_sgd_schedulefree_coeffs *)coeffs, hp->lr, hp->momentum, hp->weight_decay, hp->ckp1,
                            hp->first_step, hp->mode);
}

OK_FN unsigned ok_sgd_schedulefree_required(const void *hparams) {
    return ok_schedulefree_required(((const ok_sgd_schedulefree_hparams *)hparams)->mode, 1u);
}

static const ok_field ok_sgd_schedulefree_fields[] = {
    OK_FIELD(ok_sgd_schedulefree_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_schedulefree_hparams, momentum, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_schedulefree_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_schedulefree_hparams, ckp1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_sgd_schedulefree_hparams, first_step, OK_FIELD_INT),
    OK_FIELD(ok_sgd_schedulefree_hparams, mode, OK_FIELD_INT64),
};

static const char *const ok_sgd_schedulefree_states[] = {"z"};

OK_HOST_ONLY(static const ok_optimizer ok_sgd_schedulefree_optimizer = {OK_DESCRIPTOR(sgd_schedulefree)};)

/* ---------------------------------------------------------------- AdamW */

typedef struct ok_adamw_schedulefree_coeffs {
    ok_schedulefree_coeffs sf; /* first: it begins with the gradient scaling */
    double beta2, one_minus_beta2;
    double bias_correction2;   /* 1 - beta2^t: exp_avg_sq is divided by it */
    double eps;
} ok_adamw_schedulefree_coeffs;
OK_GRAD_SCALING_FIRST(ok_adamw_schedulefree_coeffs, sf.grad);

enum { OK_ADAMW_SCHEDULEFREE_Z = OK_OPT_STATE, OK_ADAMW_SCHEDULEFREE_EXP_AVG_SQ };

OK_FN ok_status ok_adamw_schedulefree_checked(const void *hparams) {
    const ok_adamw_schedulefree_hparams *hp = (const ok_adamw_schedulefree_hparams *)hparams;
    if (!(hp->beta2 >= 0 && hp->beta2 < 1) || !(hp->eps >= 0) || hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return ok_schedulefree_checked(hp->lr, hp->beta1, hp->weight_decay, hp->ckp1, hp->mode);
}

OK_FN void ok_adamw_schedulefree_prepare(const void *hparams, void *coeffs) {
    const ok_adamw_schedulefree_hparams *hp = (const ok_adamw_schedulefree_hparams *)hparams;
    ok_adamw_schedulefree_coeffs *c = (ok_adamw_schedulefree_coeffs *)coeffs;
    ok_schedulefree_prepare(&c->sf, hp->lr, hp->beta1, hp->weight_decay, hp->ckp1, hp->first_step, hp->mode);
    c->beta2 = hp->beta2;
    c->one_minus_beta2 = 1.0 - hp->beta2;
    c->bias_correction2 = 1.0 - pow(hp->beta2, (double)hp->step);
    c->eps = hp->eps;
}

OK_FN unsigned ok_adamw_schedulefree_required(const void *hparams) {
    return ok_schedulefree_required(((const ok_adamw_schedulefree_hparams *)hparams)->mode, 3u);
}

static const ok_field ok_adamw_schedulefree_fields[] = {
    OK_FIELD(ok_adamw_schedulefree_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamw_schedulefree_hparams, beta1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamw_schedulefree_hparams, beta2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamw_schedulefree_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamw_schedulefree_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamw_schedulefree_hparams, ckp1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adamw_schedulefree_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adamw_schedulefree_hparams, first_step, OK_FIELD_INT),
    OK_FIELD(ok_adamw_schedulefree_hparams, mode, OK_FIELD_INT64),
};

static const char *const ok_adamw_schedulefree_states[] = {"z", "exp_avg_sq"};

OK_HOST_ONLY(static const ok_optimizer ok_adamw_schedulefree_optimizer = {OK_DESCRIPTOR(adamw_schedulefree)};)

#endif /* OPTKERN_OPTIM_SCHEDULEFREE_H */
