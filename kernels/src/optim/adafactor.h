/*
 * Adafactor's descriptor: torch.optim.Adafactor, docs/optimizers.md#adafactor.
 *
 * Not an elementwise optimizer: the update of a tensor needs its RMS(p),
 * and of a matrix the means of g^2 over its rows and columns, then the RMS
 * of the update itself. Its runner (adafactor.c) makes these passes over
 * the tensor list, each threaded; the reductions are cut into blocks that
 * depend only on the shapes and are combined in a fixed order (reduce.h),
 * so results are bitwise the same for any thread count:
 *
 *   stats  (blocks)  sum of p^2 per block. A vector: v <- lerp(v, g^2, w)
 *                    and the sum of U^2. A matrix: each row's mean of g^2,
 *                    row_var <- lerp(row_var, it, w), the sum of the new
 *                    row_var, and the block's column sums of g^2.
 *   cols             a matrix's column sums, its blocks' added in order:
 *                    col_var <- lerp(col_var, sums / rows, w), and the mean
 *                    of its new row_var.
 *   rms    (blocks)  a matrix: the sum of U^2.
 *   apply  (spans)   p <- p (1 - lr wd) - alpha / max(1, RMS(U) / d) U
 *
 * The kernel bodies are optim/adafactor-inl.h.
 */
#ifndef OPTKERN_OPTIM_ADAFACTOR_H
#define OPTKERN_OPTIM_ADAFACTOR_H

#include <math.h>

#include "optim/descriptor.h"

typedef struct ok_adafactor_coeffs {
    ok_grad_scaling grad; /* first: the call's gradient scaling (optim/descriptor.h) */
    ok_lerp lerp;         /* the second moments' lerp weight w = t^beta2_decay */
    double rho;           /* min(lr, 1/sqrt(t)) */
    double eps1, eps1_sq; /* unless eps1_machine */
    double eps2, d;
    double decay;         /* 1 - lr * weight_decay */
    int maximize, has_weight_decay, eps1_machine;
} ok_adafactor_coeffs;
OK_GRAD_SCALING_FIRST(ok_adafactor_coeffs, grad);

enum { OK_ADAFACTOR_ROW_VAR = OK_OPT_STATE, OK_ADAFACTOR_COL_VAR, OK_ADAFACTOR_VARIANCE };

OK_FN ok_status ok_adafactor_checked(const void *hparams) {
    const ok_adafactor_hparams *hp = (const ok_adafactor_hparams *)hparams;
    if (!(hp->lr >= 0) || !(hp->beta2_decay <= 0) || !(hp->eps2 >= 0) || !(hp->d >= 1) || !(hp->weight_decay >= 0))
        return OK_ERR_HYPERPARAMETER;
    if (!hp->eps1_machine && !(hp->eps1 >= 0)) return OK_ERR_HYPERPARAMETER;
    if (hp->step < 1) return OK_ERR_HYPERPARAMETER;
    return OK_SUCCESS;
}

OK_FN void ok_adafactor_prepare(const void *hparams, void *coeffs) {
    const ok_adafactor_hparams *hp = (const ok_adafactor_hparams *)hparams;
    ok_adafactor_coeffs *c = (ok_adafactor_coeffs *)coeffs;
    double t = (double)hp->step;
    c->lerp = ok_lerp_weight(pow(t, hp->beta2_decay));
    c->rho = fmin(hp->lr, 1.0 / sqrt(t));
    c->eps1 = hp->eps1;
    c->eps1_sq = hp->eps1 * hp->eps1;
    c->eps2 = hp->eps2;
    c->d = hp->d;
    c->decay = 1.0 - hp->lr * hp->weight_decay;
    c->maximize = hp->maximize != 0;
    c->has_weight_decay = hp->weight_decay != 0;
    c->eps1_machine = hp->eps1_machine != 0;
}

/* Every state, where the tensor's shape has it (state_shapes below). */
OK_FN unsigned ok_adafactor_required(const void *hparams) {
    (void)hparams;
    return 7u;
}

static const ok_field ok_adafactor_fields[] = {
    OK_FIELD(ok_adafactor_hparams, lr, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adafactor_hparams, beta2_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adafactor_hparams, eps1, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adafactor_hparams, eps2, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adafactor_hparams, d, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adafactor_hparams, weight_decay, OK_FIELD_DOUBLE),
    OK_FIELD(ok_adafactor_hparams, step, OK_FIELD_INT64),
    OK_FIELD(ok_adafactor_hparams, maximize, OK_FIELD_INT),
    OK_FIELD(ok_adafactor_hparams, eps1_machine, OK_FIELD_INT),
};

/* torch's order and names: a matrix's factors, a vector's variance */
static const char *const ok_adafactor_states[] = {"row_var", "col_var", "variance"};
static const unsigned char ok_adafactor_state_shapes[] = {OK_STATE_ROWS, OK_STATE_COLS, OK_STATE_VECTOR};

/* ---------------------------------------------------- the runner's task */

/* A tensor of the call. A matrix batch is `batch` matrices of rows x cols,
 * each cut into `parts` blocks of whole rows; a vector is cut into blocks
 * of elements. */
typedef struct ok_af_tensor {
    int matrix;
    size_t batch, rows, cols, parts;
    /* a matrix: (1 + cols) doubles per (matrix, part), "slots": the sum of
     * the part's new row_var, then its column sums of g^2; after the cols
     * pass, slot (m, 0) starts with the mean of matrix m's new row_var */
    double *slots;
    double step; /* the apply pass's -alpha / max(1, RMS(U) / d) */
} ok_af_tensor;

typedef struct ok_af_block {
    size_t tensor;
    size_t begin, end; /* a matrix batch: rows of the batch (flattened), within one matrix; a vector: elements */
    size_t part;       /* a matrix batch: the block's part of its matrix */
    double sum_p2;     /* the stats pass: the sum of p^2 over the block */
    double sum_u2;     /* the sum of U^2 (a vector: stats pass; a matrix: rms pass) */
} ok_af_block;

struct ok_kernel_table;

typedef struct ok_af_task {
    ok_mt_task mt; /* first: the apply pass's spans get &mt */
    const struct ok_kernel_table *kernels; /* the instruction set the call started with */
    ok_af_tensor *tensors;
    ok_af_block *blocks;
} ok_af_task;

/* Slot (m, part) of tensor t. */
OK_FN double *ok_af_slot(const ok_af_tensor *t, size_t m, size_t part) {
    return t->slots + (m * t->parts + part) * (1 + t->cols);
}

/* A tensor's apply-pass step -alpha / max(1, RMS(U) / d), alpha =
 * max(eps2, RMS(p)) rho, from its sums of p^2 and U^2 over its n elements;
 * the maxima as torch's Python max (a NaN RMS loses to eps2 and to 1). */
OK_FN double ok_adafactor_step(const ok_adafactor_coeffs *c, double sum_p2, double sum_u2, size_t n) {
    const double root_n = sqrt((double)n), rms_p = sqrt(sum_p2) / root_n, clip = sqrt(sum_u2) / (root_n * c->d);
    const double alpha = (rms_p > c->eps2 ? rms_p : c->eps2) * c->rho;
    return -alpha / (clip > 1.0 ? clip : 1.0);
}

ok_status ok_adafactor_run(const ok_mt_task *task);

OK_HOST_ONLY(static const ok_optimizer ok_adafactor_optimizer = {
    OK_DESCRIPTOR(adafactor), .state_shapes = ok_adafactor_state_shapes, .run = ok_adafactor_run, .nearest_only = 1,
};)

#endif /* OPTKERN_OPTIM_ADAFACTOR_H */
