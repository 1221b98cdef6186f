/*
 * The names kernel bodies are written with, mapped onto one kernel variant
 * (variants.h). kernels_target.c sets OK_VARIANT and includes this header and
 * then bodies-inl.h, once per variant; through simd.h each target compiles
 * them all again. So a body is written once and compiled for every
 * (target, variant) pair.
 *
 * Compute types, the arithmetic of the variant:
 *   real_t    the element type arithmetic runs in (double for float64
 *             parameters, else float);
 *             OK_REAL_BITS its width (32, 64)
 *   vec_t     a vector of LANES real_t; mask_t a lane mask; acc_t a vector
 *             of double accumulators (vacc_*)
 *   DT_NAME(f) the variant's name for f: f_f32, f_f64
 *   v<op>     the simd.h operation <op> on vec_t (vadd, vfma, vmaxn, ...);
 *             m<op> on mask_t (mand, mfirst)
 *
 * Storage types, what an optimizer's arrays hold, each converted to and
 * from real_t as it is loaded and stored (a bfloat16 or float16 stream is
 * widened to float32 on load and rounded on store; float32 and float64
 * streams of their own compute type are moved as they are):
 *   param_t, grad_t, state_t   the parameter, gradient and states;
 *                              target/storage-inl.h moves them
 *   PARAM_EPSILON              the machine epsilon of param_t (torch's
 *                              finfo(dtype).eps)
 * Optimizer bodies declare their array pointers with these types and never
 * assume that storage is real_t.
 *   data_t         the storage of a data variant's arrays (variants.h: its
 *                  streams share one dtype), moved by storage-inl.h's
 *                  vld_data / vst_data; OK_DATA_IS_REAL whether that is
 *                  real_t itself. Where it is not, a value stored and
 *                  loaded again comes back rounded: cross-entropy keeps
 *                  exp(x - max) in the gradient's place between passes
 *                  only where OK_DATA_IS_REAL, and recomputes it otherwise.
 */
#include <float.h>

#include "variants.h"

#define OK_PASTE_(a, b) a##_##b
#define OK_PASTE(a, b) OK_PASTE_(a, b)

#undef real_t
#undef OK_REAL_BITS
#undef vec_t
#undef mask_t
#undef acc_t
#undef LANES
#undef DT_NAME
#undef OK_VEC
#undef OK_MASK
#undef param_t
#undef grad_t
#undef state_t
#undef PARAM_EPSILON
#undef data_t
#undef OK_DATA_IS_REAL
#undef OK_SPEC

#define OK_SPEC OK_SPEC_OF(OK_VARIANT)
#if OK_SPEC_PARAM(OK_SPEC) == 1 /* float64 */
#define real_t double
#define OK_REAL_BITS 64
#define vec_t vf64
#define mask_t mf64
#define acc_t vf64_acc
#define LANES VF64_WIDTH
#define OK_VEC(op) vf64_##op
#define OK_MASK(op) mf64_##op
#else
#define real_t float
#define OK_REAL_BITS 32
#define vec_t vf32
#define mask_t mf32
#define acc_t vf32_acc
#define LANES VF32_WIDTH
#define OK_VEC(op) vf32_##op
#define OK_MASK(op) mf32_##op
#endif
#define DT_NAME(f) OK_PASTE(f, OK_SPEC_NAME(OK_SPEC))
/* The storage types, by ok_dtype number (target/storage-inl.h converts). */
#define param_t OK_PASTE(ok_storage, OK_SPEC_PARAM(OK_SPEC))
#define grad_t OK_PASTE(ok_storage, OK_SPEC_GRAD(OK_SPEC))
#define state_t OK_PASTE(ok_storage, OK_SPEC_STATE(OK_SPEC))
#define PARAM_EPSILON OK_PASTE(OK_EPSILON, OK_SPEC_PARAM(OK_SPEC))
#define data_t param_t
#define OK_DATA_IS_REAL (OK_SPEC_PARAM(OK_SPEC) < 2)

/* The operations, by generic name. OK_VEC and OK_MASK are expanded where a
 * body uses them, so these hold for whichever variant is current. */
#ifndef OPTKERN_DTYPE_OPS
#define OPTKERN_DTYPE_OPS
typedef float ok_storage_0;
typedef double ok_storage_1;
typedef uint16_t ok_storage_2; /* bfloat16 */
typedef uint16_t ok_storage_3; /* float16 */
#define OK_EPSILON_0 FLT_EPSILON
#define OK_EPSILON_1 DBL_EPSILON
#define OK_EPSILON_2 0.0078125 /* 2^-7 */
#define OK_EPSILON_3 0.0009765625 /* 2^-10 */
#define vload OK_VEC(load)
#define vstore OK_VEC(store)
#define vload_part OK_VEC(load_part)
#define vstore_part OK_VEC(store_part)
#define vload_fill OK_VEC(load_fill)
#define vset1 OK_VEC(set1)
#define vzero OK_VEC(zero)
#define vadd OK_VEC(add)
#define vsub OK_VEC(sub)
#define vmul OK_VEC(mul)
#define vdiv OK_VEC(div)
#define vsqrt OK_VEC(sqrt)
#define vfma OK_VEC(fma)
#define vfnma OK_VEC(fnma)
#define vneg OK_VEC(neg)
#define vabs OK_VEC(abs)
#define vmaxn OK_VEC(maxn)
#define vmaxb OK_VEC(maxb)
#define vclamp OK_VEC(clamp)
#define vcopysign OK_VEC(copysign)
#define vround OK_VEC(round)
#define vldexp OK_VEC(ldexp)
#define vfrexp OK_VEC(frexp)
#define vhmax OK_VEC(hmax)
#define vlt OK_VEC(lt)
#define vle OK_VEC(le)
#define vgt OK_VEC(gt)
#define veq OK_VEC(eq)
#define vselect OK_VEC(select)
#define vacc_zero OK_VEC(acc_zero)
#define vacc_add OK_VEC(acc_add)
#define vacc_sum OK_VEC(acc_sum)
#define vacc_store OK_VEC(acc_store)
#define vacc_load OK_VEC(acc_load)
#define mand OK_MASK(and)
#define mfirst OK_MASK(first)

/* Load or store `lanes` real_t: a full vector when lanes == LANES (a
 * constant in the main loops, so the test folds away), a masked part
 * otherwise (vld: the other lanes 0; vld_fill: the other lanes f). */
#define vld(p, lanes) ((lanes) == (size_t)LANES ? vload(p) : vload_part((p), (lanes)))
#define vld_fill(p, lanes, f) ((lanes) == (size_t)LANES ? vload(p) : vload_fill((p), (lanes), (f)))
#define vst(p, v, lanes) ((lanes) == (size_t)LANES ? vstore((p), (v)) : vstore_part((p), (v), (lanes)))
/* Prefetch a stream ahead of the element about to be processed. */
#define vprefetch(p) OK_PREFETCH(p)
#endif
