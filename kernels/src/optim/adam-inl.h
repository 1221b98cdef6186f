/*
 * Adam and AdamW, one span of one tensor (a kernel body: included once per
 * variant through optim/optimizers.h). docs/optimizers.md#adam-and-adamw:
 *
 *   g, p, m, v as optim/moments-inl.h says (maximize, weight decay, the moments)
 *   amsgrad:  vmax <- maximum(vmax, v), used for v below
 *   p <- p - step_size * m / (sqrt(v)/sqrt(1 - beta2^t) + eps),  step_size = lr/(1 - beta1^t)
 *
 * eps is added AFTER the bias-corrected root, as torch does.
 */
OK_INLINE void DT_NAME(adam_lanes)(const ok_adam_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m, state_t *v,
                                   state_t *vmax, size_t lanes) {
    vec_t param, mm, vv;
    DT_NAME(moments_lanes)(&c->moments, io, j, p, gp, m, v, lanes, &param, &mm, &vv);
    if (c->amsgrad) {
        vv = vmaxn(vld_state(vmax, lanes), vv);
        vst_state(io, j, 4, vmax, vv, lanes);
    }
    vec_t denom = vfma(vsqrt(vv), vset1((real_t)c->inv_bias_correction2_sqrt), vset1((real_t)c->eps));
    vst_param(io, j, p, vfnma(vset1((real_t)c->step_size), vdiv(mm, denom), param), lanes);
}

OK_BODY void DT_NAME(adam_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_adam_coeffs k = *(const ok_adam_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_ADAM_EXP_AVG, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_ADAM_EXP_AVG_SQ, i, begin);
    state_t *vmax = c->amsgrad ? OK_MT_PTR(state_t, task, OK_ADAM_MAX_EXP_AVG_SQ, i, begin) : NULL;
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        if (vmax) vprefetch(vmax + j);
        DT_NAME(adam_lanes)(c, io, j, p + j, g + j, m + j, v + j, vmax ? vmax + j : NULL, LANES);
    }
    if (j < n) DT_NAME(adam_lanes)(c, io, j, p + j, g + j, m + j, v + j, vmax ? vmax + j : NULL, n - j);
}
