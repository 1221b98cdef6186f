/*
 * The per-target kernel table. target/kernels_target.c is compiled once per
 * target (scalar, avx2, avx512) and defines one table each; runtime.c picks
 * the table of the selected instruction set. Every optimizer entry has one
 * function per kernel variant (variants.h), every loss entry one per loss
 * variant, every other one per array variant (OK_VARIANT_F32,
 * OK_VARIANT_F64).
 */
#ifndef OPTKERN_KERNEL_TABLE_H
#define OPTKERN_KERNEL_TABLE_H

#include "loss/tasks.h"
#include "multi_tensor.h"
#include "optim/eightbit.h"
#include "optim/optimizers.h"
#include "reduce.h"
#include "variants.h"
#include "vector/task.h"

typedef struct ok_kernel_table {
    /* optimizers, by row of OK_OPTIMIZERS: spans of the multi-tensor driver */
    ok_mt_span_fn optimizer[OK_OPTIMIZER_COUNT][OK_VARIANT_COUNT];
    /* Adafactor's passes besides its span (optim/adafactor.h): blocks of
     * the reduction driver over an ok_af_task, and its per-matrix cols pass */
    struct {
        ok_blocks_fn stats[OK_VARIANT_COUNT];
        ok_blocks_fn rms[OK_VARIANT_COUNT];
        void (*cols[OK_VARIANT_COUNT])(const ok_af_task *task, size_t tensor, size_t matrix);
    } adafactor;
    /* the passes of the optimizers with per-tensor norms besides their
     * spans (optim/norms.h): blocks of the reduction driver over an
     * ok_norm_task */
    struct {
        ok_blocks_fn grad_sq[OK_VARIANT_COUNT];       /* the sum of g^2 */
        ok_blocks_fn param_grad_sq[OK_VARIANT_COUNT]; /* the sums of p^2 and g^2 */
        ok_blocks_fn lamb_moments[OK_VARIANT_COUNT];  /* LAMB's m, v, and the sums of p^2 and u^2 */
    } norms;
    /* the 8-bit optimizers (optim/eightbit.h), by row of OK_Q8_OPTIMIZERS:
     * spans of the multi-tensor driver, for the variants with float32
     * states (NULL for the others); and the format's conversions */
    ok_mt_span_fn eightbit[OK_Q8_COUNT][OK_VARIANT_COUNT];
    void (*quantize8)(int unsigned_map, size_t n, const float *x, uint8_t *q, float *absmax);
    void (*dequantize8)(int unsigned_map, size_t n, const uint8_t *q, const float *absmax, float *x);
    /* loss and vector kernels, at each data variant's number (variants.h,
     * ok_data_variant; NULL at the others): blocks of the reduction driver
     * (reduce.h) */
    ok_block_fn elementwise_loss[OK_VARIANT_COUNT];      /* an ok_ew_task */
    ok_block_fn sum[OK_VARIANT_COUNT];                   /* the sum of an array */
    ok_block_fn domain[OK_VARIANT_COUNT];                /* an ok_domain_task's count */
    ok_block_fn labels[OK_VARIANT_COUNT];                /* an ok_rows_task's class-target scan */
    ok_block_fn rows_loss[OK_ROWS_COUNT][OK_VARIANT_COUNT]; /* by row of OK_ROWS_KINDS, over its task */
    ok_block_fn ctc_loss; /* an ok_ctc_task's sequences, float32 or float64 (its recursion runs in double) */
    /* vector operations (vector.c): blocks of the reduction driver over an
     * ok_vec_task, spans of the multi-tensor driver for axpby */
    ok_block_fn vec_sum[OK_VARIANT_COUNT];     /* dot product, or sum of |x| when y is NULL */
    ok_block_fn vec_abs_max[OK_VARIANT_COUNT]; /* the largest |x| */
    ok_mt_span_fn vec_axpby[OK_VARIANT_COUNT]; /* y <- alpha x + beta y, an ok_axpby_coeffs task */
    /* array variants only, everything below */
    /* the hooks of testing.h */
    struct {
        ok_mt_span_fn roofline[OK_ARRAY_VARIANT_COUNT];
        void (*vmath[OK_ARRAY_VARIANT_COUNT])(int op, size_t n, const void *x, void *y);
        void (*simd_probe[OK_ARRAY_VARIANT_COUNT])(int op, size_t n, const void *x, void *y, void *z);
        size_t (*simd_width[OK_ARRAY_VARIANT_COUNT])(void);
        void (*q8_codes)(int unsigned_map, size_t n, const float *x, uint8_t *q);
    } testing;
} ok_kernel_table;

extern const ok_kernel_table ok_kernels_scalar;
#ifdef OK_HAVE_X86_TARGETS
extern const ok_kernel_table ok_kernels_avx2;
extern const ok_kernel_table ok_kernels_avx512;
#endif

/* The table of the selected instruction set. */
const ok_kernel_table *ok_active_kernels(void);

#endif /* OPTKERN_KERNEL_TABLE_H */
