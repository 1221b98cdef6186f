/*
 * The library's test and benchmark hooks. Internal: not part of the public
 * C API (optkern/optkern.h does not include this header), no stability
 * promise; the Python binding exposes them for optkern's own tests and
 * benchmarks (src/optkern/_testing.pxi).
 */
#ifndef OPTKERN_INTERNAL_TESTING_H
#define OPTKERN_INTERNAL_TESTING_H

#include <stddef.h>
#include <stdint.h>

#include "optkern/common.h"

/* ------------------------------------------------------------ the roofline */

typedef struct ok_roofline_coeffs {
    int n_inplace, n_writeonly, n_readonly;
} ok_roofline_coeffs;

/* The memory roofline (kernels/src/target/roofline-inl.h): streams[s][i] is stream s of
 * tensor i, every array of `dtype`: first n_inplace read and written back,
 * then n_writeonly only written, then n_readonly only read. */
ok_status ok_roofline(ok_dtype dtype, int n_inplace, int n_writeonly, int n_readonly, size_t count,
                      const size_t *numel, void **const *streams);

/* The single-thread break-even size of the threaded driver; see
 * kernels/src/multi_tensor.c. 0 restores the default. For bench/threshold.py. */
void ok_mt_set_parallel_min(size_t elements);

/* The threads the drivers use for `elements` of work now, and what a
 * threaded region reports (wall and busiest thread's time, seconds): the
 * contention backoff of kernels/src/multi_tensor.c, for its tests. */
int ok_threads_for(size_t elements);
void ok_threads_observe(double wall, double busiest);

/* The contention backoff on (the default) or off: off, every pass that
 * ok_threads_for would thread is threaded, so a test that compares thread
 * counts really runs on several threads on a busy machine. And how many
 * threaded regions have reported (ok_threads_observe) since the start:
 * what such a test checks. */
void ok_threads_set_backoff(int on);
unsigned long ok_threads_regions(void);

/* -------------------------------------------------------- the vector math */

/* The functions of kernels/src/target/vmath-inl.h, one at a time. */
enum { OK_VMATH_EXP = 0, OK_VMATH_LOG = 1, OK_VMATH_LOG1P = 2, OK_VMATH_TANH = 3, OK_VMATH_COUNT = 4 };

/* y[i] = f(x[i]) with the selected instruction set, single-threaded; x and
 * y may be the same array. */
ok_status ok_vmath(int op, ok_dtype dtype, size_t n, const void *x, void *y);

/* ---------------------------------------------------- the SIMD primitives */

/* The operations of target/simd.h that carry a semantic a kernel relies on
 * (NaN, subnormal and tail behaviour), one at a time over vectors of the
 * selected instruction set: see kernels/src/target/probes-inl.h. */
enum {
    OK_SIMD_MAXN = 0,       /* z = maxn(x, y) */
    OK_SIMD_MAXB = 1,       /* z = maxb(x, y) */
    OK_SIMD_CLAMP = 2,      /* z = clamp(x, -1, 1) */
    OK_SIMD_LDEXP = 3,      /* z = ldexp(x, y) (y integral) */
    OK_SIMD_FREXP = 4,      /* z = mantissa, y = exponent of x */
    OK_SIMD_HMAX = 5,       /* z[v] = hmax of the vector at x[v * width]: one per vector, tail masked with -inf */
    OK_SIMD_ROUND = 6,      /* z = round(x) */
    OK_SIMD_COPYSIGN = 7,   /* z = copysign(x, y) */
    OK_SIMD_LOAD_PART = 8,  /* z = x through load_part/store_part of n % width lanes */
    OK_SIMD_COUNT = 9
};

/* The lanes of a vector of `dtype` on the selected instruction set. */
size_t ok_simd_width(ok_dtype dtype);

/* Apply op elementwise over n elements (y is read for the binary ops, and
 * written by FREXP). */
ok_status ok_simd_probe(int op, ok_dtype dtype, size_t n, const void *x, void *y, void *z);

/* ------------------------------------------------------- the 8-bit codes */

/* The codes of x[0, n) themselves (no scale) with the selected instruction
 * set's encoder (kernels/src/quant8.h: the bucket table), the map signed
 * or unsigned (docs/precision.md#8-bit-states). */
ok_status ok_q8_probe_codes(int unsigned_map, size_t n, const float *x, uint8_t *q);

/* The selected instruction set's encoder against the format's definition
 * (quant8.h's heap search) at every float32 from -1 to 1 (-0 aside), on
 * the library's threads: the number of values whose codes differ, and in
 * *first the bits of the lowest of them (untouched when none). */
size_t ok_q8_check_all(int unsigned_map, uint32_t *first);

#endif /* OPTKERN_INTERNAL_TESTING_H */
