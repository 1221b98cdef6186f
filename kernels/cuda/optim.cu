/*
 * Every elementwise optimizer's step on the GPU (docs/gpu.md): the CPU
 * kernel bodies themselves (optim/<name>-inl.h, on the scalar target of
 * target/simd.h), so each formula is written once for both.
 *
 * Compiled once per kernel variant (variants.h), with -DOK_CUDA_VARIANT=k: a
 * launch updates the tensors of one dtype signature. ok_cuda_step_<name>(plan)
 * runs a persistent grid over the plan's chunk table (plan.cuh): block b
 * takes chunks b, b + gridDim.x, ..., and its threads the chunk's elements
 * in turn, each element through the body exactly as the CPU's scalar
 * target computes it. Built without contraction into fused multiply-adds
 * (--fmad=false, as the C kernels build with -ffp-contract=off) and with
 * IEEE division and square root, every element is bitwise the scalar
 * target's, and so independent of the grid. An optimizer with scalar states
 * (NAdam's mu_product) has a second kernel, ok_cuda_advance_<name>(plan), which
 * the caller launches after the step.
 *
 * LAMB and LARS scale each tensor's update by norms of the whole tensor
 * (optim/norms.h); their passes are kernels of their own, below.
 */
#include "launch.cuh"

#define OK_TARGET_SCALAR 1
#include "target/simd.h"
#include "optim/optimizers.h"
#include "plan.cuh"
#include "reduce.cuh"

#ifndef OK_CUDA_VARIANT
#error "compile with -DOK_CUDA_VARIANT=k, a kernel variant of variants.h"
#endif
#define OK_VARIANT OK_CUDA_VARIANT
#include "target/dtype.h"
#include "target/storage-inl.h"
#include "optim/optimizers.h"

#define OK_STEP_KERNEL(name)                                                                                \
    OK_KERNEL(ok_cuda_step_##name, (const uint64_t *plan), (plan)) {                                            \
        const ok_mt_task task = ok_plan_task(plan);                                                        \
        for (uint64_t c = blockIdx.x; c < plan[OK_PLAN_CHUNKS]; c += gridDim.x) {                           \
            const ok_chunk chunk = ok_plan_chunk(plan, c);                                                  \
            const size_t i = chunk.tensor, begin = chunk.begin, end = chunk.end;                            \
            for (size_t e = begin + threadIdx.x; e < end; e += blockDim.x)                                 \
                DT_NAME(name##_span)(&task, i, e, e + 1);                                                  \
        }                                                                                                  \
    }
OK_OPTIMIZERS(OK_STEP_KERNEL)

/* After the step (the launch that follows it on the stream), the scalar
 * states of each tensor: what optim.c's advance_scalars does on the CPU. */
#define OK_ADVANCE_KERNEL(name)                                                                             \
    OK_KERNEL(ok_cuda_advance_##name, (const uint64_t *plan), (plan)) {                                         \
        const ok_mt_task task = ok_plan_task(plan);                                                        \
        for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < task.count; i += gridDim.x * blockDim.x) { \
            float *scalar[OK_MT_MAX_STREAMS] = {0};                                                        \
            for (int k = 0; k + OK_OPT_STATE < OK_MT_MAX_STREAMS; k++)                                     \
                if (task.stream[OK_OPT_STATE + k]) scalar[k] = (float *)task.stream[OK_OPT_STATE + k][i];  \
            ok_##name##_advance(ok_mt_coeffs(&task, i), scalar);                                           \
        }                                                                                                  \
    }
OK_SCALAR_OPTIMIZERS(OK_ADVANCE_KERNEL)

/* ---------------------------------------------- per-tensor norms: LAMB, LARS
 *
 * The CPU's passes (norms.c), as launches on one stream, the sums taken per
 * chunk of the plan instead of per block of the C task (a fixed partition,
 * so every sum is bitwise the same on every run and GPU, though not the
 * CPU's order):
 *
 *   LAMB  ok_cuda_norms_grad_sq (each plan of the call; skipped when no set
 *         clips), ok_cuda_lamb_total (each plan: its sum of g^2 added to the
 *         shared one), then per plan ok_cuda_lamb_start (adapt, clip),
 *         ok_cuda_lamb_moments, ok_cuda_lamb_scale, ok_cuda_apply_lamb
 *   LARS  ok_cuda_lars_start (adapt), ok_cuda_norms_param_grad_sq,
 *         ok_cuda_lars_scale, ok_cuda_apply_lars
 *
 * A sums kernel runs a body of optim/norms-inl.h or lamb-inl.h on each
 * element as a block of one element, adds what it leaves in double, and
 * each chunk's threads add theirs in a fixed tree (reduce.cuh).
 */
OK_STATIC_ASSERT(sizeof(ok_norm_tensor) == 40, "plan.cuh's OK_PLAN_NORMS holds 5 words per tensor");

/* The task of an optimizer with passes of its own (ok_norm_task,
 * ok_af_task): the plan's multi-tensor task, and its per-tensor records at
 * plan word w. */
template <class Task> OK_INLINE Task ok_plan_pass_task(const uint64_t *plan, int w) {
    Task t = {};
    t.mt = ok_plan_task(plan);
    t.tensors = OK_PLAN_AT(decltype(t.tensors), plan, w);
    return t;
}

OK_INLINE ok_norm_task ok_plan_norm_task(const uint64_t *plan) {
    return ok_plan_pass_task<ok_norm_task>(plan, OK_PLAN_NORMS);
}

OK_INLINE double *ok_plan_sums(const uint64_t *plan) { return OK_PLAN_AT(double *, plan, OK_PLAN_SUMS); }

/* Sum k of chunks [first, first + count) (one block; every thread gets it). */
OK_INLINE double ok_chunks_sum(const uint64_t *plan, size_t first, size_t count, int k) {
    const double *sums = ok_plan_sums(plan);
    double v = 0.0;
    for (size_t c = first + threadIdx.x; c < first + count; c += blockDim.x) v += sums[2 * c + k];
    return ok_block_sum(v);
}

#define OK_SUMS_KERNEL(kernel, body, adapt_only)                                                            \
    OK_KERNEL(kernel, (const uint64_t *plan), (plan)) {                                                     \
        ok_norm_task task = ok_plan_norm_task(plan);                                                       \
        ok_norm_block one;                                                                                  \
        task.blocks = &one;                                                                                 \
        for (uint64_t c = blockIdx.x; c < plan[OK_PLAN_CHUNKS]; c += gridDim.x) {                           \
            const ok_chunk chunk = ok_plan_chunk(plan, c);                                                  \
            const size_t i = chunk.tensor, begin = chunk.begin, end = chunk.end;                            \
            double v0 = 0.0, v1 = 0.0;                                                                      \
            if (!(adapt_only) || task.tensors[i].adapt)                                                     \
                for (size_t e = begin + threadIdx.x; e < end; e += blockDim.x) {                           \
                    one.tensor = i, one.begin = e, one.end = e + 1;                                         \
                    DT_NAME(body)(&task, 0);                                                                \
                    v0 += one.sum[0], v1 += one.sum[1];                                                     \
                }                                                                                           \
            v0 = ok_block_sum(v0), v1 = ok_block_sum(v1);                                                   \
            if (threadIdx.x == 0) ok_plan_sums(plan)[2 * c] = v0, ok_plan_sums(plan)[2 * c + 1] = v1;       \
        }                                                                                                   \
    }
OK_SUMS_KERNEL(ok_cuda_norms_grad_sq, norms_grad_sq, 0)
OK_SUMS_KERNEL(ok_cuda_lamb_moments, lamb_moments, 0)
OK_SUMS_KERNEL(ok_cuda_norms_param_grad_sq, norms_param_grad_sq, 1)

/* The apply pass: the optimizer's span, on its task (task_of(plan)), over
 * each element of every tensor i but those for which `skip` holds. */
#define OK_APPLY_KERNEL(name, task_of, skip)                                                                \
    OK_KERNEL(ok_cuda_apply_##name, (const uint64_t *plan), (plan)) {                                       \
        const auto task = task_of(plan);                                                                    \
        for (uint64_t c = blockIdx.x; c < plan[OK_PLAN_CHUNKS]; c += gridDim.x) {                           \
            const ok_chunk chunk = ok_plan_chunk(plan, c);                                                  \
            const size_t i = chunk.tensor, begin = chunk.begin, end = chunk.end;                            \
            if (skip) continue;                                                                             \
            for (size_t e = begin + threadIdx.x; e < end; e += blockDim.x)                                 \
                DT_NAME(name##_span)(&task.mt, i, e, e + 1);                                               \
        }                                                                                                   \
    }
OK_APPLY_KERNEL(lamb, ok_plan_norm_task, !task.tensors[i].adapt)
OK_APPLY_KERNEL(lars, ok_plan_norm_task, 0)

/* LAMB: this plan's sum of g^2 added to the call's (one block; the plans
 * take their turns on the stream, in a fixed order). */
OK_KERNEL(ok_cuda_lamb_total, (const uint64_t *plan), (plan)) {
    const double *sums = ok_plan_sums(plan);
    double v = 0.0;
    for (uint64_t c = threadIdx.x; c < plan[OK_PLAN_CHUNKS]; c += blockDim.x) v += sums[2 * c + 1];
    v = ok_block_sum(v);
    if (threadIdx.x == 0) *(double *)plan[OK_PLAN_SHARED] += v;
}

/* LAMB: each tensor's adapt and clip, from G, the root of the call's sum. */
OK_KERNEL(ok_cuda_lamb_start, (const uint64_t *plan), (plan)) {
    const ok_norm_task task = ok_plan_norm_task(plan);
    const double norm = sqrt(*(const double *)plan[OK_PLAN_SHARED]);
    for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < task.mt.count; i += gridDim.x * blockDim.x) {
        const ok_lamb_coeffs *c = (const ok_lamb_coeffs *)ok_mt_coeffs(&task.mt, i);
        task.tensors[i].adapt = c->adapt;
        task.tensors[i].clip = ok_lamb_clip(c, norm);
    }
}

/* LARS: each tensor's adapt. */
OK_KERNEL(ok_cuda_lars_start, (const uint64_t *plan), (plan)) {
    const ok_norm_task task = ok_plan_norm_task(plan);
    for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < task.mt.count; i += gridDim.x * blockDim.x)
        task.tensors[i].adapt = ((const ok_lars_coeffs *)ok_mt_coeffs(&task.mt, i))->adapt;
}

/* Each tensor's scale from its norms (a block per tensor). */
#define OK_SCALE_KERNEL(name, adapt_only)                                                                   \
    OK_KERNEL(ok_cuda_##name##_scale, (const uint64_t *plan), (plan)) {                                     \
        const ok_norm_task task = ok_plan_norm_task(plan);                                                 \
        for (size_t i = blockIdx.x; i < task.mt.count; i += gridDim.x) {                                   \
            ok_norm_tensor *t = &task.tensors[i];                                                           \
            if ((adapt_only) && !t->adapt) continue;                                                        \
            const double p_norm = sqrt(ok_chunks_sum(plan, t->first, t->count, 0));                         \
            const double other = sqrt(ok_chunks_sum(plan, t->first, t->count, 1));                          \
            if (threadIdx.x == 0)                                                                           \
                t->scale = ok_##name##_scale((const ok_##name##_coeffs *)ok_mt_coeffs(&task.mt, i), p_norm, other); \
        }                                                                                                   \
    }
OK_SCALE_KERNEL(lamb, 0)
OK_SCALE_KERNEL(lars, 1)

/* ------------------------------------------------------------------ Adafactor
 *
 * Adafactor's passes (optim/adafactor.h) as launches over one plan, which
 * also holds each tensor's ok_af_tensor (a matrix batch's as one part),
 * its matrices' slots and two sums per chunk:
 *
 *   ok_cuda_af_start  each tensor's slots address, from its offset
 *   ok_cuda_af_rows   a block per matrix row: the mean of g^2 over the row
 *                     (a fixed tree), row_var <- lerp(row_var, it, w)
 *   ok_cuda_af_cols   a thread per matrix column: the mean of g^2 down
 *                     the column (in row order), col_var <- lerp(col_var, it, w)
 *   ok_cuda_af_means  a block per matrix: the mean of its new row_var, into
 *                     its first slot (what af_row_scale reads)
 *   ok_cuda_af_sums   each chunk's sums of p^2 and U^2; a vector's through
 *                     af_vector_stats (which also updates its variance),
 *                     an element at a time; a matrix's through af_rms_lanes
 *   ok_cuda_af_step   a block per tensor: its step from its chunks' sums
 *                     (ok_adafactor_step)
 *   ok_cuda_apply_adafactor   the CPU's span, an element at a time
 *
 * The sums are in a fixed order (bitwise the same on every run and GPU),
 * not the CPU's: the GPU's numbers are the CPU's to rounding.
 */
OK_STATIC_ASSERT(sizeof(ok_af_tensor) == 56, "plan.cuh's OK_PLAN_FACTORS holds 7 words per tensor");

OK_INLINE ok_af_task ok_plan_af_task(const uint64_t *plan) { return ok_plan_pass_task<ok_af_task>(plan, OK_PLAN_FACTORS); }

OK_INLINE const ok_adafactor_coeffs *ok_af_coeffs(const ok_af_task *task, size_t i) {
    return (const ok_adafactor_coeffs *)ok_mt_coeffs(&task->mt, i);
}

/* The chunks of tensor i: the first, and how many (the chunk table lists
 * each tensor's in turn). */
OK_INLINE size_t ok_chunks_of(const uint64_t *plan, size_t i, size_t *count) {
    const size_t size = (size_t)plan[OK_PLAN_CHUNK_SIZE];
    const size_t *numel = OK_PLAN_AT(const size_t *, plan, OK_PLAN_NUMEL);
    size_t first = 0;
    for (size_t k = 0; k < i; k++) first += (numel[k] + size - 1) / size;
    *count = (numel[i] + size - 1) / size;
    return first;
}

OK_KERNEL(ok_cuda_af_start, (const uint64_t *plan), (plan)) {
    const ok_af_task task = ok_plan_af_task(plan);
    double *slots = OK_PLAN_AT(double *, plan, OK_PLAN_SLOTS);
    for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < task.mt.count; i += gridDim.x * blockDim.x)
        task.tensors[i].slots = slots + (size_t)task.tensors[i].slots;
}

/* g^2 of element e of tensor i, as the stats pass loads it. */
OK_INLINE double DT_NAME(af_g2)(const ok_af_task *task, size_t i, size_t e) {
    const vec_t g = DT_NAME(ok_vld_grad)(&ok_af_coeffs(task, i)->grad,
                                         OK_MT_PTR(const grad_t, &task->mt, OK_OPT_GRAD, i, e), 1);
    return (double)vmul(g, g);
}

/* s <- lerp(s, mean, w) at one element of a state. */
OK_INLINE void DT_NAME(af_lerp_one)(const ok_adafactor_coeffs *c, state_t *s, double mean) {
    real_t m[1] = {(real_t)mean};
    vst_state(&ok_io_none, 0, OK_OPT_STATE, s, DT_NAME(ok_vlerp)(vld_state(s, 1), vld(m, 1), c->lerp), 1);
}

OK_KERNEL(ok_cuda_af_rows, (const uint64_t *plan), (plan)) {
    const ok_af_task task = ok_plan_af_task(plan);
    for (size_t i = 0; i < task.mt.count; i++) {
        const ok_af_tensor *t = &task.tensors[i];
        if (!t->matrix || !task.mt.numel[i]) continue;
        state_t *row_var = OK_MT_PTR(state_t, &task.mt, OK_ADAFACTOR_ROW_VAR, i, 0);
        for (size_t r = blockIdx.x; r < t->batch * t->rows; r += gridDim.x) {
            double v = 0.0;
            for (size_t j = threadIdx.x; j < t->cols; j += blockDim.x) v += DT_NAME(af_g2)(&task, i, r * t->cols + j);
            v = ok_block_sum(v);
            if (threadIdx.x == 0) DT_NAME(af_lerp_one)(ok_af_coeffs(&task, i), row_var + r, v / (double)t->cols);
        }
    }
}

OK_KERNEL(ok_cuda_af_cols, (const uint64_t *plan), (plan)) {
    const ok_af_task task = ok_plan_af_task(plan);
    for (size_t i = 0; i < task.mt.count; i++) {
        const ok_af_tensor *t = &task.tensors[i];
        if (!t->matrix || !task.mt.numel[i]) continue;
        state_t *col_var = OK_MT_PTR(state_t, &task.mt, OK_ADAFACTOR_COL_VAR, i, 0);
        for (size_t u = blockIdx.x * blockDim.x + threadIdx.x; u < t->batch * t->cols; u += gridDim.x * blockDim.x) {
            const size_t m = u / t->cols, j = u % t->cols;
            double v = 0.0;
            for (size_t r = m * t->rows; r < (m + 1) * t->rows; r++) v += DT_NAME(af_g2)(&task, i, r * t->cols + j);
            DT_NAME(af_lerp_one)(ok_af_coeffs(&task, i), col_var + u, v / (double)t->rows);
        }
    }
}

OK_KERNEL(ok_cuda_af_means, (const uint64_t *plan), (plan)) {
    const ok_af_task task = ok_plan_af_task(plan);
    for (size_t i = 0; i < task.mt.count; i++) {
        const ok_af_tensor *t = &task.tensors[i];
        if (!t->matrix || !task.mt.numel[i]) continue;
        const state_t *row_var = OK_MT_PTR(const state_t, &task.mt, OK_ADAFACTOR_ROW_VAR, i, 0);
        for (size_t m = blockIdx.x; m < t->batch; m += gridDim.x) {
            double v = 0.0;
            for (size_t r = threadIdx.x; r < t->rows; r += blockDim.x) v += (double)vld_state(row_var + m * t->rows + r, 1);
            v = ok_block_sum(v);
            if (threadIdx.x == 0) ok_af_slot(t, m, 0)[0] = v / (double)t->rows;
        }
    }
}

OK_KERNEL(ok_cuda_af_sums, (const uint64_t *plan), (plan)) {
    const ok_af_task task = ok_plan_af_task(plan);
    for (uint64_t c = blockIdx.x; c < plan[OK_PLAN_CHUNKS]; c += gridDim.x) {
        const ok_chunk chunk = ok_plan_chunk(plan, c);
        const size_t i = chunk.tensor, begin = chunk.begin, end = chunk.end;
        const ok_af_tensor *t = &task.tensors[i];
        const ok_adafactor_coeffs *k = ok_af_coeffs(&task, i);
        double p2 = 0.0, u2 = 0.0;
        for (size_t e = begin + threadIdx.x; e < end; e += blockDim.x) {
            if (!t->matrix) {
                ok_af_block one = {i, e, e + 1, 0, 0.0, 0.0};
                DT_NAME(af_vector_stats)(&task, &one, k);
                p2 += one.sum_p2, u2 += one.sum_u2;
                continue;
            }
            const size_t r = e / t->cols, j = e % t->cols;
            const vec_t param = vld_param(&ok_io_none, 0, OK_MT_PTR(const param_t, &task.mt, OK_OPT_PARAM, i, e), 1);
            p2 += vacc_sum(vacc_add(vacc_zero(), vmul(param, param)));
            const state_t *row_var = OK_MT_PTR(const state_t, &task.mt, OK_ADAFACTOR_ROW_VAR, i, 0);
            const state_t *col = OK_MT_PTR(const state_t, &task.mt, OK_ADAFACTOR_COL_VAR, i, r / t->rows * t->cols + j);
            acc_t sum_u2 = vacc_zero();
            DT_NAME(af_rms_lanes)(&k->grad, DT_NAME(af_eps1_sq)(k), DT_NAME(af_row_scale)(k, t, row_var, r),
                                  OK_MT_PTR(const grad_t, &task.mt, OK_OPT_GRAD, i, e), col, 1, &sum_u2);
            u2 += vacc_sum(sum_u2);
        }
        p2 = ok_block_sum(p2), u2 = ok_block_sum(u2);
        if (threadIdx.x == 0) ok_plan_sums(plan)[2 * c] = p2, ok_plan_sums(plan)[2 * c + 1] = u2;
    }
}

OK_KERNEL(ok_cuda_af_step, (const uint64_t *plan), (plan)) {
    const ok_af_task task = ok_plan_af_task(plan);
    for (size_t i = blockIdx.x; i < task.mt.count; i += gridDim.x) {
        size_t count, first = ok_chunks_of(plan, i, &count);
        const double p2 = ok_chunks_sum(plan, first, count, 0), u2 = ok_chunks_sum(plan, first, count, 1);
        if (threadIdx.x == 0 && task.mt.numel[i])
            task.tensors[i].step = ok_adafactor_step(ok_af_coeffs(&task, i), p2, u2, task.mt.numel[i]);
    }
}

OK_APPLY_KERNEL(adafactor, ok_plan_af_task, 0)

/* ------------------------------------------------------------- 8-bit states
 *
 * The 8-bit optimizers (optim/eightbit-inl.h; the variants with float32
 * states only). The plan's streams are those of ok_optimizer_step_8bit
 * (optim/eightbit.h) and its chunks whole quantisation blocks. A block of
 * threads takes one quantisation block of OK_Q8_BLOCK elements at a time:
 * its threads decode their elements' states into shared memory and run the
 * optimizer's update on each, as the CPU's span does; then for each state
 * the new scale is the largest |s| of the block (a tree, exact) and every
 * element's code ok_q8_code's, as the CPU's encode finds it. Bitwise the
 * CPU's scalar target.
 */
#include "optim/eightbit.h"
#include "optim/eightbit-inl.h"
#if OK_SPEC_STATE(OK_SPEC) == 0
#define OK_Q8_KERNEL(NAME, STATES)                                                                          \
    OK_KERNEL(ok_cuda_q8_##NAME, (const uint64_t *plan), (plan)) {                                          \
        const ok_mt_task task = ok_plan_task(plan);                                                        \
        __shared__ real_t s[2][OK_Q8_BLOCK];                                                                \
        for (uint64_t c = blockIdx.x; c < plan[OK_PLAN_CHUNKS]; c += gridDim.x) {                           \
            const ok_chunk chunk = ok_plan_chunk(plan, c);                                                  \
            const size_t i = chunk.tensor, begin = chunk.begin, end = chunk.end;                            \
            const ok_##NAME##_coeffs *k = (const ok_##NAME##_coeffs *)ok_mt_coeffs(&task, i);              \
            for (size_t at = begin; at < end; at += OK_Q8_BLOCK) {                                         \
                const size_t n = end - at < OK_Q8_BLOCK ? end - at : OK_Q8_BLOCK;                          \
                const ok_io io = ok_io_of(&task, i, at);                                                    \
                for (size_t j = threadIdx.x; j < n; j += blockDim.x) {                                     \
                    for (int q = 0; q < STATES; q++)                                                        \
                        DT_NAME(q8_decode)(OK_MT_PTR(const uint8_t, &task, OK_Q8_STATE1 + q, i, at + j),    \
                                           OK_MT_PTR(const float, &task, OK_Q8_ABSMAX1 + q, i, at / OK_Q8_BLOCK)[0], \
                                           ok_q8_codes(q), s[q] + j, 1);                                    \
                    DT_NAME(q8_##NAME##_lanes)(k, &io, j, OK_MT_PTR(param_t, &task, OK_OPT_PARAM, i, at + j), \
                                               OK_MT_PTR(const grad_t, &task, OK_OPT_GRAD, i, at + j), s[0] + j, \
                                               s[1] + j, 1);                                                \
                }                                                                                           \
                __syncthreads();                                                                            \
                for (int q = 0; q < STATES; q++) {                                                          \
                    double m = 0.0;                                                                         \
                    for (size_t j = threadIdx.x; j < n; j += blockDim.x) {                                 \
                        const double x = fabs((double)s[q][j]);                                             \
                        m = (m != m || m > x) ? m : x;                                                      \
                    }                                                                                       \
                    const real_t a = (real_t)ok_block_max(m);                                               \
                    if (threadIdx.x == 0) OK_MT_PTR(float, &task, OK_Q8_ABSMAX1 + q, i, at / OK_Q8_BLOCK)[0] = a; \
                    const ok_q8_table table = ok_q8_table_of(q);                                            \
                    const real_t inv = a > 0 ? 1.0f / a : 0.0f;                                             \
                    uint8_t *codes = OK_MT_PTR(uint8_t, &task, OK_Q8_STATE1 + q, i, at);                    \
                    for (size_t j = threadIdx.x; j < n; j += blockDim.x) codes[j] = ok_q8_code(&table, s[q][j] * inv); \
                }                                                                                           \
                __syncthreads();                                                                            \
            }                                                                                               \
        }                                                                                                   \
    }
OK_Q8_OPTIMIZERS(OK_Q8_KERNEL)
#endif
