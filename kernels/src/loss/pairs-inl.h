/*
 * The pair losses with the gradients of all their arrays (a kernel body:
 * included once per variant by target/bodies-inl.h, after regression-inl.h,
 * whose torch_sign it uses): cosine_embedding_loss
 * (docs/losses.md#cosine_embedding_loss) and triplet_margin_loss
 * (docs/losses.md#triplet_margin_loss), over an ok_pairs_task.
 *
 * A sample is a row of d features of each array; a block of the reduction
 * driver is a run of samples [begin, end), each in two passes over its
 * rows: the sums (dot products, squared norms, p-th powers), in lanes of
 * double with masked tails; then the gradients, from a few coefficients
 * worked out per sample in double and rounded once to real_t. Pass 2 reads
 * every array at an element before it writes any gradient there, so each
 * gradient may be its own input. Arrays are data_t, widened as loaded; the
 * gradients are rounded to data_t as stored, the losses are real_t.
 */

/* A row's loss: stored (reduction 'none') or added to the block's sum. */
OK_INLINE void DT_NAME(pairs_loss_out)(const ok_pairs_task *t, size_t i, double loss, double *sum) {
    if (t->loss)
        ((real_t *)t->loss)[i] = (real_t)loss;
    else
        *sum += loss;
}

/* ------------------------------------------------- cosine_embedding_loss */

/* Pass 1 on `lanes` features: x1.x2, |x1|^2 and |x2|^2 (lanes past the row
 * read as 0, which adds nothing). */
OK_INLINE void DT_NAME(cosine_sums)(const data_t *x1, const data_t *x2, size_t lanes, acc_t *dot, acc_t *s1, acc_t *s2) {
    vec_t a = vld_data(x1, lanes), b = vld_data(x2, lanes);
    *dot = vacc_add(*dot, vmul(a, b));
    *s1 = vacc_add(*s1, vmul(a, a));
    *s2 = vacc_add(*s2, vmul(b, b));
}

/* Pass 2 on `lanes` features: g1 = c x2 - b1 x1, g2 = c x1 - b2 x2. */
OK_INLINE void DT_NAME(cosine_grads)(const ok_pairs_task *t, size_t at, size_t lanes, vec_t c, vec_t b1, vec_t b2) {
    vec_t a = vld_data((const data_t *)t->x[0] + at, lanes), b = vld_data((const data_t *)t->x[1] + at, lanes);
    vec_t g1 = vfnma(b1, a, vmul(c, b)), g2 = vfnma(b2, b, vmul(c, a));
    vst_data((data_t *)t->grad[0] + at, g1, lanes);
    vst_data((data_t *)t->grad[1] + at, g2, lanes);
}

/*
 * Sample i: with m_k = |x_k|^2 + EPSILON, D = sqrt(m1 m2) and cos = x1.x2 / D,
 * loss 1 - cos where y = 1, max(0, cos - margin) where y = -1 (its gradient
 * passes at cos = margin, as torch's clamp_min's does), 0 for any other y.
 * With r = scale dloss/dcos: grad1 = r (x2 / D - cos x1 / m1), grad2 likewise.
 */
OK_INLINE double DT_NAME(cosine_row)(const ok_pairs_task *t, size_t i) {
    const size_t d = t->d, row = i * d;
    const data_t *x1 = (const data_t *)t->x[0] + row, *x2 = (const data_t *)t->x[1] + row;
    acc_t dot = vacc_zero(), s1 = vacc_zero(), s2 = vacc_zero();
    size_t j = 0;
    for (; j + LANES <= d; j += LANES) DT_NAME(cosine_sums)(x1 + j, x2 + j, LANES, &dot, &s1, &s2);
    if (j < d) DT_NAME(cosine_sums)(x1 + j, x2 + j, d - j, &dot, &s1, &s2);
    const double m1 = vacc_sum(s1) + OK_COSINE_EPSILON, m2 = vacc_sum(s2) + OK_COSINE_EPSILON;
    const double denom = sqrt(m1 * m2), cos = vacc_sum(dot) / denom;
    const double y = (double)ld_data((const data_t *)t->target + i);
    double loss = 0.0, dcos = 0.0;
    if (y == 1.0) {
        loss = 1.0 - cos, dcos = -1.0;
    } else if (y == -1.0) {
        const double h = cos - t->margin;
        loss = h < 0.0 ? 0.0 : h; /* NaN stays NaN */
        dcos = h >= 0.0 ? 1.0 : 0.0;
    }
    const double r = t->scale * dcos;
    const vec_t c = vset1((real_t)(r / denom));
    const vec_t b1 = vset1((real_t)(r * cos / m1)), b2 = vset1((real_t)(r * cos / m2));
    for (j = 0; j + LANES <= d; j += LANES) DT_NAME(cosine_grads)(t, row + j, LANES, c, b1, b2);
    if (j < d) DT_NAME(cosine_grads)(t, row + j, d - j, c, b1, b2);
    return loss;
}

OK_BODY double DT_NAME(cosine_embedding_block)(const void *task, size_t begin, size_t end) {
    const ok_pairs_task k = *(const ok_pairs_task *)task, *t = &k; /* a local copy: no reloads */
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) DT_NAME(pairs_loss_out)(t, i, DT_NAME(cosine_row)(t, i), &sum);
    return sum;
}

/* --------------------------------------------------- triplet_margin_loss */

/* |v|^p of the norm `norm` (v^2 for p = 2, |v| for p = 1). */
OK_INLINE vec_t DT_NAME(pnorm_term)(const int norm, vec_t v, real_t p) {
    if (norm == OK_PNORM_2) return vmul(v, v);
    if (norm == OK_PNORM_1) return vabs(v);
    return DT_NAME(vexp)(vmul(vset1(p), DT_NAME(vlog)(vabs(v)))); /* exp(-inf) = 0 at v = 0 */
}

/* d |v|_p / d v up to the row's factor (triplet_coefficient):
 * sign(v) |v|^(p-1), 0 at v = 0 (v for p = 2, sign(v) for p = 1). */
OK_INLINE vec_t DT_NAME(pnorm_slope)(const int norm, vec_t v, real_t p) {
    if (norm == OK_PNORM_2) return v;
    if (norm == OK_PNORM_1) return DT_NAME(torch_sign)(v);
    vec_t m = DT_NAME(vexp)(vmul(vset1(p - (real_t)1), DT_NAME(vlog)(vabs(v))));
    return vselect(veq(v, vzero()), vzero(), vcopysign(m, v));
}

/* The distance of a row from its sum s of |v|^p. */
OK_INLINE double DT_NAME(pnorm_of)(const int norm, double s, double p) {
    return norm == OK_PNORM_2 ? sqrt(s) : norm == OK_PNORM_1 ? s : pow(s, 1.0 / p);
}

/* The factor of a distance dist's slopes in a gradient of weight w:
 * w / dist^(p-1), 0 where dist = 0 (torch's norm backward: every v is 0
 * there, and so is the gradient). */
OK_INLINE double DT_NAME(triplet_coefficient)(const int norm, double w, double dist, double p) {
    if (w == 0.0 || dist == 0.0) return 0.0;
    return norm == OK_PNORM_2 ? w / dist : norm == OK_PNORM_1 ? w : w * pow(dist, 1.0 - p);
}

/* The differences of `lanes` features at `at`: a - p + eps, a - n + eps and
 * (swap) p - n + eps, as torch forms them. */
OK_INLINE void DT_NAME(triplet_diffs)(const ok_pairs_task *t, const int swap, size_t at, size_t lanes, vec_t *ap, vec_t *an,
                                      vec_t *pn) {
    const vec_t e = vset1((real_t)t->eps);
    vec_t a = vld_data((const data_t *)t->x[0] + at, lanes), p = vld_data((const data_t *)t->x[1] + at, lanes);
    vec_t n = vld_data((const data_t *)t->x[2] + at, lanes);
    *ap = vadd(vsub(a, p), e);
    *an = vadd(vsub(a, n), e);
    if (swap) *pn = vadd(vsub(p, n), e);
}

/* Pass 1 on `lanes` features: the three sums of |v|^p (lanes past the row
 * are eps there, and are masked off). */
OK_INLINE void DT_NAME(triplet_sums)(const ok_pairs_task *t, const int norm, const int swap, size_t at, size_t lanes,
                                     acc_t *s) {
    const real_t p = (real_t)t->p;
    vec_t v[3];
    DT_NAME(triplet_diffs)(t, swap, at, lanes, &v[0], &v[1], &v[2]);
    for (int k = 0; k < 2 + swap; k++) {
        vec_t term = DT_NAME(pnorm_term)(norm, v[k], p);
        if (lanes < (size_t)LANES) term = vselect(mfirst(lanes), term, vzero());
        s[k] = vacc_add(s[k], term);
    }
}

/* Pass 2 on `lanes` features, with k[0..2] the factors of the slopes of
 * the distances a-p, a-n and p-n:
 *   grad_a = k0 s_ap + k1 s_an,  grad_p = k2 s_pn - k0 s_ap,  grad_n = -k1 s_an - k2 s_pn. */
OK_INLINE void DT_NAME(triplet_grads)(const ok_pairs_task *t, const int norm, const int swap, size_t at, size_t lanes,
                                      const vec_t *k) {
    const real_t p = (real_t)t->p;
    vec_t ap, an, pn = vzero();
    DT_NAME(triplet_diffs)(t, swap, at, lanes, &ap, &an, &pn);
    vec_t u = vmul(k[0], DT_NAME(pnorm_slope)(norm, ap, p)), w = vmul(k[1], DT_NAME(pnorm_slope)(norm, an, p));
    vec_t gp = vneg(u), gn = vneg(w);
    if (swap) {
        vec_t z = vmul(k[2], DT_NAME(pnorm_slope)(norm, pn, p));
        gp = vadd(gp, z), gn = vsub(gn, z);
    }
    vst_data((data_t *)t->grad[0] + at, vadd(u, w), lanes);
    vst_data((data_t *)t->grad[1] + at, gp, lanes);
    vst_data((data_t *)t->grad[2] + at, gn, lanes);
}

/*
 * Sample i: d_ap = |a - p + eps|_p, d_an likewise, and with swap
 * d_n = min(d_an, d_pn) (torch's minimum: at a tie each gets half the
 * gradient); h = margin + d_ap - d_n, loss max(0, h), whose gradient passes
 * where h >= 0 (torch's clamp_min).
 */
OK_INLINE double DT_NAME(triplet_row)(const ok_pairs_task *t, const int norm, const int swap, size_t i) {
    const size_t d = t->d, row = i * d;
    acc_t s[3] = {vacc_zero(), vacc_zero(), vacc_zero()};
    size_t j = 0;
    for (; j + LANES <= d; j += LANES) DT_NAME(triplet_sums)(t, norm, swap, row + j, LANES, s);
    if (j < d) DT_NAME(triplet_sums)(t, norm, swap, row + j, d - j, s);
    double dist[3];
    for (int k = 0; k < 2 + swap; k++) dist[k] = DT_NAME(pnorm_of)(norm, vacc_sum(s[k]), t->p);
    double d_neg = dist[1], w_an = 1.0, w_pn = 0.0;
    if (swap) {
        const double an = dist[1], pn = dist[2];
        d_neg = an != an ? an : an <= pn ? an : pn;      /* NaN propagates */
        w_an = an > pn ? 0.0 : an == pn ? 0.5 : 1.0; /* NaN: both get it all, as torch */
        w_pn = an < pn ? 0.0 : an == pn ? 0.5 : 1.0;
    }
    const double h = t->margin + dist[0] - d_neg;
    const double r = h >= 0.0 ? t->scale : 0.0;
    const vec_t k[3] = {vset1((real_t)DT_NAME(triplet_coefficient)(norm, r, dist[0], t->p)),
                        vset1((real_t)DT_NAME(triplet_coefficient)(norm, -r * w_an, dist[1], t->p)),
                        vset1((real_t)(swap ? DT_NAME(triplet_coefficient)(norm, -r * w_pn, dist[2], t->p) : 0.0))};
    for (j = 0; j + LANES <= d; j += LANES) DT_NAME(triplet_grads)(t, norm, swap, row + j, LANES, k);
    if (j < d) DT_NAME(triplet_grads)(t, norm, swap, row + j, d - j, k);
    return h < 0.0 ? 0.0 : h; /* NaN stays NaN */
}

OK_INLINE double DT_NAME(triplet_rows)(const ok_pairs_task *t, const int norm, const int swap, size_t begin, size_t end) {
    double sum = 0.0;
    for (size_t i = begin; i < end; i++) DT_NAME(pairs_loss_out)(t, i, DT_NAME(triplet_row)(t, norm, swap, i), &sum);
    return sum;
}

/* norm and swap made constants of each loop, so that their tests fold away. */
#define OK_TRIPLET_CASE(NORM)                                                             \
    case NORM:                                                                            \
        return t->swap ? DT_NAME(triplet_rows)(t, NORM, 1, begin, end)                    \
                       : DT_NAME(triplet_rows)(t, NORM, 0, begin, end);
OK_BODY double DT_NAME(triplet_margin_block)(const void *task, size_t begin, size_t end) {
    const ok_pairs_task k = *(const ok_pairs_task *)task, *t = &k;
    switch (t->norm) {
        OK_TRIPLET_CASE(OK_PNORM_1)
        OK_TRIPLET_CASE(OK_PNORM_2)
        OK_TRIPLET_CASE(OK_PNORM_P)
    }
    __builtin_unreachable(); /* the host sets one of the OK_PNORM_* */
}
#undef OK_TRIPLET_CASE
