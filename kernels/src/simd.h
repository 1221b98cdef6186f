/*
 * The vector abstraction every kernel is written against.
 *
 * A kernel source is compiled once per target; exactly one of
 * OK_TARGET_SCALAR, OK_TARGET_AVX2 and OK_TARGET_AVX512 is defined for each
 * translation unit (CMake sets it together with that target's -m flags). This
 * header maps, for each dtype, a vector type and a small set of operations
 * onto the target:
 *
 *   vf32 / vf64            a vector of VF32_WIDTH floats / VF64_WIDTH doubles
 *   *_load, *_store        unaligned full-vector load and store
 *   *_load_part(p, n)      the first n < WIDTH lanes, the rest 0; reads and
 *   *_store_part(p, v, n)  writes nothing past p + n (masked, never faults)
 *   *_set1, *_zero         broadcasts
 *   add sub mul div sqrt   IEEE operations, correctly rounded
 *   fma(a, b, c)           a*b + c, one rounding (plain a*b + c on scalar)
 *   fnma(a, b, c)          c - a*b, likewise
 *   neg, abs               sign-bit operations
 *   maximum(a, b)          the larger; NaN if either is NaN (torch.maximum)
 *   OK_OPAQUE(v)           v, but the compiler must assume it changed
 *   OK_PREFETCH(p)         start loading the line OK_PREFETCH_BYTES past p
 *
 * and, for the loss kernels and their math functions (vmath.h):
 *
 *   *_load_fill(p, n, f)   the first n <= WIDTH lanes, the rest f
 *   max(a, b)              the larger; b when either is NaN (x86's rule:
 *                          cheaper than maximum where NaN flows on anyway)
 *   clamp(x, lo, hi)       lo <= x <= hi; NaN stays NaN
 *   copysign(a, s)         |a| with the sign of s
 *   round(a)               nearest integer, ties to even (as a float)
 *   ldexp(a, n)            a * 2^n for integral n, one rounding: overflow to
 *                          inf, gradual underflow (|n| up to 300 / 2200)
 *   frexp(a, &e)           m in [1, 2) with a = m * 2^e, for finite a > 0
 *                          (denormals included); other a: unspecified
 *   hmax(a)                the largest lane; NaN if any lane is NaN
 *   mf32 / mf64            a lane mask; lt le gt eq compare (false on NaN),
 *                          mask_and, first(n) the first n lanes,
 *                          select(m, a, b) a where m, else b
 *   vf32_acc / vf64_acc    double-precision lane accumulators for sums of
 *                          vectors: acc_zero, acc_add(acc, v) (v's lanes
 *                          converted to double), acc_sum (the lanes
 *                          added in a fixed order) and
 *                          acc_store (WIDTH doubles)
 *
 * Tails are handled with the masked forms, so every element of an array goes
 * through exactly the same arithmetic whatever its position or the thread
 * that owns it: results do not depend on alignment or the thread count.
 *
 * The scalar target has width 1: the "vector" is the element itself. It is
 * the reference and the fallback for every CPU; it uses no fused
 * multiply-add (kernels are built with -ffp-contract=off), so it rounds the
 * same way on every architecture.
 */
#ifndef OPTKERN_SIMD_H
#define OPTKERN_SIMD_H

#include <math.h>
#include <stddef.h>

#define OK_INLINE static inline __attribute__((always_inline))

/*
 * Software prefetch distance. The hardware prefetchers ramp up per 4 KiB
 * page and stop at its end; with five streams of short tensors they rarely
 * get going. A kilobyte ahead brought Adam float32 on one thread from 90% to
 * ~100% of the roofline (16M elements) and helped 1000 tensors of 1024
 * elements read from memory (bench/report_optim.py). Prefetches never
 * fault, so running past the end of an array is harmless.
 */
#define OK_PREFETCH_BYTES 1024

/* Ask for the cache line at p to be brought into L2 (for writing when
 * `write`), ahead of use; a no-op where the compiler has no such builtin. */
#if defined(__GNUC__) || defined(__clang__)
#define OK_PREFETCH_L2(p, write) __builtin_prefetch((p), (write), 2)
#else
#define OK_PREFETCH_L2(p, write) ((void)(p))
#endif

#if defined(OK_TARGET_AVX512) + defined(OK_TARGET_AVX2) + defined(OK_TARGET_SCALAR) != 1
#error "define exactly one of OK_TARGET_SCALAR, OK_TARGET_AVX2, OK_TARGET_AVX512"
#endif

/* ------------------------------------------------------------------ AVX-512 */
#if defined(OK_TARGET_AVX512)
#include <immintrin.h>

#define OK_TARGET_NAME avx512
#define VF32_WIDTH 16
#define VF64_WIDTH 8
typedef __m512 vf32;
typedef __m512d vf64;

OK_INLINE vf32 vf32_load(const float *p) { return _mm512_loadu_ps(p); }
OK_INLINE void vf32_store(float *p, vf32 v) { _mm512_storeu_ps(p, v); }
OK_INLINE vf32 vf32_load_part(const float *p, size_t n) {
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
OK_INLINE void vf32_store_part(float *p, vf32 v, size_t n) {
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v);
}
OK_INLINE vf32 vf32_set1(float x) { return _mm512_set1_ps(x); }
OK_INLINE vf32 vf32_zero(void) { return _mm512_setzero_ps(); }
OK_INLINE vf32 vf32_add(vf32 a, vf32 b) { return _mm512_add_ps(a, b); }
OK_INLINE vf32 vf32_sub(vf32 a, vf32 b) { return _mm512_sub_ps(a, b); }
OK_INLINE vf32 vf32_mul(vf32 a, vf32 b) { return _mm512_mul_ps(a, b); }
OK_INLINE vf32 vf32_div(vf32 a, vf32 b) { return _mm512_div_ps(a, b); }
OK_INLINE vf32 vf32_sqrt(vf32 a) { return _mm512_sqrt_ps(a); }
OK_INLINE vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return _mm512_fmadd_ps(a, b, c); }
OK_INLINE vf32 vf32_fnma(vf32 a, vf32 b, vf32 c) { return _mm512_fnmadd_ps(a, b, c); }
OK_INLINE vf32 vf32_neg(vf32 a) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)));
}
OK_INLINE vf32 vf32_abs(vf32 a) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
}
OK_INLINE vf32 vf32_maximum(vf32 a, vf32 b) {
    /* max_ps returns its second operand when either is NaN: fix up NaN in a. */
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), _mm512_max_ps(a, b), a);
}

OK_INLINE vf32 vf32_max(vf32 a, vf32 b) { return _mm512_max_ps(a, b); }
OK_INLINE vf32 vf32_load_fill(const float *p, size_t n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), (__mmask16)((1u << n) - 1u), p);
}
OK_INLINE vf32 vf32_clamp(vf32 x, vf32 lo, vf32 hi) {
    /* min/max return their second operand when either is NaN: x goes second. */
    return _mm512_max_ps(lo, _mm512_min_ps(hi, x));
}
OK_INLINE vf32 vf32_copysign(vf32 a, vf32 s) {
    /* 0xe4 = (s & sign) | (a & ~sign) bit by bit, with the sign mask as third operand */
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(s), _mm512_castps_si512(a),
                                                         _mm512_set1_epi32((int)0x80000000u), 0xe4));
}
OK_INLINE vf32 vf32_round(vf32 a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
OK_INLINE vf32 vf32_ldexp(vf32 a, vf32 n) { return _mm512_scalef_ps(a, n); }
OK_INLINE vf32 vf32_frexp(vf32 a, vf32 *e) {
    *e = _mm512_getexp_ps(a);
    return _mm512_getmant_ps(a, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
}
OK_INLINE float vf32_hmax(vf32 a) {
    if (_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)) return NAN;
    return _mm512_reduce_max_ps(a);
}
typedef __mmask16 mf32;
OK_INLINE mf32 vf32_lt(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
OK_INLINE mf32 vf32_le(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
OK_INLINE mf32 vf32_gt(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
OK_INLINE mf32 vf32_eq(vf32 a, vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
OK_INLINE mf32 mf32_and(mf32 a, mf32 b) { return a & b; }
OK_INLINE mf32 mf32_first(size_t n) { return (mf32)((1u << n) - 1u); }
OK_INLINE vf32 vf32_select(mf32 m, vf32 a, vf32 b) { return _mm512_mask_blend_ps(m, b, a); }

typedef struct vf32_acc { __m512d lo, hi; } vf32_acc;
OK_INLINE vf32_acc vf32_acc_zero(void) { vf32_acc r = {_mm512_setzero_pd(), _mm512_setzero_pd()}; return r; }
OK_INLINE __m512d ok_lo_pd(vf32 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
OK_INLINE __m512d ok_hi_pd(vf32 v) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)); }
OK_INLINE vf32_acc vf32_acc_add(vf32_acc a, vf32 v) {
    a.lo = _mm512_add_pd(a.lo, ok_lo_pd(v));
    a.hi = _mm512_add_pd(a.hi, ok_hi_pd(v));
    return a;
}
OK_INLINE double vf32_acc_sum(vf32_acc a) { return _mm512_reduce_add_pd(_mm512_add_pd(a.lo, a.hi)); }
OK_INLINE void vf32_acc_store(double *p, vf32_acc a) { _mm512_storeu_pd(p, a.lo); _mm512_storeu_pd(p + 8, a.hi); }

OK_INLINE vf64 vf64_load(const double *p) { return _mm512_loadu_pd(p); }
OK_INLINE void vf64_store(double *p, vf64 v) { _mm512_storeu_pd(p, v); }
OK_INLINE vf64 vf64_load_part(const double *p, size_t n) {
    return _mm512_maskz_loadu_pd((__mmask8)((1u << n) - 1u), p);
}
OK_INLINE void vf64_store_part(double *p, vf64 v, size_t n) {
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1u), v);
}
OK_INLINE vf64 vf64_set1(double x) { return _mm512_set1_pd(x); }
OK_INLINE vf64 vf64_zero(void) { return _mm512_setzero_pd(); }
OK_INLINE vf64 vf64_add(vf64 a, vf64 b) { return _mm512_add_pd(a, b); }
OK_INLINE vf64 vf64_sub(vf64 a, vf64 b) { return _mm512_sub_pd(a, b); }
OK_INLINE vf64 vf64_mul(vf64 a, vf64 b) { return _mm512_mul_pd(a, b); }
OK_INLINE vf64 vf64_div(vf64 a, vf64 b) { return _mm512_div_pd(a, b); }
OK_INLINE vf64 vf64_sqrt(vf64 a) { return _mm512_sqrt_pd(a); }
OK_INLINE vf64 vf64_fma(vf64 a, vf64 b, vf64 c) { return _mm512_fmadd_pd(a, b, c); }
OK_INLINE vf64 vf64_fnma(vf64 a, vf64 b, vf64 c) { return _mm512_fnmadd_pd(a, b, c); }
OK_INLINE vf64 vf64_neg(vf64 a) {
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64((long long)0x8000000000000000ull)));
}
OK_INLINE vf64 vf64_abs(vf64 a) {
    return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(0x7fffffffffffffffll)));
}
OK_INLINE vf64 vf64_maximum(vf64 a, vf64 b) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), _mm512_max_pd(a, b), a);
}

OK_INLINE vf64 vf64_max(vf64 a, vf64 b) { return _mm512_max_pd(a, b); }
OK_INLINE vf64 vf64_load_fill(const double *p, size_t n, double fill) {
    return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), (__mmask8)((1u << n) - 1u), p);
}
OK_INLINE vf64 vf64_clamp(vf64 x, vf64 lo, vf64 hi) { return _mm512_max_pd(lo, _mm512_min_pd(hi, x)); }
OK_INLINE vf64 vf64_copysign(vf64 a, vf64 s) {
    return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(s), _mm512_castpd_si512(a),
                                                         _mm512_set1_epi64((long long)0x8000000000000000ull), 0xe4));
}
OK_INLINE vf64 vf64_round(vf64 a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
OK_INLINE vf64 vf64_ldexp(vf64 a, vf64 n) { return _mm512_scalef_pd(a, n); }
OK_INLINE vf64 vf64_frexp(vf64 a, vf64 *e) {
    *e = _mm512_getexp_pd(a);
    return _mm512_getmant_pd(a, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
}
OK_INLINE double vf64_hmax(vf64 a) {
    if (_mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q)) return NAN;
    return _mm512_reduce_max_pd(a);
}
typedef __mmask8 mf64;
OK_INLINE mf64 vf64_lt(vf64 a, vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
OK_INLINE mf64 vf64_le(vf64 a, vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
OK_INLINE mf64 vf64_gt(vf64 a, vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
OK_INLINE mf64 vf64_eq(vf64 a, vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
OK_INLINE mf64 mf64_and(mf64 a, mf64 b) { return a & b; }
OK_INLINE mf64 mf64_first(size_t n) { return (mf64)((1u << n) - 1u); }
OK_INLINE vf64 vf64_select(mf64 m, vf64 a, vf64 b) { return _mm512_mask_blend_pd(m, b, a); }

typedef vf64 vf64_acc;
OK_INLINE vf64_acc vf64_acc_zero(void) { return _mm512_setzero_pd(); }
OK_INLINE vf64_acc vf64_acc_add(vf64_acc a, vf64 v) { return _mm512_add_pd(a, v); }
OK_INLINE double vf64_acc_sum(vf64_acc a) { return _mm512_reduce_add_pd(a); }
OK_INLINE void vf64_acc_store(double *p, vf64_acc a) { _mm512_storeu_pd(p, a); }

#define OK_OPAQUE(v) __asm__ volatile("" : "+v"(v))
#define OK_PREFETCH(p) __builtin_prefetch((const char *)(p) + OK_PREFETCH_BYTES, 0, 3)

/* --------------------------------------------------------------- AVX2 + FMA */
#elif defined(OK_TARGET_AVX2)
#include <immintrin.h>

#define OK_TARGET_NAME avx2
#define VF32_WIDTH 8
#define VF64_WIDTH 4
typedef __m256 vf32;
typedef __m256d vf64;

OK_INLINE __m256i ok_mask32(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
OK_INLINE __m256i ok_mask64(size_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)n), _mm256_setr_epi64x(0, 1, 2, 3));
}

OK_INLINE vf32 vf32_load(const float *p) { return _mm256_loadu_ps(p); }
OK_INLINE void vf32_store(float *p, vf32 v) { _mm256_storeu_ps(p, v); }
OK_INLINE vf32 vf32_load_part(const float *p, size_t n) { return _mm256_maskload_ps(p, ok_mask32(n)); }
OK_INLINE void vf32_store_part(float *p, vf32 v, size_t n) { _mm256_maskstore_ps(p, ok_mask32(n), v); }
OK_INLINE vf32 vf32_set1(float x) { return _mm256_set1_ps(x); }
OK_INLINE vf32 vf32_zero(void) { return _mm256_setzero_ps(); }
OK_INLINE vf32 vf32_add(vf32 a, vf32 b) { return _mm256_add_ps(a, b); }
OK_INLINE vf32 vf32_sub(vf32 a, vf32 b) { return _mm256_sub_ps(a, b); }
OK_INLINE vf32 vf32_mul(vf32 a, vf32 b) { return _mm256_mul_ps(a, b); }
OK_INLINE vf32 vf32_div(vf32 a, vf32 b) { return _mm256_div_ps(a, b); }
OK_INLINE vf32 vf32_sqrt(vf32 a) { return _mm256_sqrt_ps(a); }
OK_INLINE vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return _mm256_fmadd_ps(a, b, c); }
OK_INLINE vf32 vf32_fnma(vf32 a, vf32 b, vf32 c) { return _mm256_fnmadd_ps(a, b, c); }
OK_INLINE vf32 vf32_neg(vf32 a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
OK_INLINE vf32 vf32_abs(vf32 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
OK_INLINE vf32 vf32_maximum(vf32 a, vf32 b) {
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

OK_INLINE vf32 vf32_max(vf32 a, vf32 b) { return _mm256_max_ps(a, b); }
OK_INLINE vf32 vf32_load_fill(const float *p, size_t n, float fill) {
    __m256 m = _mm256_castsi256_ps(ok_mask32(n));
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, ok_mask32(n)), m);
}
OK_INLINE vf32 vf32_clamp(vf32 x, vf32 lo, vf32 hi) {
    /* min/max return their second operand when either is NaN: x goes second. */
    return _mm256_max_ps(lo, _mm256_min_ps(hi, x));
}
OK_INLINE vf32 vf32_copysign(vf32 a, vf32 s) {
    __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_and_ps(sign, s), _mm256_andnot_ps(sign, a));
}
OK_INLINE vf32 vf32_round(vf32 a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* 2^k for integers -126 <= k <= 127, built in the exponent field. */
OK_INLINE __m256 ok_pow2_ps(__m256i k) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}
OK_INLINE vf32 vf32_ldexp(vf32 a, vf32 n) {
    /* Two factors, each a normal power of two: a * 2^(n/2) is exact (no
     * underflow yet), so the product rounds once, gradually if subnormal. */
    __m256i k = _mm256_cvtps_epi32(n);
    __m256i k1 = _mm256_srai_epi32(k, 1);
    return _mm256_mul_ps(_mm256_mul_ps(a, ok_pow2_ps(k1)), ok_pow2_ps(_mm256_sub_epi32(k, k1)));
}
OK_INLINE vf32 vf32_frexp(vf32 a, vf32 *e) {
    /* Subnormals are scaled by 2^24 first, then their exponent corrected. */
    __m256 tiny = _mm256_cmp_ps(a, _mm256_set1_ps(0x1p-126f), _CMP_LT_OQ);
    __m256 x = _mm256_blendv_ps(a, _mm256_mul_ps(a, _mm256_set1_ps(0x1p24f)), tiny);
    __m256i bits = _mm256_castps_si256(x);
    __m256i biased = _mm256_srli_epi32(bits, 23);
    __m256 bias = _mm256_blendv_ps(_mm256_set1_ps(127.0f), _mm256_set1_ps(127.0f + 24.0f), tiny);
    *e = _mm256_sub_ps(_mm256_cvtepi32_ps(biased), bias);
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                               _mm256_set1_epi32(0x3f800000)));
}
OK_INLINE float vf32_hmax(vf32 a) {
    __m256 m = vf32_maximum(a, _mm256_permute2f128_ps(a, a, 1));
    m = vf32_maximum(m, _mm256_permute_ps(m, 0x4e));
    m = vf32_maximum(m, _mm256_permute_ps(m, 0xb1));
    return _mm256_cvtss_f32(m);
}
typedef __m256 mf32;
OK_INLINE mf32 vf32_lt(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
OK_INLINE mf32 vf32_le(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
OK_INLINE mf32 vf32_gt(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
OK_INLINE mf32 vf32_eq(vf32 a, vf32 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
OK_INLINE mf32 mf32_and(mf32 a, mf32 b) { return _mm256_and_ps(a, b); }
OK_INLINE mf32 mf32_first(size_t n) { return _mm256_castsi256_ps(ok_mask32(n)); }
OK_INLINE vf32 vf32_select(mf32 m, vf32 a, vf32 b) { return _mm256_blendv_ps(b, a, m); }

typedef struct vf32_acc { __m256d lo, hi; } vf32_acc;
OK_INLINE vf32_acc vf32_acc_zero(void) { vf32_acc r = {_mm256_setzero_pd(), _mm256_setzero_pd()}; return r; }
OK_INLINE vf32_acc vf32_acc_add(vf32_acc a, vf32 v) {
    a.lo = _mm256_add_pd(a.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a.hi = _mm256_add_pd(a.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    return a;
}
OK_INLINE double ok_hsum_pd(__m256d a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
OK_INLINE double vf32_acc_sum(vf32_acc a) { return ok_hsum_pd(_mm256_add_pd(a.lo, a.hi)); }
OK_INLINE void vf32_acc_store(double *p, vf32_acc a) { _mm256_storeu_pd(p, a.lo); _mm256_storeu_pd(p + 4, a.hi); }

OK_INLINE vf64 vf64_load(const double *p) { return _mm256_loadu_pd(p); }
OK_INLINE void vf64_store(double *p, vf64 v) { _mm256_storeu_pd(p, v); }
OK_INLINE vf64 vf64_load_part(const double *p, size_t n) { return _mm256_maskload_pd(p, ok_mask64(n)); }
OK_INLINE void vf64_store_part(double *p, vf64 v, size_t n) { _mm256_maskstore_pd(p, ok_mask64(n), v); }
OK_INLINE vf64 vf64_set1(double x) { return _mm256_set1_pd(x); }
OK_INLINE vf64 vf64_zero(void) { return _mm256_setzero_pd(); }
OK_INLINE vf64 vf64_add(vf64 a, vf64 b) { return _mm256_add_pd(a, b); }
OK_INLINE vf64 vf64_sub(vf64 a, vf64 b) { return _mm256_sub_pd(a, b); }
OK_INLINE vf64 vf64_mul(vf64 a, vf64 b) { return _mm256_mul_pd(a, b); }
OK_INLINE vf64 vf64_div(vf64 a, vf64 b) { return _mm256_div_pd(a, b); }
OK_INLINE vf64 vf64_sqrt(vf64 a) { return _mm256_sqrt_pd(a); }
OK_INLINE vf64 vf64_fma(vf64 a, vf64 b, vf64 c) { return _mm256_fmadd_pd(a, b, c); }
OK_INLINE vf64 vf64_fnma(vf64 a, vf64 b, vf64 c) { return _mm256_fnmadd_pd(a, b, c); }
OK_INLINE vf64 vf64_neg(vf64 a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
OK_INLINE vf64 vf64_abs(vf64 a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
OK_INLINE vf64 vf64_maximum(vf64 a, vf64 b) {
    return _mm256_blendv_pd(_mm256_max_pd(a, b), a, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
}

OK_INLINE vf64 vf64_max(vf64 a, vf64 b) { return _mm256_max_pd(a, b); }
OK_INLINE vf64 vf64_load_fill(const double *p, size_t n, double fill) {
    __m256d m = _mm256_castsi256_pd(ok_mask64(n));
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, ok_mask64(n)), m);
}
OK_INLINE vf64 vf64_clamp(vf64 x, vf64 lo, vf64 hi) { return _mm256_max_pd(lo, _mm256_min_pd(hi, x)); }
OK_INLINE vf64 vf64_copysign(vf64 a, vf64 s) {
    __m256d sign = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_and_pd(sign, s), _mm256_andnot_pd(sign, a));
}
OK_INLINE vf64 vf64_round(vf64 a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* 2^k for integers -1022 <= k <= 1023, built in the exponent field. */
OK_INLINE __m256d ok_pow2_pd(__m128i k) {
    __m256i k64 = _mm256_cvtepi32_epi64(_mm_add_epi32(k, _mm_set1_epi32(1023)));
    return _mm256_castsi256_pd(_mm256_slli_epi64(k64, 52));
}
OK_INLINE vf64 vf64_ldexp(vf64 a, vf64 n) {
    __m128i k = _mm256_cvtpd_epi32(n);
    __m128i k1 = _mm_srai_epi32(k, 1);
    return _mm256_mul_pd(_mm256_mul_pd(a, ok_pow2_pd(k1)), ok_pow2_pd(_mm_sub_epi32(k, k1)));
}
OK_INLINE vf64 vf64_frexp(vf64 a, vf64 *e) {
    __m256d tiny = _mm256_cmp_pd(a, _mm256_set1_pd(0x1p-1022), _CMP_LT_OQ);
    __m256d x = _mm256_blendv_pd(a, _mm256_mul_pd(a, _mm256_set1_pd(0x1p54)), tiny);
    __m256i bits = _mm256_castpd_si256(x);
    /* The biased exponent (< 2^11) to double: put it in the mantissa of
     * 2^52 and subtract 2^52 (AVX2 has no int64 -> double conversion). */
    __m256i biased = _mm256_srli_epi64(bits, 52);
    __m256d magic = _mm256_set1_pd(0x1p52);
    __m256d ef = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_castpd_si256(magic))), magic);
    __m256d bias = _mm256_blendv_pd(_mm256_set1_pd(1023.0), _mm256_set1_pd(1023.0 + 54.0), tiny);
    *e = _mm256_sub_pd(ef, bias);
    return _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffll)),
                                               _mm256_set1_epi64x(0x3ff0000000000000ll)));
}
OK_INLINE double vf64_hmax(vf64 a) {
    __m256d m = vf64_maximum(a, _mm256_permute2f128_pd(a, a, 1));
    m = vf64_maximum(m, _mm256_permute_pd(m, 0x5));
    return _mm256_cvtsd_f64(m);
}
typedef __m256d mf64;
OK_INLINE mf64 vf64_lt(vf64 a, vf64 b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
OK_INLINE mf64 vf64_le(vf64 a, vf64 b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
OK_INLINE mf64 vf64_gt(vf64 a, vf64 b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
OK_INLINE mf64 vf64_eq(vf64 a, vf64 b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
OK_INLINE mf64 mf64_and(mf64 a, mf64 b) { return _mm256_and_pd(a, b); }
OK_INLINE mf64 mf64_first(size_t n) { return _mm256_castsi256_pd(ok_mask64(n)); }
OK_INLINE vf64 vf64_select(mf64 m, vf64 a, vf64 b) { return _mm256_blendv_pd(b, a, m); }

typedef vf64 vf64_acc;
OK_INLINE vf64_acc vf64_acc_zero(void) { return _mm256_setzero_pd(); }
OK_INLINE vf64_acc vf64_acc_add(vf64_acc a, vf64 v) { return _mm256_add_pd(a, v); }
OK_INLINE double vf64_acc_sum(vf64_acc a) { return ok_hsum_pd(a); }
OK_INLINE void vf64_acc_store(double *p, vf64_acc a) { _mm256_storeu_pd(p, a); }

#define OK_OPAQUE(v) __asm__ volatile("" : "+x"(v))
#define OK_PREFETCH(p) __builtin_prefetch((const char *)(p) + OK_PREFETCH_BYTES, 0, 3)

/* ------------------------------------------------------------------- scalar */
#else

#define OK_TARGET_NAME scalar
#define VF32_WIDTH 1
#define VF64_WIDTH 1
typedef float vf32;
typedef double vf64;

/* Width 1: a "part" is always empty, so these never move data. */
OK_INLINE vf32 vf32_load(const float *p) { return *p; }
OK_INLINE void vf32_store(float *p, vf32 v) { *p = v; }
OK_INLINE vf32 vf32_load_part(const float *p, size_t n) { (void)p; (void)n; return 0.0f; }
OK_INLINE void vf32_store_part(float *p, vf32 v, size_t n) { (void)p; (void)v; (void)n; }
OK_INLINE vf32 vf32_set1(float x) { return x; }
OK_INLINE vf32 vf32_zero(void) { return 0.0f; }
OK_INLINE vf32 vf32_add(vf32 a, vf32 b) { return a + b; }
OK_INLINE vf32 vf32_sub(vf32 a, vf32 b) { return a - b; }
OK_INLINE vf32 vf32_mul(vf32 a, vf32 b) { return a * b; }
OK_INLINE vf32 vf32_div(vf32 a, vf32 b) { return a / b; }
OK_INLINE vf32 vf32_sqrt(vf32 a) { return sqrtf(a); }
OK_INLINE vf32 vf32_fma(vf32 a, vf32 b, vf32 c) { return a * b + c; }
OK_INLINE vf32 vf32_fnma(vf32 a, vf32 b, vf32 c) { return c - a * b; }
OK_INLINE vf32 vf32_neg(vf32 a) { return -a; }
OK_INLINE vf32 vf32_abs(vf32 a) { return fabsf(a); }
OK_INLINE vf32 vf32_maximum(vf32 a, vf32 b) { return (a != a || a > b) ? a : b; }

OK_INLINE vf32 vf32_max(vf32 a, vf32 b) { return a > b ? a : b; }
OK_INLINE vf32 vf32_load_fill(const float *p, size_t n, float fill) { return n ? *p : fill; }
OK_INLINE vf32 vf32_clamp(vf32 x, vf32 lo, vf32 hi) { return x < lo ? lo : x > hi ? hi : x; }
OK_INLINE vf32 vf32_copysign(vf32 a, vf32 s) { return copysignf(a, s); }
OK_INLINE vf32 vf32_round(vf32 a) { return rintf(a); }
/* (n == n): converting a NaN to int is undefined; the result is NaN anyway. */
OK_INLINE vf32 vf32_ldexp(vf32 a, vf32 n) { return ldexpf(a, n == n ? (int)n : 0); }
OK_INLINE vf32 vf32_frexp(vf32 a, vf32 *e) {
    int k;
    float m = frexpf(a, &k); /* m in [0.5, 1) */
    *e = (float)(k - 1);
    return 2.0f * m;
}
OK_INLINE float vf32_hmax(vf32 a) { return a; }
typedef int mf32;
OK_INLINE mf32 vf32_lt(vf32 a, vf32 b) { return a < b; }
OK_INLINE mf32 vf32_le(vf32 a, vf32 b) { return a <= b; }
OK_INLINE mf32 vf32_gt(vf32 a, vf32 b) { return a > b; }
OK_INLINE mf32 vf32_eq(vf32 a, vf32 b) { return a == b; }
OK_INLINE mf32 mf32_and(mf32 a, mf32 b) { return a & b; }
OK_INLINE mf32 mf32_first(size_t n) { return n > 0; }
OK_INLINE vf32 vf32_select(mf32 m, vf32 a, vf32 b) { return m ? a : b; }

typedef double vf32_acc;
OK_INLINE vf32_acc vf32_acc_zero(void) { return 0.0; }
OK_INLINE vf32_acc vf32_acc_add(vf32_acc a, vf32 v) { return a + (double)v; }
OK_INLINE double vf32_acc_sum(vf32_acc a) { return a; }
OK_INLINE void vf32_acc_store(double *p, vf32_acc a) { *p = a; }

OK_INLINE vf64 vf64_load(const double *p) { return *p; }
OK_INLINE void vf64_store(double *p, vf64 v) { *p = v; }
OK_INLINE vf64 vf64_load_part(const double *p, size_t n) { (void)p; (void)n; return 0.0; }
OK_INLINE void vf64_store_part(double *p, vf64 v, size_t n) { (void)p; (void)v; (void)n; }
OK_INLINE vf64 vf64_set1(double x) { return x; }
OK_INLINE vf64 vf64_zero(void) { return 0.0; }
OK_INLINE vf64 vf64_add(vf64 a, vf64 b) { return a + b; }
OK_INLINE vf64 vf64_sub(vf64 a, vf64 b) { return a - b; }
OK_INLINE vf64 vf64_mul(vf64 a, vf64 b) { return a * b; }
OK_INLINE vf64 vf64_div(vf64 a, vf64 b) { return a / b; }
OK_INLINE vf64 vf64_sqrt(vf64 a) { return sqrt(a); }
OK_INLINE vf64 vf64_fma(vf64 a, vf64 b, vf64 c) { return a * b + c; }
OK_INLINE vf64 vf64_fnma(vf64 a, vf64 b, vf64 c) { return c - a * b; }
OK_INLINE vf64 vf64_neg(vf64 a) { return -a; }
OK_INLINE vf64 vf64_abs(vf64 a) { return fabs(a); }
OK_INLINE vf64 vf64_maximum(vf64 a, vf64 b) { return (a != a || a > b) ? a : b; }

/* One element per iteration: a prefetch per element would cost more than
 * it saves, so the scalar reference leaves it to the hardware. */
#define OK_PREFETCH(p) ((void)(p))

OK_INLINE vf64 vf64_max(vf64 a, vf64 b) { return a > b ? a : b; }
OK_INLINE vf64 vf64_load_fill(const double *p, size_t n, double fill) { return n ? *p : fill; }
OK_INLINE vf64 vf64_clamp(vf64 x, vf64 lo, vf64 hi) { return x < lo ? lo : x > hi ? hi : x; }
OK_INLINE vf64 vf64_copysign(vf64 a, vf64 s) { return copysign(a, s); }
OK_INLINE vf64 vf64_round(vf64 a) { return rint(a); }
OK_INLINE vf64 vf64_ldexp(vf64 a, vf64 n) { return ldexp(a, n == n ? (int)n : 0); }
OK_INLINE vf64 vf64_frexp(vf64 a, vf64 *e) {
    int k;
    double m = frexp(a, &k);
    *e = (double)(k - 1);
    return 2.0 * m;
}
OK_INLINE double vf64_hmax(vf64 a) { return a; }
typedef int mf64;
OK_INLINE mf64 vf64_lt(vf64 a, vf64 b) { return a < b; }
OK_INLINE mf64 vf64_le(vf64 a, vf64 b) { return a <= b; }
OK_INLINE mf64 vf64_gt(vf64 a, vf64 b) { return a > b; }
OK_INLINE mf64 vf64_eq(vf64 a, vf64 b) { return a == b; }
OK_INLINE mf64 mf64_and(mf64 a, mf64 b) { return a & b; }
OK_INLINE mf64 mf64_first(size_t n) { return n > 0; }
OK_INLINE vf64 vf64_select(mf64 m, vf64 a, vf64 b) { return m ? a : b; }

typedef double vf64_acc;
OK_INLINE vf64_acc vf64_acc_zero(void) { return 0.0; }
OK_INLINE vf64_acc vf64_acc_add(vf64_acc a, vf64 v) { return a + v; }
OK_INLINE double vf64_acc_sum(vf64_acc a) { return a; }
OK_INLINE void vf64_acc_store(double *p, vf64_acc a) { *p = a; }

#if defined(__x86_64__) || defined(__i386__)
#define OK_OPAQUE(v) __asm__ volatile("" : "+x"(v))
#elif defined(__aarch64__)
#define OK_OPAQUE(v) __asm__ volatile("" : "+w"(v))
#else
#define OK_OPAQUE(v) __asm__ volatile("" : "+m"(v))
#endif

#endif

#endif /* OPTKERN_SIMD_H */
