/*
 * NAdam, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#nadam:
 *
 *   g, p, m, v as optim/moments-inl.h says (maximize, weight decay, the moments)
 *   P = mu_product * mu_t                    (the tensor's, as ok_nadam_mu_product rounds it)
 *   denom = sqrt(v / (1 - beta2^t)) + eps
 *   p <- p + (-lr (1 - mu_t)/(1 - P)) * g / denom
 *   p <- p + (-lr mu_{t+1}/(1 - P mu_{t+1})) * m / denom
 *
 * in torch's order of operations (a coefficient times the numerator, then
 * divided by denom, then added). mu_product itself is written after the
 * pass (ok_nadam_advance).
 */
OK_INLINE void DT_NAME(nadam_lanes)(const ok_nadam_coeffs *c, const ok_io *io, size_t j, real_t grad_coeff, real_t avg_coeff, param_t *p,
                                    const grad_t *gp, state_t *m, state_t *v, size_t lanes) {
    vec_t param, mm, vv;
    vec_t g = DT_NAME(moments_lanes)(&c->moments, io, j, p, gp, m, v, lanes, &param, &mm, &vv);
    vec_t denom = vadd(vsqrt(vdiv(vv, vset1((real_t)c->bias_correction2))), vset1((real_t)c->eps));
    param = vadd(param, vdiv(vmul(vset1(grad_coeff), g), denom));
    vst_param(io, j, p, vadd(param, vdiv(vmul(vset1(avg_coeff), mm), denom)), lanes);
}

OK_BODY void DT_NAME(nadam_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_nadam_coeffs k = *(const ok_nadam_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    double product = ok_nadam_mu_product(c, OK_MT_SCALAR(task, OK_NADAM_MU_PRODUCT, i));
    const real_t grad_coeff = (real_t)(-c->lr * (1.0 - c->mu) / (1.0 - product));
    const real_t avg_coeff = (real_t)(-c->lr * c->mu_next / (1.0 - product * c->mu_next));
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_NADAM_EXP_AVG, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_NADAM_EXP_AVG_SQ, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j), vprefetch(v + j);
        DT_NAME(nadam_lanes)(c, io, j, grad_coeff, avg_coeff, p + j, g + j, m + j, v + j, LANES);
    }
    if (j < n) DT_NAME(nadam_lanes)(c, io, j, grad_coeff, avg_coeff, p + j, g + j, m + j, v + j, n - j);
}
