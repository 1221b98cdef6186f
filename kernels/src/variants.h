/*
 * Kernel variants: the dtype signatures every optimizer body is compiled
 * for.
 *
 * A variant fixes the storage dtype of each stream of a tensor (parameter,
 * gradient, states) and so the compute type its arithmetic runs in
 * (target/dtype.h): double for float64, float32 for everything else
 * (docs/precision.md). Kernel tables have one entry per variant; a call
 * picks, per tensor, the variant of its arrays' dtypes (ok_variant_of
 * below), and a signature no variant covers is OK_ERR_UNSUPPORTED.
 *
 * OK_VARIANT_SPEC_<k> is variant k: its name (the suffix of its kernels)
 * and the ok_dtype (optkern/common.h) of its parameter, gradient and state
 * storage. The first OK_ARRAY_VARIANT_COUNT variants store every stream in
 * its compute type; the probes, whose bodies assume that, are compiled for
 * those only. The loss and vector bodies move their arrays through
 * converting loads and stores (target/dtype.h's data_t) and are compiled for
 * the "data variants", the variants whose streams share one dtype (below).
 * Adding a variant is its line here and
 * OK_VARIANT_COUNT (target/kernels_target.c compiles each); a new storage
 * dtype also needs its conversions (target/storage-inl.h, target/simd/).
 */
#ifndef OPTKERN_VARIANTS_H
#define OPTKERN_VARIANTS_H

#include "optkern/optim.h"
#include "portable.h"

/*                      name        param grad state   (0 float32, 1 float64, 2 bfloat16, 3 float16) */
#define OK_VARIANT_SPEC_0 f32,        0,    0,   0
#define OK_VARIANT_SPEC_1 f64,        1,    1,   1
#define OK_VARIANT_SPEC_2 f32_bf16s,  0,    0,   2
#define OK_VARIANT_SPEC_3 bf16,       2,    2,   2
#define OK_VARIANT_SPEC_4 bf16_f32s,  2,    2,   0
#define OK_VARIANT_SPEC_5 bf16_f32g,  2,    0,   2
#define OK_VARIANT_SPEC_6 bf16_f32gs, 2,    0,   0
#define OK_VARIANT_SPEC_7 f16,        3,    3,   3
#define OK_VARIANT_SPEC_8 f16_f32s,   3,    3,   0
#define OK_VARIANT_SPEC_9 f16_f32g,   3,    0,   3
#define OK_VARIANT_SPEC_10 f16_f32gs, 3,    0,   0
#define OK_VARIANT_COUNT 11
#define OK_ARRAY_VARIANT_COUNT 2

/* The numbers of the array variants (target/dtype.h selects on them). */
#define OK_VARIANT_F32 0
#define OK_VARIANT_F64 1

/* M(a, k) once per data variant k: the array variants and the all-bfloat16
 * and all-float16 ones. A loss or vector kernel table has an entry at the
 * number of each data variant (NULL at the others), as every kernel table
 * is indexed by variant; target/bodies-inl.h compiles those bodies for
 * every variant whose streams share one dtype. */
#define OK_FOR_DATA_VARIANTS(M, a) OK_FOR_ARRAY_VARIANTS(M, a) M(a, 3) M(a, 7)

/* The members of a spec: OK_SPEC_NAME(OK_VARIANT_SPEC_3) is bf16. */
#define OK_SPEC_NAME(spec) OK_SPEC_NAME_(spec)
#define OK_SPEC_NAME_(name, p, g, s) name
#define OK_SPEC_PARAM(spec) OK_SPEC_PARAM_(spec)
#define OK_SPEC_PARAM_(name, p, g, s) p
#define OK_SPEC_GRAD(spec) OK_SPEC_GRAD_(spec)
#define OK_SPEC_GRAD_(name, p, g, s) g
#define OK_SPEC_STATE(spec) OK_SPEC_STATE_(spec)
#define OK_SPEC_STATE_(name, p, g, s) s
#define OK_SPEC_OF(k) OK_SPEC_OF_(k)
#define OK_SPEC_OF_(k) OK_VARIANT_SPEC_##k

/* M(a, k) once per variant k, in order: for tables of per-variant
 * functions, {OK_FOR_VARIANTS(M, sgd_span)}; OK_FOR_ARRAY_VARIANTS the
 * array variants only. */
#define OK_FOR_ARRAY_VARIANTS(M, a) M(a, 0) M(a, 1)
#define OK_FOR_VARIANTS(M, a) \
    OK_FOR_ARRAY_VARIANTS(M, a) M(a, 2) M(a, 3) M(a, 4) M(a, 5) M(a, 6) M(a, 7) M(a, 8) M(a, 9) M(a, 10)

/* The bytes of one element of a dtype (ok_dtype_size, inline for the
 * drivers' per-tensor loops). */
OK_FN size_t ok_dtype_bytes(ok_dtype d) {
    switch (d) {
    case OK_FLOAT32: return sizeof(float);
    case OK_FLOAT64: return sizeof(double);
    case OK_BFLOAT16:
    case OK_FLOAT16: return sizeof(uint16_t);
    default: return 0;
    }
}

/* Whether p is aligned to `bytes` (a power of two) or NULL: a C caller may
 * hand any pointer, and a kernel's scalar access to a misaligned one is
 * undefined behaviour, so every entry point refuses it (OK_ERR_ALIGNMENT). */
OK_FN int ok_aligned(const void *p, size_t bytes) { return ((uintptr_t)p & (bytes - 1)) == 0; }

/* Whether a * b elements of `elem` bytes can be one array: their byte count
 * fits in a ptrdiff_t. A larger count describes no memory (its byte count
 * may even wrap to a small one, which the aliasing checks would believe),
 * so every entry point refuses it (OK_ERR_SIZE). */
OK_FN int ok_fits(size_t a, size_t b, size_t elem) {
    return a == 0 || b == 0 || (b <= (size_t)PTRDIFF_MAX / elem && a <= (size_t)PTRDIFF_MAX / elem / b);
}

#define OK_VARIANT_DTYPES_ROW(a, k) \
    {(ok_dtype)OK_SPEC_PARAM(OK_SPEC_OF(k)), (ok_dtype)OK_SPEC_GRAD(OK_SPEC_OF(k)), (ok_dtype)OK_SPEC_STATE(OK_SPEC_OF(k))},

/* The kernel variant of a signature, or -1 when no variant covers it. */
OK_FN int ok_variant_of(ok_dtypes d) {
    static const ok_dtypes specs[OK_VARIANT_COUNT] = {OK_FOR_VARIANTS(OK_VARIANT_DTYPES_ROW, _)};
    for (int k = 0; k < OK_VARIANT_COUNT; k++)
        if (specs[k].param == d.param && specs[k].grad == d.grad && specs[k].state == d.state) return k;
    return -1;
}

/* The array variant whose every stream is of dtype d, or -1. */
OK_FN int ok_uniform_variant(ok_dtype d) {
    ok_dtypes all = {d, d, d};
    int k = ok_variant_of(all);
    return k < OK_ARRAY_VARIANT_COUNT ? k : -1;
}

/* The data variant whose every stream is of dtype d (float32, float64,
 * bfloat16, float16), or -1: the loss and vector kernels' index. */
OK_FN int ok_data_variant(ok_dtype d) {
    ok_dtypes all = {d, d, d};
    return ok_variant_of(all);
}

#endif /* OPTKERN_VARIANTS_H */
