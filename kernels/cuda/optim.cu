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
        const uint64_t *chunk = plan + plan[OK_PLAN_CHUNK_TABLE];                                          \
        const uint64_t chunks = plan[OK_PLAN_CHUNKS], size = plan[OK_PLAN_CHUNK_SIZE];                     \
        for (uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {                                        \
            const size_t i = (size_t)chunk[2 * c], begin = (size_t)chunk[2 * c + 1];                       \
            const size_t end = begin + size < task.numel[i] ? begin + size : task.numel[i];                \
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

OK_INLINE ok_norm_task ok_plan_norm_task(const uint64_t *plan) {
    ok_norm_task t = {};
    t.mt = ok_plan_task(plan);
    t.tensors = OK_PLAN_AT(ok_norm_tensor *, plan, OK_PLAN_NORMS);
    return t;
}

OK_INLINE double *ok_plan_sums(const uint64_t *plan) { return OK_PLAN_AT(double *, plan, OK_PLAN_SUMS); }

/* Sum k of the chunks of tensor i (one block; every thread gets it). */
OK_INLINE double ok_tensor_sum(const uint64_t *plan, const ok_norm_tensor *t, int k) {
    const double *sums = ok_plan_sums(plan);
    double v = 0.0;
    for (size_t c = t->first + threadIdx.x; c < t->first + t->count; c += blockDim.x) v += sums[2 * c + k];
    return ok_block_sum(v);
}

#define OK_SUMS_KERNEL(kernel, body, adapt_only)                                                            \
    OK_KERNEL(kernel, (const uint64_t *plan), (plan)) {                                                     \
        ok_norm_task task = ok_plan_norm_task(plan);                                                       \
        ok_norm_block one;                                                                                  \
        task.blocks = &one;                                                                                 \
        const uint64_t *chunk = plan + plan[OK_PLAN_CHUNK_TABLE];                                          \
        const uint64_t chunks = plan[OK_PLAN_CHUNKS], size = plan[OK_PLAN_CHUNK_SIZE];                     \
        for (uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {                                        \
            const size_t i = (size_t)chunk[2 * c], begin = (size_t)chunk[2 * c + 1];                       \
            const size_t end = begin + size < task.mt.numel[i] ? begin + size : task.mt.numel[i];          \
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

/* The apply pass: the optimizer's span, on the norm task, over each element
 * of every tensor (adapt_only: of those with the trust ratio). */
#define OK_APPLY_KERNEL(name, adapt_only)                                                                   \
    OK_KERNEL(ok_cuda_apply_##name, (const uint64_t *plan), (plan)) {                                       \
        const ok_norm_task task = ok_plan_norm_task(plan);                                                 \
        const uint64_t *chunk = plan + plan[OK_PLAN_CHUNK_TABLE];                                          \
        const uint64_t chunks = plan[OK_PLAN_CHUNKS], size = plan[OK_PLAN_CHUNK_SIZE];                     \
        for (uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {                                        \
            const size_t i = (size_t)chunk[2 * c], begin = (size_t)chunk[2 * c + 1];                       \
            const size_t end = begin + size < task.mt.numel[i] ? begin + size : task.mt.numel[i];          \
            if ((adapt_only) && !task.tensors[i].adapt) continue;                                           \
            for (size_t e = begin + threadIdx.x; e < end; e += blockDim.x)                                 \
                DT_NAME(name##_span)(&task.mt, i, e, e + 1);                                               \
        }                                                                                                   \
    }
OK_APPLY_KERNEL(lamb, 1)
OK_APPLY_KERNEL(lars, 0)

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
            const double p_norm = sqrt(ok_tensor_sum(plan, t, 0)), other = sqrt(ok_tensor_sum(plan, t, 1)); \
            if (threadIdx.x == 0)                                                                           \
                t->scale = ok_##name##_scale((const ok_##name##_coeffs *)ok_mt_coeffs(&task.mt, i), p_norm, other); \
        }                                                                                                   \
    }
OK_SCALE_KERNEL(lamb, 0)
OK_SCALE_KERNEL(lars, 1)
