/*
 * The plan of one multi-tensor launch (docs/gpu.md#multi-tensor): one
 * device buffer of 64-bit words, built once per parameter list and kept
 * (optkern/cuda/_optim.py builds it; its layout is this enum, which that
 * module reads from this file). Word w of the header holds:
 *
 *   OK_PLAN_TENSORS      the tensors (ok_mt_task's count)
 *   OK_PLAN_CHUNKS       the chunks the launch's blocks share out
 *   OK_PLAN_CHUNK_SIZE   the elements of a chunk (the last chunk of a
 *                        tensor may be shorter)
 *   OK_PLAN_COEFF_SIZE   the bytes of one coefficient set
 *   and, as word offsets from the plan's start (0 where absent):
 *   OK_PLAN_NUMEL        numel[tensors]
 *   OK_PLAN_CHUNK_TABLE  (tensor, first element) of each chunk
 *   OK_PLAN_COEFFS       the coefficient sets (the optimizer's struct,
 *                        prepared on the host by the C library)
 *   OK_PLAN_COEFF_INDEX  uint32 set number of each tensor (absent: set 0)
 *   OK_PLAN_MASTER       the float32 master copy of each tensor (a pointer
 *                        per tensor, 0 for none; absent: none)
 *   OK_PLAN_ROUND_KEY    each tensor's stochastic rounding key (absent:
 *                        round to nearest)
 *   OK_PLAN_SCRATCH      1 + 2 * OK_CUDA_PARTS doubles a reduction writes:
 *                        its result, then its parts (reduce.cuh)
 *   OK_PLAN_NORMS        an optimizer with per-tensor norms (LAMB, LARS:
 *                        optim/norms.h): each tensor's ok_norm_tensor, its
 *                        first chunk and chunk count filled in
 *   OK_PLAN_SUMS         the two sums each chunk leaves (doubles) in a
 *                        pass of LAMB, LARS or Adafactor
 *   OK_PLAN_FACTORS      Adafactor (optim/adafactor.h): each tensor's
 *                        ok_af_tensor, its slots given as an offset into
 *                        OK_PLAN_SLOTS (in doubles), which the first
 *                        launch turns into the address
 *   OK_PLAN_SLOTS        the slots of its matrices
 *   OK_PLAN_SHARED       not an offset: the device address of a double that
 *                        the plans of one call share (LAMB's sum of g^2 over
 *                        every dtype signature), 0 for none
 *   OK_PLAN_STREAM + s   stream s's pointer of each tensor (the parameter,
 *                        the gradient, then the states: optim/descriptor.h;
 *                        a vector operation's: vector.cu)
 */
#ifndef OPTKERN_CUDA_PLAN_CUH
#define OPTKERN_CUDA_PLAN_CUH

#include "multi_tensor.h"

enum ok_plan_word {
    OK_PLAN_TENSORS,
    OK_PLAN_CHUNKS,
    OK_PLAN_CHUNK_SIZE,
    OK_PLAN_COEFF_SIZE,
    OK_PLAN_NUMEL,
    OK_PLAN_CHUNK_TABLE,
    OK_PLAN_COEFFS,
    OK_PLAN_COEFF_INDEX,
    OK_PLAN_MASTER,
    OK_PLAN_ROUND_KEY,
    OK_PLAN_SCRATCH,
    OK_PLAN_NORMS,
    OK_PLAN_SUMS,
    OK_PLAN_FACTORS,
    OK_PLAN_SLOTS,
    OK_PLAN_SHARED,
    OK_PLAN_STREAM,
    OK_PLAN_HEADER = OK_PLAN_STREAM + OK_MT_MAX_STREAMS
};

/* The words at offset word w of the plan, or NULL where w is 0. */
#define OK_PLAN_AT(type, plan, w) ((plan)[w] ? (type)((plan) + (plan)[w]) : (type)0)

/* The multi-tensor task a plan describes: what the kernel bodies read. */
OK_FN ok_mt_task ok_plan_task(const uint64_t *plan) {
    ok_mt_task t;
    t.count = (size_t)plan[OK_PLAN_TENSORS];
    t.numel = OK_PLAN_AT(const size_t *, plan, OK_PLAN_NUMEL);
    t.dtypes = 0;
    t.dtype = 0;
    t.uniform = OK_FLOAT32;
    for (int s = 0; s < OK_MT_MAX_STREAMS; s++) t.stream[s] = OK_PLAN_AT(void *const *, plan, OK_PLAN_STREAM + s);
    t.coeffs = OK_PLAN_AT(const void *, plan, OK_PLAN_COEFFS);
    t.coeff_size = (size_t)plan[OK_PLAN_COEFF_SIZE];
    t.coeff_index = OK_PLAN_AT(const uint32_t *, plan, OK_PLAN_COEFF_INDEX);
    t.shape = 0;
    t.state_shape = 0;
    t.master = OK_PLAN_AT(void *const *, plan, OK_PLAN_MASTER);
    t.round_key = OK_PLAN_AT(const uint64_t *, plan, OK_PLAN_ROUND_KEY);
    return t;
}

/* Chunk c of a plan: its tensor and elements [begin, end). A kernel's
 * blocks take the chunks in turn:
 *     for (uint64_t c = blockIdx.x; c < plan[OK_PLAN_CHUNKS]; c += gridDim.x) {
 *         const ok_chunk chunk = ok_plan_chunk(plan, c); ... */
typedef struct ok_chunk {
    size_t tensor, begin, end;
} ok_chunk;

OK_FN ok_chunk ok_plan_chunk(const uint64_t *plan, uint64_t c) {
    const uint64_t *table = plan + plan[OK_PLAN_CHUNK_TABLE];
    const size_t *numel = OK_PLAN_AT(const size_t *, plan, OK_PLAN_NUMEL);
    ok_chunk chunk;
    chunk.tensor = (size_t)table[2 * c];
    chunk.begin = (size_t)table[2 * c + 1];
    const size_t size = (size_t)plan[OK_PLAN_CHUNK_SIZE], n = numel[chunk.tensor];
    chunk.end = n - chunk.begin < size ? n : chunk.begin + size;
    return chunk;
}

#endif /* OPTKERN_CUDA_PLAN_CUH */
