/*
 * Kernel variants: the dtype signatures every kernel body is compiled for.
 *
 * A variant fixes the storage dtype of each stream of a tensor (parameter,
 * gradient, states; a loss's arrays are stored as its parameter dtype) and
 * the compute type its arithmetic runs in (target/dtype.h). Kernel tables
 * have one entry per variant; a call picks, per tensor, the variant of its
 * arrays' dtypes (ok_variant_of below), and a signature no variant covers
 * is OK_ERR_UNSUPPORTED. Adding a variant (bfloat16 parameters with float32
 * states, say) is its number and name here, its signature in ok_variant_of,
 * its section in target/dtype.h and its storage conversions in
 * target/simd/.
 */
#ifndef OPTKERN_VARIANTS_H
#define OPTKERN_VARIANTS_H

#include "optkern/optim.h"

/* The numbers target/dtype.h selects on (its #if cannot see an enum). */
#define OK_VARIANT_F32 0
#define OK_VARIANT_F64 1
#define OK_VARIANT_COUNT 2

/* M(a, name) once per variant, in OK_VARIANT_* order: for tables of
 * per-variant functions, {OK_FOR_VARIANTS(M, sgd_span)}. */
#define OK_FOR_VARIANTS(M, a) M(a, f32) M(a, f64)

/* The bytes of one element of a dtype (ok_dtype_size, inline for the
 * drivers' per-tensor loops). */
static inline size_t ok_dtype_bytes(ok_dtype d) {
    return d == OK_FLOAT32 ? sizeof(float) : d == OK_FLOAT64 ? sizeof(double) : 0;
}

/* Whether p is aligned to `bytes` (a power of two) or NULL: a C caller may
 * hand any pointer, and a kernel's scalar access to a misaligned one is
 * undefined behaviour, so every entry point refuses it (OK_ERR_ALIGNMENT). */
static inline int ok_aligned(const void *p, size_t bytes) { return ((uintptr_t)p & (bytes - 1)) == 0; }

/* Whether a * b elements of `elem` bytes can be one array: their byte count
 * fits in a ptrdiff_t. A larger count describes no memory (its byte count
 * may even wrap to a small one, which the aliasing checks would believe),
 * so every entry point refuses it (OK_ERR_SIZE). */
static inline int ok_fits(size_t a, size_t b, size_t elem) {
    return a == 0 || b == 0 || (b <= (size_t)PTRDIFF_MAX / elem && a <= (size_t)PTRDIFF_MAX / elem / b);
}

/* The kernel variant of a signature, or -1 when no variant covers it. */
static inline int ok_variant_of(ok_dtypes d) {
    if (d.grad != d.param || d.state != d.param) return -1;
    return d.param == OK_FLOAT32 ? OK_VARIANT_F32 : d.param == OK_FLOAT64 ? OK_VARIANT_F64 : -1;
}

/* The variant whose every stream is of dtype d, or -1. */
static inline int ok_uniform_variant(ok_dtype d) {
    ok_dtypes all = {d, d, d};
    return ok_variant_of(all);
}

#endif /* OPTKERN_VARIANTS_H */
