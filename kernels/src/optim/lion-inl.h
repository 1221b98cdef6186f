/*
 * Lion, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#lion, in lion-pytorch's
 * order of operations:
 *
 *   p <- p * (1 - lr*wd)                          (skipped when wd == 0: a product by 1)
 *   c  = (beta1*m) + (1 - beta1)*g                (torch's add with alpha: one fused multiply-add)
 *   p <- p - lr * sign(c)                         (sign(0) = sign(NaN) = 0)
 *   m <- (beta2*m) + (1 - beta2)*g
 *
 * lr * sign(c) is exact, so the update rounds once, fused or not.
 */
OK_INLINE void DT_NAME(lion_lanes)(const ok_lion_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *m, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    vec_t avg = vld_state(m, lanes);
    if (c->has_weight_decay) param = vmul(param, vset1((real_t)c->decay));
    vec_t blend = vfma(vset1((real_t)c->one_minus_beta1), g, vmul(avg, vset1((real_t)c->beta1)));
    vst_param(io, j, p, vfnma(vset1((real_t)c->lr), DT_NAME(ok_vsign)(blend), param), lanes);
    vst_state(io, j, 2, m, vfma(vset1((real_t)c->one_minus_beta2), g, vmul(avg, vset1((real_t)c->beta2))), lanes);
}

OK_BODY void DT_NAME(lion_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_lion_coeffs k = *(const ok_lion_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *m = OK_MT_PTR(state_t, task, OK_LION_EXP_AVG, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(m + j);
        DT_NAME(lion_lanes)(c, io, j, p + j, g + j, m + j, LANES);
    }
    if (j < n) DT_NAME(lion_lanes)(c, io, j, p + j, g + j, m + j, n - j);
}
