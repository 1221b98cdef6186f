/*
 * The 8-bit optimizers, one span of one tensor (a kernel body, included
 * once per variant by target/bodies-inl.h; optim/eightbit.h lists them).
 * docs/precision.md#8-bit-states: block by block of OK_Q8_BLOCK elements,
 *
 *   s <- map[code] * absmax            each state, into float32 on the stack
 *   the optimizer's update (its *_lanes) over p, g and s
 *   absmax <- max |s|;  code <- nearest(s / absmax)   each state, back
 *
 * so a block's states never leave L1 as float32. A span takes the blocks
 * that start in it (whole, past its end if need be): blocks are fixed by
 * the tensor, so the result does not depend on how the threads split it.
 * Only the variants with float32 states have these bodies: the update runs
 * on float32 buffers, whatever the parameter's dtype.
 */
#if OK_SPEC_STATE(OK_SPEC) == 0

/* s[0, n) <- the values of codes q with scale a: a table lookup per
 * element, in plain C on every target (on AVX2 a scalar load per element
 * beats both a gather and a tree of permutes, docs/precision.md#8-bit-states). */
OK_INLINE void DT_NAME(q8_decode)(const uint8_t *q, real_t a, const float *map, real_t *s, size_t n) {
    for (size_t j = 0; j < n; j++) s[j] = map[q[j]] * a;
}

/* The codes of s[0, n) into q; returns their scale, max |s|. */
OK_INLINE real_t DT_NAME(q8_encode)(uint8_t *q, const real_t *s, const ok_q8_table *table, size_t n) {
    const vq8_table t_ = vq8_table_load(table), *t = &t_;
    vec_t m = vzero();
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) m = vmaxn(m, vabs(vload(s + j)));
    if (j < n) m = vmaxn(m, vabs(vload_part(s + j, n - j)));
    const real_t a = vhmax(m);
    const vec_t inv = vset1(a > 0 ? 1.0f / a : 0.0f);
    for (j = 0; j + LANES <= n; j += LANES) vf32_q8_encode(q + j, vmul(vload(s + j), inv), t);
    if (j < n) vf32_q8_encode_part(q + j, vmul(vload_part(s + j, n - j), inv), t, n - j);
    return a;
}

/* The block of tensor i from element `at`: its states into s, and its
 * length. */
OK_INLINE size_t DT_NAME(q8_load)(const ok_mt_task *task, size_t i, size_t at, int states, real_t (*s)[OK_Q8_BLOCK]) {
    const size_t n = task->numel[i] - at < OK_Q8_BLOCK ? task->numel[i] - at : OK_Q8_BLOCK;
    for (int k = 0; k < states; k++)
        DT_NAME(q8_decode)(OK_MT_PTR(const uint8_t, task, OK_Q8_STATE1 + k, i, at),
                           OK_MT_PTR(const float, task, OK_Q8_ABSMAX1 + k, i, at / OK_Q8_BLOCK)[0], ok_q8_codes(k), s[k],
                           n);
    return n;
}

OK_INLINE void DT_NAME(q8_store)(const ok_mt_task *task, size_t i, size_t at, int states, real_t (*s)[OK_Q8_BLOCK], size_t n) {
    for (int k = 0; k < states; k++) {
        const ok_q8_table table = ok_q8_table_of(k);
        OK_MT_PTR(float, task, OK_Q8_ABSMAX1 + k, i, at / OK_Q8_BLOCK)[0] =
            DT_NAME(q8_encode)(OK_MT_PTR(uint8_t, task, OK_Q8_STATE1 + k, i, at), s[k], &table, n);
    }
}

/* Each optimizer's update of one group of lanes, over the states s1 and s2
 * (s2 unused by the one-state ones). */
OK_INLINE void DT_NAME(q8_adam_lanes)(const ok_adam_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *g,
                                      real_t *s1, real_t *s2, size_t lanes) {
    DT_NAME(adam_lanes)(c, io, j, p, g, s1, s2, NULL, lanes);
}
OK_INLINE void DT_NAME(q8_sgd_lanes)(const ok_sgd_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *g,
                                     real_t *s1, real_t *s2, size_t lanes) {
    (void)s2;
    DT_NAME(sgd_lanes)(c, io, j, 0, vset1(1.0f), p, g, s1, lanes);
}
OK_INLINE void DT_NAME(q8_lion_lanes)(const ok_lion_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *g,
                                      real_t *s1, real_t *s2, size_t lanes) {
    (void)s2;
    DT_NAME(lion_lanes)(c, io, j, p, g, s1, lanes);
}
OK_INLINE void DT_NAME(q8_rmsprop_lanes)(const ok_rmsprop_coeffs *c, const ok_io *io, size_t j, param_t *p,
                                         const grad_t *g, real_t *s1, real_t *s2, size_t lanes) {
    (void)s2;
    DT_NAME(rmsprop_lanes)(c, io, j, p, g, s1, NULL, NULL, lanes);
}
OK_INLINE void DT_NAME(q8_adagrad_lanes)(const ok_adagrad_coeffs *c, const ok_io *io, size_t j, param_t *p,
                                         const grad_t *g, real_t *s1, real_t *s2, size_t lanes) {
    (void)s2;
    DT_NAME(adagrad_lanes)(c, io, j, p, g, s1, lanes);
}

#ifndef __CUDACC__ /* the CPU's entries (the GPU's kernels are kernels/cuda/optim.cu's) */
/* The span of each: the blocks that start in [begin, end). */
#define OK_Q8_SPAN(NAME, STATES)                                                                                   \
    static void DT_NAME(q8_##NAME##_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {           \
        const ok_##NAME##_coeffs k_ = *(const ok_##NAME##_coeffs *)ok_mt_coeffs(task, i), *c = &k_;               \
        real_t s[2][OK_Q8_BLOCK];                                                                                  \
        for (size_t at = (begin + OK_Q8_BLOCK - 1) / OK_Q8_BLOCK * OK_Q8_BLOCK; at < end; at += OK_Q8_BLOCK) {     \
            const size_t n = DT_NAME(q8_load)(task, i, at, STATES, s);                                             \
            param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, at);                                            \
            const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, at);                                   \
            const ok_io io_ = ok_io_of(task, i, at), *io = &io_;                                                   \
            size_t j = 0;                                                                                          \
            for (; j + LANES <= n; j += LANES)                                                                     \
                DT_NAME(q8_##NAME##_lanes)(c, io, j, p + j, g + j, s[0] + j, s[1] + j, LANES);                     \
            if (j < n) DT_NAME(q8_##NAME##_lanes)(c, io, j, p + j, g + j, s[0] + j, s[1] + j, n - j);              \
            DT_NAME(q8_store)(task, i, at, STATES, s, n);                                                          \
        }                                                                                                          \
    }
OK_Q8_OPTIMIZERS(OK_Q8_SPAN)
#undef OK_Q8_SPAN

#if OK_VARIANT == OK_VARIANT_F32
/* ok_quantize_8bit and ok_dequantize_8bit (optkern/optim.h): one thread,
 * block by block, as the spans above do it. */
static void q8_quantize(int unsigned_map, size_t n, const float *x, uint8_t *q, float *absmax) {
    const ok_q8_table table = ok_q8_table_of(unsigned_map);
    for (size_t at = 0; at < n; at += OK_Q8_BLOCK)
        absmax[at / OK_Q8_BLOCK] = DT_NAME(q8_encode)(q + at, x + at, &table, n - at < OK_Q8_BLOCK ? n - at : OK_Q8_BLOCK);
}
static void q8_dequantize(int unsigned_map, size_t n, const uint8_t *q, const float *absmax, float *x) {
    for (size_t at = 0; at < n; at += OK_Q8_BLOCK)
        DT_NAME(q8_decode)(q + at, absmax[at / OK_Q8_BLOCK], ok_q8_codes(unsigned_map), x + at,
                           n - at < OK_Q8_BLOCK ? n - at : OK_Q8_BLOCK);
}
/* The testing hook of testing.h: the codes of x[0, n) themselves (no
 * scale), a vector at a time. */
static void q8_codes(int unsigned_map, size_t n, const float *x, uint8_t *q) {
    const ok_q8_table table = ok_q8_table_of(unsigned_map);
    const vq8_table t_ = vq8_table_load(&table), *t = &t_;
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) vf32_q8_encode(q + j, vload(x + j), t);
    if (j < n) vf32_q8_encode_part(q + j, vload_part(x + j, n - j), t, n - j);
}
#endif
#endif /* __CUDACC__ */

#endif
