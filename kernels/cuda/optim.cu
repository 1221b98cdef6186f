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
 */
#include "launch.cuh"

#define OK_TARGET_SCALAR 1
#include "target/simd.h"
#include "optim/optimizers.h"
#include "plan.cuh"

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
