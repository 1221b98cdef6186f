/*
 * RAdam, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#radam:
 *
 *   g, p, m, v as optim/moments-inl.h says (maximize, weight decay, the moments)
 *   rectified (rho_t > 5):  p <- p - step_size * m / (sqrt(v) + eps)
 *   else:                   p <- p - step_size * m
 *
 * eps is added to the raw sqrt(v), not to a bias-corrected one (unlike
 * Adam): the bias correction sqrt(1 - beta2^t) is in step_size.
 */
OK_INLINE void DT_NAME(radam_lanes)(const ok_radam_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m, state_t *v,
                                    size_t lanes) {
    vec_t param, mm, vv;
    DT_NAME(moments_lanes)(&c->moments, io, j, p, gp, m, v, lanes, &param, &mm, &vv);
    vec_t step = c->rectified ? vdiv(mm, vadd(vsqrt(vv), vset1((real_t)c->eps))) : mm;
    vst_param(io, j, p, vfnma(vset1((real_t)c->step_size), step, param), lanes);
}

OK_BODY void DT_NAME(radam_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_radam_coeffs k = *(const ok_radam_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_RADAM_EXP_AVG, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_RADAM_EXP_AVG_SQ, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        DT_NAME(radam_lanes)(c, io, j, p + j, g + j, m + j, v + j, LANES);
    }
    if (j < n) DT_NAME(radam_lanes)(c, io, j, p + j, g + j, m + j, v + j, n - j);
}
