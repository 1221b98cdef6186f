/*
 * The task of the optimizers whose update needs norms of each tensor
 * (LAMB, LARS: docs/optimizers.md#norms-inside-the-step). Their runners
 * (norms.c) cut every tensor into blocks of elements whose bounds depend
 * only on its size (reduce.h: ok_tensor_blocks), make passes of the block
 * driver in which each block leaves its own sums, and add those sums up per
 * tensor, in block order, on the calling thread. Every norm, and so every
 * result, is bitwise the same for any thread count.
 *
 * A pass runs over the blocks of every tensor, or of the tensors whose
 * update scales by a trust ratio only (`adapt`); a pass with no block
 * function runs the optimizer's span over each block (an elementwise pass
 * that needs no sums, cut like the others).
 */
#ifndef OPTKERN_OPTIM_NORMS_H
#define OPTKERN_OPTIM_NORMS_H

#include "multi_tensor.h"
#include "reduce.h"

/* Elements [begin, end) of one tensor, and the two sums a pass leaves. */
typedef struct ok_norm_block {
    size_t tensor, begin, end;
    double sum[2];
} ok_norm_block;

/* A tensor of the call: its blocks, and what the runner derives from their
 * sums for the next pass. */
typedef struct ok_norm_tensor {
    size_t first, count; /* its blocks: blocks[first .. first + count) */
    int adapt;           /* its update scales by a trust ratio (so needs the norms) */
    double clip;         /* LAMB: what its gradients are divided by, G / max_grad_norm or 1 */
    double scale;        /* LARS: its trust ratio; LAMB: lr times its trust ratio */
} ok_norm_tensor;

struct ok_kernel_table;

typedef struct ok_norm_task {
    ok_mt_task mt; /* first: the optimizer's spans get &mt */
    const struct ok_kernel_table *kernels; /* the instruction set the call started with */
    int opt;       /* the optimizer's row of the kernel tables */
    ok_norm_tensor *tensors;
    ok_norm_block *blocks;
    size_t n_blocks;
    /* the running pass: its block functions (one per variant; NULL: the
     * span), and its blocks in order with their cumulative work */
    const ok_blocks_fn *pass;
    size_t *order, *ends;
} ok_norm_task;

/* The task of checked, prepared mt, its tensors cut into blocks, adapt 0
 * and clip and scale 1: OK_SUCCESS, or OK_ERR_NO_MEMORY with nothing to end. */
ok_status ok_norm_start(ok_norm_task *task, const ok_mt_task *mt, int opt);
void ok_norm_end(ok_norm_task *task);

/* A pass: fns[variant] over each block (NULL: the optimizer's span) of
 * every tensor, or, adapt_only, of those whose adapt is set. */
void ok_norm_pass(ok_norm_task *task, const ok_blocks_fn *fns, int adapt_only);

/* Sum k of tensor i: its blocks', added in block order (0 for no block). */
double ok_norm_sum(const ok_norm_task *task, size_t i, int k);

#endif /* OPTKERN_OPTIM_NORMS_H */
