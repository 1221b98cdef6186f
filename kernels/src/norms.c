/*
 * The runners of the optimizers whose update needs norms of each tensor
 * (the `run` of optim/lamb.h and optim/lars.h), on the task of
 * optim/norms.h: the tensors cut into blocks by their sizes alone, the
 * passes, and between them each tensor's block sums added in block order
 * on this thread, so every result is bitwise the same for any thread count.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "kernel_table.h"

ok_status ok_norm_start(ok_norm_task *task, const ok_mt_task *mt, int opt) {
    size_t n_blocks = 0;
    for (size_t i = 0; i < mt->count; i++)
        if (mt->numel[i]) n_blocks += ok_tensor_blocks(mt->numel[i]);
    char *memory = malloc(mt->count * sizeof(ok_norm_tensor) + n_blocks * (sizeof(ok_norm_block) + 2 * sizeof(size_t)));
    if (!memory) return OK_ERR_NO_MEMORY;
    task->mt = *mt;
    task->kernels = ok_active_kernels();
    task->opt = opt;
    task->tensors = (ok_norm_tensor *)memory;
    task->blocks = (ok_norm_block *)(task->tensors + mt->count);
    task->n_blocks = n_blocks;
    task->pass = NULL;
    task->order = (size_t *)(task->blocks + n_blocks);
    task->ends = task->order + n_blocks;
    size_t b = 0;
    for (size_t i = 0; i < mt->count; i++) {
        ok_norm_tensor *t = &task->tensors[i];
        size_t numel = mt->numel[i], pieces = numel ? ok_tensor_blocks(numel) : 0;
        t->first = b;
        t->count = pieces;
        t->adapt = 0;
        t->clip = t->scale = 1.0;
        for (size_t k = 0; k < pieces; k++, b++) {
            ok_norm_block *blk = &task->blocks[b];
            blk->tensor = i;
            blk->begin = ok_tensor_block_start(numel, k, pieces, OK_MT_GRAIN);
            blk->end = ok_tensor_block_start(numel, k + 1, pieces, OK_MT_GRAIN);
            blk->sum[0] = blk->sum[1] = 0.0;
        }
    }
    return OK_SUCCESS;
}

void ok_norm_end(ok_norm_task *task) { free(task->tensors); }

/* Pass block k: block order[k], by the pass's function of its tensor's
 * variant, or the optimizer's span over it. */
static void pass_block(const void *task, size_t k) {
    const ok_norm_task *t = (const ok_norm_task *)task;
    const ok_norm_block *blk = &t->blocks[t->order[k]];
    int variant = ok_variant_of(ok_mt_dtypes(&t->mt, blk->tensor));
    if (t->pass)
        t->pass[variant](task, t->order[k]);
    else
        t->kernels->optimizer[t->opt][variant](&t->mt, blk->tensor, blk->begin, blk->end);
}

void ok_norm_pass(ok_norm_task *task, const ok_blocks_fn *fns, int adapt_only) {
    size_t n = 0, work = 0;
    for (size_t b = 0; b < task->n_blocks; b++) {
        const ok_norm_block *blk = &task->blocks[b];
        if (adapt_only && !task->tensors[blk->tensor].adapt) continue;
        work += blk->end - blk->begin;
        task->order[n] = b;
        task->ends[n++] = work;
    }
    task->pass = fns;
    ok_blocks_run(task, pass_block, n, task->ends);
}

double ok_norm_sum(const ok_norm_task *task, size_t i, int k) {
    const ok_norm_tensor *t = &task->tensors[i];
    double sum = 0.0;
    for (size_t b = t->first; b < t->first + t->count; b++) sum += task->blocks[b].sum[k];
    return sum;
}

/* ------------------------------------------------------------------ LAMB */

ok_status ok_lamb_run(const ok_mt_task *mt) {
    ok_norm_task task;
    if (ok_norm_start(&task, mt, OK_OPT_lamb) != OK_SUCCESS) return OK_ERR_NO_MEMORY;
    int clips = 0;
    for (size_t i = 0; i < mt->count; i++) {
        const ok_lamb_coeffs *c = (const ok_lamb_coeffs *)ok_mt_coeffs(mt, i);
        task.tensors[i].adapt = c->adapt;
        clips |= c->max_grad_norm <= DBL_MAX;
    }
    /* G, the norm of every gradient of the call, for each tensor's clip */
    double norm = 0.0;
    if (clips) {
        ok_norm_pass(&task, task.kernels->norms.grad_sq, 0);
        for (size_t b = 0; b < task.n_blocks; b++) norm += task.blocks[b].sum[1];
        norm = sqrt(norm);
    }
    for (size_t i = 0; i < mt->count; i++)
        task.tensors[i].clip = ok_lamb_clip((const ok_lamb_coeffs *)ok_mt_coeffs(mt, i), norm);
    ok_norm_pass(&task, task.kernels->norms.lamb_moments, 0);
    for (size_t i = 0; i < mt->count; i++)
        task.tensors[i].scale = ok_lamb_scale((const ok_lamb_coeffs *)ok_mt_coeffs(mt, i),
                                              sqrt(ok_norm_sum(&task, i, 0)), sqrt(ok_norm_sum(&task, i, 1)));
    ok_norm_pass(&task, NULL, 1);
    ok_norm_end(&task);
    return OK_SUCCESS;
}

/* ------------------------------------------------------------------ LARS */

ok_status ok_lars_run(const ok_mt_task *mt) {
    ok_norm_task task;
    if (ok_norm_start(&task, mt, OK_OPT_lars) != OK_SUCCESS) return OK_ERR_NO_MEMORY;
    for (size_t i = 0; i < mt->count; i++) task.tensors[i].adapt = ((const ok_lars_coeffs *)ok_mt_coeffs(mt, i))->adapt;
    ok_norm_pass(&task, task.kernels->norms.param_grad_sq, 1);
    for (size_t i = 0; i < mt->count; i++)
        if (task.tensors[i].adapt)
            task.tensors[i].scale = ok_lars_scale((const ok_lars_coeffs *)ok_mt_coeffs(mt, i),
                                                  sqrt(ok_norm_sum(&task, i, 0)), sqrt(ok_norm_sum(&task, i, 1)));
    ok_mt_run(&task.mt, task.kernels->optimizer[OK_OPT_lars]);
    ok_norm_end(&task);
    return OK_SUCCESS;
}
