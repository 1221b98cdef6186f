/*
 * The optimizer entry points: check the preconditions, derive each
 * hyperparameter set's coefficients in double, run the selected target's
 * kernel over the whole tensor list.
 */
#include <math.h>
#include <stdlib.h>

#include "kernel_table.h"
#include "optim/coeffs.h"
#include "optkern/optim.h"

/* Coefficient sets live on the stack up to this many, else on the heap. */
#define OK_STACK_SETS 16

ok_status ok_sgd_check(const ok_sgd_hparams *hp) {
    if (!hp) return OK_ERR_NULL_POINTER;
    /* Written as !(x >= 0) so that NaN fails too. */
    if (!(hp->lr >= 0) || !(hp->momentum >= 0) || !(hp->weight_decay >= 0) || isnan(hp->dampening))
        return OK_ERR_HYPERPARAMETER;
    if (hp->nesterov && (hp->momentum <= 0 || hp->dampening != 0)) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

ok_status ok_adam_check(const ok_adam_hparams *hp) {
    if (!hp) return OK_ERR_NULL_POINTER;
    if (!(hp->lr >= 0) || !(hp->eps >= 0) || !(hp->weight_decay >= 0)) return OK_ERR_HYPERPARAMETER;
    if (!(hp->beta1 >= 0 && hp->beta1 < 1) || !(hp->beta2 >= 0 && hp->beta2 < 1)) return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

/* Check one hyperparameter set and derive its coefficients. */
static ok_status sgd_prepare(const void *hparams, void *coeffs) {
    const ok_sgd_hparams *hp = hparams;
    ok_sgd_coeffs *c = coeffs;
    ok_status st = ok_sgd_check(hp);
    c->lr = hp->lr;
    c->momentum = hp->momentum;
    c->one_minus_dampening = 1.0 - hp->dampening;
    c->weight_decay = hp->weight_decay;
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
    c->has_momentum = hp->momentum != 0;
    c->nesterov = hp->nesterov != 0;
    c->first_step = hp->first_step != 0;
    return st;
}

static ok_status adam_prepare(const void *hparams, void *coeffs) {
    const ok_adam_hparams *hp = hparams;
    ok_adam_coeffs *c = coeffs;
    ok_status st = ok_adam_check(hp);
    double t = (double)hp->step;
    double w = 1.0 - hp->beta1;
    c->lerp_from_grad = w >= 0.5;
    c->lerp_coeff = c->lerp_from_grad ? w - 1.0 : w;
    c->beta2 = hp->beta2;
    c->one_minus_beta2 = 1.0 - hp->beta2;
    c->eps = hp->eps;
    c->weight_decay = hp->weight_decay;
    c->decay = 1.0 - hp->lr * hp->weight_decay;
    c->step_size = hp->lr / (1.0 - pow(hp->beta1, t));
    c->inv_bias_correction2_sqrt = 1.0 / sqrt(1.0 - pow(hp->beta2, t));
    c->maximize = hp->maximize != 0;
    c->amsgrad = hp->amsgrad != 0;
    c->wd_mode = hp->weight_decay == 0 ? OK_WD_NONE : hp->decoupled_weight_decay ? OK_WD_DECOUPLED : OK_WD_COUPLED;
    return st;
}

/* Whether stream s must be present for a tensor using these coefficients. */
static int sgd_needs(const void *coeffs, int s) {
    return s != OK_SGD_BUF || ((const ok_sgd_coeffs *)coeffs)->has_momentum;
}

static int adam_needs(const void *coeffs, int s) {
    return s != OK_ADAM_MAX_EXP_AVG_SQ || ((const ok_adam_coeffs *)coeffs)->amsgrad;
}

/* What tells one optimizer's entry points from another's. Streams are in
 * the task order of optim/coeffs.h: parameter, gradient, states. */
typedef struct optimizer_kind {
    size_t hparams_size, coeffs_size;
    ok_status (*prepare)(const void *hparams, void *coeffs);
    int (*needs)(const void *coeffs, int stream);
    int n_streams;
} optimizer_kind;

static const optimizer_kind sgd_kind = {sizeof(ok_sgd_hparams), sizeof(ok_sgd_coeffs), sgd_prepare, sgd_needs, 3};
static const optimizer_kind adam_kind = {sizeof(ok_adam_hparams), sizeof(ok_adam_coeffs), adam_prepare, adam_needs, 5};

/* Every stream but the gradient is written. */
#define OK_OPT_WRITTEN (~(1u << OK_OPT_GRAD))

static ok_status check_task(const optimizer_kind *kind, const ok_mt_task *task, size_t n_sets) {
    if (!task->numel) return OK_ERR_NULL_POINTER;
    for (size_t i = 0; i < task->count; i++) {
        if (task->coeff_index && task->coeff_index[i] >= n_sets) return OK_ERR_INDEX;
        ok_dtype dtype = ok_mt_dtype(task, i);
        if (dtype != OK_FLOAT32 && dtype != OK_FLOAT64) return OK_ERR_UNSUPPORTED;
        if (task->numel[i] == 0) continue;
        const void *coeffs = ok_mt_coeffs(task, i);
        for (int s = 0; s < kind->n_streams; s++)
            if (kind->needs(coeffs, s) && (!task->stream[s] || !task->stream[s][i])) return OK_ERR_NULL_POINTER;
    }
    if (ok_mt_streams_overlap(task, OK_OPT_WRITTEN, kind->n_streams)) return OK_ERR_ALIASING;
    return OK_SUCCESS;
}

/* Check everything, derive every set's coefficients, then run the kernel
 * (fns: one per dtype) over the tensor list. Nothing is written unless every
 * check passes. */
static ok_status run_optimizer(const optimizer_kind *kind, const ok_mt_span_fn *fns, const void *hp, size_t n_hp,
                               const uint32_t *hp_index, size_t count, const size_t *numel, const ok_dtype *dtype,
                               ok_dtype uniform, void *const *const *streams) {
    if (count == 0) return OK_SUCCESS;
    if (!hp) return OK_ERR_NULL_POINTER;
    if (n_hp == 0) return OK_ERR_INDEX;
    ok_any_coeffs stack[OK_STACK_SETS];
    char *sets = n_hp <= OK_STACK_SETS ? (char *)stack : malloc(n_hp * kind->coeffs_size);
    if (!sets) return OK_ERR_NO_MEMORY;
    ok_status st = OK_SUCCESS;
    for (size_t k = 0; k < n_hp && st == OK_SUCCESS; k++)
        st = kind->prepare((const char *)hp + k * kind->hparams_size, sets + k * kind->coeffs_size);
    ok_mt_task task = {count, numel, dtype, uniform, {0}, sets, kind->coeffs_size, hp_index};
    for (int s = 0; s < kind->n_streams; s++) task.stream[s] = streams[s];
    if (st == OK_SUCCESS) st = check_task(kind, &task, n_hp);
    if (st == OK_SUCCESS) ok_mt_run(&task, fns);
    if (sets != (char *)stack) free(sets);
    return st;
}

ok_status ok_sgd(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count, const size_t *numel,
                 const ok_dtype *dtype, void *const *param, const void *const *grad, void *const *momentum_buffer) {
    if (count && !dtype) return OK_ERR_NULL_POINTER;
    void *const *streams[] = {param, (void *const *)grad, momentum_buffer};
    return run_optimizer(&sgd_kind, ok_active_kernels()->sgd, hp, n_hp, hp_index, count, numel, dtype, OK_FLOAT32,
                         streams);
}

ok_status ok_adam(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count, const size_t *numel,
                  const ok_dtype *dtype, void *const *param, const void *const *grad, void *const *exp_avg,
                  void *const *exp_avg_sq, void *const *max_exp_avg_sq) {
    if (count && !dtype) return OK_ERR_NULL_POINTER;
    void *const *streams[] = {param, (void *const *)grad, exp_avg, exp_avg_sq, max_exp_avg_sq};
    return run_optimizer(&adam_kind, ok_active_kernels()->adam, hp, n_hp, hp_index, count, numel, dtype, OK_FLOAT32,
                         streams);
}

/* The typed entry points: every tensor of one dtype. */
#define OK_OPTIM_TYPED(T, suffix, DTYPE)                                                                            \
    ok_status ok_sgd_##suffix(const ok_sgd_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,        \
                              const size_t *numel, T *const *param, const T *const *grad,                          \
                              T *const *momentum_buffer) {                                                         \
        void *const *streams[] = {(void *const *)param, (void *const *)grad, (void *const *)momentum_buffer};      \
        return run_optimizer(&sgd_kind, ok_active_kernels()->sgd, hp, n_hp, hp_index, count, numel, NULL, DTYPE,   \
                             streams);                                                                             \
    }                                                                                                              \
    ok_status ok_adam_##suffix(const ok_adam_hparams *hp, size_t n_hp, const uint32_t *hp_index, size_t count,      \
                               const size_t *numel, T *const *param, const T *const *grad, T *const *exp_avg,      \
                               T *const *exp_avg_sq, T *const *max_exp_avg_sq) {                                   \
        void *const *streams[] = {(void *const *)param, (void *const *)grad, (void *const *)exp_avg,               \
                                  (void *const *)exp_avg_sq, (void *const *)max_exp_avg_sq};                       \
        return run_optimizer(&adam_kind, ok_active_kernels()->adam, hp, n_hp, hp_index, count, numel, NULL, DTYPE, \
                             streams);                                                                             \
    }

OK_OPTIM_TYPED(float, f32, OK_FLOAT32)
OK_OPTIM_TYPED(double, f64, OK_FLOAT64)

static int span_before(const void *a, const void *b) {
    const ok_span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

ok_status ok_check_overlap(ok_span *spans, size_t n, size_t *first, size_t *second) {
    if (n == 0) return OK_SUCCESS;
    if (!spans) return OK_ERR_NULL_POINTER;
    qsort(spans, n, sizeof *spans, span_before);
    /* Sweep in order of start: a span overlaps an earlier one iff it starts
     * before that one's end. Track the furthest end of all earlier spans
     * and of the earlier written ones; a read-only span conflicts only with
     * a written one. */
    const ok_span *far_any = NULL, *far_written = NULL;
    for (size_t k = 0; k < n; k++) {
        const ok_span *s = &spans[k];
        if (s->end <= s->begin) continue;
        const ok_span *other = s->written ? far_any : far_written;
        if (other && s->begin < other->end) {
            if (first) *first = other->id;
            if (second) *second = s->id;
            return OK_ERR_ALIASING;
        }
        if (!far_any || s->end > far_any->end) far_any = s;
        if (s->written && (!far_written || s->end > far_written->end)) far_written = s;
    }
    return OK_SUCCESS;
}
