/*
 * The scalar (portable C, width 1) target of the vector abstraction: simd.h documents the
 * operations and includes exactly one of simd/avx512.h, simd/avx2.h and
 * simd/scalar.h.
 */
#ifndef OPTKERN_SIMD_SCALAR_H
#define OPTKERN_SIMD_SCALAR_H

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
OK_INLINE vf32 vf32_maxn(vf32 a, vf32 b) { return (a != a || a > b) ? a : b; }

OK_INLINE vf32 vf32_maxb(vf32 a, vf32 b) { return a > b ? a : b; }
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
OK_INLINE vf32_acc vf32_acc_load(const double *p) { return *p; }

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
OK_INLINE vf64 vf64_maxn(vf64 a, vf64 b) { return (a != a || a > b) ? a : b; }

/* One element per iteration: a prefetch per element would cost more than
 * it saves, so the scalar reference leaves it to the hardware. */
#define OK_PREFETCH(p) ((void)(p))

OK_INLINE vf64 vf64_maxb(vf64 a, vf64 b) { return a > b ? a : b; }
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
OK_INLINE vf64_acc vf64_acc_load(const double *p) { return *p; }

#if defined(__x86_64__) || defined(__i386__)
#define OK_OPAQUE(v) __asm__ volatile("" : "+x"(v))
#elif defined(__aarch64__)
#define OK_OPAQUE(v) __asm__ volatile("" : "+w"(v))
#else
#define OK_OPAQUE(v) __asm__ volatile("" : "+m"(v))
#endif

/* ---- 16-bit storage (simd.h): half.h's conversions, one element. */
typedef uint32_t vu32;
OK_INLINE vf32 vf32_load_bf16(const uint16_t *p) { return ok_bf16_to_f32(*p); }
OK_INLINE vf32 vf32_load_bf16_part(const uint16_t *p, size_t n) { (void)p; (void)n; return 0.0f; }
OK_INLINE void vf32_store_bf16(uint16_t *p, vf32 v) { *p = ok_f32_to_bf16(v); }
OK_INLINE void vf32_store_bf16_part(uint16_t *p, vf32 v, size_t n) { (void)p; (void)v; (void)n; }
OK_INLINE void vf32_store_bf16_sr(uint16_t *p, vf32 v, vu32 bits) { *p = ok_f32_to_bf16_sr(v, bits); }
OK_INLINE void vf32_store_bf16_sr_part(uint16_t *p, vf32 v, vu32 bits, size_t n) {
    (void)p; (void)v; (void)bits; (void)n;
}
OK_INLINE vf32 vf32_load_f16(const uint16_t *p) { return ok_f16_to_f32(*p); }
OK_INLINE vf32 vf32_load_f16_part(const uint16_t *p, size_t n) { (void)p; (void)n; return 0.0f; }
OK_INLINE void vf32_store_f16(uint16_t *p, vf32 v) { *p = ok_f32_to_f16(v); }
OK_INLINE void vf32_store_f16_part(uint16_t *p, vf32 v, size_t n) { (void)p; (void)v; (void)n; }
OK_INLINE vu32 vu32_random(uint32_t index0, uint32_t key) { return ok_u32_hash(index0 ^ key); }

OK_INLINE vu32 vu32_stream_bits(vu32 h, int s) { return ok_stream_bits(h, s); }

/* ---- 8-bit codes (simd.h): quant8.h's ok_q8_code, one element. */
typedef ok_q8_table vq8_table;
OK_INLINE vq8_table vq8_table_load(const ok_q8_table *t) { return *t; }
OK_INLINE void vf32_q8_encode(uint8_t *q, vf32 x, const vq8_table *t) { *q = ok_q8_code(t, x); }
OK_INLINE void vf32_q8_encode_part(uint8_t *q, vf32 x, const vq8_table *t, size_t n) {
    (void)q; (void)x; (void)t; (void)n;
}

#endif /* OPTKERN_SIMD_SCALAR_H */
