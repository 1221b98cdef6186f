/*
 * Rprop, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h). docs/optimizers.md#rprop, in torch's order:
 *
 *   g <- -g if maximize;  on the first step prev = 0 and step_size = lr
 *   s <- sign(g*prev), the product rounded in the dtype (NaN has sign 0)
 *   s <- etaplus where s > 0;  etaminus where s < 0;  then 1 where s == 0
 *   step_size <- clamp(step_size * s, lower, upper)
 *   g <- 0 where s == etaminus        (the gradient flipped its sign)
 *   p <- p - sign(g) * step_size;  prev <- g
 *
 * The factors are compared in the dtype, as torch compares its factor
 * tensor: an etaminus that rounds to 1 (or to 0) behaves as it does there.
 */
OK_INLINE void DT_NAME(rprop_lanes)(const ok_rprop_coeffs *c, const ok_io *io, size_t j, param_t *p, const grad_t *gp, state_t *prev,
                                    state_t *step_size, size_t lanes) {
    const vec_t zero = vzero(), one = vset1((real_t)1), etaminus = vset1((real_t)c->etaminus);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    vec_t before = c->first_step ? zero : vld_state(prev, lanes);
    vec_t size = c->first_step ? vset1((real_t)c->lr) : vld_state(step_size, lanes);
    vec_t product = vmul(g, before);
    vec_t s = vselect(vgt(product, zero), vset1((real_t)c->etaplus), vselect(vlt(product, zero), etaminus, zero));
    s = vselect(veq(s, zero), one, s);
    size = vclamp(vmul(size, s), vset1((real_t)c->lower), vset1((real_t)c->upper));
    g = vselect(veq(s, etaminus), zero, g);
    vst_param(io, j, p, vfnma(DT_NAME(ok_vsign)(g), size, vld_param(io, j, p, lanes)), lanes);
    vst_state(io, j, 3, step_size, size, lanes);
    vst_state(io, j, 2, prev, g, lanes);
}

OK_BODY void DT_NAME(rprop_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_rprop_coeffs k = *(const ok_rprop_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    param_t *p = OK_MT_PTR(param_t, task, OK_OPT_PARAM, i, begin);
    const ok_io io_ = ok_io_of(task, i, begin), *io = &io_;
    const grad_t *g = OK_MT_PTR(const grad_t, task, OK_OPT_GRAD, i, begin);
    state_t *prev = OK_MT_PTR(state_t, task, OK_RPROP_PREV, i, begin);
    state_t *step_size = OK_MT_PTR(state_t, task, OK_RPROP_STEP_SIZE, i, begin);
    size_t n = end - begin, j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(p + j), vprefetch(g + j), vprefetch(prev + j), vprefetch(step_size + j);
        DT_NAME(rprop_lanes)(c, io, j, p + j, g + j, prev + j, step_size + j, LANES);
    }
    if (j < n) DT_NAME(rprop_lanes)(c, io, j, p + j, g + j, prev + j, step_size + j, n - j);
}
