/*
 * How an optimizer body moves its tensor's streams, for the current
 * variant (target/dtype.h): included once per variant by bodies-inl.h.
 * Bodies never touch a stream's memory otherwise.
 *
 *   vld_param(io, j, p, lanes)        the parameter, as real_t: from the
 *                                     float32 master copy when the call has
 *                                     one (docs/precision.md#master-weights),
 *                                     else widened from p
 *   vst_param(io, j, p, v, lanes)     store v as the parameter: into the
 *                                     master copy, if any, and p, rounded
 *   vld_grad(g, lanes)                the gradient, widened
 *   vld_state(s, lanes)               a state, widened
 *   vst_state(io, j, stream, s, v, lanes)  store v into a state of stream
 *                                     number `stream` (OK_ADAM_EXP_AVG...)
 *
 * io is the span's ok_io (multi_tensor.h) and j the offset of p, g and s
 * from the span's first element. A bfloat16 store rounds to nearest even,
 * or stochastically when the call asks (io->stochastic), with the bits of
 * (element index, stream) that half.h describes; a float16 store rounds to
 * nearest even; a float32 or float64 stream of the variant's own compute
 * type is moved as it is, and io is not read.
 */
#ifndef OPTKERN_STORAGE_INL_ONCE
#define OPTKERN_STORAGE_INL_ONCE

/* Stores rounding to nearest even, by storage dtype number (ok_dtype). */
#define ok_store_nearest_0(p, v, lanes) vst((p), (v), (lanes))
#define ok_store_nearest_1(p, v, lanes) vst((p), (v), (lanes))
#define ok_store_nearest_2(p, v, lanes) \
    ((lanes) == (size_t)VF32_WIDTH ? vf32_store_bf16((p), (v)) : vf32_store_bf16_part((p), (v), (lanes)))
#define ok_store_nearest_3(p, v, lanes) \
    ((lanes) == (size_t)VF32_WIDTH ? vf32_store_f16((p), (v)) : vf32_store_f16_part((p), (v), (lanes)))

/* Stochastic rounding's 32 bits per lane for elements first + j ...
 * (half.h), stream s. The hash is the same for every stream of a lanes
 * call, which the compiler computes once. */
OK_INLINE vu32 ok_io_bits(const ok_io *io, int s, size_t j) {
    const uint64_t e = (uint64_t)(io->first + j);
    const uint32_t key = (e >> 32) == ((uint64_t)io->first >> 32) ? io->index_key : ok_index_key(io->key, e >> 32);
    return vu32_stream_bits(vu32_random((uint32_t)e, key), s);
}

OK_INLINE void ok_store_bf16_io(const ok_io *io, int s, size_t j, uint16_t *p, vf32 v, size_t lanes) {
    if (io->stochastic) {
        const vu32 bits = ok_io_bits(io, s, j);
        if (lanes == (size_t)VF32_WIDTH)
            vf32_store_bf16_sr(p, v, bits);
        else
            vf32_store_bf16_sr_part(p, v, bits, lanes);
    } else {
        ok_store_nearest_2(p, v, lanes);
    }
}

/* Loads and stores by storage dtype number (ok_dtype). */
#define ok_load_0(p, lanes) vld((p), (lanes))
#define ok_load_1(p, lanes) vld((p), (lanes))
#define ok_load_2(p, lanes) ((lanes) == (size_t)VF32_WIDTH ? vf32_load_bf16(p) : vf32_load_bf16_part((p), (lanes)))
#define ok_load_3(p, lanes) ((lanes) == (size_t)VF32_WIDTH ? vf32_load_f16(p) : vf32_load_f16_part((p), (lanes)))
#define ok_store_0(io, s, j, p, v, lanes) ((void)(io), (void)(j), vst((p), (v), (lanes)))
#define ok_store_1(io, s, j, p, v, lanes) ((void)(io), (void)(j), vst((p), (v), (lanes)))
#define ok_store_2(io, s, j, p, v, lanes) ok_store_bf16_io((io), (s), (j), (p), (v), (lanes))
#define ok_store_3(io, s, j, p, v, lanes) ((void)(io), (void)(j), ok_store_nearest_3((p), (v), (lanes)))

#define vld_param(io, j, p, lanes) DT_NAME(ok_vld_param)((io), (j), (p), (lanes))
#define vst_param(io, j, p, v, lanes) DT_NAME(ok_vst_param)((io), (j), (p), (v), (lanes))
#define vld_grad(p, lanes) OK_PASTE(ok_load, OK_SPEC_GRAD(OK_SPEC))((p), (lanes))
#define vld_state(p, lanes) OK_PASTE(ok_load, OK_SPEC_STATE(OK_SPEC))((p), (lanes))
#define vst_state(io, j, s, p, v, lanes) OK_PASTE(ok_store, OK_SPEC_STATE(OK_SPEC))((io), (s), (j), (p), (v), (lanes))

/* Scalar loads (to real_t) and stores (of a double, rounded once to nearest
 * even: half.h), by storage dtype number. */
#define ok_get_0(p) (*(p))
#define ok_get_1(p) (*(p))
#define ok_get_2(p) ok_bf16_to_f32(*(p))
#define ok_get_3(p) ok_f16_to_f32(*(p))
#define ok_put_0(p, d) (*(p) = (float)(d))
#define ok_put_1(p, d) (*(p) = (double)(d))
#define ok_put_2(p, d) (*(p) = ok_f64_to_bf16(d))
#define ok_put_3(p, d) (*(p) = ok_f64_to_f16(d))

/*
 * How a loss body moves its arrays of data_t (target/dtype.h): the input,
 * its target, weights and gradient. Loads widen to real_t, stores round to
 * nearest even; float32 and float64 arrays are moved as they are.
 *   vld_data(p, lanes)   `lanes` elements at p (the other lanes 0)
 *   vst_data(p, v, lanes)
 *   ld_data(p)           the element at p, as real_t
 *   st_data(p, d)        store the double d at p
 * The losses' own outputs, per-element or per-sample losses, are real_t.
 */
#define vld_data(p, lanes) OK_PASTE(ok_load, OK_SPEC_PARAM(OK_SPEC))((p), (lanes))
#define vst_data(p, v, lanes) OK_PASTE(ok_store_nearest, OK_SPEC_PARAM(OK_SPEC))((p), (v), (lanes))
#define ld_data(p) ((real_t)OK_PASTE(ok_get, OK_SPEC_PARAM(OK_SPEC))(p))
#define st_data(p, d) OK_PASTE(ok_put, OK_SPEC_PARAM(OK_SPEC))((p), (d))
#endif

OK_INLINE vec_t DT_NAME(ok_vld_param)(const ok_io *io, size_t j, const param_t *p, size_t lanes) {
#if OK_SPEC_PARAM(OK_SPEC) >= 2
    if (io->master) return vld(io->master + j, lanes);
#endif
    (void)io, (void)j;
    return OK_PASTE(ok_load, OK_SPEC_PARAM(OK_SPEC))(p, lanes);
}

OK_INLINE void DT_NAME(ok_vst_param)(const ok_io *io, size_t j, param_t *p, vec_t v, size_t lanes) {
#if OK_SPEC_PARAM(OK_SPEC) >= 2
    if (io->master) vst(io->master + j, v, lanes);
#endif
    (void)io, (void)j;
    OK_PASTE(ok_store, OK_SPEC_PARAM(OK_SPEC))(io, OK_OPT_PARAM, j, p, v, lanes);
}
