/*
 * Every kernel body, compiled for one target. CMake builds this file once per
 * target with OK_TARGET_<NAME> and that target's -m flags; it defines the
 * table ok_kernels_<name> that dispatch.c selects from.
 */
#include "simd.h"

#include "kernel_table.h"
#include "optim/coeffs.h"
#include "roofline_api.h"
#include "vmath_api.h"

#define OK_DTYPE 32
#include "dtype.h"
#include "optim/sgd.h"
#include "optim/adam.h"
#include "roofline.h"
#include "vmath.h"
#undef OK_DTYPE

#define OK_DTYPE 64
#include "dtype.h"
#include "optim/sgd.h"
#include "optim/adam.h"
#include "roofline.h"
#include "vmath.h"
#undef OK_DTYPE

#define OK_TABLE_NAME OK_PASTE(ok_kernels, OK_TARGET_NAME)

const ok_kernel_table OK_TABLE_NAME = {
    .sgd = {sgd_span_f32, sgd_span_f64},
    .adam = {adam_span_f32, adam_span_f64},
    .roofline = {roofline_span_f32, roofline_span_f64},
    .vmath = {vmath_eval_f32, vmath_eval_f64},
};
