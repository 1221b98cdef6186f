/*
 * The loss entry points (optkern/losses.h), each in three steps, as the
 * optimizers' runner (optim.c) does:
 *   prepare  check the hyperparameters and the reduction and derive every
 *            coefficient in double, from them and the sizes alone;
 *   check    the dtype, the pointers and their aliasing;
 *   run      what reads the arrays: the class-target scan (before anything
 *            is written), the sums of weights, then the selected target's
 *            kernel through the deterministic reduction driver (reduce.h),
 *            and the reduced loss stored.
 * Nothing is written unless every check passes.
 *
 * A call's arrays are of its dtype (class targets apart); its losses are
 * float64 for float64 arrays and float32 for the others (loss_dtype): a
 * bfloat16 or float16 call computes in float32 (docs/precision.md#losses-in-16-bits).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_table.h"
#include "loss/tasks.h"
#include "multi_tensor.h"
#include "optkern/internal/gpu.h"
#include "optkern/losses.h"
#include "reduce.h"

/* Block boundaries of elementwise work fall on multiples of this many
 * elements: whole cache lines for either dtype. */
#define OK_LOSS_ALIGN 64

/* Do the byte ranges [a, a + an) and [b, b + bn) overlap? */
static int overlaps(const void *a, size_t an, const void *b, size_t bn) {
    if (!a || !b || an == 0 || bn == 0) return 0;
    return (const char *)a < (const char *)b + bn && (const char *)b < (const char *)a + an;
}

/* The arrays a call reads, beside its input, for the aliasing checks. */
typedef struct read_set {
    const void *ptr[3];
    size_t bytes[3];
} read_set;

/* The dtype of a call's losses (the loss kernels' real_t). */
static ok_dtype loss_dtype(ok_dtype dtype) { return dtype == OK_FLOAT64 ? OK_FLOAT64 : OK_FLOAT32; }

/* Whether every array the call touches is aligned to its element: `elem`
 * bytes, the targets (reads->ptr[0]) `target_elem`, the losses those of
 * dtype's loss_dtype. */
static int all_aligned(ok_dtype dtype, const void *input, const read_set *reads, size_t target_elem, const void *grad,
                       const void *loss, size_t elem) {
    return ok_aligned(input, elem) && ok_aligned(grad, elem) && ok_aligned(loss, ok_dtype_size(loss_dtype(dtype))) &&
           ok_aligned(reads->ptr[0], target_elem) && ok_aligned(reads->ptr[1], elem) && ok_aligned(reads->ptr[2], elem);
}

/* grad is the input itself or apart from it, and apart from every other
 * array read; loss is apart from everything, grad included. */
static ok_status check_aliasing(const void *input, size_t input_bytes, const read_set *reads, const void *grad,
                                const void *loss, size_t loss_bytes) {
    if (grad != input && overlaps(grad, input_bytes, input, input_bytes)) return OK_ERR_ALIASING;
    if (overlaps(loss, loss_bytes, input, input_bytes) || overlaps(loss, loss_bytes, grad, input_bytes))
        return OK_ERR_ALIASING;
    for (int k = 0; k < 3; k++) {
        if (overlaps(grad, input_bytes, reads->ptr[k], reads->bytes[k])) return OK_ERR_ALIASING;
        if (overlaps(loss, loss_bytes, reads->ptr[k], reads->bytes[k])) return OK_ERR_ALIASING;
    }
    return OK_SUCCESS;
}

/* Store a loss of a call of dtype `dtype`. */
static void store_value(ok_dtype dtype, void *loss, double value) {
    if (loss_dtype(dtype) == OK_FLOAT64)
        *(double *)loss = value;
    else
        *(float *)loss = (float)value;
}

/* The sum of n values of variant v at x (n without them). */
static double sum_or_count(const ok_kernel_table *kernels, int v, const void *x, size_t n) {
    return x ? ok_reduce_run(x, kernels->sum[v], n, OK_LOSS_ALIGN, 1) : (double)n;
}

/* ------------------------------------------------------------ elementwise */

/* The bytes a broadcast operand spans (its indices are [0, period)). */
static size_t bcast_bytes(const ok_bcast *b, size_t elem) { return b->data ? b->period * elem : 0; }

static ok_bcast no_operand(void) {
    ok_bcast b = {NULL, 1, 1};
    return b;
}

static ok_ew_task ew_task(const void *input, const void *target, ok_bcast weight, ok_bcast pos_weight,
                          const void *input2, void *grad2) {
    ok_ew_task t = {0};
    t.input = input;
    t.target = target;
    t.weight = weight;
    t.pos_weight = pos_weight;
    t.input2 = input2;
    t.grad2 = grad2;
    return t;
}

/* What every elementwise loss prepares once its own step has set the kind
 * and the gradient coefficients: the reduction valid for the kind, the
 * broadcast operands' shapes, and the reduction's denominator (1 for 'none'
 * and 'sum'), which run replaces by the sum of the weights where MEAN
 * divides by them. */
static ok_status ew_prepare(const ok_ew_task *t, size_t n, size_t batch, ok_reduction reduction,
                            double *denominator) {
    if ((unsigned)reduction > OK_REDUCTION_BATCHMEAN) return OK_ERR_HYPERPARAMETER;
    if (reduction == OK_REDUCTION_BATCHMEAN && !(ok_ew_flags(t->kind) & OK_EW_BATCHMEAN)) return OK_ERR_HYPERPARAMETER;
    const ok_bcast *ops[2] = {&t->weight, &t->pos_weight};
    for (int k = 0; k < 2; k++)
        if (ops[k]->data && (ops[k]->block == 0 || ops[k]->period == 0)) return OK_ERR_HYPERPARAMETER;
    /* MEAN may divide by the sum of the n weights: a full-shape weight only. */
    if (ok_ew_flags(t->kind) & OK_EW_MEAN_BY_WEIGHT && t->weight.data && n &&
        (t->weight.block != 1 || t->weight.period != n))
        return OK_ERR_HYPERPARAMETER;
    *denominator = reduction == OK_REDUCTION_MEAN        ? (double)n
                   : reduction == OK_REDUCTION_BATCHMEAN ? (double)batch
                                                         : 1.0;
    return OK_SUCCESS;
}

static ok_status ew_check(ok_dtype dtype, const ok_ew_task *t, size_t n, ok_reduction reduction, const void *loss,
                          const void *grad) {
    if (ok_data_variant(dtype) < 0) return OK_ERR_UNSUPPORTED;
    const size_t elem = ok_dtype_size(dtype), loss_elem = ok_dtype_size(loss_dtype(dtype));
    if (!ok_fits(n, 1, loss_elem) || !ok_fits(n, 1, elem) || (t->weight.data && !ok_fits(t->weight.period, 1, elem)) ||
        (t->pos_weight.data && !ok_fits(t->pos_weight.period, 1, elem)))
        return OK_ERR_SIZE;
    if (reduction == OK_REDUCTION_NONE && n == 0) return OK_SUCCESS; /* no element: nothing to write */
    const int two = (ok_ew_flags(t->kind) & OK_EW_TWO_INPUTS) != 0;
    if (!loss || (n > 0 && (!t->input || !t->target || !grad || (two && (!t->input2 || !t->grad2)))))
        return OK_ERR_NULL_POINTER;
    const size_t bytes = n * elem, loss_bytes = reduction == OK_REDUCTION_NONE ? n * loss_elem : loss_elem;
    read_set reads = {{t->target, t->weight.data, t->pos_weight.data},
                      {bytes, bcast_bytes(&t->weight, elem), bcast_bytes(&t->pos_weight, elem)}};
    if (!all_aligned(dtype, t->input, &reads, elem, grad, loss, elem)) return OK_ERR_ALIGNMENT;
    ok_status st = check_aliasing(t->input, bytes, &reads, grad, loss, loss_bytes);
    if (st != OK_SUCCESS || !two) return st;
    /* the second input and its gradient: as input and grad are to each
     * other, and apart from every other array */
    if (!ok_aligned(t->input2, elem) || !ok_aligned(t->grad2, elem)) return OK_ERR_ALIGNMENT;
    const read_set others = {{t->input, grad, loss}, {bytes, bytes, loss_bytes}};
    st = check_aliasing(t->input2, bytes, &reads, t->grad2, NULL, 0);
    if (st == OK_SUCCESS) st = check_aliasing(t->input2, bytes, &others, t->grad2, NULL, 0);
    if (st == OK_SUCCESS && (overlaps(grad, bytes, t->input2, bytes) || overlaps(loss, loss_bytes, t->input2, bytes)))
        st = OK_ERR_ALIASING;
    return st;
}

/* The count of the n values at x outside [lo, hi] (NaN too, unless nan_ok). */
static double outside(const ok_kernel_table *kernels, int v, const void *x, size_t n, double lo, double hi,
                      int nan_ok) {
    const ok_domain_task d = {x, lo, hi, nan_ok};
    return ok_reduce_run(&d, kernels->domain[v], n, OK_LOSS_ALIGN, 1);
}

/* The values of a kind's domain (OK_EW_UNIT_INTERVAL, OK_EW_NONNEGATIVE_INPUT2)
 * checked before anything is written: OK_ERR_DOMAIN for any outside it. */
static ok_status ew_domain(const ok_kernel_table *kernels, int v, const ok_ew_task *t, size_t n) {
    const unsigned flags = ok_ew_flags(t->kind);
    if (flags & OK_EW_UNIT_INTERVAL &&
        (outside(kernels, v, t->input, n, 0.0, 1.0, 0) > 0 || outside(kernels, v, t->target, n, 0.0, 1.0, 0) > 0))
        return OK_ERR_DOMAIN;
    if (flags & OK_EW_NONNEGATIVE_INPUT2 && outside(kernels, v, t->input2, n, 0.0, INFINITY, 1) > 0)
        return OK_ERR_DOMAIN;
    return OK_SUCCESS;
}

static ok_status ew_run(ok_dtype dtype, ok_ew_task *t, size_t n, ok_reduction reduction, double denominator,
                        void *loss, void *grad) {
    const int v = ok_data_variant(dtype);
    const ok_kernel_table *kernels = ok_active_kernels();
    ok_status st = ew_domain(kernels, v, t, n);
    if (st != OK_SUCCESS) return st;
    if (reduction == OK_REDUCTION_MEAN && ok_ew_flags(t->kind) & OK_EW_MEAN_BY_WEIGHT)
        denominator = sum_or_count(kernels, v, t->weight.data, n);
    const double scale = 1.0 / denominator;
    t->quad_grad *= scale;
    t->lin_grad *= scale;
    t->loss = reduction == OK_REDUCTION_NONE ? loss : NULL;
    t->grad = grad;
    double sum = ok_reduce_run(t, kernels->elementwise_loss[v], n, OK_LOSS_ALIGN, 1);
    if (reduction != OK_REDUCTION_NONE) store_value(dtype, loss, sum / denominator);
    return OK_SUCCESS;
}

/* Prepare, check and run an elementwise task; `prepared`: the status of
 * the loss's own prepare step, which set t's kind and coefficients. */
static ok_status ew_loss(ok_status prepared, ok_dtype dtype, ok_ew_task *t, size_t n, size_t batch,
                         ok_reduction reduction, void *loss, void *grad) {
    double denominator;
    ok_status st = prepared;
    if (st == OK_SUCCESS) st = ew_prepare(t, n, batch, reduction, &denominator);
    if (st == OK_SUCCESS) st = ew_check(dtype, t, n, reduction, loss, grad);
    if (st == OK_SUCCESS) st = ew_run(dtype, t, n, reduction, denominator, loss, grad);
    return st;
}

/* The prepare step of each elementwise loss: its kind, its hyperparameters
 * checked, its coefficients (the gradient's before the reduction's scale). */

static ok_status mse_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    (void)o;
    t->kind = OK_EW_MSE;
    t->quad_grad = 2.0;
    return OK_SUCCESS;
}

static ok_status l1_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    (void)o;
    t->kind = OK_EW_L1;
    t->lin_grad = 1.0;
    return OK_SUCCESS;
}

/* huber_loss and smooth_l1_loss: one formula (regression-inl.h). */
static ok_status huber_coefficients(ok_ew_task *t, double delta, double quad, double lin) {
    t->kind = OK_EW_HUBER;
    t->delta = delta;
    t->half_delta = 0.5 * delta;
    t->quad = quad;
    t->lin = lin;
    t->quad_grad = 2.0 * quad;
    t->lin_grad = lin;
    return OK_SUCCESS;
}

static ok_status huber_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    const double delta = o->param;
    if (!(delta > 0)) return OK_ERR_HYPERPARAMETER; /* NaN fails too */
    return huber_coefficients(t, delta, 0.5, delta);
}

static ok_status smooth_l1_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    const double beta = o->param;
    if (!(beta >= 0)) return OK_ERR_HYPERPARAMETER;
    if (beta == 0) return l1_prepare(t, o); /* torch's rule */
    return huber_coefficients(t, beta, 0.5 / beta, 1.0);
}

static ok_status kl_div_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    t->kind = o->flag ? OK_EW_KL_DIV_LOG_TARGET : OK_EW_KL_DIV;
    t->lin_grad = -1.0;
    return OK_SUCCESS;
}

/* The losses whose gradient coefficient is the reduction's scale alone. */
static ok_status scaled(ok_ew_task *t, int kind) {
    t->kind = kind;
    t->lin_grad = 1.0;
    return OK_SUCCESS;
}

static ok_status bce_with_logits_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    (void)o;
    return scaled(t, OK_EW_BCE_WITH_LOGITS);
}

static ok_status bce_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    (void)o;
    return scaled(t, OK_EW_BCE);
}

static ok_status poisson_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    if (!(fabs(o->eps) < INFINITY)) return OK_ERR_HYPERPARAMETER;
    t->eps = o->eps;
    t->full = o->full != 0;
    return scaled(t, o->flag ? OK_EW_POISSON_LOG : OK_EW_POISSON);
}

static ok_status gaussian_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    if (!(fabs(o->eps) < INFINITY)) return OK_ERR_HYPERPARAMETER;
    t->eps = o->eps;
    t->offset = o->full ? 0.5 * log(2.0 * 3.14159265358979323846) : 0.0;
    return scaled(t, OK_EW_GAUSSIAN);
}

/* hinge_embedding_loss and margin_ranking_loss: the margin is param. */
static ok_status margin_coefficients(ok_ew_task *t, const ok_elementwise_options *o, int kind) {
    if (!(fabs(o->param) < INFINITY)) return OK_ERR_HYPERPARAMETER;
    t->margin = o->param;
    return scaled(t, kind);
}

static ok_status hinge_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    return margin_coefficients(t, o, OK_EW_HINGE);
}

static ok_status margin_ranking_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    return margin_coefficients(t, o, OK_EW_MARGIN_RANKING);
}

static ok_status soft_margin_prepare(ok_ew_task *t, const ok_elementwise_options *o) {
    (void)o;
    return scaled(t, OK_EW_SOFT_MARGIN);
}

/* The options an elementwise loss takes (an ew_loss_row's `takes`). */
enum {
    EW_WEIGHT = 1u,
    EW_POS_WEIGHT = 2u,
    EW_PARAM = 4u,
    EW_FLAG = 8u,
    EW_BATCH = 16u,
    EW_EPS = 32u,
    EW_FULL = 64u,
    EW_INPUT2 = 128u
};

/* Every elementwise loss by its torch name: its prepare step and the
 * options it takes; ok_elementwise_loss refuses any other one given. */
typedef struct ew_loss_row {
    const char *name;
    ok_status (*prepare)(ok_ew_task *t, const ok_elementwise_options *o);
    unsigned takes;
} ew_loss_row;

static const ew_loss_row ew_losses[] = {
    {"mse_loss", mse_prepare, EW_WEIGHT},
    {"l1_loss", l1_prepare, EW_WEIGHT},
    {"huber_loss", huber_prepare, EW_WEIGHT | EW_PARAM},
    {"smooth_l1_loss", smooth_l1_prepare, EW_PARAM},
    {"kl_div", kl_div_prepare, EW_FLAG | EW_BATCH},
    {"binary_cross_entropy_with_logits", bce_with_logits_prepare, EW_WEIGHT | EW_POS_WEIGHT},
    {"binary_cross_entropy", bce_prepare, EW_WEIGHT},
    {"poisson_nll_loss", poisson_prepare, EW_FLAG | EW_FULL | EW_EPS},
    {"gaussian_nll_loss", gaussian_prepare, EW_FULL | EW_EPS | EW_INPUT2},
    {"hinge_embedding_loss", hinge_prepare, EW_PARAM},
    {"soft_margin_loss", soft_margin_prepare, 0},
    {"margin_ranking_loss", margin_ranking_prepare, EW_PARAM | EW_INPUT2},
};

static const ew_loss_row *ew_loss_find(const char *name) {
    for (size_t k = 0; k < sizeof ew_losses / sizeof ew_losses[0]; k++)
        if (strcmp(ew_losses[k].name, name) == 0) return &ew_losses[k];
    return NULL;
}

static int given(const ok_bcast *b) { return b && b->data; }

/* The options of o that `takes` leaves out: each must be absent or 0. */
static ok_status ew_options_taken(const ok_elementwise_options *o, unsigned takes) {
    const unsigned set = (given(o->weight) ? EW_WEIGHT : 0u) | (given(o->pos_weight) ? EW_POS_WEIGHT : 0u) |
                         (o->param != 0 ? EW_PARAM : 0u) | (o->flag ? EW_FLAG : 0u) | (o->batch ? EW_BATCH : 0u) |
                         (o->eps != 0 ? EW_EPS : 0u) | (o->full ? EW_FULL : 0u) |
                         (o->input2 || o->grad2 ? EW_INPUT2 : 0u);
    return set & ~takes ? OK_ERR_HYPERPARAMETER : OK_SUCCESS;
}

/* The task of loss `name` over input and target with `options`, prepared
 * by its own step (the reduction not yet checked). */
static ok_status ew_named_task(const char *name, const void *input, const void *target,
                               const ok_elementwise_options *options, ok_ew_task *t, size_t *batch) {
    if (!name) return OK_ERR_NULL_POINTER;
    const ew_loss_row *row = ew_loss_find(name);
    if (!row) return OK_ERR_UNSUPPORTED;
    const ok_elementwise_options defaults = OK_ELEMENTWISE_DEFAULTS;
    const ok_elementwise_options *o = options ? options : &defaults;
    *t = ew_task(input, target, given(o->weight) ? *o->weight : no_operand(),
                 given(o->pos_weight) ? *o->pos_weight : no_operand(), o->input2, o->grad2);
    *batch = o->batch;
    ok_status st = ew_options_taken(o, row->takes);
    return st == OK_SUCCESS ? row->prepare(t, o) : st;
}

ok_status ok_elementwise_loss(const char *name, ok_dtype dtype, size_t n, const void *input, const void *target,
                              const ok_elementwise_options *options, ok_reduction reduction, void *loss,
                              void *grad) {
    ok_ew_task t;
    size_t batch = 0;
    ok_status st = ew_named_task(name, input, target, options, &t, &batch);
    if (st == OK_ERR_NULL_POINTER || st == OK_ERR_UNSUPPORTED) return st;
    return ew_loss(st, dtype, &t, n, batch, reduction, loss, grad);
}

ok_status ok_elementwise_task(const char *name, size_t n, const ok_elementwise_options *options,
                              ok_reduction reduction, void *task, size_t *task_size, double *denominator,
                              int *by_weight) {
    if (!task || !task_size || !denominator || !by_weight) return OK_ERR_NULL_POINTER;
    OK_STATIC_ASSERT(sizeof(ok_ew_task) <= 8 * OK_EW_TASK_WORDS, "OK_EW_TASK_WORDS hold an ok_ew_task");
    ok_ew_task t;
    size_t batch = 0;
    ok_status st = ew_named_task(name, NULL, NULL, options, &t, &batch);
    if (st == OK_SUCCESS) st = ew_prepare(&t, n, batch, reduction, denominator);
    if (st != OK_SUCCESS) return st;
    /* the GPU's loop has no second input and no domain scan */
    if (ok_ew_flags(t.kind) & (OK_EW_TWO_INPUTS | OK_EW_UNIT_INTERVAL | OK_EW_NONNEGATIVE_INPUT2))
        return OK_ERR_UNSUPPORTED;
    *by_weight = reduction == OK_REDUCTION_MEAN && ok_ew_flags(t.kind) & OK_EW_MEAN_BY_WEIGHT && t.weight.data;
    memcpy(task, &t, sizeof t);
    *task_size = sizeof t;
    return OK_SUCCESS;
}

/* mse_loss, l1_loss and huber_loss: their weight of n elements is the
 * broadcast {weight, 1, n}. */
static ok_status full_weight_loss(const char *name, ok_dtype dtype, size_t n, const void *input,
                                  const void *target, const void *weight, double param, ok_reduction reduction,
                                  void *loss, void *grad) {
    const ok_bcast w = {weight, 1, n ? n : 1};
    const ok_elementwise_options o = {.weight = &w, .param = param};
    return ok_elementwise_loss(name, dtype, n, input, target, &o, reduction, loss, grad);
}

ok_status ok_mse_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                      ok_reduction reduction, void *loss, void *grad) {
    return full_weight_loss("mse_loss", dtype, n, input, target, weight, 0.0, reduction, loss, grad);
}

ok_status ok_l1_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                     ok_reduction reduction, void *loss, void *grad) {
    return full_weight_loss("l1_loss", dtype, n, input, target, weight, 0.0, reduction, loss, grad);
}

ok_status ok_huber_loss(ok_dtype dtype, size_t n, const void *input, const void *target, const void *weight,
                        double delta, ok_reduction reduction, void *loss, void *grad) {
    return full_weight_loss("huber_loss", dtype, n, input, target, weight, delta, reduction, loss, grad);
}

ok_status ok_smooth_l1_loss(ok_dtype dtype, size_t n, const void *input, const void *target, double beta,
                            ok_reduction reduction, void *loss, void *grad) {
    const ok_elementwise_options o = {.param = beta};
    return ok_elementwise_loss("smooth_l1_loss", dtype, n, input, target, &o, reduction, loss, grad);
}

ok_status ok_kl_div(ok_dtype dtype, size_t n, size_t batch, const void *input, const void *target, int log_target,
                    ok_reduction reduction, void *loss, void *grad) {
    const ok_elementwise_options o = {.flag = log_target, .batch = batch};
    return ok_elementwise_loss("kl_div", dtype, n, input, target, &o, reduction, loss, grad);
}

ok_status ok_binary_cross_entropy_with_logits(ok_dtype dtype, size_t n, const void *input, const void *target,
                                              const ok_bcast *weight, const ok_bcast *pos_weight,
                                              ok_reduction reduction, void *loss, void *grad) {
    const ok_elementwise_options o = {.weight = weight, .pos_weight = pos_weight};
    return ok_elementwise_loss("binary_cross_entropy_with_logits", dtype, n, input, target, &o, reduction, loss,
                               grad);
}

/* --------------------------------------------------------------- row-wise */

static ok_rows_task rows_task(int kind, size_t n, size_t c, size_t inner, const void *logits, const void *target,
                              int target_kind, const void *weight, int64_t ignore_index) {
    ok_rows_task t = {0};
    t.kind = kind;
    t.n = n, t.c = c, t.inner = inner;
    t.logits = logits;
    t.target = target;
    t.target_kind = target_kind;
    t.weight = weight;
    t.ignore_index = ignore_index;
    return t;
}

static int class_kind(ok_index_type type) {
    return type == OK_INDEX_INT64 ? OK_LABELS_INT64 : type == OK_INDEX_INT32 ? OK_LABELS_INT32 : -1;
}

/* What every row loss prepares: the reduction and the target kind valid,
 * and the label smoothing's coefficients (0: none). */
static ok_status rows_prepare(ok_rows_task *t, ok_reduction reduction, double label_smoothing) {
    if ((unsigned)reduction > OK_REDUCTION_SUM) return OK_ERR_HYPERPARAMETER;
    if (!(label_smoothing >= 0 && label_smoothing <= 1)) return OK_ERR_HYPERPARAMETER;
    if (t->target_kind != OK_LABELS_INT64 && t->target_kind != OK_LABELS_INT32 && t->target_kind != OK_LABELS_PROBS)
        return OK_ERR_HYPERPARAMETER;
    t->keep = 1.0 - label_smoothing;
    t->eps_over_c = t->c ? label_smoothing / (double)t->c : 0.0;
    return OK_SUCCESS;
}

static ok_status rows_check(ok_dtype dtype, const ok_rows_task *t, ok_reduction reduction, const void *loss,
                            const void *grad) {
    if (ok_data_variant(dtype) < 0) return OK_ERR_UNSUPPORTED;
    const size_t elem = ok_dtype_size(dtype), loss_elem = ok_dtype_size(loss_dtype(dtype));
    /* the class targets' 8-byte indices (as many as the losses), the logits, the class weights */
    if (!ok_fits(t->n, t->inner, 8) || !ok_fits(t->n * t->inner, t->c, elem) || (t->weight && !ok_fits(t->c, 1, elem)))
        return OK_ERR_SIZE;
    const size_t samples = t->n * t->inner, elements = samples * t->c;
    const int probs = t->target_kind == OK_LABELS_PROBS;
    if (reduction == OK_REDUCTION_NONE && samples == 0) return OK_SUCCESS; /* no sample: nothing to write */
    if (!loss || (elements > 0 && (!t->logits || !grad)) || (samples > 0 && !t->target))
        return OK_ERR_NULL_POINTER;
    const size_t target_elem = probs ? elem : t->target_kind == OK_LABELS_INT32 ? 4 : 8;
    const int multilabel = (ok_rows_flags(t->kind) & OK_ROWS_MULTILABEL) != 0;
    size_t target_bytes = probs ? elements * elem : (multilabel ? elements : samples) * target_elem;
    read_set reads = {{t->target, t->weight, NULL}, {target_bytes, t->weight ? t->c * elem : 0, 0}};
    if (!all_aligned(dtype, t->logits, &reads, target_elem, grad, loss, elem)) return OK_ERR_ALIGNMENT;
    return check_aliasing(t->logits, elements * elem, &reads, grad, loss,
                          reduction == OK_REDUCTION_NONE ? samples * loss_elem : loss_elem);
}

/*
 * Probability targets over no element (N = 0, or C = 0 with N samples), as
 * torch (docs/losses.md#cross_entropy): each sample's loss -sum_k t_k log p_k
 * is an empty sum negated, -0 (the kernel's log s = log 0 = -inf would make
 * 0 * -inf = NaN of it), and so is 'sum'; 'mean' of an input with no element
 * is NaN. With z-loss a sample adds z lse^2 = +inf (lse of no logit is
 * -inf). No gradient to write.
 */
static void no_elements(ok_dtype dtype, const ok_rows_task *t, size_t samples, ok_reduction reduction, void *loss) {
    const double each = t->z_loss != 0.0 ? INFINITY : -0.0;
    if (reduction == OK_REDUCTION_MEAN)
        store_value(dtype, loss, NAN);
    else if (reduction == OK_REDUCTION_SUM)
        store_value(dtype, loss, samples ? each : -0.0);
    else
        for (size_t i = 0; i < samples; i++)
            store_value(dtype, (char *)loss + i * ok_dtype_size(loss_dtype(dtype)), each);
}

/* The class targets scanned first (an out-of-range one: OK_ERR_INDEX, with
 * nothing written), then the kernel of t's kind. MEAN divides by the
 * scan's count with OK_ROWS_IGNORE_INDEX, else by the sample count. */
static ok_status rows_run(ok_dtype dtype, ok_rows_task *t, ok_reduction reduction, void *loss, void *grad) {
    const int v = ok_data_variant(dtype);
    const ok_kernel_table *kernels = ok_active_kernels();
    const size_t samples = t->n * t->inner;
    const int probs = t->target_kind == OK_LABELS_PROBS;
    if (t->kind == OK_ROWS_CROSS_ENTROPY && probs && samples * t->c == 0) {
        no_elements(dtype, t, samples, reduction, loss);
        return OK_SUCCESS;
    }
    double denominator = (double)samples;
    if (!probs) {
        int out_of_range = 0;
        t->out_of_range = &out_of_range;
        const size_t per_sample = ok_rows_flags(t->kind) & OK_ROWS_MULTILABEL ? t->c : 1;
        double counted = ok_reduce_run(t, kernels->labels[v], samples, 1, per_sample ? per_sample : 1);
        if (out_of_range) return OK_ERR_INDEX;
        if (ok_rows_flags(t->kind) & OK_ROWS_IGNORE_INDEX) denominator = counted;
    }
    t->weight_sum = sum_or_count(kernels, v, t->weight, t->c);
    t->scale = reduction == OK_REDUCTION_MEAN ? 1.0 / denominator : 1.0;
    t->loss = reduction == OK_REDUCTION_NONE ? loss : NULL;
    t->grad = grad;
    double sum = ok_reduce_run(t, kernels->rows_loss[t->kind][v], samples, 1, t->c ? t->c : 1);
    if (reduction != OK_REDUCTION_NONE)
        store_value(dtype, loss, reduction == OK_REDUCTION_MEAN ? sum / denominator : sum);
    return OK_SUCCESS;
}

/* Check and run a row task; `prepared`: the status of the loss's own
 * prepare step. */
static ok_status rows_loss(ok_status prepared, ok_dtype dtype, ok_rows_task *t, ok_reduction reduction, void *loss,
                           void *grad) {
    ok_status st = prepared;
    if (st == OK_SUCCESS) st = rows_check(dtype, t, reduction, loss, grad);
    if (st == OK_SUCCESS) st = rows_run(dtype, t, reduction, loss, grad);
    return st;
}

static ok_status cross_entropy_prepare(ok_rows_task *t, const ok_cross_entropy_options *o) {
    if (!(o->z_loss >= 0 && o->z_loss < INFINITY) || !(o->softcap >= 0 && o->softcap < INFINITY))
        return OK_ERR_HYPERPARAMETER;
    t->z_loss = o->z_loss;
    t->softcap = o->softcap;
    return rows_prepare(t, o->reduction, o->label_smoothing);
}

/* Class-index targets (OK_LABELS_INT64, INT32) or probabilities. */
static ok_status cross_entropy(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits,
                               const void *target, int target_kind, const ok_cross_entropy_options *options,
                               void *loss, void *grad) {
    ok_cross_entropy_options defaults = OK_CROSS_ENTROPY_DEFAULTS;
    const ok_cross_entropy_options *o = options ? options : &defaults;
    ok_rows_task t = rows_task(OK_ROWS_CROSS_ENTROPY, n, c, inner, logits, target, target_kind, o->weight,
                               o->ignore_index);
    return rows_loss(cross_entropy_prepare(&t, o), dtype, &t, o->reduction, loss, grad);
}

ok_status ok_cross_entropy(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits, const void *target,
                           ok_index_type target_type, const ok_cross_entropy_options *options, void *loss,
                           void *grad) {
    return cross_entropy(dtype, n, c, inner, logits, target, class_kind(target_type), options, loss, grad);
}

ok_status ok_cross_entropy_probs(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *logits,
                                 const void *target, const ok_cross_entropy_options *options, void *loss,
                                 void *grad) {
    return cross_entropy(dtype, n, c, inner, logits, target, OK_LABELS_PROBS, options, loss, grad);
}

ok_status ok_nll_loss(ok_dtype dtype, size_t n, size_t c, size_t inner, const void *input, const void *target,
                      ok_index_type target_type, const void *weight, int64_t ignore_index, ok_reduction reduction,
                      void *loss, void *grad) {
    ok_rows_task t = rows_task(OK_ROWS_NLL, n, c, inner, input, target, class_kind(target_type), weight,
                               ignore_index);
    return rows_loss(rows_prepare(&t, reduction, 0.0), dtype, &t, reduction, loss, grad);
}

/* ------------------------------------------------------------ pair losses */

/* The reduction valid, then the pair task's arrays checked: `arrays` inputs
 * x[k] of n * d elements, each with its gradient grad[k] (the input itself
 * or apart from every array), the target when the loss has one, the loss. */
static ok_status pairs_check(ok_dtype dtype, const ok_pairs_task *t, int arrays, int with_target,
                             ok_reduction reduction, const void *loss) {
    if ((unsigned)reduction > OK_REDUCTION_SUM) return OK_ERR_HYPERPARAMETER;
    if (ok_data_variant(dtype) < 0) return OK_ERR_UNSUPPORTED;
    const size_t elem = ok_dtype_size(dtype), loss_elem = ok_dtype_size(loss_dtype(dtype));
    if (!ok_fits(t->n, t->d, elem) || !ok_fits(t->n, 1, loss_elem)) return OK_ERR_SIZE;
    if (reduction == OK_REDUCTION_NONE && t->n == 0) return OK_SUCCESS; /* no sample: nothing to write */
    const size_t bytes = t->n * t->d * elem, target_bytes = t->target ? t->n * elem : 0;
    const size_t loss_bytes = reduction == OK_REDUCTION_NONE ? t->n * loss_elem : loss_elem;
    if (!loss || (with_target && t->n && !t->target)) return OK_ERR_NULL_POINTER;
    for (int k = 0; k < arrays; k++)
        if (bytes && (!t->x[k] || !t->grad[k])) return OK_ERR_NULL_POINTER;
    if (!ok_aligned(loss, loss_elem) || !ok_aligned(t->target, elem)) return OK_ERR_ALIGNMENT;
    for (int k = 0; k < arrays; k++)
        if (!ok_aligned(t->x[k], elem) || !ok_aligned(t->grad[k], elem)) return OK_ERR_ALIGNMENT;
    if (overlaps(loss, loss_bytes, t->target, target_bytes)) return OK_ERR_ALIASING;
    for (int k = 0; k < arrays; k++) {
        if (overlaps(loss, loss_bytes, t->x[k], bytes) || overlaps(loss, loss_bytes, t->grad[k], bytes) ||
            overlaps(t->grad[k], bytes, t->target, target_bytes))
            return OK_ERR_ALIASING;
        for (int m = 0; m < arrays; m++)
            if ((m != k || t->grad[k] != t->x[k]) && overlaps(t->grad[k], bytes, t->x[m], bytes))
                return OK_ERR_ALIASING;
        for (int m = 0; m < k; m++)
            if (overlaps(t->grad[k], bytes, t->grad[m], bytes)) return OK_ERR_ALIASING;
    }
    return OK_SUCCESS;
}

/* Check and run the pair loss of row `kind` over its `arrays` inputs
 * (OK_ROWS_COSINE_EMBEDDING: 2 and a target; OK_ROWS_TRIPLET_MARGIN: 3);
 * `prepared`: the status of its hyperparameters' checks. */
static ok_status pairs_loss(ok_status prepared, int kind, ok_dtype dtype, ok_pairs_task *t, int arrays,
                            ok_reduction reduction, void *loss) {
    ok_status st = prepared;
    if (st == OK_SUCCESS) st = pairs_check(dtype, t, arrays, kind == OK_ROWS_COSINE_EMBEDDING, reduction, loss);
    if (st != OK_SUCCESS || (reduction == OK_REDUCTION_NONE && t->n == 0)) return st;
    const ok_kernel_table *kernels = ok_active_kernels();
    t->scale = reduction == OK_REDUCTION_MEAN ? 1.0 / (double)t->n : 1.0;
    t->loss = reduction == OK_REDUCTION_NONE ? loss : NULL;
    double sum = ok_reduce_run(t, kernels->rows_loss[kind][ok_data_variant(dtype)], t->n, 1,
                               t->d ? (size_t)arrays * t->d : 1);
    if (reduction != OK_REDUCTION_NONE)
        store_value(dtype, loss, reduction == OK_REDUCTION_MEAN ? sum / (double)t->n : sum);
    return OK_SUCCESS;
}

ok_status ok_cosine_embedding_loss(ok_dtype dtype, size_t n, size_t d, const void *input1, const void *input2,
                                   const void *target, double margin, ok_reduction reduction, void *loss,
                                   void *grad1, void *grad2) {
    ok_pairs_task t = {.n = n, .d = d, .x = {input1, input2}, .target = target, .margin = margin,
                       .grad = {grad1, grad2}};
    return pairs_loss(OK_SUCCESS, OK_ROWS_COSINE_EMBEDDING, dtype, &t, 2, reduction, loss);
}

ok_status ok_triplet_margin_loss(ok_dtype dtype, size_t n, size_t d, const void *anchor, const void *positive,
                                 const void *negative, double margin, double p, double eps, int swap,
                                 ok_reduction reduction, void *loss, void *grad_anchor, void *grad_positive,
                                 void *grad_negative) {
    ok_pairs_task t = {.n = n, .d = d, .x = {anchor, positive, negative}, .margin = margin, .p = p, .eps = eps,
                       .norm = p == 1.0 ? OK_PNORM_1 : p == 2.0 ? OK_PNORM_2 : OK_PNORM_P, .swap = swap != 0,
                       .grad = {grad_anchor, grad_positive, grad_negative}};
    /* torch's margin > 0; optkern's finite p > 0 (torch also takes p <= 0 and inf) */
    ok_status st = margin > 0 && p > 0 && p < INFINITY ? OK_SUCCESS : OK_ERR_HYPERPARAMETER;
    return pairs_loss(st, OK_ROWS_TRIPLET_MARGIN, dtype, &t, 3, reduction, loss);
}

ok_status ok_multi_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                               ok_index_type target_type, int p, double margin, const void *weight,
                               ok_reduction reduction, void *loss, void *grad) {
    ok_rows_task t = rows_task(OK_ROWS_MULTI_MARGIN, n, c, 1, input, target, class_kind(target_type), weight, 0);
    t.p = p;
    t.margin = margin;
    ok_status st = p == 1 || p == 2 ? rows_prepare(&t, reduction, 0.0) : OK_ERR_HYPERPARAMETER;
    return rows_loss(st, dtype, &t, reduction, loss, grad);
}

ok_status ok_multilabel_soft_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                                         const void *weight, ok_reduction reduction, void *loss, void *grad) {
    ok_rows_task t = rows_task(OK_ROWS_MULTILABEL_SOFT_MARGIN, n, c, 1, input, target, OK_LABELS_PROBS, weight, 0);
    return rows_loss(rows_prepare(&t, reduction, 0.0), dtype, &t, reduction, loss, grad);
}

/* The target mask (n * c zeroed bytes) and, where the gradient is the input
 * itself, a copy of the input for the kernel to read: host scratch,
 * allocated after the checks and freed before returning. */
ok_status ok_multilabel_margin_loss(ok_dtype dtype, size_t n, size_t c, const void *input, const void *target,
                                    ok_index_type target_type, ok_reduction reduction, void *loss, void *grad) {
    ok_rows_task t = rows_task(OK_ROWS_MULTILABEL_MARGIN, n, c, 1, input, target, class_kind(target_type), NULL, 0);
    ok_status st = rows_prepare(&t, reduction, 0.0);
    if (st == OK_SUCCESS) st = rows_check(dtype, &t, reduction, loss, grad);
    if (st != OK_SUCCESS || (reduction == OK_REDUCTION_NONE && n == 0)) return st;
    const size_t bytes = n * c * ok_dtype_size(dtype);
    unsigned char *mask = calloc(n * c > 0 ? n * c : 1, 1);
    void *copy = grad == input && bytes ? malloc(bytes) : NULL;
    if (!mask || (grad == input && bytes && !copy)) {
        free(mask);
        free(copy);
        return OK_ERR_NO_MEMORY;
    }
    if (copy) t.logits = memcpy(copy, input, bytes);
    t.mask = mask;
    st = rows_run(dtype, &t, reduction, loss, grad);
    free(copy);
    free(mask);
    return st;
}

/* -------------------------------------------------------------------- CTC */

/* Sequence b's target offset (padded: b width; concatenated: the lengths
 * before it) and every length and target checked: OK_ERR_INDEX for an
 * input length outside [0, t_max], a target length below 0 or past the
 * padded width, concatenated lengths that do not sum to n_targets, or a
 * target (within its length) outside [0, c) or equal to blank. */
static ok_status ctc_scan(const ok_ctc_task *t, size_t n_targets, size_t width, size_t *target_at) {
    size_t next = 0;
    for (size_t b = 0; b < t->n; b++) {
        const int64_t steps = t->input_lengths[b], length = t->target_lengths[b];
        if (steps < 0 || (uint64_t)steps > t->t_max || length < 0) return OK_ERR_INDEX;
        if (width ? (uint64_t)length > width : (uint64_t)length > n_targets - next) return OK_ERR_INDEX;
        target_at[b] = width ? b * width : next;
        next += (size_t)length;
        for (int64_t k = 0; k < length; k++) {
            const int64_t label = t->targets[target_at[b] + (size_t)k];
            if (label < 0 || (uint64_t)label >= t->c || label == t->blank) return OK_ERR_INDEX;
        }
    }
    return width || next == n_targets ? OK_SUCCESS : OK_ERR_INDEX;
}

ok_status ok_ctc_loss(ok_dtype dtype, size_t t_max, size_t n, size_t c, const void *log_probs,
                      const int64_t *targets, size_t n_targets, size_t width, const int64_t *input_lengths,
                      const int64_t *target_lengths, int64_t blank, int zero_infinity, ok_reduction reduction,
                      void *loss, void *grad) {
    /* prepare */
    if ((unsigned)reduction > OK_REDUCTION_SUM || blank < 0 || (uint64_t)blank >= c) return OK_ERR_HYPERPARAMETER;
    /* check */
    if (dtype != OK_FLOAT32 && dtype != OK_FLOAT64) return OK_ERR_UNSUPPORTED;
    const size_t elem = ok_dtype_size(dtype);
    if (!ok_fits(t_max, n, 1) || !ok_fits(t_max * n, c, elem) || !ok_fits(n_targets, 1, 8) || !ok_fits(n, 1, 8) ||
        (width && n_targets != n * width))
        return OK_ERR_SIZE;
    const size_t elements = t_max * n * c, loss_bytes = (reduction == OK_REDUCTION_NONE ? n : 1) * elem;
    if (reduction == OK_REDUCTION_NONE && n == 0) return OK_SUCCESS; /* no sequence: nothing to write */
    if (!loss || (elements && (!log_probs || !grad)) || (n && (!input_lengths || !target_lengths)) ||
        (n_targets && !targets))
        return OK_ERR_NULL_POINTER;
    read_set reads = {{targets, input_lengths, target_lengths}, {n_targets * 8, n * 8, n * 8}};
    if (!ok_aligned(log_probs, elem) || !ok_aligned(grad, elem) || !ok_aligned(loss, elem) ||
        !ok_aligned(targets, 8) || !ok_aligned(input_lengths, 8) || !ok_aligned(target_lengths, 8))
        return OK_ERR_ALIGNMENT;
    ok_status st = check_aliasing(log_probs, elements * elem, &reads, grad, loss, loss_bytes);
    if (st != OK_SUCCESS) return st;
    /* run: the scan (nothing written yet), the scratch, the sequences */
    ok_ctc_task t = {0};
    t.f64 = dtype == OK_FLOAT64;
    t.t_max = t_max, t.n = n, t.c = c;
    t.lp = log_probs;
    t.targets = targets;
    t.input_lengths = input_lengths, t.target_lengths = target_lengths;
    t.blank = blank;
    t.zero_infinity = zero_infinity != 0;
    t.mean = reduction == OK_REDUCTION_MEAN;
    t.scale = t.mean ? 1.0 / (double)n : 1.0;
    t.loss = reduction == OK_REDUCTION_NONE ? loss : NULL;
    t.grad = grad;
    size_t *offsets = (size_t *)malloc((2 * n + 1) * sizeof(size_t));
    if (!offsets) return OK_ERR_NO_MEMORY;
    st = ctc_scan(&t, n_targets, width, offsets);
    size_t total = 0;
    for (size_t b = 0; st == OK_SUCCESS && b < n; b++) {
        const size_t need = ok_ctc_work((size_t)input_lengths[b], (size_t)target_lengths[b], c);
        if (need > (SIZE_MAX / sizeof(double) - total)) st = OK_ERR_NO_MEMORY;
        offsets[n + b] = total;
        total += need;
    }
    double *work = st == OK_SUCCESS ? (double *)malloc((total ? total : 1) * sizeof(double)) : NULL;
    if (st == OK_SUCCESS && !work) st = OK_ERR_NO_MEMORY;
    if (st == OK_SUCCESS) {
        t.target_at = offsets, t.work = work, t.work_at = offsets + n;
        const ok_kernel_table *kernels = ok_active_kernels();
        const size_t per_sequence = n ? total / n + t_max * c : 1;
        double sum = ok_reduce_run(&t, kernels->ctc_loss, n, 1, per_sequence ? per_sequence : 1);
        if (reduction != OK_REDUCTION_NONE) store_value(dtype, loss, t.mean ? sum / (double)n : sum);
    }
    free(work);
    free(offsets);
    return st;
}

/* ------------------------------------------------- the typed entry points */

/* The entry points of one dtype: each the generic one with dtype DT. */
#define OK_LOSS_TYPED(T, S, DT)                                                                                  \
    ok_status ok_mse_loss_##S(size_t n, const T *input, const T *target, const T *weight,                      \
                              ok_reduction reduction, T *loss, T *grad) {                                      \
        return ok_mse_loss(DT, n, input, target, weight, reduction, loss, grad);                               \
    }                                                                                                          \
    ok_status ok_l1_loss_##S(size_t n, const T *input, const T *target, const T *weight, ok_reduction reduction, \
                             T *loss, T *grad) {                                                               \
        return ok_l1_loss(DT, n, input, target, weight, reduction, loss, grad);                                \
    }                                                                                                          \
    ok_status ok_huber_loss_##S(size_t n, const T *input, const T *target, const T *weight, double delta,      \
                                ok_reduction reduction, T *loss, T *grad) {                                    \
        return ok_huber_loss(DT, n, input, target, weight, delta, reduction, loss, grad);                      \
    }                                                                                                          \
    ok_status ok_smooth_l1_loss_##S(size_t n, const T *input, const T *target, double beta,                    \
                                    ok_reduction reduction, T *loss, T *grad) {                                \
        return ok_smooth_l1_loss(DT, n, input, target, beta, reduction, loss, grad);                           \
    }                                                                                                          \
    ok_status ok_kl_div_##S(size_t n, size_t batch, const T *input, const T *target, int log_target,           \
                            ok_reduction reduction, T *loss, T *grad) {                                        \
        return ok_kl_div(DT, n, batch, input, target, log_target, reduction, loss, grad);                      \
    }                                                                                                          \
    ok_status ok_binary_cross_entropy_with_logits_##S(size_t n, const T *input, const T *target,               \
                                                      const ok_bcast *weight, const ok_bcast *pos_weight,      \
                                                      ok_reduction reduction, T *loss, T *grad) {              \
        return ok_binary_cross_entropy_with_logits(DT, n, input, target, weight, pos_weight, reduction, loss,   \
                                                   grad);                                                      \
    }                                                                                                          \
    ok_status ok_cross_entropy_##S(size_t n, size_t c, size_t inner, const T *logits, const void *target,      \
                                   ok_index_type target_type, const ok_cross_entropy_options *options, T *loss, \
                                   T *grad) {                                                                  \
        return ok_cross_entropy(DT, n, c, inner, logits, target, target_type, options, loss, grad);            \
    }                                                                                                          \
    ok_status ok_cross_entropy_probs_##S(size_t n, size_t c, size_t inner, const T *logits, const T *target,   \
                                         const ok_cross_entropy_options *options, T *loss, T *grad) {          \
        return ok_cross_entropy_probs(DT, n, c, inner, logits, target, options, loss, grad);                   \
    }                                                                                                          \
    ok_status ok_nll_loss_##S(size_t n, size_t c, size_t inner, const T *input, const void *target,            \
                              ok_index_type target_type, const T *weight, int64_t ignore_index,                \
                              ok_reduction reduction, T *loss, T *grad) {                                      \
        return ok_nll_loss(DT, n, c, inner, input, target, target_type, weight, ignore_index, reduction, loss, \
                           grad);                                                                              \
    }                                                                                                          \
    ok_status ok_cosine_embedding_loss_##S(size_t n, size_t d, const T *input1, const T *input2, const T *target, \
                                           double margin, ok_reduction reduction, T *loss, T *grad1, T *grad2) { \
        return ok_cosine_embedding_loss(DT, n, d, input1, input2, target, margin, reduction, loss, grad1, grad2); \
    }                                                                                                          \
    ok_status ok_triplet_margin_loss_##S(size_t n, size_t d, const T *anchor, const T *positive,               \
                                         const T *negative, double margin, double p, double eps, int swap,     \
                                         ok_reduction reduction, T *loss, T *grad_anchor, T *grad_positive,    \
                                         T *grad_negative) {                                                   \
        return ok_triplet_margin_loss(DT, n, d, anchor, positive, negative, margin, p, eps, swap, reduction,   \
                                      loss, grad_anchor, grad_positive, grad_negative);                        \
    }                                                                                                          \
    ok_status ok_multi_margin_loss_##S(size_t n, size_t c, const T *input, const void *target,                 \
                                       ok_index_type target_type, int p, double margin, const T *weight,       \
                                       ok_reduction reduction, T *loss, T *grad) {                             \
        return ok_multi_margin_loss(DT, n, c, input, target, target_type, p, margin, weight, reduction, loss,  \
                                    grad);                                                                     \
    }                                                                                                          \
    ok_status ok_multilabel_soft_margin_loss_##S(size_t n, size_t c, const T *input, const T *target,          \
                                                 const T *weight, ok_reduction reduction, T *loss, T *grad) {  \
        return ok_multilabel_soft_margin_loss(DT, n, c, input, target, weight, reduction, loss, grad);         \
    }                                                                                                          \
    ok_status ok_multilabel_margin_loss_##S(size_t n, size_t c, const T *input, const void *target,            \
                                            ok_index_type target_type, ok_reduction reduction, T *loss,       \
                                            T *grad) {                                                         \
        return ok_multilabel_margin_loss(DT, n, c, input, target, target_type, reduction, loss, grad);         \
    }                                                                                                          \
    ok_status ok_ctc_loss_##S(size_t t_max, size_t n, size_t c, const T *log_probs, const int64_t *targets,    \
                              size_t n_targets, size_t width, const int64_t *input_lengths,                    \
                              const int64_t *target_lengths, int64_t blank, int zero_infinity,                 \
                              ok_reduction reduction, T *loss, T *grad) {                                      \
        return ok_ctc_loss(DT, t_max, n, c, log_probs, targets, n_targets, width, input_lengths, target_lengths, \
                           blank, zero_infinity, reduction, loss, grad);                                       \
    }

OK_LOSS_TYPED(float, f32, OK_FLOAT32)
OK_LOSS_TYPED(double, f64, OK_FLOAT64)
