/*
 * RMSprop's descriptor: torch.optim.RMSprop, docs/optimizers.md#rmsprop.
 * The kernel body is optim/rmsprop-inl.h.
 */
#ifndef OPTKERN_OPTIM_RMSPROP_H
#define OPTKERN_OPTIM_RMSPROP_H

#include "optim/descriptor.h"

typedef struct ok_rmsprop_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lr, alpha, one_minus_alpha, eps;
    double weight_decay;   /* coupled: g += weight_decay * param */
    double momentum;
    ok_lerp grad_avg_lerp; /* grad_avg <- lerp(grad_avg, g, 1 - alpha) */
    int maximize, has_weight_decay, centered, has_momentum;
} ok_rmsprop_coeffs;
OK_GRAD_SCALING_FIRST(ok_rmsprop_coeffs, grad);

/* The states in the order of torch's functional rmsprop. */
enum { OK_RMSPROP_SQUARE_AVG = OK_OPT_STATE, OK_RMSPROP_GRAD_AVG, OK_RMSPROP_MOMENTUM_BUFFER };

OK_FN ok_status ok_rmsprop_checked(const void *hparams) {
    const ok_rmsprop_hparams *hp = (const ok_rmsprop_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->eps >= 0) || !(hp->momentum >= 0) || !(hp->weight_decay >= 0) || !(hp->alpha >= 0))
        return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_rmsprop_prepare(const void *hparams, void *coeffs) {
    const ok_rmsprop_hparams *hp = (const ok_rmsprop_hparams *)hparams;
    ok_rmsprop_coeffs *c = (ok_rmsprop_coeffs *)coeffs;
    c->lr = hp->lr;
    c->alpha = hp->alpha;
    c->one_minus_alpha = 1.0 - hp->alpha;
    c->eps = hp->eps;
    c->weight_decay = hp->weight_decay;
    c->momentum = hp->momentum;
    c->grad_avg_lerp = ok_lerp_weight(1.0 - hp->alpha);
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
    c->centered = hp->centered != 0;
    c->has_momentum = hp->momentum != 0;
}

/* square_avg always; grad_avg when centered; momentum_buffer with momentum. */
OK_FN unsigned ok_rmsprop_required(const void *hparams) {
    const ok_rmsprop_hparams *hp = (const ok_rmsprop_hparams *)hparams;
    return 1u | (hp->centered ? 2u : 0u) | (hp->momentum != 0 ? 4u : 0u);
}

static const ok_field ok_rmsprop_fields[] = {
    OK_FIELD(ok_rmsprop_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rmsprop_hparams, alpha, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rmsprop_hparams, eps, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rmsprop_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rmsprop_hparams, momentum, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rmsprop_hparams, centered, OK_FIELD_INT),
    OK_FIELD(ok_rmsprop_hparams, maximize, OK_FIELD_INT),
};

static const char *const ok_rmsprop_states[] = {"square_avg", "grad_avg", "momentum_buffer"};

OK_HOST_ONLY(static const ok_optimizer ok_rmsprop_optimizer = {OK_DESCRIPTOR(rmsprop)};)

#endif /* OPTKERN_OPTIM_RMSPROP_H */
