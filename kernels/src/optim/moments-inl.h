/*
 * The first half of Adam's, RAdam's, NAdam's and AdEMAMix's update, one group of lanes
 * (a kernel body helper: included once per variant through
 * optim/optimizers.h). docs/optimizers.md#adam-and-adamw:
 *
 *   g <- -g if maximize
 *   wd != 0:  decoupled ? p <- p*(1 - lr*wd) : g <- g + wd*p
 *   m <- lerp(m, g, 1 - beta1)           (torch's two-sided lerp, = beta1*m + (1 - beta1)*g)
 *   v <- beta2*v + (1 - beta2)*g*g
 *
 * m and v are stored; *param, *mm and *vv receive p, m and v as the rest of
 * the update reads them, and g is returned.
 */
OK_INLINE vec_t DT_NAME(moments_lanes)(const ok_moments_coeffs *c, const ok_io *io, size_t j, const param_t *p, const grad_t *gp, state_t *m,
                                       state_t *v, size_t lanes, vec_t *param, vec_t *mm, vec_t *vv) {
    vec_t q = vld_param(io, j, p, lanes);
    vec_t g = DT_NAME(ok_vld_grad)(&c->grad, gp, lanes);
    if (c->maximize) g = vneg(g);
    if (c->wd_mode == OK_WD_COUPLED) g = vfma(vset1((real_t)c->weight_decay), q, g);
    if (c->wd_mode == OK_WD_DECOUPLED) q = vmul(q, vset1((real_t)c->decay));
    vec_t a = DT_NAME(ok_vlerp)(vld_state(m, lanes), g, c->exp_avg_lerp);
    vec_t b = vfma(vmul(vset1((real_t)c->one_minus_beta2), g), g, vmul(vset1((real_t)c->beta2), vld_state(v, lanes)));
    vst_state(io, j, 2, m, a, lanes);
    vst_state(io, j, 3, v, b, lanes);
    *param = q, *mm = a, *vv = b;
    return g;
}
