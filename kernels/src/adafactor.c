/*
 * Adafactor's runner (the `run` of its descriptor, optim/adafactor.h): cut
 * the tensors into blocks, run the passes, and between them combine each
 * tensor's block results in block order on this thread. The cut depends
 * only on the shapes, so every sum, and so every result, is bitwise the
 * same for any thread count.
 */
#include <math.h>
#include <stdlib.h>

#include "kernel_table.h"
#include "reduce.h"

/*
 * A matrix is cut into parts of whole rows, at least OK_AF_MIN_ROWS each,
 * and a tensor into at most OK_REDUCE_MAX_BLOCKS blocks of at least
 * OK_REDUCE_MIN_WORK elements, where it has that many. A matrix of several
 * parts has its column sums added up on one thread (the cols pass, parts x
 * cols additions): the row minimum keeps that a small fraction of a pass
 * over the matrix.
 */
#define OK_AF_MIN_ROWS 8

static size_t matrix_parts(size_t batch, size_t rows, size_t cols) {
    size_t parts = rows * cols / OK_REDUCE_MIN_WORK, most = rows / OK_AF_MIN_ROWS;
    if (most > OK_REDUCE_MAX_BLOCKS / batch) most = OK_REDUCE_MAX_BLOCKS / batch;
    if (parts > most) parts = most;
    return parts ? parts : 1;
}

static int variant_of(const ok_af_task *task, size_t i) { return ok_variant_of(ok_mt_dtypes(&task->mt, i)); }

static void stats_block(const void *task, size_t b) {
    const ok_af_task *t = (const ok_af_task *)task;
    t->kernels->adafactor.stats[variant_of(t, t->blocks[b].tensor)](task, b);
}

static void rms_block(const void *task, size_t b) {
    const ok_af_task *t = (const ok_af_task *)task;
    if (t->tensors[t->blocks[b].tensor].matrix) t->kernels->adafactor.rms[variant_of(t, t->blocks[b].tensor)](task, b);
}

/* Tensor i's blocks, appended at blocks[*n]; the cumulative work of each
 * pass (its elements; a vector's count for no work in the rms pass) at
 * stats_ends and rms_ends. */
static void cut(ok_af_task *task, size_t i, size_t *n, size_t *stats_ends, size_t *rms_ends) {
    const ok_af_tensor *t = &task->tensors[i];
    size_t numel = task->mt.numel[i], pieces = t->matrix ? t->parts : ok_tensor_blocks(numel);
    for (size_t m = 0; m < (t->matrix ? t->batch : 1); m++) {
        for (size_t k = 0; k < pieces; k++) {
            ok_af_block *blk = &task->blocks[*n];
            blk->tensor = i;
            blk->part = k;
            blk->sum_p2 = blk->sum_u2 = 0.0;
            if (t->matrix) {
                blk->begin = m * t->rows + ok_share(t->rows, k, pieces);
                blk->end = m * t->rows + ok_share(t->rows, k + 1, pieces);
            } else {
                blk->begin = ok_tensor_block_start(numel, k, pieces, OK_MT_GRAIN);
                blk->end = ok_tensor_block_start(numel, k + 1, pieces, OK_MT_GRAIN);
            }
            size_t work = (blk->end - blk->begin) * (t->matrix ? t->cols : 1);
            stats_ends[*n] = (*n ? stats_ends[*n - 1] : 0) + work;
            rms_ends[*n] = (*n ? rms_ends[*n - 1] : 0) + (t->matrix ? work : 0);
            ++*n;
        }
    }
}

ok_status ok_adafactor_run(const ok_mt_task *mt) {
    /* The plan: each tensor's shape and cut, and the scratch it needs. */
    size_t n_blocks = 0, n_slots = 0;
    for (size_t i = 0; i < mt->count; i++) {
        size_t batch, rows, cols;
        if (mt->numel[i] == 0) continue;
        if (ok_mt_matrix(mt, i, &batch, &rows, &cols)) {
            size_t parts = matrix_parts(batch, rows, cols);
            n_blocks += batch * parts;
            n_slots += batch * parts * (1 + cols);
        } else {
            n_blocks += ok_tensor_blocks(mt->numel[i]);
        }
    }
    char *memory = malloc(n_slots * sizeof(double) + mt->count * sizeof(ok_af_tensor) +
                          n_blocks * (sizeof(ok_af_block) + 2 * sizeof(size_t)));
    if (!memory) return OK_ERR_NO_MEMORY;
    ok_af_task task;
    task.mt = *mt;
    task.kernels = ok_active_kernels();
    double *slots = (double *)memory;
    task.tensors = (ok_af_tensor *)(slots + n_slots);
    task.blocks = (ok_af_block *)(task.tensors + mt->count);
    size_t *stats_ends = (size_t *)(task.blocks + n_blocks), *rms_ends = stats_ends + n_blocks;
    size_t n = 0;
    for (size_t i = 0; i < mt->count; i++) {
        ok_af_tensor *t = &task.tensors[i];
        t->batch = t->rows = t->cols = t->parts = 1;
        t->slots = NULL;
        t->step = 0.0;
        t->matrix = ok_mt_matrix(mt, i, &t->batch, &t->rows, &t->cols);
        if (mt->numel[i] == 0) continue;
        if (t->matrix) {
            t->parts = matrix_parts(t->batch, t->rows, t->cols);
            t->slots = slots;
            slots += t->batch * t->parts * (1 + t->cols);
        }
        cut(&task, i, &n, stats_ends, rms_ends);
    }

    ok_blocks_run(&task, stats_block, n_blocks, stats_ends);
    for (size_t i = 0; i < mt->count; i++) { /* a matrix of one part had its cols pass in its block */
        const ok_af_tensor *t = &task.tensors[i];
        if (t->matrix && t->parts > 1 && mt->numel[i])
            for (size_t m = 0; m < t->batch; m++) task.kernels->adafactor.cols[variant_of(&task, i)](&task, i, m);
    }
    if (n_blocks && rms_ends[n_blocks - 1]) ok_blocks_run(&task, rms_block, n_blocks, rms_ends);

    /* each tensor's step, from its blocks' sums added in order */
    for (size_t i = 0, b = 0; i < mt->count; i++) {
        if (mt->numel[i] == 0) continue;
        double sum_p2 = 0.0, sum_u2 = 0.0;
        for (; b < n_blocks && task.blocks[b].tensor == i; b++) {
            sum_p2 += task.blocks[b].sum_p2;
            sum_u2 += task.blocks[b].sum_u2;
        }
        task.tensors[i].step = ok_adafactor_step((const ok_adafactor_coeffs *)ok_mt_coeffs(mt, i), sum_p2, sum_u2,
                                                 mt->numel[i]);
    }
    ok_mt_run(&task.mt, task.kernels->optimizer[OK_OPT_adafactor]);
    free(memory);
    return OK_SUCCESS;
}
