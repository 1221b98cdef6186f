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

#include <stddef.h>
#include <math.h>

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

#if defined(__x86_64__) || defined(__i386__)
#define OK_OPAQUE(v) __asm__ volatile("" : "+x"(v))
#elif defined(__aarch64__)
#define OK_OPAQUE(v) __asm__ volatile("" : "+w"(v))
#else
#define OK_OPAQUE(v) __asm__ volatile("" : "+m"(v))
#endif

#endif

#endif /* OPTKERN_SIMD_H */
