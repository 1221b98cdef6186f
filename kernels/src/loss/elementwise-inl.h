/*
 * The loop every elementwise loss shares (a kernel body: included once per
 * variant by target/bodies-inl.h, after the formulas of OK_EW_KINDS in
 * regression-inl.h, kl_div-inl.h and bce_with_logits-inl.h): one block of
 * elements [begin, end) of an ok_ew_task, returning the block's loss sum. It
 * reads input and target, writes the gradient (over the input when they are
 * the same array) and, for reduction 'none', the per-element losses.
 *
 * The weight and pos_weight operands are broadcast (ok_bcast): the block is
 * cut into segments over which each is either contiguous or one value, so
 * the inner loop only ever loads a vector or uses a constant. Tails are
 * masked, and masked-off lanes are kept out of the sum, so every element is
 * computed the same way wherever it lies. The arrays are data_t, widened to
 * real_t as they are loaded (target/dtype.h); the gradient is rounded to
 * data_t as it is stored, the per-element losses are real_t.
 */

/* The loss lanes of `kind`; *g gets the gradient lanes (and *g2 input2's,
 * for a kind with OK_EW_TWO_INPUTS, whose x2 are input2's lanes). kind is a
 * constant wherever this is inlined, so the switch folds away. */
#define OK_EW_LANES_CASE(NAME, formula, flags) \
    case OK_EW_##NAME: return DT_NAME(formula##_lanes)(t, x, y, w, p, x2, g, g2);
OK_INLINE vec_t DT_NAME(ew_lanes)(const ok_ew_task *t, const int kind, vec_t x, vec_t y, vec_t w, vec_t p, vec_t x2,
                                  vec_t *g, vec_t *g2) {
    switch (kind) { OK_EW_KINDS(OK_EW_LANES_CASE) }
    __builtin_unreachable(); /* the host runs only the kinds of OK_EW_KINDS */
}
#undef OK_EW_LANES_CASE

/* An operand at element i: a pointer to its contiguous values (*value
 * unused), or NULL and the one value it has from i up to *stop, which is
 * lowered to where that stops being true. */
OK_INLINE const data_t *DT_NAME(ew_operand)(const ok_bcast *b, size_t i, real_t *value, size_t *stop) {
    size_t next = SIZE_MAX;
    const data_t *data = (const data_t *)b->data, *ptr = NULL;
    if (!data) {
        *value = (real_t)1;
    } else if (b->block == 1 && b->period > 1) {
        size_t k = i % b->period;
        ptr = data + k;
        next = i - k + b->period;
    } else {
        *value = ld_data(data + (i / b->block) % b->period);
        if (b->period > 1) next = i - i % b->block + b->block;
    }
    if (next < *stop) *stop = next;
    return ptr;
}

OK_INLINE acc_t DT_NAME(ew_step)(const ok_ew_task *t, const int kind, size_t at, size_t lanes, const data_t *wp, real_t wv,
                              const data_t *pp, real_t pv, acc_t acc) {
    vec_t w = wp ? vld_data(wp, lanes) : vset1(wv);
    vec_t p = pp ? vld_data(pp, lanes) : vset1(pv);
    const int two = (ok_ew_flags(kind) & OK_EW_TWO_INPUTS) != 0;
    vec_t x2 = two ? vld_data((const data_t *)t->input2 + at, lanes) : vzero();
    vec_t g, g2, loss = DT_NAME(ew_lanes)(t, kind, vld_data((const data_t *)t->input + at, lanes),
                                          vld_data((const data_t *)t->target + at, lanes), w, p, x2, &g, &g2);
    vst_data((data_t *)t->grad + at, g, lanes);
    if (two) vst_data((data_t *)t->grad2 + at, g2, lanes);
    if (t->loss) {
        vst((real_t *)t->loss + at, loss, lanes);
    } else {
        if (lanes < (size_t)LANES) loss = vselect(mfirst(lanes), loss, vzero());
        acc = vacc_add(acc, loss);
    }
    return acc;
}

OK_INLINE double DT_NAME(ew_loop)(const ok_ew_task *t, const int kind, size_t begin, size_t end) {
    acc_t acc = vacc_zero();
    size_t i = begin;
    while (i < end) {
        size_t stop = end;
        real_t wv = 1, pv = 1;
        const data_t *wp = DT_NAME(ew_operand)(&t->weight, i, &wv, &stop);
        const data_t *pp = DT_NAME(ew_operand)(&t->pos_weight, i, &pv, &stop);
        size_t j = 0, n = stop - i;
        for (; j + LANES <= n; j += LANES) {
            /* as the optimizers and the roofline loop do (simd.h) */
            vprefetch((const data_t *)t->input + i + j), vprefetch((const data_t *)t->target + i + j);
            vprefetch((const data_t *)t->grad + i + j);
            acc = DT_NAME(ew_step)(t, kind, i + j, LANES, wp ? wp + j : NULL, wv, pp ? pp + j : NULL, pv, acc);
        }
        if (j < n)
            acc = DT_NAME(ew_step)(t, kind, i + j, n - j, wp ? wp + j : NULL, wv, pp ? pp + j : NULL, pv, acc);
        i = stop;
    }
    return vacc_sum(acc);
}

#define OK_EW_LOOP_CASE(NAME, formula, flags) \
    case OK_EW_##NAME: return DT_NAME(ew_loop)(t, OK_EW_##NAME, begin, end);
OK_BODY double DT_NAME(ew_block)(const void *task, size_t begin, size_t end) {
    const ok_ew_task k = *(const ok_ew_task *)task, *t = &k; /* a local copy: no reloads */
    switch (t->kind) { OK_EW_KINDS(OK_EW_LOOP_CASE) }
    __builtin_unreachable();
}
#undef OK_EW_LOOP_CASE

/* The count of x[begin, end) outside the domain of an ok_domain_task. */
OK_BODY double DT_NAME(domain_block)(const void *task, size_t begin, size_t end) {
    const ok_domain_task *t = (const ok_domain_task *)task;
    const data_t *x = (const data_t *)t->x;
    const vec_t lo = vset1((real_t)t->lo), hi = vset1((real_t)t->hi), one = vset1((real_t)1);
    acc_t acc = vacc_zero();
    for (size_t j = begin; j < end; j += LANES) {
        const size_t lanes = end - j < (size_t)LANES ? end - j : (size_t)LANES;
        vec_t v = vld_data(x + j, lanes);
        /* outside: not lo <= v <= hi (so NaN is), unless nan_ok and v is NaN
         * (v != v); a tail's missing lanes are kept out */
        vec_t out = vselect(mand(vle(lo, v), vle(v, hi)), vzero(), one);
        if (t->nan_ok) out = vselect(veq(v, v), out, vzero());
        if (lanes < (size_t)LANES) out = vselect(mfirst(lanes), out, vzero());
        acc = vacc_add(acc, out);
    }
    return vacc_sum(acc);
}

/* The sum of x[begin, end) in double: the mean denominator of weighted losses
 * and the class weights' sum of cross-entropy's label smoothing. */
OK_BODY double DT_NAME(sum_block)(const void *task, size_t begin, size_t end) {
    const data_t *x = (const data_t *)task;
    acc_t acc = vacc_zero();
    size_t j = begin;
    for (; j + LANES <= end; j += LANES) acc = vacc_add(acc, vld_data(x + j, LANES));
    if (j < end) acc = vacc_add(acc, vld_data(x + j, end - j));
    return vacc_sum(acc);
}
