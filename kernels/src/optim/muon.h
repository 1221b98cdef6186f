/*
 * Muon's descriptor: the elementwise stages of torch.optim.Muon,
 * docs/optimizers.md#muon (the orthogonalisation between them is the
 * caller's). The kernel body is optim/muon-inl.h.
 */
#ifndef OPTKERN_OPTIM_MUON_H
#define OPTKERN_OPTIM_MUON_H

#include "optim/descriptor.h"

typedef struct ok_muon_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    /* torch's two-sided lerps (ok_lerp, optim/descriptor.h) */
    ok_lerp momentum_lerp;  /* b <- lerp(b, g, 1 - mu) */
    ok_lerp nesterov_lerp;  /* u <- lerp(g, b, mu) */
    double decay;           /* 1 - lr * weight_decay */
    double step_size;       /* lr * lr_ratio */
    int nesterov, has_decay, stage;
} ok_muon_coeffs;
OK_GRAD_SCALING_FIRST(ok_muon_coeffs, grad);

enum { OK_MUON_MOMENTUM_BUFFER = OK_OPT_STATE, OK_MUON_UPDATE };

OK_FN ok_status ok_muon_checked(const void *hparams) {
    const ok_muon_hparams *hp = (const ok_muon_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->weight_decay >= 0) || !(hp->momentum >= 0) || !(hp->lr_ratio >= 0))
        return OK_ERR_HYPERPARAMETER;
    if (hp->stage != 0 && hp->stage != 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_muon_prepare(const void *hparams, void *coeffs) {
    const ok_muon_hparams *hp = (const ok_muon_hparams *)hparams;
    ok_muon_coeffs *c = (ok_muon_coeffs *)coeffs;
    c->momentum_lerp = ok_lerp_weight(1.0 - hp->momentum);
    c->nesterov_lerp = ok_lerp_weight(hp->momentum);
    c->decay = 1.0 - hp->lr * hp->weight_decay;
    c->step_size = hp->lr * hp->lr_ratio;
    c->nesterov = hp->nesterov != 0;
    c->has_decay = hp->weight_decay != 0;
    c->stage = hp->stage;
}

/* stage 0: the momentum buffer and the update; stage 1: the update. */
OK_FN unsigned ok_muon_required(const void *hparams) {
    return ((const ok_muon_hparams *)hparams)->stage == 0 ? 3u : 2u;
}

static const ok_field ok_muon_fields[] = {
    OK_FIELD(ok_muon_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_muon_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_muon_hparams, momentum, OK_FIELD_DOUBLE),
    OK_FIELD(ok_muon_hparams, lr_ratio, OK_FIELD_DOUBLE),
    OK_FIELD(ok_muon_hparams, nesterov, OK_FIELD_INT),
    OK_FIELD(ok_muon_hparams, stage, OK_FIELD_INT),
};

static const char *const ok_muon_states[] = {"momentum_buffer"};
static const char *const ok_muon_work[] = {"update"};

OK_HOST_ONLY(static const ok_optimizer ok_muon_optimizer = {OK_DESCRIPTOR(muon),
                                                 .n_work = OK_COUNT_OF(ok_muon_work), .work = ok_muon_work};)

#endif /* OPTKERN_OPTIM_MUON_H */
