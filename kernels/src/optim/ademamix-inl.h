/*
 * AdEMAMix, one span of one tensor (a kernel body: included once per
 * variant through optim/optimizers.h). docs/optimizers.md#ademamix, in
 * pytorch-optimizer's order of operations:
 *
 *   g, p, m, v as optim/moments-inl.h says (maximize, weight decay, the moments)
 *   s <- lerp(s, g, 1 - beta3_t)                      (exp_avg_slow; torch's two-sided lerp)
 *   u  = m / (1 - beta1^t) + alpha_t*s                (torch's add with alpha: one fused multiply-add)
 *   p <- p + (-lr*u) / (sqrt(v) / sqrt(1 - beta2^t) + eps)    (torch's addcdiv)
 */
OK_INLINE void DT_NAME(ademamix_lanes)(const ok_ademamix_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m,
                                       state_t *v, state_t *s, size_t lanes) {
    vec_t param, mm, vv;
    vec_t g = DT_NAME(moments_lanes)(&c->moments, io, j, p, gp, m, v, lanes, &param, &mm, &vv);
    vec_t slow = DT_NAME(ok_vlerp)(vld_state(s, lanes), g, c->slow_lerp);
    vst_state(io, j, 4, s, slow, lanes);
    vec_t denom = vadd(vdiv(vsqrt(vv), vset1((real_t)c->bias_correction2_sqrt)), vset1((real_t)c->eps));
    vec_t update = vfma(vset1((real_t)c->alpha), slow, vdiv(mm, vset1((real_t)c->bias_correction1)));
    vst_param(io, j, p, DT_NAME(ok_vaddcdiv)(param, -c->lr, update, denom), lanes);
}

OK_BODY void DT_NAME(ademamix_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_ademamix_coeffs k = *(const ok_ademamix_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_ADEMAMIX_EXP_AVG, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_ADEMAMIX_EXP_AVG_SQ, i, begin);
    state_t *s = OK_MT_PTR(state_t, task, OK_ADEMAMIX_EXP_AVG_SLOW, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j), vprefetch(s + j);
        DT_NAME(ademamix_lanes)(c, io, j, p + j, g + j, m + j, v + j, s + j, LANES);
    }
    if (j < n) DT_NAME(ademamix_lanes)(c, io, j, p + j, g + j, m + j, v + j, s + j, n - j);
}
