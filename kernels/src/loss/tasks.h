/*
 * What losses.c (the host side) hands the loss kernels: the arrays of one
 * call and every coefficient that depends only on hyperparameters and sizes,
 * computed once in double. Kernels round them to the array's dtype.
 */
#ifndef OPTKERN_LOSS_TASKS_H
#define OPTKERN_LOSS_TASKS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "optkern/losses.h"
#include "portable.h"

/* ------------------------------------------------------------ elementwise */

/*
 * The elementwise kinds, one row each: X(NAME, formula, flags). OK_EW_<NAME>
 * runs DT_NAME(<formula>_lanes) (elementwise-inl.h); flags are its
 * reductions' properties (OK_EW_MEAN_BY_WEIGHT, OK_EW_BATCHMEAN).
 */
#define OK_EW_KINDS(X)                                          \
    X(MSE, mse, OK_EW_MEAN_BY_WEIGHT)                           \
    X(L1, l1, OK_EW_MEAN_BY_WEIGHT)                             \
    X(HUBER, huber, 0)                                          \
    X(KL_DIV, kl_div, OK_EW_BATCHMEAN)                          \
    X(KL_DIV_LOG_TARGET, kl_div_log_target, OK_EW_BATCHMEAN)    \
    X(BCE_WITH_LOGITS, bce_with_logits, 0)                      \
    X(BCE, bce, OK_EW_UNIT_INTERVAL)                            \
    X(POISSON_LOG, poisson_log, 0)                              \
    X(POISSON, poisson, 0)                                      \
    X(GAUSSIAN, gaussian, OK_EW_TWO_INPUTS | OK_EW_NONNEGATIVE_INPUT2) \
    X(HINGE, hinge, 0)                                          \
    X(SOFT_MARGIN, soft_margin, 0)                              \
    X(MARGIN_RANKING, margin_ranking, OK_EW_TWO_INPUTS)

/* MEAN divides by the sum of the weights when there are any (else by n). */
#define OK_EW_MEAN_BY_WEIGHT 1u
/* BATCHMEAN is allowed: the sum divided by the batch size. */
#define OK_EW_BATCHMEAN 2u
/* A second input, input2, with its own gradient, grad2 (both of n elements). */
#define OK_EW_TWO_INPUTS 4u
/* Input and target must lie in [0, 1] (NaN does not): OK_ERR_DOMAIN otherwise. */
#define OK_EW_UNIT_INTERVAL 8u
/* input2 must not be negative (NaN may be): OK_ERR_DOMAIN otherwise. */
#define OK_EW_NONNEGATIVE_INPUT2 16u

#define OK_EW_ENUM(NAME, formula, flags) OK_EW_##NAME,
enum { OK_EW_KINDS(OK_EW_ENUM) OK_EW_COUNT };
#undef OK_EW_ENUM

/* The flags of a kind (a constant where kind is one). */
#define OK_EW_FLAGS_CASE(NAME, formula, flags) \
    case OK_EW_##NAME: return (flags);
OK_FN unsigned ok_ew_flags(int kind) {
    switch (kind) { OK_EW_KINDS(OK_EW_FLAGS_CASE) }
    return 0u;
}
#undef OK_EW_FLAGS_CASE

/* The domain scan of an array of n values (OK_EW_UNIT_INTERVAL,
 * OK_EW_NONNEGATIVE_INPUT2): the count of values outside [lo, hi], NaN
 * counted unless nan_ok. */
typedef struct ok_domain_task {
    const void *x;
    double lo, hi;
    int nan_ok;
} ok_domain_task;

/*
 * An elementwise task. Every formula has the gradient coefficients it needs
 * among quad_grad and lin_grad, with the reduction's scale folded in on the
 * host: d(reduced loss) / d(element loss), 1 / the reduction's denominator
 * (n for a mean, sum(w) for mse/l1's weighted mean, the batch size for
 * kl_div's batchmean; 1 for 'none' and 'sum').
 */
typedef struct ok_ew_task {
    int kind;            /* OK_EW_* */
    const void *input, *target;
    ok_bcast weight;     /* data NULL: all ones */
    ok_bcast pos_weight; /* BCE only; data NULL: all ones */
    const void *input2;  /* OK_EW_TWO_INPUTS: the second input, else NULL */
    void *loss;          /* per-element losses (reduction 'none'), else NULL */
    void *grad;
    void *grad2;         /* OK_EW_TWO_INPUTS: input2's gradient, else NULL */
    /* HUBER: loss quad d^2 where |d| < delta, else lin (|d| - delta/2);
     * gradient quad_grad d, else lin_grad sign(d). MSE's gradient is
     * quad_grad w d, L1's lin_grad w sign(d), KL_DIV's lin_grad y (e^y with
     * log_target), BCE_WITH_LOGITS's lin_grad w [L sigmoid(x) - p y]; the
     * others' are lin_grad times their derivative (their sections of
     * docs/losses.md). */
    double delta, half_delta, quad, lin, quad_grad, lin_grad;
    /* HINGE and MARGIN_RANKING: the margin; POISSON and GAUSSIAN: eps;
     * GAUSSIAN: the constant added to each loss (full's log(2 pi) / 2);
     * POISSON_LOG and POISSON: nonzero to add Stirling's term (full). */
    double margin, eps, offset;
    int full;
} ok_ew_task;

/* -------------------------------------------------------------- row-wise */

/* The row kinds, one row each: X(NAME, body, flags). OK_ROWS_<NAME> runs
 * the kernel body DT_NAME(<body>), its column of the kernel tables'
 * rows_loss, over its family's task: an ok_rows_task (cross-entropy, nll,
 * the margin losses), an ok_pairs_task (the pair losses, below); flags are
 * its targets' properties (OK_ROWS_IGNORE_INDEX). */
#define OK_ROWS_KINDS(X)                                                  \
    X(CROSS_ENTROPY, cross_entropy_block, OK_ROWS_IGNORE_INDEX)           \
    X(NLL, nll_block, OK_ROWS_IGNORE_INDEX)                               \
    X(MULTI_MARGIN, multi_margin_block, 0)                                \
    X(MULTILABEL_SOFT_MARGIN, multilabel_soft_margin_block, 0)            \
    X(MULTILABEL_MARGIN, multilabel_margin_block, OK_ROWS_MULTILABEL)     \
    X(COSINE_EMBEDDING, cosine_embedding_block, 0)                        \
    X(TRIPLET_MARGIN, triplet_margin_block, 0)

/* Class targets equal to ignore_index count for nothing, and MEAN divides
 * by the summed row weight w_y of the others; without it every class target
 * must be in [0, C) and MEAN divides by the sample count. */
#define OK_ROWS_IGNORE_INDEX 1u
/* c class targets per sample, the first -1 ending its list (every entry
 * must be in [-1, C)); the scan marks each sample's targets in t->mask. */
#define OK_ROWS_MULTILABEL 2u

#define OK_ROWS_ENUM(NAME, body, flags) OK_ROWS_##NAME,
enum { OK_ROWS_KINDS(OK_ROWS_ENUM) OK_ROWS_COUNT };
#undef OK_ROWS_ENUM

/* The flags of a row kind. */
#define OK_ROWS_FLAGS_CASE(NAME, body, flags) \
    case OK_ROWS_##NAME: return (flags);
OK_FN unsigned ok_rows_flags(int kind) {
    switch (kind) { OK_ROWS_KINDS(OK_ROWS_FLAGS_CASE) }
    return 0;
}
#undef OK_ROWS_FLAGS_CASE

/* A row task's targets: class indices, or floats of the input's shape
 * (cross-entropy's probabilities, multilabel_soft_margin_loss's labels). */
enum { OK_LABELS_INT64, OK_LABELS_INT32, OK_LABELS_PROBS };

/* The three ways cross-entropy weighs its targets (cross_entropy-inl.h). */
enum { OK_CE_CLASS = 0, OK_CE_CLASS_SMOOTH = 1, OK_CE_PROBS = 2 };

typedef struct ok_rows_task {
    int kind;             /* OK_ROWS_* */
    size_t n, c, inner;   /* logits[n][c][inner]; n * inner samples */
    const void *logits;
    const void *target;
    int target_kind;      /* OK_LABELS_* */
    const void *weight;   /* c class weights, or NULL */
    int64_t ignore_index;
    double keep;          /* 1 - label_smoothing */
    double eps_over_c;    /* label_smoothing / c */
    double weight_sum;    /* sum of the class weights (c without weights) */
    double z_loss;
    double softcap;       /* 0: none */
    double scale;         /* the reduction's factor on each sample's gradient */
    int p;                /* multi_margin_loss: the hinge's power, 1 or 2 */
    double margin;        /* multi_margin_loss: the margin */
    void *loss;           /* per-sample losses (reduction 'none'), else NULL */
    void *grad;
    int *out_of_range;    /* the class-target scan (labels-inl.h) sets it */
    unsigned char *mask;  /* OK_ROWS_MULTILABEL: n * c zeroed bytes, the scan's target marks */
} ok_rows_task;

/* The class target of sample i. */
OK_FN int64_t ok_target_at(const ok_rows_task *t, size_t i) {
    return t->target_kind == OK_LABELS_INT32 ? (int64_t)((const int32_t *)t->target)[i]
                                             : ((const int64_t *)t->target)[i];
}

/* Per-sample quantities of cross-entropy, in double (cross_entropy-inl.h). */
typedef struct ok_ce_row {
    double log_s;  /* log sum_k exp(x'_k - m) */
    double lse;    /* m + log_s */
    double alpha;  /* gradient g_k = exp(x'_k - m) alpha - scale a_k */
} ok_ce_row;

/* The z-loss of a sample, z rho lse^2; exactly 0 without z-loss (even where
 * lse is infinite: a row with no class, or only -inf logits). */
OK_FN double ok_ce_z_term(const ok_rows_task *t, double rho, double lse) {
    return t->z_loss != 0.0 ? t->z_loss * rho * lse * lse : 0.0;
}

/* From pass 1's max m and sum s: mass = sum_k a_k, the row's total target
 * weight; rho its row weight (w_y for class targets, 1 for probabilities). */
OK_FN ok_ce_row ok_ce_row_stats(const ok_rows_task *t, double m, double s, double mass, double rho) {
    ok_ce_row r;
    r.log_s = log(s);
    r.lse = m + r.log_s;
    double z_grad = t->z_loss != 0.0 ? 2.0 * t->z_loss * rho * r.lse : 0.0;
    r.alpha = t->scale * (mass + z_grad) / s;
    return r;
}

/* ------------------------------------------------------------ pair losses */

/* cosine_embedding_loss's EPSILON: torch's, a float 1e-12 (as a double,
 * 9.999999960041972e-13), added to each squared norm
 * (docs/losses.md#cosine_embedding_loss). */
#define OK_COSINE_EPSILON ((double)1e-12f)

/* The norm of triplet_margin_loss's distances: p = 1, p = 2, any other p > 0. */
enum { OK_PNORM_1, OK_PNORM_2, OK_PNORM_P };

/*
 * A pair loss (pairs-inl.h): n samples, each a row of d features of every
 * array x[k] (cosine_embedding_loss: input1, input2; triplet_margin_loss:
 * anchor, positive, negative), and grad[k] the gradient of x[k] (it may be
 * x[k] itself).
 */
typedef struct ok_pairs_task {
    size_t n, d;
    const void *x[3];
    const void *target; /* cosine_embedding_loss: n targets, 1 / -1 (others count for nothing) */
    double margin;
    double p, eps;      /* triplet_margin_loss's norm and the eps added to each difference */
    int norm;           /* OK_PNORM_* of p */
    int swap;           /* triplet_margin_loss: the distance swap */
    double scale;       /* the reduction's factor on each sample's gradient */
    void *loss;         /* per-sample losses (reduction 'none'), else NULL */
    void *grad[3];
} ok_pairs_task;

/* ------------------------------------------------------------------- CTC */

/*
 * A ctc_loss task (ctc-inl.h, docs/losses.md#ctc_loss): log-probabilities
 * lp[t][n][c] of t_max x n x c, float32 or float64 (f64 says which; the
 * recursion runs in double for both); sequence b's targets at
 * targets + target_at[b], its input and target lengths checked by the host
 * (0 <= input_lengths[b] <= t_max, the targets in [0, c) and not blank).
 * Its scratch, host-allocated: work + work_at[b] doubles (ok_ctc_work).
 */
typedef struct ok_ctc_task {
    int f64;              /* the arrays are float64 (else float32) */
    size_t t_max, n, c;
    const void *lp;
    const int64_t *targets;
    const int64_t *input_lengths, *target_lengths;
    const size_t *target_at; /* n offsets into targets */
    double *work;
    const size_t *work_at;   /* n offsets into work */
    int64_t blank;
    int zero_infinity;
    int mean;             /* each loss divided by max(target length, 1) (reduction 'mean') */
    double scale;         /* the reduction's factor on each gradient (1 / n for 'mean') */
    void *loss;           /* per-sequence losses (reduction 'none'), else NULL */
    void *grad;
} ok_ctc_task;

/* The width of a row of alpha (and beta) for 2 s + 1 states: two padding
 * entries on the side the recursion reads past, and room for whole vectors
 * of up to 8 lanes past the last state, rounded up to 64-byte lines. */
OK_FN size_t ok_ctc_row(size_t states) { return (states + 2 + 8 + 7) / 8 * 8; }

/* The doubles of scratch a sequence of t steps needs: t rows of alpha;
 * beta, its sums with lp, the skip mask, the gathered log-probabilities and
 * the posteriors (a row each); and two rows of c (the posteriors' sums per
 * label, a converted row of lp or of the gradient). */
OK_FN size_t ok_ctc_work(size_t t, size_t target_length, size_t c) {
    const size_t row = ok_ctc_row(2 * target_length + 1);
    return (t + 5) * row + 2 * ((c + 7) / 8 * 8);
}

#endif /* OPTKERN_LOSS_TASKS_H */
