/*
 * The AVX-512 (F, BW, DQ, VL) target of the vector abstraction: simd.h documents the
 * operations and includes exactly one of simd/avx512.h, simd/avx2.h and
 * simd/scalar.h.
 */
#ifndef OPTKERN_SIMD_AVX512_H
#define OPTKERN_SIMD_AVX512_H

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
OK_INLINE vf32 vf32_maxn(vf32 a, vf32 b) {
    /* max_ps returns its second operand when either is NaN: fix up NaN in a. */
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), _mm512_max_ps(a, b), a);
}

OK_INLINE vf32 vf32_maxb(vf32 a, vf32 b) { return _mm512_max_ps(a, b); }
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
OK_INLINE vf32_acc vf32_acc_load(const double *p) { vf32_acc r = {_mm512_loadu_pd(p), _mm512_loadu_pd(p + 8)}; return r; }

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
OK_INLINE vf64 vf64_maxn(vf64 a, vf64 b) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), _mm512_max_pd(a, b), a);
}

OK_INLINE vf64 vf64_maxb(vf64 a, vf64 b) { return _mm512_max_pd(a, b); }
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
OK_INLINE vf64_acc vf64_acc_load(const double *p) { return _mm512_loadu_pd(p); }

#define OK_OPAQUE(v) __asm__ volatile("" : "+v"(v))
#define OK_PREFETCH(p) __builtin_prefetch((const char *)(p) + OK_PREFETCH_BYTES, 0, 3)

/* ---- 16-bit storage (simd.h): bfloat16 and float16 loads and stores of
 * float32 lanes, rounding as half.h does it, and stochastic rounding's bits */
typedef __m512i vu32;
OK_INLINE __mmask16 ok_first16(size_t n) { return (__mmask16)((1u << n) - 1u); }
OK_INLINE vf32 ok_widen_bf16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
OK_INLINE vf32 vf32_load_bf16(const uint16_t *p) { return ok_widen_bf16(_mm256_loadu_si256((const __m256i *)p)); }
OK_INLINE vf32 vf32_load_bf16_part(const uint16_t *p, size_t n) {
    return ok_widen_bf16(_mm256_maskz_loadu_epi16(ok_first16(n), p));
}
/* The bfloat16 bits of v (in each lane's low half) after adding `add`:
 * half.h's ok_f32_to_bf16_adding. */
OK_INLINE __m512i ok_bf16_adding(vf32 v, __m512i add) {
    const __m512i u = _mm512_castps_si512(v);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_mask_or_epi32(_mm512_srli_epi32(_mm512_add_epi32(u, add), 16), nan, _mm512_srli_epi32(u, 16),
                                _mm512_set1_epi32(0x40));
}
OK_INLINE __m512i ok_bf16_nearest(vf32 v) {
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(v), 16), _mm512_set1_epi32(1));
    return ok_bf16_adding(v, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
}
OK_INLINE void vf32_store_bf16(uint16_t *p, vf32 v) {
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(ok_bf16_nearest(v)));
}
OK_INLINE void vf32_store_bf16_part(uint16_t *p, vf32 v, size_t n) {
    _mm512_mask_cvtepi32_storeu_epi16(p, ok_first16(n), ok_bf16_nearest(v));
}
OK_INLINE void vf32_store_bf16_sr(uint16_t *p, vf32 v, vu32 bits) {
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(ok_bf16_adding(v, _mm512_srli_epi32(bits, 16))));
}
OK_INLINE void vf32_store_bf16_sr_part(uint16_t *p, vf32 v, vu32 bits, size_t n) {
    _mm512_mask_cvtepi32_storeu_epi16(p, ok_first16(n), ok_bf16_adding(v, _mm512_srli_epi32(bits, 16)));
}
OK_INLINE vf32 vf32_load_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
OK_INLINE vf32 vf32_load_f16_part(const uint16_t *p, size_t n) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(ok_first16(n), p));
}
#define OK_F16_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
OK_INLINE void vf32_store_f16(uint16_t *p, vf32 v) {
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, OK_F16_NEAREST));
}
OK_INLINE void vf32_store_f16_part(uint16_t *p, vf32 v, size_t n) {
    _mm256_mask_storeu_epi16(p, ok_first16(n), _mm512_cvtps_ph(v, OK_F16_NEAREST));
}
/* half.h's ok_u32_hash of (index0 + lane) ^ key, lane by lane. */
OK_INLINE vu32 vu32_random(uint32_t index0, uint32_t key) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i x = _mm512_xor_si512(_mm512_add_epi32(_mm512_set1_epi32((int)index0), iota), _mm512_set1_epi32((int)key));
    x = _mm512_mullo_epi32(_mm512_xor_si512(x, _mm512_srli_epi32(x, 16)), _mm512_set1_epi32((int)OK_HASH_M1));
    x = _mm512_mullo_epi32(_mm512_xor_si512(x, _mm512_srli_epi32(x, 15)), _mm512_set1_epi32((int)OK_HASH_M2));
    return _mm512_xor_si512(x, _mm512_srli_epi32(x, 15));
}

/* half.h's ok_stream_bits, lane by lane. */
OK_INLINE vu32 vu32_stream_bits(vu32 h, int s) {
    return s == 0 ? h : s == 2 ? _mm512_slli_epi32(h, 16)
                               : _mm512_mullo_epi32(h, _mm512_set1_epi32((int)OK_STREAM_MULTIPLIER(s)));
}

/* ---- 8-bit codes (simd.h): quant8.h's bucket table, 16 lanes at a time,
 * ok_q8_code's steps with one gather of the entries. */
typedef struct vq8_table {
    const int *entry;
    __m512 lo;
    __m128i shift;
    __m512i mask, half;
} vq8_table;
OK_INLINE vq8_table vq8_table_load(const ok_q8_table *t) {
    vq8_table r = {(const int *)t->entry, _mm512_set1_ps(t->lo), _mm_cvtsi32_si128(t->shift),
                   _mm512_set1_epi32((int)((1u << t->shift) - 1u)), _mm512_set1_epi32((int)t->half)};
    return r;
}
OK_INLINE __m512i ok_q8_codes16(vf32 x, const vq8_table *t) {
    /* max and min give their second operand on NaN and on equal values:
     * ok_q8_code's clamp, NaN to lo */
    const __m512i u = _mm512_castps_si512(_mm512_min_ps(_mm512_max_ps(x, t->lo), _mm512_set1_ps(1.0f)));
    const __m512i neg = _mm512_srai_epi32(u, 31), min = _mm512_set1_epi32((int)OK_Q8_BUCKET_MIN);
    const __m512i mag = _mm512_sub_epi32(_mm512_max_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), min), min);
    const __m512i idx = _mm512_add_epi32(_mm512_srl_epi32(mag, t->shift), _mm512_and_si512(neg, t->half));
    const __m512i entry = _mm512_i32gather_epi32(idx, t->entry, 4);
    const __m512i low = _mm512_and_si512(_mm512_xor_si512(mag, neg), t->mask);
    const __m512i lowest = _mm512_add_epi32(_mm512_and_si512(entry, _mm512_set1_epi32(0x1ff)), _mm512_set1_epi32(-1));
    /* (c + 1) - [low < b] = c + [low >= b] */
    return _mm512_mask_add_epi32(lowest, _mm512_cmpge_epi32_mask(low, _mm512_srli_epi32(entry, 9)), lowest,
                                 _mm512_set1_epi32(1));
}
OK_INLINE void vf32_q8_encode(uint8_t *q, vf32 x, const vq8_table *t) {
    _mm_storeu_si128((__m128i *)q, _mm512_cvtepi32_epi8(ok_q8_codes16(x, t)));
}
OK_INLINE void vf32_q8_encode_part(uint8_t *q, vf32 x, const vq8_table *t, size_t n) {
    _mm512_mask_cvtepi32_storeu_epi8(q, ok_first16(n), ok_q8_codes16(x, t));
}

#endif /* OPTKERN_SIMD_AVX512_H */
