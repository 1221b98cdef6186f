/*
 * SGD, one span of one tensor (a kernel body: included once per dtype by
 * kernels_target.c). torch.optim.SGD, shared/spec/optimizers.md:
 *
 *   g <- -g if maximize;  g <- g + wd*p if wd != 0
 *   if momentum != 0:  b <- g on the first step, else b <- mu*b + (1 - dampening)*g
 *                      g <- g + mu*b if nesterov, else g <- b
 *   p <- p - lr*g
 */
OK_INLINE void DT_NAME(sgd_lanes)(const ok_sgd_coeffs *c, T *p, const T *gp, T *b, size_t lanes) {
    V param = vld(p, lanes);
    V g = vld(gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->has_weight_decay) g = vfma(vset1((T)c->weight_decay), param, g);
    if (c->has_momentum) {
        V buf;
        if (c->first_step) {
            buf = g;
        } else {
            /* torch: buf.mul_(momentum).add_(grad, alpha=1 - dampening) */
            buf = vfma(vset1((T)c->one_minus_dampening), g, vmul(vset1((T)c->momentum), vld(b, lanes)));
        }
        vst(b, buf, lanes);
        g = c->nesterov ? vfma(vset1((T)c->momentum), buf, g) : buf;
    }
    vst(p, vfnma(vset1((T)c->lr), g, param), lanes);
}

static void DT_NAME(sgd_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_sgd_coeffs k = *(const ok_sgd_coeffs *)ok_mt_coeffs(task, i), *c = &k; /* a local copy: no reloads */
    T *p = OK_MT_PTR(T, task, OK_OPT_PARAM, i, begin);
    const T *g = OK_MT_PTR(const T, task, OK_OPT_GRAD, i, begin);
    T *b = c->has_momentum ? OK_MT_PTR(T, task, OK_SGD_BUF, i, begin) : NULL;
    size_t n = end - begin, j = 0;
    for (; j + W <= n; j += W) {
        vprefetch(p + j), vprefetch(g + j);
        if (b) vprefetch(b + j);
        DT_NAME(sgd_lanes)(c, p + j, g + j, b ? b + j : NULL, W);
    }
    if (j < n) DT_NAME(sgd_lanes)(c, p + j, g + j, b ? b + j : NULL, n - j);
}
