/*
 * Maps the generic names kernel bodies use onto one dtype. Re-included: set
 * OK_DTYPE to 32 or 64, include this header, then the kernel bodies; each
 * body is so compiled once per dtype (and, through simd.h, once per target).
 *
 *   T, V, W          element type, vector type, lanes per vector
 *   DT_NAME(f)       f_f32 / f_f64, the name of this dtype's variant
 *   vload ... vmaximum  the simd.h operations of this dtype, with the
 *   vclamp ... vacc_*   loss kernels' additions (M: the mask type, VA: the
 *                       double accumulator; mand, mfirst: mask ops)
 */
#undef T
#undef V
#undef W
#undef DT_NAME
#undef vload
#undef vstore
#undef vload_part
#undef vstore_part
#undef vset1
#undef vzero
#undef vadd
#undef vsub
#undef vmul
#undef vdiv
#undef vsqrt
#undef vfma
#undef vfnma
#undef vneg
#undef vabs
#undef vmaximum
#undef vload_fill
#undef vmax
#undef vclamp
#undef vcopysign
#undef vround
#undef vldexp
#undef vfrexp
#undef vhmax
#undef vlt
#undef vle
#undef vgt
#undef veq
#undef vselect
#undef vacc_zero
#undef vacc_add
#undef vacc_sum
#undef vacc_store
#undef M
#undef VA
#undef mand
#undef mfirst

#define OK_PASTE_(a, b) a##_##b
#define OK_PASTE(a, b) OK_PASTE_(a, b)

#if OK_DTYPE == 32
#define T float
#define V vf32
#define W VF32_WIDTH
#define DT_NAME(f) OK_PASTE(f, f32)
#define vload vf32_load
#define vstore vf32_store
#define vload_part vf32_load_part
#define vstore_part vf32_store_part
#define vset1 vf32_set1
#define vzero vf32_zero
#define vadd vf32_add
#define vsub vf32_sub
#define vmul vf32_mul
#define vdiv vf32_div
#define vsqrt vf32_sqrt
#define vfma vf32_fma
#define vfnma vf32_fnma
#define vneg vf32_neg
#define vabs vf32_abs
#define vmaximum vf32_maximum
#define M mf32
#define VA vf32_acc
#define mand mf32_and
#define mfirst mf32_first
#define vload_fill vf32_load_fill
#define vmax vf32_max
#define vclamp vf32_clamp
#define vcopysign vf32_copysign
#define vround vf32_round
#define vldexp vf32_ldexp
#define vfrexp vf32_frexp
#define vhmax vf32_hmax
#define vlt vf32_lt
#define vle vf32_le
#define vgt vf32_gt
#define veq vf32_eq
#define vselect vf32_select
#define vacc_zero vf32_acc_zero
#define vacc_add vf32_acc_add
#define vacc_sum vf32_acc_sum
#define vacc_store vf32_acc_store
#elif OK_DTYPE == 64
#define T double
#define V vf64
#define W VF64_WIDTH
#define DT_NAME(f) OK_PASTE(f, f64)
#define vload vf64_load
#define vstore vf64_store
#define vload_part vf64_load_part
#define vstore_part vf64_store_part
#define vset1 vf64_set1
#define vzero vf64_zero
#define vadd vf64_add
#define vsub vf64_sub
#define vmul vf64_mul
#define vdiv vf64_div
#define vsqrt vf64_sqrt
#define vfma vf64_fma
#define vfnma vf64_fnma
#define vneg vf64_neg
#define vabs vf64_abs
#define vmaximum vf64_maximum
#define M mf64
#define VA vf64_acc
#define mand mf64_and
#define mfirst mf64_first
#define vload_fill vf64_load_fill
#define vmax vf64_max
#define vclamp vf64_clamp
#define vcopysign vf64_copysign
#define vround vf64_round
#define vldexp vf64_ldexp
#define vfrexp vf64_frexp
#define vhmax vf64_hmax
#define vlt vf64_lt
#define vle vf64_le
#define vgt vf64_gt
#define veq vf64_eq
#define vselect vf64_select
#define vacc_zero vf64_acc_zero
#define vacc_add vf64_acc_add
#define vacc_sum vf64_acc_sum
#define vacc_store vf64_acc_store
#else
#error "OK_DTYPE must be 32 or 64"
#endif

/* Load or store `lanes` elements: a full vector when lanes == W (a constant
 * in the main loops, so the test folds away), a masked part otherwise
 * (vld: the other lanes 0; vld_fill: the other lanes f). */
#undef vld
#undef vld_fill
#undef vst
#undef vprefetch
#define vld(p, lanes) ((lanes) == (size_t)W ? vload(p) : vload_part((p), (lanes)))
#define vld_fill(p, lanes, f) ((lanes) == (size_t)W ? vload(p) : vload_fill((p), (lanes), (f)))
#define vst(p, v, lanes) ((lanes) == (size_t)W ? vstore((p), (v)) : vstore_part((p), (v), (lanes)))
/* Prefetch a stream ahead of the element about to be processed. */
#define vprefetch(p) OK_PREFETCH(p)
