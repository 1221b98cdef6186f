/*
 * LARS's descriptor: You et al. 2017, with pytorch_optimizer.LARS's
 * arguments, docs/optimizers.md#lars.
 *
 * torch's SGD step (optim/sgd-inl.h) of the gradient plus weight decay,
 * scaled per tensor by the trust ratio
 *     trust_coefficient |p| / (|g| + weight_decay |p|)
 * (1 where |p| or that denominator is not > 0), norms of the whole tensor.
 * Its runner (norms.c, on the task of optim/norms.h) makes two passes: the
 * sums of p^2 and g^2 (blocks, the tensors of sets that do not exclude
 * them), then the update (spans of the multi-tensor driver). Its momentum
 * buffer starts at zero: no first step copies the gradient into it, as
 * torch's SGD does.
 */
#ifndef OPTKERN_OPTIM_LARS_H
#define OPTKERN_OPTIM_LARS_H

#include "optim/descriptor.h"
#include "optim/norms.h"
#include "optim/sgd.h"

typedef struct ok_lars_coeffs {
    ok_sgd_coeffs sgd;        /* the step after the trust ratio (first: its ok_grad_scaling); its weight
                               * decay is LARS's, and 0 where the set excludes it */
    double weight_decay;      /* in the denominator of the trust ratio */
    double trust_coefficient;
    int adapt;                /* the trust ratio applies: the set does not exclude it */
} ok_lars_coeffs;
OK_GRAD_SCALING_FIRST(ok_lars_coeffs, sgd.grad);

/* Written as !(x >= 0) so that NaN fails too. */
OK_FN ok_status ok_lars_checked(const void *hparams) {
    const ok_lars_hparams *hp = (const ok_lars_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->weight_decay >= 0) || !(hp->trust_coefficient >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(hp->momentum >= 0 && hp->momentum < 1) || !(hp->dampening >= 0 && hp->dampening < 1))
        return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_lars_prepare(const void *hparams, void *coeffs) {
    const ok_lars_hparams *hp = (const ok_lars_hparams *)hparams;
    ok_lars_coeffs *c = (ok_lars_coeffs *)coeffs;
    ok_sgd_hparams sgd = {hp->lr, hp->momentum, hp->dampening, hp->exclude ? 0.0 : hp->weight_decay,
                          hp->nesterov, hp->maximize, 0};
    ok_sgd_prepare(&sgd, &c->sgd);
    c->weight_decay = hp->weight_decay;
    c->trust_coefficient = hp->trust_coefficient;
    c->adapt = !hp->exclude;
}

/* The trust ratio trust_coefficient |p| / (|g| + wd |p|), 1 unless |p|
 * and that denominator are > 0 (NaN fails both, as torch.where's tests). */
OK_FN double ok_lars_scale(const ok_lars_coeffs *c, double p_norm, double g_norm) {
    const double denom = g_norm + c->weight_decay * p_norm;
    return p_norm > 0 && denom > 0 ? c->trust_coefficient * p_norm / denom : 1.0;
}

/* The momentum buffer exists only with momentum. */
OK_FN unsigned ok_lars_required(const void *hparams) {
    return ((const ok_lars_hparams *)hparams)->momentum != 0 ? 1u : 0u;
}

static const ok_field ok_lars_fields[] = {
    OK_FIELD(ok_lars_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lars_hparams, momentum, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lars_hparams, dampening, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lars_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lars_hparams, trust_coefficient, OK_FIELD_DOUBLE),
    OK_FIELD(ok_lars_hparams, nesterov, OK_FIELD_INT),
    OK_FIELD(ok_lars_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_lars_hparams, exclude, OK_FIELD_INT),
};

static const char *const ok_lars_states[] = {"momentum_buffer"};

ok_status ok_lars_run(const ok_mt_task *task);

OK_HOST_ONLY(static const ok_optimizer ok_lars_optimizer = {OK_DESCRIPTOR(lars), .run = ok_lars_run};)

#endif /* OPTKERN_OPTIM_LARS_H */
