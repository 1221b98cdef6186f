/*
 * The per-target kernel table. kernels_target.c is compiled once per target
 * (scalar, avx2, avx512) and defines one table each; dispatch.c picks the
 * table of the selected instruction set. Index [0] is float32, [1] float64.
 */
#ifndef OPTKERN_KERNEL_TABLE_H
#define OPTKERN_KERNEL_TABLE_H

#include "multi_tensor.h"
#include "reduce.h"

#include "optkern/common.h"

/* Table columns, by dtype. */
enum { OK_F32 = OK_FLOAT32, OK_F64 = OK_FLOAT64 };

typedef struct ok_kernel_table {
    ok_mt_span_fn sgd[2];
    ok_mt_span_fn adam[2];
    ok_mt_span_fn roofline[2];
    void (*vmath[2])(int op, size_t n, const void *x, void *y);
    /* loss kernels: blocks of the reduction driver (reduce.h) */
    ok_block_fn elementwise_loss[2]; /* an ok_ew_task */
    ok_block_fn sum[2];              /* the sum of an array */
    ok_block_fn cross_entropy[2];    /* an ok_ce_task */
    ok_block_fn nll_loss[2];         /* an ok_ce_task */
} ok_kernel_table;

extern const ok_kernel_table ok_kernels_scalar;
#ifdef OK_HAVE_X86_TARGETS
extern const ok_kernel_table ok_kernels_avx2;
extern const ok_kernel_table ok_kernels_avx512;
#endif

/* The table of the selected instruction set. */
const ok_kernel_table *ok_active_kernels(void);

#endif /* OPTKERN_KERNEL_TABLE_H */
