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
 *   maxn(a, b)             the larger; NaN if either is NaN (torch.maximum;
 *                          the n says: NaN propagates)
 *   OK_OPAQUE(v)           v, but the compiler must assume it changed
 *   OK_PREFETCH(p)         start loading the line OK_PREFETCH_BYTES past p
 *
 * and, for the loss kernels and their math functions (vmath.h):
 *
 *   *_load_fill(p, n, f)   the first n <= WIDTH lanes, the rest f
 *   maxb(a, b)             the larger; b when either is NaN (x86's rule,
 *                          the b says so: cheaper than maxn where NaN flows
 *                          on anyway)
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
 *                          added in a fixed order),
 *                          acc_store and acc_load (WIDTH doubles)
 *
 * and, for the 16-bit storage types (half.h; each ISA rounds exactly as
 * half.h does, so every target stores the same bits):
 *
 *   vf32_load_bf16(p), vf32_load_f16(p)     WIDTH bfloat16 / float16 at p,
 *                                           widened to float32 (exact)
 *   vf32_store_bf16(p, v), vf32_store_f16   rounded to nearest even
 *   vf32_store_bf16_sr(p, v, bits)          rounded stochastically with
 *                                           the upper 16 of each lane's
 *                                           32 random bits
 *   ..._part(p, [v, bits,] n)               the first n < WIDTH lanes
 *   vu32                                    a vector of WIDTH uint32
 *   vu32_random(index0, key)                half.h's ok_u32_hash of
 *                                           (index0 + lane) ^ key per lane
 *   vu32_stream_bits(h, s)                  half.h's ok_stream_bits per lane
 *
 * and, for the 8-bit states (quant8.h; every ISA finds the same codes):
 *
 *   vq8_table, vq8_table_load(t)           a map's bucket table (ok_q8_table)
 *                                           in this target's form
 *   vf32_q8_encode(q, x, table)             store at q the WIDTH codes of x:
 *                                           quant8.h's ok_q8_code
 *   vf32_q8_encode_part(q, x, table, n)     the first n < WIDTH lanes
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
#include <stdint.h>
#include <string.h>

#include "half.h"
#include "quant8.h"


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

#if defined(OK_TARGET_AVX512)
#include "target/simd/avx512.h"
#elif defined(OK_TARGET_AVX2)
#include "target/simd/avx2.h"
#else
#include "target/simd/scalar.h"
#endif

#endif /* OPTKERN_SIMD_H */
