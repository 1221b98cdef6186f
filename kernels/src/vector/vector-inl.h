/*
 * The vector operations of optkern/vector.h (a kernel body: included once
 * per variant by target/bodies-inl.h). docs/optimizers.md#vector-operations.
 *
 * The reductions are blocks of the reduction driver over the concatenated
 * vector: each walks the tensors its block [begin, end) spans, with one
 * accumulator for the whole block (lanes of double for the sums, lanes of
 * real_t for the maximum), masked tails read as zeros, which add nothing and
 * are never larger than an absolute value. The arrays are data_t: 16-bit
 * ones are widened to float32 as they are read, and axpby's result is
 * rounded to nearest (even) as it is stored.
 */

/* The sum over [begin, end) of x * y (dot) or of |x| (!dot); dot is a
 * constant wherever this is inlined. */
OK_INLINE double DT_NAME(vec_sum_loop)(const ok_vec_task *t, const int dot, size_t begin, size_t end) {
    acc_t acc = vacc_zero();
    ok_vec_walk w = ok_vec_start(t, begin, end);
    for (size_t i, off, n; (n = ok_vec_next(t, &w, &i, &off));) {
        const data_t *x = (const data_t *)t->x[i] + off;
        const data_t *y = dot ? (const data_t *)t->y[i] + off : NULL;
        size_t j = 0;
        for (; j + LANES <= n; j += LANES)
            acc = vacc_add(acc, dot ? vmul(vld_data(x + j, LANES), vld_data(y + j, LANES)) : vabs(vld_data(x + j, LANES)));
        if (j < n) acc = vacc_add(acc, dot ? vmul(vld_data(x + j, n - j), vld_data(y + j, n - j)) : vabs(vld_data(x + j, n - j)));
    }
    return vacc_sum(acc);
}

/* The dot product of x and y, or (y NULL) the sum of |x|, over a block. */
OK_BODY double DT_NAME(vec_sum_block)(const void *task, size_t begin, size_t end) {
    const ok_vec_task *t = (const ok_vec_task *)task;
    return t->y ? DT_NAME(vec_sum_loop)(t, 1, begin, end) : DT_NAME(vec_sum_loop)(t, 0, begin, end);
}

/* The largest |x| over [begin, end); NaN when one is NaN (maxn). */
OK_BODY double DT_NAME(vec_abs_max_block)(const void *task, size_t begin, size_t end) {
    const ok_vec_task *t = (const ok_vec_task *)task;
    vec_t most = vzero();
    ok_vec_walk w = ok_vec_start(t, begin, end);
    for (size_t i, off, n; (n = ok_vec_next(t, &w, &i, &off));) {
        const data_t *x = (const data_t *)t->x[i] + off;
        size_t j = 0;
        for (; j + LANES <= n; j += LANES) most = vmaxn(most, vabs(vld_data(x + j, LANES)));
        if (j < n) most = vmaxn(most, vabs(vld_data(x + j, n - j)));
    }
    return (double)vhmax(most);
}

/* y <- alpha x + beta y over `lanes` elements, in the form `form` (a
 * constant wherever this is inlined: the switch folds away). */
OK_INLINE void DT_NAME(axpby_lanes)(const int form, vec_t a, vec_t b, data_t *y, const data_t *x, size_t lanes) {
    vec_t xv = vld_data(x, lanes), r;
    switch (form) {
    case OK_AXPBY_SCALE: r = vmul(a, xv); break;
    case OK_AXPBY_AXPY: r = vfma(a, xv, vld_data(y, lanes)); break;
    case OK_AXPBY_XPBY: r = vfma(b, vld_data(y, lanes), xv); break;
    default: r = vfma(a, xv, vmul(b, vld_data(y, lanes))); break;
    }
    vst_data(y, r, lanes);
}

OK_INLINE void DT_NAME(axpby_loop)(const int form, real_t alpha, real_t beta, data_t *y, const data_t *x, size_t n) {
    const vec_t a = vset1(alpha), b = vset1(beta);
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) {
        vprefetch(x + j), vprefetch(y + j);
        DT_NAME(axpby_lanes)(form, a, b, y + j, x + j, LANES);
    }
    if (j < n) DT_NAME(axpby_lanes)(form, a, b, y + j, x + j, n - j);
}

OK_BODY void DT_NAME(vec_axpby_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_axpby_coeffs *c = (const ok_axpby_coeffs *)task->coeffs;
    data_t *y = OK_MT_PTR(data_t, task, 0, i, begin);
    const data_t *x = OK_MT_PTR(const data_t, task, 1, i, begin);
    const real_t alpha = (real_t)c->alpha, beta = (real_t)c->beta;
    switch (c->form) {
    case OK_AXPBY_SCALE: DT_NAME(axpby_loop)(OK_AXPBY_SCALE, alpha, beta, y, x, end - begin); break;
    case OK_AXPBY_AXPY: DT_NAME(axpby_loop)(OK_AXPBY_AXPY, alpha, beta, y, x, end - begin); break;
    case OK_AXPBY_XPBY: DT_NAME(axpby_loop)(OK_AXPBY_XPBY, alpha, beta, y, x, end - begin); break;
    default: DT_NAME(axpby_loop)(OK_AXPBY_GENERAL, alpha, beta, y, x, end - begin); break;
    }
}
