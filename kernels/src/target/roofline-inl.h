/*
 * The memory roofline (a kernel body: included once per variant by
 * bodies-inl.h): the data movement of a kernel with no arithmetic. It
 * reads every stream and writes back the written ones, through the same
 * driver, vector width and threads as the real kernels, so a kernel's time
 * divided by this one's says how close it stands to the bandwidth limit.
 *
 * Streams, in order: n_inplace read and written back, n_writeonly only
 * written, n_readonly only read. OK_OPAQUE keeps the compiler from dropping
 * a load or a store whose value it could otherwise prove unchanged.
 */
OK_INLINE void DT_NAME(roofline_lanes)(real_t *const *s, size_t at, size_t lanes, const int ni, const int nw, const int nr) {
    for (int k = 0; k < ni + nw + nr; k++) vprefetch(s[k] + at); /* as the kernels do */
    for (int k = 0; k < ni; k++) {
        vec_t x = vld(s[k] + at, lanes);
        OK_OPAQUE(x);
        vst(s[k] + at, x, lanes);
    }
    for (int k = ni + nw; k < ni + nw + nr; k++) {
        vec_t x = vld(s[k] + at, lanes);
        OK_OPAQUE(x);
    }
    for (int k = ni; k < ni + nw; k++) {
        vec_t x = vzero();
        OK_OPAQUE(x);
        vst(s[k] + at, x, lanes);
    }
}

OK_INLINE void DT_NAME(roofline_loop)(real_t *const *s, size_t n, const int ni, const int nw, const int nr) {
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) DT_NAME(roofline_lanes)(s, j, LANES, ni, nw, nr);
    if (j < n) DT_NAME(roofline_lanes)(s, j, n - j, ni, nw, nr);
}

static void DT_NAME(roofline_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_roofline_coeffs *c = (const ok_roofline_coeffs *)ok_mt_coeffs(task, i);
    const int ni = c->n_inplace, nw = c->n_writeonly, nr = c->n_readonly;
    real_t *s[OK_MT_MAX_STREAMS];
    for (int k = 0; k < ni + nw + nr; k++) s[k] = OK_MT_PTR(real_t, task, k, i, begin);
    size_t n = end - begin;
    /* The patterns of the library's kernels get loops with constant stream
     * counts (fully unrolled); any other goes through the general loop. */
#define OK_ROOFLINE_CASE(a, b, d) \
    if (ni == a && nw == b && nr == d) { DT_NAME(roofline_loop)(s, n, a, b, d); return; }
    OK_ROOFLINE_CASE(3, 0, 1) /* Adam: param, exp_avg, exp_avg_sq; grad */
    OK_ROOFLINE_CASE(4, 0, 1) /* Adam with amsgrad */
    OK_ROOFLINE_CASE(2, 0, 1) /* SGD with momentum */
    OK_ROOFLINE_CASE(1, 0, 1) /* SGD */
    OK_ROOFLINE_CASE(0, 1, 2) /* elementwise loss: x, y -> grad */
    OK_ROOFLINE_CASE(0, 1, 1) /* row loss, out of place */
    OK_ROOFLINE_CASE(1, 0, 0) /* row loss, in place */
#undef OK_ROOFLINE_CASE
    DT_NAME(roofline_loop)(s, n, ni, nw, nr);
}
