/*
 * The 16-bit storage types, one element at a time, in plain C: bfloat16 and
 * float16 to and from float32, and the generator stochastic rounding draws
 * its bits from (docs/precision.md). The scalar target's loads and stores
 * are these; the avx2 and avx512 targets compute the same bits lane by lane,
 * so every target stores identical results.
 *
 * bfloat16 is the upper half of a float32. Rounding to nearest even adds
 * 0x7fff plus the lowest kept bit and drops the lower half; stochastic
 * rounding adds 16 random bits instead, which rounds x up with probability
 * (x - down) / (up - down). Both carry into the exponent as they should
 * (the largest finite value may round to infinity) and are exact on
 * subnormals. A NaN keeps its sign and upper payload bits and becomes
 * quiet (bit 6 set), as AVX-512 BF16's conversion does; that instruction
 * is not used because it also flushes subnormal inputs to zero.
 *
 * float16 rounds to nearest even as F16C's conversions do (subnormal
 * results included, overflow to infinity); a NaN keeps its upper payload
 * bits and becomes quiet (bit 9 set).
 */
#ifndef OPTKERN_HALF_H
#define OPTKERN_HALF_H

#include <stdint.h>
#include <string.h>

#include "portable.h"

OK_FN uint32_t ok_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

OK_FN float ok_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

OK_FN float ok_bf16_to_f32(uint16_t h) { return ok_bits_f32((uint32_t)h << 16); }

/* `add`: 0x7fff + the lowest kept bit (nearest even), or 16 random bits
 * (stochastic). */
OK_FN uint16_t ok_f32_to_bf16_adding(float f, uint32_t add) {
    uint32_t u = ok_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(u >> 16 | 0x40u); /* NaN: quiet */
    return (uint16_t)((u + add) >> 16);
}

OK_FN uint16_t ok_f32_to_bf16(float f) {
    return ok_f32_to_bf16_adding(f, 0x7fffu + (ok_f32_bits(f) >> 16 & 1u));
}

/* Stochastic: `bits` are 32 random bits, of which the upper 16 are used. */
OK_FN uint16_t ok_f32_to_bf16_sr(float f, uint32_t bits) { return ok_f32_to_bf16_adding(f, bits >> 16); }

OK_FN float ok_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = h >> 10 & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1f) return ok_bits_f32(sign | 0x7f800000u | mant << 13 | (mant ? 0x400000u : 0u)); /* inf, NaN (quiet) */
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact */
        float m = (float)mant * ok_bits_f32(0x33800000u);
        return sign ? -m : m;
    }
    return ok_bits_f32(sign | (exp + 112u) << 23 | mant << 13);
}

OK_FN uint16_t ok_f32_to_f16(float f) {
    uint32_t u = ok_f32_bits(f);
    uint16_t sign = (uint16_t)(u >> 16 & 0x8000u);
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) return sign | 0x7e00u | (uint16_t)(u >> 13 & 0x3ffu); /* NaN: quiet */
    if (u >= 0x47800000u) return sign | 0x7c00u;                               /* >= 2^16: infinity */
    if (u < 0x38800000u) {
        /* below 2^-14: a subnormal or zero. Adding 0.5 puts the result's
         * bits at the bottom of the mantissa, rounded to nearest even by the
         * float addition itself (float arithmetic rounds to nearest even). */
        const float magic = ok_bits_f32(126u << 23); /* 0.5 */
        return sign | (uint16_t)(ok_f32_bits(ok_bits_f32(u) + magic) - (126u << 23));
    }
    /* normal: rebias the exponent, round the 13 dropped bits to nearest even;
     * a carry may reach infinity (65520 and above) */
    u += ((uint32_t)(15 - 127) << 23) + 0xfffu + (u >> 13 & 1u);
    return sign | (uint16_t)(u >> 13);
}

/* A double rounded to float32 "to odd": toward zero, with the lowest bit
 * set when that was inexact. Rounding that float to bfloat16 or float16
 * (to nearest even) then rounds the double once, as if directly: float32
 * keeps more than two bits beyond either 16-bit mantissa, subnormals
 * included, so the odd bit decides exactly the ties a double below or
 * above them would. The losses store their double results so. */
OK_FN float ok_f64_to_f32_odd(double d) {
    float f = (float)d;
    if ((double)f == d || d != d) return f;
    uint32_t u = ok_f32_bits(f);
    if (f > d ? d >= 0 : d < 0) u -= 1; /* rounded away from zero: one step back */
    return ok_bits_f32(u | 1u);
}

OK_FN uint16_t ok_f64_to_bf16(double d) { return ok_f32_to_bf16(ok_f64_to_f32_odd(d)); }
OK_FN uint16_t ok_f64_to_f16(double d) { return ok_f32_to_f16(ok_f64_to_f32_odd(d)); }

/*
 * Stochastic rounding's bits: a counter-based generator. An element's 32
 * bits are a hash of its index within its tensor and of a 32-bit key of the
 * call's per-tensor key, so they depend on neither the thread that rounds
 * it nor on how its tensor is split, and an ISA computes them for a vector
 * of consecutive indices at once (ok_u32_hash lane by lane). The per-tensor
 * key is ok_rounding_key(seed, step, tensor) (optkern/optim.h), so the bits
 * change every step. The hash is the "lowbias32" integer mixer (two
 * multiply-xorshift rounds) of the index's low 32 bits xor the key; an
 * index's high bits go into the key (ok_index_key); each stream's bits are
 * derived from the hash (ok_stream_bits).
 */
OK_FN uint64_t ok_mix64(uint64_t z) { /* splitmix64's finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define OK_HASH_M1 0x21f0aaadu
#define OK_HASH_M2 0xd35a2d97u

OK_FN uint32_t ok_u32_hash(uint32_t x) {
    x ^= x >> 16;
    x *= OK_HASH_M1;
    x ^= x >> 15;
    x *= OK_HASH_M2;
    return x ^ (x >> 15);
}

/* The 32-bit key of a tensor whose call key is `key`, for the indices
 * whose high 32 bits are `high`. */
OK_FN uint32_t ok_index_key(uint64_t key, uint64_t high) {
    return (uint32_t)ok_mix64(key + high * 0xd1b54a32d192ed03ULL);
}

/* One hash h per element serves every stream a step rounds: stream s (0
 * the parameter, 2 + k state k) takes h (s = 0), h's low half moved up
 * (s = 2), or h times an odd constant (a bijection of the 32-bit values, so
 * again uniform), and uses the upper 16 bits. One hash instead of one per
 * stream halves the multiplications of an all-bfloat16 Adam step. */
#define OK_STREAM_MULTIPLIER(s) (0x9e3779b9u + 2u * (uint32_t)(s) * 0x632be5abu)

OK_FN uint32_t ok_stream_bits(uint32_t h, int s) {
    return s == 0 ? h : s == 2 ? h << 16 : h * OK_STREAM_MULTIPLIER(s);
}

#endif /* OPTKERN_HALF_H */
