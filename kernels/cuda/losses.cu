/*
 * The losses on the GPU (docs/gpu.md#losses), compiled once per data
 * variant (variants.h: float32, float64, bfloat16, float16) with
 * -DOK_CUDA_VARIANT=k.
 *
 * Every kernel takes one plan: 64-bit words in the layout of enum
 * ok_loss_word below (optkern/cuda/_losses.py builds it, reading this enum),
 * whose parts and denominator slots the kernels also write. A call is a few
 * launches in stream order on one plan:
 *
 *   elementwise losses   [ok_cuda_loss_sum_of, ok_cuda_loss_den] where 'mean' divides
 *                        by the sum of the weights; ok_cuda_ew_loss; and, when
 *                        reduced, ok_cuda_loss_reduce
 *   cross_entropy        class targets: ok_cuda_ce_labels and ok_cuda_ce_labels_total
 *                        (the caller reads the out-of-range count before
 *                        anything else runs: a bad target writes nothing);
 *                        ok_cuda_ce_loss; ok_cuda_loss_reduce
 *   nll_loss             ok_cuda_ce_labels, ok_cuda_ce_labels_total; ok_cuda_nll_loss;
 *                        ok_cuda_loss_reduce
 *
 * The elementwise losses run the C library's own formulas (loss/<name>-inl.h,
 * on the scalar target) on the task the C library prepared
 * (ok_elementwise_task). Cross-entropy has its own row kernel, one block
 * per sample, on docs/losses.md#cross_entropy's formulas. Every sum is
 * reduce.cuh's: bitwise the same on every run and every GPU.
 */
#include "launch.cuh"

#define OK_TARGET_SCALAR 1
#include "target/simd.h"
#include "loss/tasks.h"
#include "optim/descriptor.h"

#ifndef OK_CUDA_VARIANT
#error "compile with -DOK_CUDA_VARIANT=k, a data variant of variants.h"
#endif
#define OK_VARIANT OK_CUDA_VARIANT
#include "target/dtype.h"
#include "target/storage-inl.h"
#include "target/vmath-inl.h"
#include "loss/regression-inl.h"
#include "loss/kl_div-inl.h"
#include "loss/bce_with_logits-inl.h"
#include "loss/probabilistic-inl.h"
#include "loss/hinges-inl.h"
#include "loss/elementwise-inl.h"
#include "reduce.cuh"

/* The words of a loss plan. Doubles are stored as their bits. */
enum ok_loss_word {
    OK_LOSS_OUT,         /* the loss: the 0-d result, or the per-item losses ('none') */
    OK_LOSS_REDUCTION,   /* ok_reduction: 0 none, 1 mean, 2 sum (3 batchmean: as mean) */
    OK_LOSS_DEN,         /* double: what a reduced loss and the gradient divide by */
    OK_LOSS_BAD,         /* double: the class targets out of range (ok_cuda_ce_labels_total) */
    OK_LOSS_N,           /* the items: elements, or cross-entropy's samples */
    OK_LOSS_INPUT,
    OK_LOSS_TARGET,
    OK_LOSS_GRAD,
    OK_LOSS_SUM_OF,      /* the array whose sum is the denominator (ok_cuda_loss_sum_of), or 0 */
    OK_LOSS_C,           /* cross_entropy: classes, */
    OK_LOSS_INNER,       /* positions per sample row (d1 * d2 ...), */
    OK_LOSS_TARGET_KIND, /* OK_LABELS_INT64, _INT32 or _PROBS (loss/tasks.h), */
    OK_LOSS_WEIGHT,      /* class weights or 0, */
    OK_LOSS_IGNORE,      /* ignore_index (int64), */
    OK_LOSS_KEEP,        /* double: 1 - label_smoothing, */
    OK_LOSS_EPS_OVER_C,  /* double: label_smoothing / C, */
    OK_LOSS_Z,           /* double: z_loss, */
    OK_LOSS_CAP,         /* double: softcap (0: none) */
    OK_LOSS_PARTS,       /* 2 * OK_CUDA_PARTS doubles: two sums' parts */
    OK_LOSS_TASK = OK_LOSS_PARTS + 2 * OK_CUDA_PARTS /* the elementwise task's bytes */
};

OK_INLINE double ok_word_double(const uint64_t *plan, int w) {
    double d;
    memcpy(&d, plan + w, sizeof d);
    return d;
}

OK_INLINE double *ok_word_slot(const uint64_t *plan, int w) { return (double *)(plan + w); }

/* --------------------------------------------------------- shared steps */

/* parts[b] = the sum of part b of the SUM_OF array's n items. */
OK_KERNEL(ok_cuda_loss_sum_of, (const uint64_t *plan), (plan)) {
    const data_t *x = (const data_t *)plan[OK_LOSS_SUM_OF];
    const size_t n = (size_t)plan[OK_LOSS_N], b = blockIdx.x;
    double v = 0.0;
    for (size_t i = ok_part_begin(n, b) + threadIdx.x; i < ok_part_begin(n, b + 1); i += OK_CUDA_BLOCK)
        v += (double)ld_data(x + i);
    v = ok_block_sum(v);
    if (threadIdx.x == 0) ok_word_slot(plan, OK_LOSS_PARTS)[b] = v;
}

/* DEN = the sum of the parts (one block). */
OK_KERNEL(ok_cuda_loss_den, (const uint64_t *plan), (plan)) {
    const double sum = ok_parts_sum(ok_word_slot(plan, OK_LOSS_PARTS));
    if (threadIdx.x == 0) *ok_word_slot(plan, OK_LOSS_DEN) = sum;
}

/* The reduced loss, the parts' sum over DEN for a mean, in the loss dtype
 * (real_t: float64 for float64 inputs, else float32). One block. */
OK_KERNEL(ok_cuda_loss_reduce, (const uint64_t *plan), (plan)) {
    const double sum = ok_parts_sum(ok_word_slot(plan, OK_LOSS_PARTS));
    if (threadIdx.x == 0) {
        const double den = plan[OK_LOSS_REDUCTION] == OK_REDUCTION_SUM ? 1.0 : ok_word_double(plan, OK_LOSS_DEN);
        *(real_t *)plan[OK_LOSS_OUT] = (real_t)(sum / den);
    }
}

/* ----------------------------------------------------------- elementwise */

/* Each element through elementwise-inl.h's loop, the kind's formula
 * inlined; parts[b] = the sum of part b's losses (0 for 'none', whose
 * losses the body stores). The gradient coefficients are divided by DEN
 * here, as ew_run (losses.c) does on the host. */
#define OK_EW_ELEMENT_CASE(NAME, formula, flags) \
    case OK_EW_##NAME: v += DT_NAME(ew_loop)(&t, OK_EW_##NAME, i, i + 1); break;
OK_KERNEL(ok_cuda_ew_loss, (const uint64_t *plan), (plan)) {
    ok_ew_task t;
    memcpy(&t, plan + OK_LOSS_TASK, sizeof t);
    t.input = (const void *)plan[OK_LOSS_INPUT];
    t.target = (const void *)plan[OK_LOSS_TARGET];
    t.grad = (void *)plan[OK_LOSS_GRAD];
    t.loss = plan[OK_LOSS_REDUCTION] == OK_REDUCTION_NONE ? (void *)plan[OK_LOSS_OUT] : 0;
    const double scale = 1.0 / ok_word_double(plan, OK_LOSS_DEN);
    t.quad_grad *= scale;
    t.lin_grad *= scale;
    const size_t n = (size_t)plan[OK_LOSS_N], b = blockIdx.x;
    double v = 0.0;
    for (size_t i = ok_part_begin(n, b) + threadIdx.x; i < ok_part_begin(n, b + 1); i += OK_CUDA_BLOCK) {
        switch (t.kind) { OK_EW_KINDS(OK_EW_ELEMENT_CASE) }
    }
    v = ok_block_sum(v);
    if (threadIdx.x == 0) ok_word_slot(plan, OK_LOSS_PARTS)[b] = v;
}
#undef OK_EW_ELEMENT_CASE

/* --------------------------------------------------------- cross-entropy */

OK_INLINE int64_t ok_ce_target(const uint64_t *plan, size_t i) {
    const void *t = (const void *)plan[OK_LOSS_TARGET];
    return plan[OK_LOSS_TARGET_KIND] == OK_LABELS_INT32 ? (int64_t)((const int32_t *)t)[i] : ((const int64_t *)t)[i];
}

/* A class target's weight (1 without class weights). */
OK_INLINE double ok_ce_weight(const uint64_t *plan, int64_t k) {
    const data_t *w = (const data_t *)plan[OK_LOSS_WEIGHT];
    return w ? (double)ld_data(w + k) : 1.0;
}

/* The factor of each sample's gradient: 1 / D for 'mean', else 1. */
OK_INLINE double ok_row_scale(const uint64_t *plan) {
    return plan[OK_LOSS_REDUCTION] == OK_REDUCTION_MEAN ? 1.0 / ok_word_double(plan, OK_LOSS_DEN) : 1.0;
}

/* parts[b] = the weight of part b's samples that are not ignored (the
 * mean's denominator D), parts[OK_CUDA_PARTS + b] = how many of them are
 * out of range. */
OK_KERNEL(ok_cuda_ce_labels, (const uint64_t *plan), (plan)) {
    const size_t n = (size_t)plan[OK_LOSS_N], b = blockIdx.x;
    const int64_t c = (int64_t)plan[OK_LOSS_C], ignore = (int64_t)plan[OK_LOSS_IGNORE];
    double weight = 0.0, bad = 0.0;
    for (size_t i = ok_part_begin(n, b) + threadIdx.x; i < ok_part_begin(n, b + 1); i += OK_CUDA_BLOCK) {
        const int64_t y = ok_ce_target(plan, i);
        if (y == ignore) continue;
        if (y < 0 || y >= c)
            bad += 1.0;
        else
            weight += ok_ce_weight(plan, y);
    }
    weight = ok_block_sum(weight);
    bad = ok_block_sum(bad);
    if (threadIdx.x == 0) {
        ok_word_slot(plan, OK_LOSS_PARTS)[b] = weight;
        ok_word_slot(plan, OK_LOSS_PARTS)[OK_CUDA_PARTS + b] = bad;
    }
}

/* DEN and BAD from ok_cuda_ce_labels's parts (one block). */
OK_KERNEL(ok_cuda_ce_labels_total, (const uint64_t *plan), (plan)) {
    const double weight = ok_parts_sum(ok_word_slot(plan, OK_LOSS_PARTS));
    const double bad = ok_parts_sum(ok_word_slot(plan, OK_LOSS_PARTS) + OK_CUDA_PARTS);
    if (threadIdx.x == 0) *ok_word_slot(plan, OK_LOSS_DEN) = weight, *ok_word_slot(plan, OK_LOSS_BAD) = bad;
}

/* x'_k: the logit, soft-capped when cap > 0. */
OK_INLINE real_t ok_ce_logit(const data_t *x, real_t cap) {
    const real_t v = ld_data(x);
    return cap > 0 ? cap * (real_t)tanh(v / cap) : v;
}

/*
 * One block per sample of its part, on docs/losses.md#cross_entropy's
 * formulas in two reads of the row: the max m of x' together with
 * s = sum exp(x'_k - m), A = sum a_k and B = sum a_k (x'_k - m) (in double,
 * s rescaled as the max grows); then g_k = exp(x'_k - m) alpha - scale a_k. The class target's own weight keep * w_y joins A, B and its
 * gradient entry in double. The sample's loss A log s - B + z rho lse^2 is
 * stored ('none') or added to the part's sum.
 */
OK_KERNEL(ok_cuda_ce_loss, (const uint64_t *plan), (plan)) {
    const size_t n = (size_t)plan[OK_LOSS_N], c = (size_t)plan[OK_LOSS_C], inner = (size_t)plan[OK_LOSS_INNER];
    const data_t *x0 = (const data_t *)plan[OK_LOSS_INPUT];
    data_t *g0 = (data_t *)plan[OK_LOSS_GRAD];
    const int probs = plan[OK_LOSS_TARGET_KIND] == OK_LABELS_PROBS;
    const data_t *t0 = (const data_t *)plan[OK_LOSS_TARGET];
    const data_t *w = (const data_t *)plan[OK_LOSS_WEIGHT];
    const int64_t ignore = (int64_t)plan[OK_LOSS_IGNORE];
    const double keep = ok_word_double(plan, OK_LOSS_KEEP), eps_over_c = ok_word_double(plan, OK_LOSS_EPS_OVER_C);
    const double z = ok_word_double(plan, OK_LOSS_Z);
    const real_t cap = (real_t)ok_word_double(plan, OK_LOSS_CAP);
    const int none = plan[OK_LOSS_REDUCTION] == OK_REDUCTION_NONE;
    const double scale = ok_row_scale(plan);
    const size_t b = blockIdx.x;
    double part = 0.0;
    for (size_t i = ok_part_begin(n, b); i < ok_part_begin(n, b + 1); i++) {
        const size_t base = i / inner * c * inner + i % inner;
        const data_t *x = x0 + base, *tp = probs ? t0 + base : 0;
        data_t *g = g0 + base;
        const int64_t y = probs ? -1 : ok_ce_target(plan, i);
        if (!probs && y == ignore) {
            for (size_t k = threadIdx.x; k < c; k += OK_CUDA_BLOCK) st_data(g + k * inner, 0.0);
            if (none && threadIdx.x == 0) ((real_t *)plan[OK_LOSS_OUT])[i] = 0;
            continue;
        }
        /* the target's own logit, read before any thread writes the row
         * (the barriers of the sums below come in between): out may be x */
        const real_t vy = probs ? 0 : ok_ce_logit(x + (size_t)y * inner, cap);
        /* Passes 1 and 2 in one read: each thread's running max mt of its
         * x', and st = sum exp(x' - mt), rescaled when mt grows (an x' of
         * -inf adds nothing, however many there are); A = sum a_k and
         * C = sum a_k x'_k, in double. */
        real_t mt = -INFINITY;
        double st = 0.0, A = 0.0, C = 0.0;
        for (size_t k = threadIdx.x; k < c; k += OK_CUDA_BLOCK) {
            const real_t v = ok_ce_logit(x + k * inner, cap);
            if (v > mt) st *= exp((double)mt - (double)v), mt = v;
            if (v != -INFINITY) st += (double)(real_t)exp(v - mt);
            const double wk = w ? (double)ld_data(w + k) : 1.0;
            const double a = probs ? wk * (keep * (double)ld_data(tp + k * inner) + eps_over_c) : wk * eps_over_c;
            A += a, C += a * (double)v;
        }
        const double m = ok_block_max((double)mt);
        const real_t mr = (real_t)m;
        const double s = ok_block_sum(st != 0.0 ? st * exp((double)mt - m) : st);
        A = ok_block_sum(A);
        double B = ok_block_sum(C) - m * A; /* sum a_k (x'_k - m) */
        if (A == 0.0) B = 0.0;
        const double rho = probs ? 1.0 : ok_ce_weight(plan, y);
        if (!probs) {
            const double dy = (double)(vy - mr);
            A += keep * rho, B += keep * rho * dy;
        }
        const double log_s = log(s), lse = m + log_s;
        const double zl = z != 0.0 ? z * rho * lse * lse : 0.0;
        const double alpha = scale * (A + (z != 0.0 ? 2.0 * z * rho * lse : 0.0)) / s;
        const real_t alpha_r = (real_t)alpha;
        for (size_t k = threadIdx.x; k < c; k += OK_CUDA_BLOCK) {
            const real_t v = ok_ce_logit(x + k * inner, cap);
            const real_t e = (real_t)exp(v - mr);
            const double wk = w ? (double)ld_data(w + k) : 1.0;
            const double a = probs ? wk * (keep * (double)ld_data(tp + k * inner) + eps_over_c) : wk * eps_over_c;
            double gk = (int64_t)k == y ? (double)e * alpha - scale * (a + keep * rho)
                                        : (double)(e * alpha_r - (real_t)(scale * a));
            if (cap > 0) gk *= 1.0 - (double)(v / cap) * (double)(v / cap);
            st_data(g + k * inner, gk);
        }
        if (threadIdx.x == 0) {
            const double loss = A * log_s - B + zl;
            if (none)
                ((real_t *)plan[OK_LOSS_OUT])[i] = (real_t)loss;
            else
                part += loss;
        }
    }
    if (threadIdx.x == 0) ok_word_slot(plan, OK_LOSS_PARTS)[b] = part;
}

/* nll_loss (docs/losses.md#nll_loss): one block per sample of its part.
 * x_y is read (by thread 0, before the block's barrier) before the row is
 * written, so the gradient may overwrite the input. */
OK_KERNEL(ok_cuda_nll_loss, (const uint64_t *plan), (plan)) {
    const size_t n = (size_t)plan[OK_LOSS_N], c = (size_t)plan[OK_LOSS_C], inner = (size_t)plan[OK_LOSS_INNER];
    const data_t *x0 = (const data_t *)plan[OK_LOSS_INPUT];
    data_t *g0 = (data_t *)plan[OK_LOSS_GRAD];
    const int64_t ignore = (int64_t)plan[OK_LOSS_IGNORE];
    const int none = plan[OK_LOSS_REDUCTION] == OK_REDUCTION_NONE;
    const double scale = ok_row_scale(plan);
    const size_t b = blockIdx.x;
    double part = 0.0;
    for (size_t i = ok_part_begin(n, b); i < ok_part_begin(n, b + 1); i++) {
        const size_t base = i / inner * c * inner + i % inner;
        const int64_t y = ok_ce_target(plan, i);
        const int kept = y != ignore;
        const double rho = kept ? ok_ce_weight(plan, y) : 0.0;
        const double loss = kept ? -rho * (double)ld_data(x0 + base + (size_t)y * inner) : 0.0;
        __syncthreads(); /* x_y read before any thread writes the row */
        for (size_t k = threadIdx.x; k < c; k += OK_CUDA_BLOCK)
            st_data(g0 + base + k * inner, kept && (int64_t)k == y ? -scale * rho : 0.0);
        if (threadIdx.x == 0) {
            if (none)
                ((real_t *)plan[OK_LOSS_OUT])[i] = (real_t)loss;
            else
                part += loss;
        }
    }
    if (threadIdx.x == 0) ok_word_slot(plan, OK_LOSS_PARTS)[b] = part;
}
