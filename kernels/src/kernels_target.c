/*
 * Every kernel body, compiled for one target. CMake builds this file once per
 * target with OK_TARGET_<NAME> and that target's -m flags; it defines the
 * table ok_kernels_<name> that dispatch.c selects from.
 */
#include "simd.h"

#include "kernel_table.h"
#include "loss/tasks.h"
#include "optim/coeffs.h"
#include "bench_api.h"
#include "vmath_api.h"

#define OK_DTYPE 32
#include "dtype.h"
#include "optim/sgd.h"
#include "optim/adam.h"
#include "roofline.h"
#include "vmath.h"
#include "loss/regression.h"
#include "loss/kl_div.h"
#include "loss/bce_with_logits.h"
#include "loss/elementwise.h"
#include "loss/cross_entropy.h"
#include "loss/nll.h"
#undef OK_DTYPE

#define OK_DTYPE 64
#include "dtype.h"
#include "optim/sgd.h"
#include "optim/adam.h"
#include "roofline.h"
#include "vmath.h"
#include "loss/regression.h"
#include "loss/kl_div.h"
#include "loss/bce_with_logits.h"
#include "loss/elementwise.h"
#include "loss/cross_entropy.h"
#include "loss/nll.h"
#undef OK_DTYPE

#define OK_TABLE_NAME OK_PASTE(ok_kernels, OK_TARGET_NAME)

const ok_kernel_table OK_TABLE_NAME = {
    .sgd = {sgd_span_f32, sgd_span_f64},
    .adam = {adam_span_f32, adam_span_f64},
    .roofline = {roofline_span_f32, roofline_span_f64},
    .vmath = {vmath_eval_f32, vmath_eval_f64},
    .elementwise_loss = {ew_block_f32, ew_block_f64},
    .sum = {sum_block_f32, sum_block_f64},
    .cross_entropy = {cross_entropy_block_f32, cross_entropy_block_f64},
    .nll_loss = {nll_block_f32, nll_block_f64},
};
