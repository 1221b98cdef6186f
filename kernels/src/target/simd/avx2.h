/*
 * The AVX2 + FMA target of the vector abstraction: simd.h documents the
 * operations and includes exactly one of simd/avx512.h, simd/avx2.h and
 * simd/scalar.h.
 */
#ifndef OPTKERN_SIMD_AVX2_H
#define OPTKERN_SIMD_AVX2_H

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
OK_INLINE vf32 vf32_maxn(vf32 a, vf32 b) {
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

OK_INLINE vf32 vf32_maxb(vf32 a, vf32 b) { return _mm256_max_ps(a, b); }
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
    __m256 m = vf32_maxn(a, _mm256_permute2f128_ps(a, a, 1));
    m = vf32_maxn(m, _mm256_permute_ps(m, 0x4e));
    m = vf32_maxn(m, _mm256_permute_ps(m, 0xb1));
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
OK_INLINE vf32_acc vf32_acc_load(const double *p) { vf32_acc r = {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; return r; }

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
OK_INLINE vf64 vf64_maxn(vf64 a, vf64 b) {
    return _mm256_blendv_pd(_mm256_max_pd(a, b), a, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
}

OK_INLINE vf64 vf64_maxb(vf64 a, vf64 b) { return _mm256_max_pd(a, b); }
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
    __m256d m = vf64_maxn(a, _mm256_permute2f128_pd(a, a, 1));
    m = vf64_maxn(m, _mm256_permute_pd(m, 0x5));
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
OK_INLINE vf64_acc vf64_acc_load(const double *p) { return _mm256_loadu_pd(p); }

#define OK_OPAQUE(v) __asm__ volatile("" : "+x"(v))
#define OK_PREFETCH(p) __builtin_prefetch((const char *)(p) + OK_PREFETCH_BYTES, 0, 3)

/* ---- 16-bit storage (simd.h): bfloat16 and float16 loads and stores of
 * float32 lanes, rounding as half.h does it, and stochastic rounding's bits.
 * AVX2 has no 16-bit masked moves: a part goes through a small buffer. */
typedef __m256i vu32;
OK_INLINE __m128i ok_load8_u16_part(const uint16_t *p, size_t n) {
    uint16_t b[8] = {0};
    memcpy(b, p, n * sizeof *p);
    return _mm_loadu_si128((const __m128i *)b);
}
OK_INLINE void ok_store8_u16_part(uint16_t *p, __m128i h, size_t n) {
    uint16_t b[8];
    _mm_storeu_si128((__m128i *)b, h);
    memcpy(p, b, n * sizeof *p);
}
OK_INLINE vf32 ok_widen_bf16(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
OK_INLINE vf32 vf32_load_bf16(const uint16_t *p) { return ok_widen_bf16(_mm_loadu_si128((const __m128i *)p)); }
OK_INLINE vf32 vf32_load_bf16_part(const uint16_t *p, size_t n) { return ok_widen_bf16(ok_load8_u16_part(p, n)); }
/* The bfloat16 bits of v after adding `add` (half.h's
 * ok_f32_to_bf16_adding), packed to 8 uint16. */
OK_INLINE __m128i ok_bf16_adding(vf32 v, __m256i add) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i r = _mm256_blendv_epi8(_mm256_add_epi32(u, add), _mm256_or_si256(u, _mm256_set1_epi32(0x400000)), nan);
    /* the upper 16 bits of r's lanes: gathered per 128-bit half, then the halves together */
    const __m256i upper = _mm256_setr_epi8(2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1,
                                           2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_shuffle_epi8(r, upper), 0x08));
}
OK_INLINE __m128i ok_bf16_nearest(vf32 v) {
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(v), 16), _mm256_set1_epi32(1));
    return ok_bf16_adding(v, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
}
OK_INLINE void vf32_store_bf16(uint16_t *p, vf32 v) { _mm_storeu_si128((__m128i *)p, ok_bf16_nearest(v)); }
OK_INLINE void vf32_store_bf16_part(uint16_t *p, vf32 v, size_t n) { ok_store8_u16_part(p, ok_bf16_nearest(v), n); }
OK_INLINE void vf32_store_bf16_sr(uint16_t *p, vf32 v, vu32 bits) {
    _mm_storeu_si128((__m128i *)p, ok_bf16_adding(v, _mm256_srli_epi32(bits, 16)));
}
OK_INLINE void vf32_store_bf16_sr_part(uint16_t *p, vf32 v, vu32 bits, size_t n) {
    ok_store8_u16_part(p, ok_bf16_adding(v, _mm256_srli_epi32(bits, 16)), n);
}
OK_INLINE vf32 vf32_load_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
OK_INLINE vf32 vf32_load_f16_part(const uint16_t *p, size_t n) { return _mm256_cvtph_ps(ok_load8_u16_part(p, n)); }
#define OK_F16_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
OK_INLINE void vf32_store_f16(uint16_t *p, vf32 v) { _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, OK_F16_NEAREST)); }
OK_INLINE void vf32_store_f16_part(uint16_t *p, vf32 v, size_t n) {
    ok_store8_u16_part(p, _mm256_cvtps_ph(v, OK_F16_NEAREST), n);
}
/* half.h's ok_u32_hash of (index0 + lane) ^ key, lane by lane. */
OK_INLINE vu32 vu32_random(uint32_t index0, uint32_t key) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i x = _mm256_xor_si256(_mm256_add_epi32(_mm256_set1_epi32((int)index0), iota), _mm256_set1_epi32((int)key));
    x = _mm256_mullo_epi32(_mm256_xor_si256(x, _mm256_srli_epi32(x, 16)), _mm256_set1_epi32((int)OK_HASH_M1));
    x = _mm256_mullo_epi32(_mm256_xor_si256(x, _mm256_srli_epi32(x, 15)), _mm256_set1_epi32((int)OK_HASH_M2));
    return _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
}

/* half.h's ok_stream_bits, lane by lane. */
OK_INLINE vu32 vu32_stream_bits(vu32 h, int s) {
    return s == 0 ? h : s == 2 ? _mm256_slli_epi32(h, 16)
                               : _mm256_mullo_epi32(h, _mm256_set1_epi32((int)OK_STREAM_MULTIPLIER(s)));
}

/* ---- 8-bit codes (simd.h): quant8.h's bucket table, 8 lanes at a time,
 * ok_q8_code's steps with one gather of the entries. */
typedef struct vq8_table {
    const int *entry;
    __m256 lo;
    __m128i shift;
    __m256i mask, half;
} vq8_table;
OK_INLINE vq8_table vq8_table_load(const ok_q8_table *t) {
    vq8_table r = {(const int *)t->entry, _mm256_set1_ps(t->lo), _mm_cvtsi32_si128(t->shift),
                   _mm256_set1_epi32((int)((1u << t->shift) - 1u)), _mm256_set1_epi32((int)t->half)};
    return r;
}
OK_INLINE __m256i ok_q8_codes8(vf32 x, const vq8_table *t) {
    /* max and min give their second operand on NaN and on equal values:
     * ok_q8_code's clamp, NaN to lo */
    const __m256i u = _mm256_castps_si256(_mm256_min_ps(_mm256_max_ps(x, t->lo), _mm256_set1_ps(1.0f)));
    const __m256i neg = _mm256_srai_epi32(u, 31), min = _mm256_set1_epi32((int)OK_Q8_BUCKET_MIN);
    const __m256i mag = _mm256_sub_epi32(_mm256_max_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), min), min);
    const __m256i idx = _mm256_add_epi32(_mm256_srl_epi32(mag, t->shift), _mm256_and_si256(neg, t->half));
    const __m256i entry = _mm256_i32gather_epi32(t->entry, idx, 4);
    const __m256i low = _mm256_and_si256(_mm256_xor_si256(mag, neg), t->mask);
    /* cmpgt is -1 where low < b */
    return _mm256_add_epi32(_mm256_and_si256(entry, _mm256_set1_epi32(0x1ff)),
                            _mm256_cmpgt_epi32(_mm256_srli_epi32(entry, 9), low));
}
OK_INLINE __m128i ok_q8_bytes8(__m256i c) {
    const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
    return _mm_packus_epi16(w, w);
}
OK_INLINE void vf32_q8_encode(uint8_t *q, vf32 x, const vq8_table *t) {
    _mm_storel_epi64((__m128i *)q, ok_q8_bytes8(ok_q8_codes8(x, t)));
}
OK_INLINE void vf32_q8_encode_part(uint8_t *q, vf32 x, const vq8_table *t, size_t n) {
    uint8_t b[16];
    _mm_storeu_si128((__m128i *)b, ok_q8_bytes8(ok_q8_codes8(x, t)));
    memcpy(q, b, n);
}

#endif /* OPTKERN_SIMD_AVX2_H */
