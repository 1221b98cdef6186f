/*
 * The loss entry points (optkern/losses.h): check every precondition before
 * anything is written, derive the coefficients in double, run the selected
 * target's kernel through the deterministic reduction driver (reduce.h), and
 * store the reduced loss.
 */
#include <math.h>
#include <stdint.h>

#include "kernel_table.h"
#include "loss/tasks.h"
#include "optkern/losses.h"
#include "reduce.h"

/* Block boundaries of elementwise work fall on multiples of this many
 * elements: whole cache lines for either dtype. */
#define OK_LOSS_ALIGN 64

static size_t elem_size(int dtype) { return ok_dtype_size((ok_dtype)dtype); }

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

static void store_value(int dtype, void *loss, double value) {
    if (dtype == OK_FLOAT64)
        *(double *)loss = value;
    else
        *(float *)loss = (float)value;
}

/* ------------------------------------------------------------ elementwise */

/* The bytes a broadcast operand spans (its indices are [0, period)). */
static size_t bcast_bytes(const ok_bcast *b, size_t elem) { return b->data ? b->period * elem : 0; }

/*
 * Run an elementwise task whose kind and own coefficients are set (the
 * gradient coefficients quad_grad and lin_grad before the reduction's
 * scale). mean_by_weight: MEAN divides by the sum of the weights.
 */
static ok_status ew_run(int dtype, ok_ew_task *t, size_t n, ok_reduction reduction, int mean_by_weight,
                        size_t batch, void *loss, void *grad) {
    const size_t elem = elem_size(dtype), bytes = n * elem;
    if ((unsigned)reduction > OK_REDUCTION_BATCHMEAN) return OK_ERR_HYPERPARAMETER;
    if (reduction == OK_REDUCTION_BATCHMEAN && t->kind != OK_EW_KL_DIV && t->kind != OK_EW_KL_DIV_LOG_TARGET)
        return OK_ERR_HYPERPARAMETER;
    const ok_bcast *ops[2] = {&t->weight, &t->pos_weight};
    for (int k = 0; k < 2; k++)
        if (ops[k]->data && (ops[k]->block == 0 || ops[k]->period == 0)) return OK_ERR_HYPERPARAMETER;
    if (reduction == OK_REDUCTION_NONE && n == 0) return OK_SUCCESS;
    if (!loss || (n > 0 && (!t->input || !t->target || !grad))) return OK_ERR_NULL_POINTER;
    read_set reads = {{t->target, t->weight.data, t->pos_weight.data},
                      {bytes, bcast_bytes(&t->weight, elem), bcast_bytes(&t->pos_weight, elem)}};
    ok_status st = check_aliasing(t->input, bytes, &reads, grad, loss, reduction == OK_REDUCTION_NONE ? bytes : elem);
    if (st != OK_SUCCESS) return st;

    const ok_kernel_table *kernels = ok_active_kernels();
    double denominator = 1.0;
    if (reduction == OK_REDUCTION_MEAN)
        denominator = mean_by_weight && t->weight.data
                          ? ok_reduce_run(t->weight.data, kernels->sum[dtype], n, OK_LOSS_ALIGN, 1)
                          : (double)n;
    if (reduction == OK_REDUCTION_BATCHMEAN) denominator = (double)batch;
    t->grad_scale = 1.0 / denominator;
    t->quad_grad *= t->grad_scale;
    t->lin_grad *= t->grad_scale;
    t->loss = reduction == OK_REDUCTION_NONE ? loss : NULL;
    t->grad = grad;
    double sum = ok_reduce_run(t, kernels->elementwise_loss[dtype], n, OK_LOSS_ALIGN, 1);
    if (reduction != OK_REDUCTION_NONE) store_value(dtype, loss, sum / denominator);
    return OK_SUCCESS;
}

static ok_bcast full_weight(const void *weight, size_t n) {
    ok_bcast b = {weight, 1, n ? n : 1};
    return b;
}

static ok_bcast no_operand(void) {
    ok_bcast b = {NULL, 1, 1};
    return b;
}

static ok_ew_task ew_task(int kind, const void *input, const void *target, ok_bcast weight) {
    ok_ew_task t = {0};
    t.kind = kind;
    t.input = input;
    t.target = target;
    t.weight = weight;
    t.pos_weight = no_operand();
    return t;
}

static ok_status mse(int dtype, size_t n, const void *input, const void *target, const void *weight,
                     ok_reduction reduction, void *loss, void *grad) {
    ok_ew_task t = ew_task(OK_EW_MSE, input, target, full_weight(weight, n));
    t.quad_grad = 2.0;
    return ew_run(dtype, &t, n, reduction, 1, 0, loss, grad);
}

static ok_status l1(int dtype, size_t n, const void *input, const void *target, const void *weight,
                    ok_reduction reduction, void *loss, void *grad) {
    ok_ew_task t = ew_task(OK_EW_L1, input, target, full_weight(weight, n));
    t.lin_grad = 1.0;
    return ew_run(dtype, &t, n, reduction, 1, 0, loss, grad);
}

/* huber_loss and smooth_l1_loss: one kernel (regression.h). */
static ok_status huber(int dtype, size_t n, const void *input, const void *target, const void *weight, double delta,
                       double quad, double lin, ok_reduction reduction, void *loss, void *grad) {
    ok_ew_task t = ew_task(OK_EW_HUBER, input, target, full_weight(weight, n));
    t.delta = delta;
    t.half_delta = 0.5 * delta;
    t.quad = quad;
    t.lin = lin;
    t.quad_grad = 2.0 * quad;
    t.lin_grad = lin;
    return ew_run(dtype, &t, n, reduction, 0, 0, loss, grad);
}

static ok_status huber_delta(int dtype, size_t n, const void *input, const void *target, const void *weight,
                             double delta, ok_reduction reduction, void *loss, void *grad) {
    if (!(delta > 0)) return OK_ERR_HYPERPARAMETER; /* NaN fails too */
    return huber(dtype, n, input, target, weight, delta, 0.5, delta, reduction, loss, grad);
}

static ok_status smooth_l1(int dtype, size_t n, const void *input, const void *target, double beta,
                           ok_reduction reduction, void *loss, void *grad) {
    if (!(beta >= 0)) return OK_ERR_HYPERPARAMETER;
    if (beta == 0) return l1(dtype, n, input, target, NULL, reduction, loss, grad); /* torch's rule */
    return huber(dtype, n, input, target, NULL, beta, 0.5 / beta, 1.0, reduction, loss, grad);
}

static ok_status kl_div(int dtype, size_t n, size_t batch, const void *input, const void *target, int log_target,
                        ok_reduction reduction, void *loss, void *grad) {
    ok_ew_task t = ew_task(log_target ? OK_EW_KL_DIV_LOG_TARGET : OK_EW_KL_DIV, input, target, no_operand());
    return ew_run(dtype, &t, n, reduction, 0, batch, loss, grad);
}

static ok_status bce(int dtype, size_t n, const void *input, const void *target, const ok_bcast *weight,
                     const ok_bcast *pos_weight, ok_reduction reduction, void *loss, void *grad) {
    ok_ew_task t = ew_task(OK_EW_BCE_WITH_LOGITS, input, target, weight ? *weight : no_operand());
    if (pos_weight) t.pos_weight = *pos_weight;
    return ew_run(dtype, &t, n, reduction, 0, 0, loss, grad);
}

/* --------------------------------------------------------------- row-wise */

/* What the target scan needs beside the task. */
typedef struct target_scan {
    const ok_rows_task *task;
    int dtype;
    int *bad; /* set when a target is out of range */
} target_scan;

/* Samples [begin, end): every class target checked, and the sum of the row
 * weights of the samples not ignored (MEAN's denominator). */
static double scan_targets(const void *scan_v, size_t begin, size_t end) {
    const target_scan *scan = (const target_scan *)scan_v;
    const ok_rows_task *t = scan->task;
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) {
        int64_t y = ok_target_at(t, i);
        if (y == t->ignore_index) continue;
        if (y < 0 || (uint64_t)y >= (uint64_t)t->c) {
            __atomic_store_n(scan->bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (!t->weight)
            sum += 1.0;
        else
            sum += scan->dtype == OK_FLOAT64 ? ((const double *)t->weight)[y] : (double)((const float *)t->weight)[y];
    }
    return sum;
}

static double weight_sum(int dtype, const void *weight, size_t c) {
    if (!weight) return (double)c;
    double sum = 0.0;
    for (size_t k = 0; k < c; k++)
        sum += dtype == OK_FLOAT64 ? ((const double *)weight)[k] : (double)((const float *)weight)[k];
    return sum;
}

/*
 * Probability targets over no element (N = 0, or C = 0 with N samples), as
 * torch: each sample's loss -sum_k t_k log p_k is an empty sum negated, -0
 * (the kernel's log s = log 0 = -inf would make 0 * -inf = NaN of it), and
 * so is 'sum'; 'mean' of an input with no element is NaN. With z-loss a
 * sample adds z lse^2 = +inf (lse of no logit is -inf). No gradient to write.
 */
static ok_status no_elements(int dtype, const ok_rows_task *t, size_t samples, ok_reduction reduction, void *loss) {
    const double each = t->z_loss != 0.0 ? INFINITY : -0.0;
    if (reduction == OK_REDUCTION_MEAN)
        store_value(dtype, loss, NAN);
    else if (reduction == OK_REDUCTION_SUM)
        store_value(dtype, loss, samples ? each : -0.0);
    else
        for (size_t i = 0; i < samples; i++) store_value(dtype, (char *)loss + i * elem_size(dtype), each);
    return OK_SUCCESS;
}

/* Run a cross-entropy or nll task whose arrays and hyperparameters are set. */
static ok_status rows_run(int dtype, ok_rows_task *t, int nll, ok_reduction reduction, double label_smoothing,
                          void *loss, void *grad) {
    const size_t elem = elem_size(dtype), samples = t->n * t->inner, elements = samples * t->c;
    const int probs = t->target_kind == OK_LABELS_PROBS;
    if ((unsigned)reduction > OK_REDUCTION_SUM) return OK_ERR_HYPERPARAMETER;
    if (!(label_smoothing >= 0 && label_smoothing <= 1) || !(t->z_loss >= 0 && t->z_loss < INFINITY) ||
        !(t->softcap >= 0 && t->softcap < INFINITY))
        return OK_ERR_HYPERPARAMETER;
    if (t->target_kind != OK_LABELS_INT64 && t->target_kind != OK_LABELS_INT32 && !probs)
        return OK_ERR_HYPERPARAMETER;
    if (reduction == OK_REDUCTION_NONE && samples == 0) return OK_SUCCESS;
    if (!loss || (elements > 0 && (!t->logits || !grad)) || (samples > 0 && !t->target))
        return OK_ERR_NULL_POINTER;
    size_t target_bytes = probs ? elements * elem : samples * (t->target_kind == OK_LABELS_INT32 ? 4 : 8);
    read_set reads = {{t->target, t->weight, NULL}, {target_bytes, t->weight ? t->c * elem : 0, 0}};
    ok_status st = check_aliasing(t->logits, elements * elem, &reads, grad, loss,
                                  reduction == OK_REDUCTION_NONE ? samples * elem : elem);
    if (st != OK_SUCCESS) return st;

    if (probs && elements == 0) return no_elements(dtype, t, samples, reduction, loss);
    double denominator = (double)samples;
    if (!probs) {
        int bad = 0;
        target_scan scan = {t, dtype, &bad};
        denominator = ok_reduce_run(&scan, scan_targets, samples, 1, 1);
        if (bad) return OK_ERR_INDEX;
    }
    t->keep = 1.0 - label_smoothing;
    t->eps_over_c = t->c ? label_smoothing / (double)t->c : 0.0;
    t->weight_sum = weight_sum(dtype, t->weight, t->c);
    t->scale = reduction == OK_REDUCTION_MEAN ? 1.0 / denominator : 1.0;
    t->loss = reduction == OK_REDUCTION_NONE ? loss : NULL;
    t->grad = grad;
    const ok_kernel_table *kernels = ok_active_kernels();
    double sum = ok_reduce_run(t, nll ? kernels->nll_loss[dtype] : kernels->cross_entropy[dtype], samples, 1,
                               t->c ? t->c : 1);
    if (reduction != OK_REDUCTION_NONE)
        store_value(dtype, loss, reduction == OK_REDUCTION_MEAN ? sum / denominator : sum);
    return OK_SUCCESS;
}

static ok_rows_task rows_task(size_t n, size_t c, size_t inner, const void *logits, const void *target,
                            int target_kind, const void *weight, int64_t ignore_index) {
    ok_rows_task t = {0};
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

static ok_status cross_entropy(int dtype, size_t n, size_t c, size_t inner, const void *logits, const void *target,
                               int target_kind, const ok_cross_entropy_options *options, void *loss, void *grad) {
    ok_cross_entropy_options defaults = OK_CROSS_ENTROPY_DEFAULTS;
    const ok_cross_entropy_options *o = options ? options : &defaults;
    ok_rows_task t = rows_task(n, c, inner, logits, target, target_kind, o->weight, o->ignore_index);
    t.z_loss = o->z_loss;
    t.softcap = o->softcap;
    return rows_run(dtype, &t, 0, o->reduction, o->label_smoothing, loss, grad);
}

static ok_status nll_loss(int dtype, size_t n, size_t c, size_t inner, const void *input, const void *target,
                          ok_index_type target_type, const void *weight, int64_t ignore_index,
                          ok_reduction reduction, void *loss, void *grad) {
    ok_rows_task t = rows_task(n, c, inner, input, target, class_kind(target_type), weight, ignore_index);
    return rows_run(dtype, &t, 1, reduction, 0.0, loss, grad);
}

/* ------------------------------------------------------- public entry points */

#define OK_LOSS_API(T, S, DT)                                                                                    \
    ok_status ok_mse_loss_##S(size_t n, const T *input, const T *target, const T *weight,                      \
                              ok_reduction reduction, T *loss, T *grad) {                                      \
        return mse(DT, n, input, target, weight, reduction, loss, grad);                                       \
    }                                                                                                          \
    ok_status ok_l1_loss_##S(size_t n, const T *input, const T *target, const T *weight, ok_reduction reduction, \
                             T *loss, T *grad) {                                                               \
        return l1(DT, n, input, target, weight, reduction, loss, grad);                                        \
    }                                                                                                          \
    ok_status ok_huber_loss_##S(size_t n, const T *input, const T *target, const T *weight, double delta,      \
                                ok_reduction reduction, T *loss, T *grad) {                                    \
        return huber_delta(DT, n, input, target, weight, delta, reduction, loss, grad);                        \
    }                                                                                                          \
    ok_status ok_smooth_l1_loss_##S(size_t n, const T *input, const T *target, double beta,                    \
                                    ok_reduction reduction, T *loss, T *grad) {                                \
        return smooth_l1(DT, n, input, target, beta, reduction, loss, grad);                                   \
    }                                                                                                          \
    ok_status ok_kl_div_##S(size_t n, size_t batch, const T *input, const T *target, int log_target,           \
                            ok_reduction reduction, T *loss, T *grad) {                                        \
        return kl_div(DT, n, batch, input, target, log_target, reduction, loss, grad);                         \
    }                                                                                                          \
    ok_status ok_binary_cross_entropy_with_logits_##S(size_t n, const T *input, const T *target,               \
                                                      const ok_bcast *weight, const ok_bcast *pos_weight,      \
                                                      ok_reduction reduction, T *loss, T *grad) {              \
        return bce(DT, n, input, target, weight, pos_weight, reduction, loss, grad);                           \
    }                                                                                                          \
    ok_status ok_cross_entropy_##S(size_t n, size_t c, size_t inner, const T *logits, const void *target,      \
                                   ok_index_type target_type, const ok_cross_entropy_options *options, T *loss, \
                                   T *grad) {                                                                  \
        return cross_entropy(DT, n, c, inner, logits, target, class_kind(target_type), options, loss, grad);   \
    }                                                                                                          \
    ok_status ok_cross_entropy_probs_##S(size_t n, size_t c, size_t inner, const T *logits, const T *target,   \
                                         const ok_cross_entropy_options *options, T *loss, T *grad) {          \
        return cross_entropy(DT, n, c, inner, logits, target, OK_LABELS_PROBS, options, loss, grad);           \
    }                                                                                                          \
    ok_status ok_nll_loss_##S(size_t n, size_t c, size_t inner, const T *input, const void *target,            \
                              ok_index_type target_type, const T *weight, int64_t ignore_index,                \
                              ok_reduction reduction, T *loss, T *grad) {                                      \
        return nll_loss(DT, n, c, inner, input, target, target_type, weight, ignore_index, reduction, loss,    \
                        grad);                                                                                 \
    }

OK_LOSS_API(float, f32, OK_FLOAT32)
OK_LOSS_API(double, f64, OK_FLOAT64)
