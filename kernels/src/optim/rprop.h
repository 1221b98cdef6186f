/*
 * Rprop's descriptor: torch.optim.Rprop, docs/optimizers.md#rprop. The
 * kernel body is optim/rprop-inl.h.
 */
#ifndef OPTKERN_OPTIM_RPROP_H
#define OPTKERN_OPTIM_RPROP_H

#include <math.h>

#include "optim/descriptor.h"

typedef struct ok_rprop_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    double lr, etaminus, etaplus;
    /* torch's clamp(x, min, max) is min(max(x, min), max): max wins when
     * the bounds cross, so the lower bound is min(step_size_min, step_size_max) */
    double lower, upper;
    int maximize, first_step;
} ok_rprop_coeffs;
OK_GRAD_SCALING_FIRST(ok_rprop_coeffs, grad);

enum { OK_RPROP_PREV = OK_OPT_STATE, OK_RPROP_STEP_SIZE };

OK_FN ok_status ok_rprop_checked(const void *hparams) {
    const ok_rprop_hparams *hp = (const ok_rprop_hparams *)hparams;
    /* Written so that NaN fails. */
    if (!(hp->lr >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(0 < hp->etaminus && hp->etaminus < 1 && 1 < hp->etaplus)) return OK_ERR_HYPERPARAMETER;
    if (isnan(hp->step_size_min) || isnan(hp->step_size_max)) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_rprop_prepare(const void *hparams, void *coeffs) {
    const ok_rprop_hparams *hp = (const ok_rprop_hparams *)hparams;
    ok_rprop_coeffs *c = (ok_rprop_coeffs *)coeffs;
    c->lr = hp->lr;
    c->etaminus = hp->etaminus;
    c->etaplus = hp->etaplus;
    c->lower = fmin(hp->step_size_min, hp->step_size_max);
    c->upper = hp->step_size_max;
    c->maximize = hp->maximize != 0;
    c->first_step = hp->first_step != 0;
}

OK_FN unsigned ok_rprop_required(const void *hparams) {
    (void)hparams;
    return 3u;
}

static const ok_field ok_rprop_fields[] = {
    OK_FIELD(ok_rprop_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rprop_hparams, etaminus, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rprop_hparams, etaplus, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rprop_hparams, step_size_min, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rprop_hparams, step_size_max, OK_FIELD_DOUBLE),
    OK_FIELD(ok_rprop_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_rprop_hparams, first_step, OK_FIELD_INT),
};

static const char *const ok_rprop_states[] = {"prev", "step_size"};

OK_HOST_ONLY(static const ok_optimizer ok_rprop_optimizer = {OK_DESCRIPTOR(rprop)};)

#endif /* OPTKERN_OPTIM_RPROP_H */
