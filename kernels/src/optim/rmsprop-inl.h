/*
 * RMSprop, one span of one tensor (a kernel body: included once per
 * variant through optim/optimizers.h). docs/optimizers.md#rmsprop:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   v <- alpha*v + (1 - alpha)*g*g
 *   centered:  a <- lerp(a, g, 1 - alpha);  avg = sqrt(v - a*a) + eps
 *   else:      avg = sqrt(v) + eps
 *   momentum != 0:  b <- momentum*b + g/avg;  p <- p - lr*b
 *   else:           p <- p - lr*g/avg
 *
 * eps is added outside the root, as torch does; b and the plain update
 * are torch's addcdiv (p + (-lr*g) / avg), the update with momentum its
 * add with alpha (one fused p - lr*b).
 */
OK_INLINE void DT_NAME(rmsprop_lanes)(const ok_rmsprop_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *v,
                                      state_t *a, state_t *b, size_t lanes) {
    vec_t param = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((real_t)c->weight_decay), param, g);
    vec_t vv = vfma(vmul(vset1((real_t)c->one_minus_alpha), g), g, vmul(vset1((real_t)c->alpha), vld_state(v, lanes)));
    vst_state(io, j, 2, v, vv, lanes);
    if (c->centered) {
        vec_t aa = DT_NAME(ok_vlerp)(vld_state(a, lanes), g, c->grad_avg_lerp);
        vst_state(io, j, 3, a, aa, lanes);
        vv = vfnma(aa, aa, vv);
    }
    vec_t avg = vadd(vsqrt(vv), vset1((real_t)c->eps));
    if (c->has_momentum) {
        vec_t buf = DT_NAME(ok_vaddcdiv)(vmul(vset1((real_t)c->momentum), vld_state(b, lanes)), 1.0, g, avg);
        vst_state(io, j, 4, b, buf, lanes);
        vst_param(io, j, p, vfnma(vset1((real_t)c->lr), buf, param), lanes);
    } else {
        vst_param(io, j, p, DT_NAME(ok_vaddcdiv)(param, -c->lr, g, avg), lanes);
    }
}

OK_BODY void DT_NAME(rmsprop_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_rmsprop_coeffs k = *(const ok_rmsprop_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *v = OK_MT_PTR(state_t, task, OK_RMSPROP_SQUARE_AVG, i, begin);
    state_t *a = c->centered ? OK_MT_PTR(state_t, task, OK_RMSPROP_GRAD_AVG, i, begin) : NULL;
    state_t *b = c->has_momentum ? OK_MT_PTR(state_t, task, OK_RMSPROP_MOMENTUM_BUFFER, i, begin) : NULL;
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(v + j);
        if (a) vprefetch(a + j);
        if (b) vprefetch(b + j);
        DT_NAME(rmsprop_lanes)(c, io, j, p + j, g + j, v + j, a ? a + j : NULL, b ? b + j : NULL, LANES);
    }
    if (j < n) DT_NAME(rmsprop_lanes)(c, io, j, p + j, g + j, v + j, a ? a + j : NULL, b ? b + j : NULL, n - j);
}
