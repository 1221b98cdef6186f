/*
 * Maps the generic names kernel bodies use onto one dtype. Re-included: set
 * OK_DTYPE to 32 or 64, include this header, then the kernel bodies; each
 * body is so compiled once per dtype (and, through simd.h, once per target).
 *
 *   T, V, W          element type, vector type, lanes per vector
 *   DT_NAME(f)       f_f32 / f_f64, the name of this dtype's variant
 *   vload ... vopaque   the simd.h operations of this dtype
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
#else
#error "OK_DTYPE must be 32 or 64"
#endif

/* Load or store `lanes` elements: a full vector when lanes == W (a constant
 * in the main loops, so the test folds away), a masked part otherwise. */
#undef vld
#undef vst
#undef vprefetch
#define vld(p, lanes) ((lanes) == (size_t)W ? vload(p) : vload_part((p), (lanes)))
#define vst(p, v, lanes) ((lanes) == (size_t)W ? vstore((p), (v)) : vstore_part((p), (v), (lanes)))
/* Prefetch a stream ahead of the element about to be processed. */
#define vprefetch(p) OK_PREFETCH(p)
