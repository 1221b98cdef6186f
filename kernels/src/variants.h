/*
 * Kernel variants: the dtype signatures every kernel body is compiled for.
 *
 * A variant fixes the storage dtype of each stream of a tensor (parameter,
 * gradient, states; a loss's arrays are stored as its parameter dtype) and
 * the compute type its arithmetic runs in (target/dtype.h). Kernel tables
 * have one entry per variant; a call picks, per tensor, the variant of its
 * arrays' dtypes (ok_variant_of), and a signature no variant covers is
 * OK_ERR_UNSUPPORTED. Adding a variant (bfloat16 parameters with float32
 * states, say) is a row here, its section in target/dtype.h and its storage
 * conversions in target/simd/.
 */
#ifndef OPTKERN_VARIANTS_H
#define OPTKERN_VARIANTS_H

/* The numbers target/dtype.h selects on (its #if cannot see an enum). */
#define OK_VARIANT_F32 0
#define OK_VARIANT_F64 1
#define OK_VARIANT_COUNT 2

/* M(a, name) once per variant, in OK_VARIANT_* order: for tables of
 * per-variant functions, {OK_FOR_VARIANTS(M, sgd_span)}. */
#define OK_FOR_VARIANTS(M, a) M(a, f32) M(a, f64)

#endif /* OPTKERN_VARIANTS_H */
