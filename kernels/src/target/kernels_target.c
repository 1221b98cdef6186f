/*
 * Every kernel body, compiled for one target. CMake builds this file once per
 * target with OK_TARGET_<NAME> and that target's -m flags; it defines the
 * table ok_kernels_<name> that runtime.c selects from. The bodies are
 * compiled once per kernel variant (variants.h).
 */
#include "target/simd.h"

#include "kernel_table.h"
#include "loss/tasks.h"
#include "optkern/internal/testing.h"

/* Each variant k < OK_VARIANT_COUNT in turn (variants.h). */
#define OK_VARIANT 0
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 1
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 2
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 3
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 4
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 5
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 6
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 7
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 8
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 9
#include "target/bodies-inl.h"
#undef OK_VARIANT
#define OK_VARIANT 10
#include "target/bodies-inl.h"
#undef OK_VARIANT
#if OK_VARIANT_COUNT != 11
#error "compile each variant of variants.h here"
#endif

/* {f_f32, f_f64, ...}: one entry per variant (OK_PER_VARIANT) or array
 * variant (OK_PER_ARRAY_VARIANT); OK_PER_DATA_VARIANT: one at the number
 * of each data variant, NULL at the others. */
#define OK_VARIANT_FN(f, k) OK_PASTE(f, OK_SPEC_NAME(OK_SPEC_OF(k))),
#define OK_DATA_VARIANT_FN(f, k) [k] = OK_VARIANT_FN(f, k)
#define OK_PER_VARIANT(f) {OK_FOR_VARIANTS(OK_VARIANT_FN, f)}
#define OK_PER_ARRAY_VARIANT(f) {OK_FOR_ARRAY_VARIANTS(OK_VARIANT_FN, f)}
#define OK_PER_DATA_VARIANT(f) {OK_FOR_DATA_VARIANTS(OK_DATA_VARIANT_FN, f)}
#define OK_OPTIMIZER_ROW(name) [OK_OPT_##name] = OK_PER_VARIANT(name##_span),
/* An 8-bit span where the variant's states are float32, else NULL. */
#define OK_Q8_FN(f, k) OK_PASTE(OK_Q8_FN, OK_SPEC_STATE(OK_SPEC_OF(k)))(f, k)
#define OK_Q8_FN_0(f, k) OK_VARIANT_FN(f, k)
#define OK_Q8_FN_1(f, k) NULL,
#define OK_Q8_FN_2(f, k) NULL,
#define OK_Q8_FN_3(f, k) NULL,
#define OK_Q8_ROW(name, states) [OK_Q8_##name] = {OK_FOR_VARIANTS(OK_Q8_FN, q8_##name##_span)},
#define OK_ROWS_ROW(NAME, body, flags) [OK_ROWS_##NAME] = OK_PER_DATA_VARIANT(body),

const ok_kernel_table OK_PASTE(ok_kernels, OK_TARGET_NAME) = {
    .optimizer = {OK_OPTIMIZERS(OK_OPTIMIZER_ROW)},
    .adafactor = {
        .stats = OK_PER_VARIANT(adafactor_stats),
        .rms = OK_PER_VARIANT(adafactor_rms),
        .cols = OK_PER_VARIANT(adafactor_cols),
    },
    .norms = {
        .grad_sq = OK_PER_VARIANT(norms_grad_sq),
        .param_grad_sq = OK_PER_VARIANT(norms_param_grad_sq),
        .lamb_moments = OK_PER_VARIANT(lamb_moments),
    },
    .eightbit = {OK_Q8_OPTIMIZERS(OK_Q8_ROW)},
    .quantize8 = q8_quantize,
    .dequantize8 = q8_dequantize,
    .elementwise_loss = OK_PER_DATA_VARIANT(ew_block),
    .domain = OK_PER_DATA_VARIANT(domain_block),
    .sum = OK_PER_DATA_VARIANT(sum_block),
    .labels = OK_PER_DATA_VARIANT(labels_block),
    .rows_loss = {OK_ROWS_KINDS(OK_ROWS_ROW)},
    .ctc_loss = ctc_block_f64,
    .vec_sum = OK_PER_DATA_VARIANT(vec_sum_block),
    .vec_abs_max = OK_PER_DATA_VARIANT(vec_abs_max_block),
    .vec_axpby = OK_PER_DATA_VARIANT(vec_axpby_span),
    .testing = {
        .roofline = OK_PER_ARRAY_VARIANT(roofline_span),
        .vmath = OK_PER_ARRAY_VARIANT(vmath_eval),
        .simd_probe = OK_PER_ARRAY_VARIANT(simd_probe),
        .simd_width = OK_PER_ARRAY_VARIANT(simd_width),
        .q8_codes = q8_codes,
    },
};
