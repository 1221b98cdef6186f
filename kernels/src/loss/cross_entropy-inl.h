/*
 * Cross-entropy with its gradient (a kernel body: included once per variant
 * by target/bodies-inl.h): torch.nn.functional.cross_entropy with
 * class-index or probability targets, class weights, ignore_index and label
 * smoothing, plus PaLM's z-loss and Gemma 2's logit soft cap. The algebra,
 * the three passes and the edge cases are docs/losses.md#cross_entropy; the
 * gradient written is g_k = exp(x'_k - m) alpha - r a_k (r: the reduction's
 * scale, t->scale), times 1 - (x'_k / cap)^2 through the soft cap.
 *
 * Why it is shaped so:
 * - lse - x'_k is taken as log s - (x'_k - m): no cancellation for large
 *   logits, and no probability or log-probability is ever stored.
 * - Three passes (max; exp and sums; gradient) spend one exp per element
 *   where an online softmax (Milakov and Gimelshein 2018) spends two, for
 *   the same two reads of the logits: the exp is most of the arithmetic.
 *   Pass 2 keeps e_k (or x'_k / cap when soft-capped) in the gradient's
 *   place, so pass 3 reads it from cache and the only array written is the
 *   gradient. A 16-bit gradient would round it (and make it differ from
 *   the term that went into s): there each block keeps it in float32
 *   scratch of its own instead (ce_scratch), and where it has none (the
 *   allocation failed, or columns) pass 3 recomputes it from the logits
 *   with pass 2's own operations, the same bits (ce_kept_at).
 * - The arrays are data_t (target/dtype.h): widened to real_t as they are
 *   loaded, the gradient rounded once as it is stored.
 * - The class target's own terms come last, per sample in double
 *   (ce_target_term): where p_y is near 1 its gradient's two terms cancel.
 * - Rows (inner == 1) of over CE_GROUP_BYTES run one at a time, prefetching
 *   the next row into L2 during pass 2; shorter rows run CE_GROUP at a time
 *   so that their short dependency chains overlap. Columns (inner > 1) put
 *   the vector lanes along the contiguous inner axis, LANES samples at a
 *   time, each lane finished on its own in double.
 */

#include <stdlib.h>

/* pass 1 keeps CE_CHUNK running maxima (independent chains). */
#undef CE_CHUNK
#define CE_CHUNK 4
/* Rows of up to CE_GROUP_BYTES go CE_GROUP at a time (ce_row_group). */
#undef CE_GROUP
#undef CE_GROUP_BYTES
#define CE_GROUP 8
#define CE_GROUP_BYTES 4096

/* x' from logits x (soft-capped when capped, *tc = x'/cap). */
OK_INLINE vec_t DT_NAME(ce_cap)(vec_t x, const int capped, real_t cap, vec_t *tc) {
    if (!capped) return x;
    *tc = DT_NAME(vtanh)(vmul(x, vset1((real_t)1 / cap)));
    return vmul(vset1(cap), *tc);
}

/* x' of `lanes` logits at p (the other lanes 0). */
OK_INLINE vec_t DT_NAME(ce_load)(const data_t *p, size_t lanes, const int capped, real_t cap, vec_t *tc) {
    return DT_NAME(ce_cap)(vld_data(p, lanes), capped, cap, tc);
}

/* The max of x' from the max of x: the soft cap is increasing. */
OK_INLINE vec_t DT_NAME(ce_cap_max)(vec_t m, const int capped, real_t cap) {
    return capped ? vmul(vset1(cap), DT_NAME(vtanh)(vmul(m, vset1((real_t)1 / cap)))) : m;
}

/* e^d, with d = x' - m <= 0. */
#define ce_exp DT_NAME(vexp_flush)

/* a_k for a vector of classes at k (the mode's formula above, without the
 * class target's own term), 0 in masked-off lanes; tp: the probability
 * target at k, w: the class weights at k (NULL: none). */
OK_INLINE vec_t DT_NAME(ce_weights)(const ok_rows_task *t, const int mode, const data_t *w, const data_t *tp, size_t lanes) {
    vec_t a;
    if (mode == OK_CE_PROBS)
        a = vfma(vset1((real_t)t->keep), vld_data(tp, lanes), vset1((real_t)t->eps_over_c));
    else
        a = vset1((real_t)t->eps_over_c);
    if (w) a = vmul(a, vld_data(w, lanes));
    return lanes < (size_t)LANES ? vselect(mfirst(lanes), a, vzero()) : a;
}

/* What pass 2 stores in the gradient's place for pass 3: e = exp(x' - m),
 * or, soft-capped, tc = x'/cap (from which pass 3 recomputes e, and needs
 * tc itself for the chain rule). */
OK_INLINE vec_t DT_NAME(ce_kept)(const int capped, vec_t e, vec_t tc) { return capped ? tc : e; }

/* Pass 2 on logits x: what it keeps (ce_kept). */
OK_INLINE vec_t DT_NAME(ce_kept_of)(const ok_rows_task *t, const int capped, vec_t x, vec_t m) {
    vec_t tc, d = vsub(DT_NAME(ce_cap)(x, capped, (real_t)t->softcap, &tc), m);
    return DT_NAME(ce_kept)(capped, ce_exp(d), tc);
}

/* Where pass 2 keeps its values for pass 3, the "keep" pointers kp below:
 * the gradient's place when that is real_t, else a block's float32 scratch
 * (ce_scratch), or NULL: nowhere, ce_kept_at recomputes them. */
OK_INLINE void DT_NAME(ce_keep)(real_t *kp, vec_t kept, size_t lanes) {
    if (kp) vst(kp, kept, lanes);
}

/* What pass 2 kept for the `lanes` logits at x, at kp: read back, or
 * recomputed from x exactly as pass 2 computed it. Pass 3 and the class
 * target's term read it before they write the gradient, so x is intact
 * even where the gradient is x. */
OK_INLINE vec_t DT_NAME(ce_kept_at)(const ok_rows_task *t, const int capped, const data_t *x, const real_t *kp,
                                    size_t lanes, vec_t m) {
    if (kp) return vld(kp, lanes);
    return DT_NAME(ce_kept_of)(t, capped, vld_data(x, lanes), m);
}

/* ce_kept_at of one logit. */
OK_INLINE real_t DT_NAME(ce_kept_one)(const ok_rows_task *t, const int capped, const data_t *x, const real_t *kp, real_t m) {
    real_t v[LANES];
    vstore(v, DT_NAME(ce_kept_at)(t, capped, x, kp, 1, vset1(m)));
    return v[0];
}

/* The keep pointer of row r of a group whose first row's gradient is g. */
OK_INLINE real_t *DT_NAME(ce_keep_row)(data_t *g, real_t *scratch, size_t r, size_t c) {
    if (OK_DATA_IS_REAL) return (real_t *)g + r * c;
    return scratch ? scratch + r * c : NULL;
}

/* Pass 3 on one vector of what pass 2 kept: the gradient, less the scaled
 * target weights a when has_a. e is recomputed from x'/cap exactly as pass
 * 2 computed it, so it is the very term that went into s. */
OK_INLINE vec_t DT_NAME(ce_grad)(const ok_rows_task *t, const int capped, const int has_a, vec_t kept, vec_t m, vec_t alpha, vec_t a) {
    vec_t e = capped ? ce_exp(vsub(vmul(vset1((real_t)t->softcap), kept), m)) : kept;
    vec_t grad = vmul(e, alpha);
    if (has_a) grad = vfnma(vset1((real_t)t->scale), a, grad);
    if (capped) grad = vmul(grad, vfnma(kept, kept, vset1((real_t)1)));
    return grad;
}

/* ---------------------------------------------------------------- rows */

/* Pass 1: the max of a row of c logits (of x; ce_cap_max makes it x'). */
OK_INLINE vec_t DT_NAME(ce_row_max)(const data_t *x, size_t c) {
    const real_t low = (real_t)-INFINITY;
    vec_t m[CE_CHUNK];
    for (int k = 0; k < CE_CHUNK; k++) m[k] = vset1(low);
    size_t j = 0;
    for (; j + CE_CHUNK * LANES <= c; j += CE_CHUNK * LANES)
        for (int k = 0; k < CE_CHUNK; k++) m[k] = vmaxb(m[k], vld_data(x + j + k * LANES, LANES));
    for (; j + LANES <= c; j += LANES) m[0] = vmaxb(m[0], vld_data(x + j, LANES));
    if (j < c) m[0] = vmaxb(m[0], vselect(mfirst(c - j), vld_data(x + j, c - j), vset1(low)));
    for (int k = 1; k < CE_CHUNK; k++) m[0] = vmaxb(m[0], m[k]);
    return vset1(vhmax(m[0]));
}

/* Sums of pass 2 over a row. */
typedef struct DT_NAME(ce_sums) {
    acc_t s;    /* sum_k e_k */
    acc_t mass; /* sum_k a_k (probability targets) */
    acc_t ad;   /* sum_k a_k d_k, d_k = x'_k - m */
} DT_NAME(ce_sums);

/* Pass 2 on one vector of a row at x (`lanes` of it): e_k = exp(x'_k - m)
 * added to the sums, in double: a float sum would round 1 + e (the max's
 * term and a small one) and lose the loss of a confident prediction,
 * log(1 + e). e (or tc) is kept in g for pass 3. */
OK_INLINE void DT_NAME(ce_row_exp_step)(const ok_rows_task *t, const int capped, const int mode, const data_t *x, real_t *kp,
                                        const data_t *w, const data_t *tp, size_t lanes, vec_t m, DT_NAME(ce_sums) *sums,
                                        vec_t *keep) {
    vec_t tc, d = vsub(DT_NAME(ce_load)(x, lanes, capped, (real_t)t->softcap, &tc), m);
    vec_t e = ce_exp(d);
    if (lanes < (size_t)LANES) e = vselect(mfirst(lanes), e, vzero());
    sums->s = vacc_add(sums->s, e);
    if (mode != OK_CE_CLASS) {
        vec_t a = DT_NAME(ce_weights)(t, mode, w, tp, lanes);
        if (mode == OK_CE_PROBS) sums->mass = vacc_add(sums->mass, a);
        if (lanes < (size_t)LANES) d = vselect(mfirst(lanes), d, vzero());
        sums->ad = vacc_add(sums->ad, vmul(a, d));
    }
    if (keep)
        *keep = DT_NAME(ce_kept)(capped, e, tc);
    else
        DT_NAME(ce_keep)(kp, DT_NAME(ce_kept)(capped, e, tc), lanes);
}

/* Pass 2 over a row, keeping its values at kp; next_x and next_g (or NULL): the next row's logits and
 * gradient, prefetched into L2 a cache line per line of this row, so that
 * the next pass 1 finds them there: the memory traffic then overlaps this
 * pass's arithmetic instead of following it. keep (or NULL): for a row of
 * one vector, where the kept values go instead of g (see ce_row_group). */
OK_INLINE DT_NAME(ce_sums) DT_NAME(ce_row_exp)(const ok_rows_task *t, const int capped, const int mode, const data_t *x,
                                               real_t *kp, const data_t *tp, vec_t m, const data_t *next_x, data_t *next_g, vec_t *keep) {
    const size_t c = t->c, line = 64 / sizeof(data_t);
    const data_t *w = (const data_t *)t->weight;
    DT_NAME(ce_sums) sums = {vacc_zero(), vacc_zero(), vacc_zero()};
    size_t j = 0;
    for (; j + LANES <= c; j += LANES) {
        if (next_x && j % line < (size_t)LANES) {
            OK_PREFETCH_L2(next_x + j, 0);
            if (next_g != next_x) OK_PREFETCH_L2(next_g + j, 1);
        }
        DT_NAME(ce_row_exp_step)(t, capped, mode, x + j, kp ? kp + j : NULL, w ? w + j : NULL, tp ? tp + j : NULL,
                                 LANES, m, &sums, keep);
    }
    if (j < c)
        DT_NAME(ce_row_exp_step)(t, capped, mode, x + j, kp ? kp + j : NULL, w ? w + j : NULL, tp ? tp + j : NULL,
                                 c - j, m, &sums, keep);
    return sums;
}

/* Pass 3 over a row of logits x: what pass 2 kept (in *kept, for a row of
 * one vector; else at kp, ce_kept_at) becomes the gradient g. */
OK_INLINE void DT_NAME(ce_row_grad)(const ok_rows_task *t, const int capped, const int mode, const data_t *x, data_t *g,
                                    const real_t *kp, const data_t *tp, vec_t m, vec_t alpha, const vec_t *kept) {
    const size_t c = t->c;
    const data_t *w = (const data_t *)t->weight;
    size_t j = 0;
    for (; j + LANES <= c; j += LANES) {
        vec_t a = mode == OK_CE_CLASS ? vzero() : DT_NAME(ce_weights)(t, mode, w ? w + j : NULL, tp ? tp + j : NULL, LANES);
        vec_t k = kept ? *kept : DT_NAME(ce_kept_at)(t, capped, x + j, kp ? kp + j : NULL, LANES, m);
        vst_data(g + j, DT_NAME(ce_grad)(t, capped, mode != OK_CE_CLASS, k, m, alpha, a), LANES);
    }
    if (j < c) {
        size_t n = c - j;
        vec_t a = mode == OK_CE_CLASS ? vzero() : DT_NAME(ce_weights)(t, mode, w ? w + j : NULL, tp ? tp + j : NULL, n);
        vec_t k = kept ? *kept : DT_NAME(ce_kept_at)(t, capped, x + j, kp ? kp + j : NULL, n, m);
        vst_data(g + j, DT_NAME(ce_grad)(t, capped, mode != OK_CE_CLASS, k, m, alpha, a), n);
    }
}

/*
 * The class target's own terms, added last by rows and columns alike: its
 * loss (1 - eps) rho (lse - x'_y) = own (log s - d_y), returned, and its
 * gradient entry g_y, stored at *g_y. From x_y, read before pass 2 (which
 * may overwrite it), and kept_y, what pass 2 kept at y (e_y, or x'_y/cap).
 * d_y = x'_y - m is rounded to real_t as pass 2 rounded it, so it is 0 exactly
 * where y holds the max. g_y = e_y alpha - r (a_y + own) is redone in
 * double: where p_y is near 1 (y holds the max and e_y = 1 exactly) its two
 * terms cancel, and pass 3's arithmetic in real_t would leave nothing of it.
 * Without a soft cap e_y is pass 2's own, the very term that went into s.
 * Soft-capped, pass 2 kept only x'_y/cap, and e_y = exp(d_y) is recomputed
 * here in double with libm, not with pass 2's vexp_flush in real_t: the two
 * differ by a rounding of real_t (not at all at d_y = 0, the case that cancels),
 * and below the flush threshold (d_y < -87 in float32, -708 in float64),
 * where pass 2 counted 0 and this counts a positive value under real_t's
 * resolution of s >= 1.
 */
OK_INLINE double DT_NAME(ce_target_term)(const ok_rows_task *t, const int capped, const int mode, double rho, real_t x_y,
                                         real_t kept_y, real_t m, const ok_ce_row *row, data_t *g_y) {
    const double own = t->keep * rho;
    const real_t d_y = capped ? (real_t)((real_t)t->softcap * kept_y - m) : (real_t)(x_y - m);
    const double e_y = capped ? exp((double)d_y) : (double)kept_y;
    const double chain = capped ? 1.0 - (double)kept_y * (double)kept_y : 1.0;
    const double a_y = mode == OK_CE_CLASS_SMOOTH ? t->eps_over_c * rho : 0.0;
    st_data(g_y, (e_y * row->alpha - t->scale * (a_y + own)) * chain);
    return own * (row->log_s - (double)d_y);
}

/*
 * Samples [i, i + count) of an (N, C) task, each pass over all of them in
 * turn: the rows are independent, so their dependency chains (max, exp,
 * sum, log) overlap in the processor instead of running one after another.
 * For short rows that is most of the time. Writes or sums the losses.
 */
OK_INLINE double DT_NAME(ce_row_group)(const ok_rows_task *t, const int capped, const int mode, size_t i0,
                                       size_t count, real_t *scratch) {
    const size_t c = t->c;
    const data_t *w = (const data_t *)t->weight;
    const real_t cap = (real_t)t->softcap;
    int64_t y[CE_GROUP];
    int live[CE_GROUP];
    /* A row of one vector keeps pass 2's values here, not in g: the masked
     * store of one short row and the masked load of the next would overlap
     * (their vectors span the neighbour's elements), which stalls the load
     * until the store is written back. */
    vec_t kept[CE_GROUP];
    const int one_vector = c <= (size_t)LANES;
    double rho[CE_GROUP], s[CE_GROUP], spread[CE_GROUP], ad[CE_GROUP];
    real_t m[CE_GROUP], x_y[CE_GROUP];
    for (size_t r = 0; r < count; r++) {
        const data_t *x = (const data_t *)t->logits + (i0 + r) * c;
        live[r] = 1, rho[r] = 1.0, y[r] = 0, x_y[r] = 0;
        if (mode != OK_CE_PROBS) {
            y[r] = ok_target_at(t, i0 + r);
            live[r] = y[r] != t->ignore_index;
            if (!live[r]) continue;
            rho[r] = w ? (double)ld_data(w + y[r]) : 1.0;
            x_y[r] = ld_data(x + y[r]); /* before pass 2 may overwrite it */
        }
        m[r] = vhmax(DT_NAME(ce_cap_max)(DT_NAME(ce_row_max)(x, c), capped, cap));
    }
    for (size_t r = 0; r < count; r++) {
        if (!live[r]) continue;
        size_t at = (i0 + r) * c;
        /* A long row (a group of one) prefetches the next: see ce_row_exp. */
        int ahead = count == 1 && i0 + 1 < t->n;
        real_t *kp = DT_NAME(ce_keep_row)((data_t *)t->grad + i0 * c, scratch, r, c);
        DT_NAME(ce_sums) sums = DT_NAME(ce_row_exp)(t, capped, mode, (const data_t *)t->logits + at, kp,
                                                    mode == OK_CE_PROBS ? (const data_t *)t->target + at : NULL,
                                                    vset1(m[r]), ahead ? (const data_t *)t->logits + at + c : NULL,
                                                    ahead ? (data_t *)t->grad + at + c : NULL,
                                                    one_vector ? &kept[r] : NULL);
        s[r] = vacc_sum(sums.s);
        ad[r] = vacc_sum(sums.ad);
        /* The vector part of the target weights, sum_k a_k: the smoothing's
         * (eps/C) sum_k w_k, or the probabilities'; the class target's own term apart. */
        spread[r] = mode == OK_CE_PROBS ? vacc_sum(sums.mass) : t->eps_over_c * t->weight_sum;
    }
    double total = 0.0;
    for (size_t r = 0; r < count; r++) {
        const data_t *x = (const data_t *)t->logits + (i0 + r) * c;
        data_t *g = (data_t *)t->grad + (i0 + r) * c;
        double loss = 0.0;
        if (!live[r]) {
            DT_NAME(rows_zero)(g, c);
        } else {
            double own = mode == OK_CE_PROBS ? 0.0 : t->keep * rho[r];
            ok_ce_row row = ok_ce_row_stats(t, (double)m[r], s[r], spread[r] + own, rho[r]);
            real_t kept_y = 0, *kp = DT_NAME(ce_keep_row)((data_t *)t->grad + i0 * c, scratch, r, c);
            if (mode != OK_CE_PROBS) {
                real_t lanes[LANES];
                if (one_vector) vstore(lanes, kept[r]);
                kept_y = one_vector ? lanes[y[r]] : DT_NAME(ce_kept_one)(t, capped, x + y[r], kp ? kp + y[r] : NULL, m[r]);
            }
            DT_NAME(ce_row_grad)(t, capped, mode, x, g, kp, mode == OK_CE_PROBS ? (const data_t *)t->target + (i0 + r) * c : NULL,
                                 vset1(m[r]), vset1((real_t)row.alpha), one_vector ? &kept[r] : NULL);
            /* sum_k a_k (lse - x'_k) = sum_k a_k (log s - d_k) */
            loss = (mode == OK_CE_CLASS ? 0.0 : spread[r] * row.log_s - ad[r]) + ok_ce_z_term(t, rho[r], row.lse);
            if (mode != OK_CE_PROBS)
                loss += DT_NAME(ce_target_term)(t, capped, mode, rho[r], x_y[r], kept_y, m[r], &row, g + y[r]);
        }
        if (t->loss)
            ((real_t *)t->loss)[i0 + r] = (real_t)loss;
        else
            total += loss;
    }
    return total;
}

/* Rows of up to CE_GROUP_BYTES go CE_GROUP at a time. */
OK_INLINE size_t DT_NAME(ce_group)(const ok_rows_task *t) {
    return t->c * sizeof(data_t) <= CE_GROUP_BYTES ? CE_GROUP : 1;
}

OK_INLINE double DT_NAME(ce_rows)(const ok_rows_task *t, const int capped, const int mode, size_t begin, size_t end,
                                  real_t *scratch) {
    const size_t group = DT_NAME(ce_group)(t);
    double sum = 0.0;
    for (size_t i = begin; i < end; i += group)
        sum += DT_NAME(ce_row_group)(t, capped, mode, i, end - i < group ? end - i : group, scratch);
    return sum;
}

/* ------------------------------------------------------------- columns */

/* Samples (n, d0 .. d0 + lanes) of an (N, C, inner) task: the sum of their
 * losses, or each written to t->loss. The lanes of every vector are
 * `lanes` samples; the class axis is walked with stride inner. The vector
 * passes leave the class target's own term out of a_k, as the rows do: a
 * lane cannot match its class index in real_t (a float32 holds integers exactly
 * only up to 2^24), and the target's gradient entry must be finished in
 * double anyway. ce_target_term adds it per lane. */
OK_INLINE double DT_NAME(ce_columns)(const ok_rows_task *t, const int capped, const int mode, size_t n, size_t d0,
                                     size_t lanes) {
    const size_t c = t->c, inner = t->inner, first = n * inner + d0;
    const data_t *x = (const data_t *)t->logits + n * c * inner + d0;
    data_t *g = (data_t *)t->grad + n * c * inner + d0;
    /* pass 2's values: kept in g where it is real_t, else recomputed */
    real_t *kp = OK_DATA_IS_REAL ? (real_t *)g : NULL;
    const data_t *tp = mode == OK_CE_PROBS ? (const data_t *)t->target + n * c * inner + d0 : NULL;
    const data_t *w = (const data_t *)t->weight;
    const real_t cap = (real_t)t->softcap;
    /* Per lane: whether the sample counts, its class target y, row weight
     * rho and x_y (read before pass 2 may overwrite it). */
    real_t live[LANES], x_y[LANES];
    int64_t y[LANES];
    double rho[LANES];
    for (size_t l = 0; l < (size_t)LANES; l++) {
        live[l] = 0, x_y[l] = 0, y[l] = 0, rho[l] = 0.0;
        if (l >= lanes) continue;
        if (mode == OK_CE_PROBS) {
            live[l] = 1, rho[l] = 1.0;
            continue;
        }
        y[l] = ok_target_at(t, first + l);
        if (y[l] == t->ignore_index) continue;
        live[l] = 1;
        rho[l] = w ? (double)ld_data(w + y[l]) : 1.0;
        x_y[l] = ld_data(x + (size_t)y[l] * inner + l);
    }
    /* pass 1 */
    vec_t m = vset1((real_t)-INFINITY), tc;
    for (size_t k = 0; k < c; k++) m = vmaxb(m, vld_data(x + k * inner, lanes));
    m = DT_NAME(ce_cap_max)(m, capped, cap);
    /* pass 2 */
    acc_t s = vacc_zero(), mass = vacc_zero(), ad = vacc_zero();
    for (size_t k = 0; k < c; k++) {
        vec_t d = vsub(DT_NAME(ce_load)(x + k * inner, lanes, capped, cap, &tc), m);
        vec_t e = ce_exp(d);
        s = vacc_add(s, e);
        if (mode != OK_CE_CLASS) {
            vec_t a = DT_NAME(ce_weights)(t, mode, NULL, tp ? tp + k * inner : NULL, lanes);
            if (w) a = vmul(a, vset1(ld_data(w + k)));
            if (mode == OK_CE_PROBS) mass = vacc_add(mass, a);
            ad = vacc_add(ad, vmul(a, d));
        }
        DT_NAME(ce_keep)(kp ? kp + k * inner : NULL, DT_NAME(ce_kept)(capped, e, tc), lanes);
    }
    /* per sample, as ce_row_group; kept_y: what pass 2 kept at the target */
    real_t mv[LANES], alpha[LANES], kept_y[LANES];
    double sv[LANES], massv[LANES], adv[LANES], loss[LANES];
    ok_ce_row row[LANES];
    vstore(mv, m);
    vacc_store(sv, s);
    vacc_store(massv, mass);
    vacc_store(adv, ad);
    for (size_t l = 0; l < (size_t)LANES; l++) {
        alpha[l] = 0, loss[l] = 0.0, kept_y[l] = 0, row[l] = (ok_ce_row){0.0, 0.0, 0.0};
        if (!live[l]) continue;
        double spread = mode == OK_CE_PROBS ? massv[l] : t->eps_over_c * t->weight_sum;
        double own = mode == OK_CE_PROBS ? 0.0 : t->keep * rho[l];
        if (mode != OK_CE_PROBS) {
            const size_t at = (size_t)y[l] * inner + l;
            kept_y[l] = DT_NAME(ce_kept_one)(t, capped, x + at, kp ? kp + at : NULL, mv[l]);
        }
        row[l] = ok_ce_row_stats(t, (double)mv[l], sv[l], spread + own, rho[l]);
        alpha[l] = (real_t)row[l].alpha;
        loss[l] = (mode == OK_CE_CLASS ? 0.0 : spread * row[l].log_s - adv[l]) + ok_ce_z_term(t, rho[l], row[l].lse);
    }
    /* pass 3 */
    const vec_t valpha = vload(alpha);
    const mask_t counts = vgt(vload(live), vzero());
    for (size_t k = 0; k < c; k++) {
        vec_t a = vzero();
        if (mode != OK_CE_CLASS) {
            a = DT_NAME(ce_weights)(t, mode, NULL, tp ? tp + k * inner : NULL, lanes);
            if (w) a = vmul(a, vset1(ld_data(w + k)));
        }
        vec_t kept = DT_NAME(ce_kept_at)(t, capped, x + k * inner, kp ? kp + k * inner : NULL, lanes, m);
        vec_t grad = DT_NAME(ce_grad)(t, capped, mode != OK_CE_CLASS, kept, m, valpha, a);
        vst_data(g + k * inner, vselect(counts, grad, vzero()), lanes);
    }
    double sum = 0.0;
    for (size_t l = 0; l < lanes; l++) {
        if (live[l] && mode != OK_CE_PROBS)
            loss[l] += DT_NAME(ce_target_term)(t, capped, mode, rho[l], x_y[l], kept_y[l], mv[l], &row[l],
                                               g + (size_t)y[l] * inner + l);
        if (t->loss)
            ((real_t *)t->loss)[first + l] = (real_t)loss[l];
        else
            sum += loss[l];
    }
    return sum;
}

/* Samples [begin, end) of an (N, C, inner) task, in runs along inner. */
OK_INLINE double DT_NAME(ce_column_runs)(const ok_rows_task *t, const int capped, const int mode, size_t begin,
                                         size_t end) {
    double sum = 0.0;
    for (size_t p = begin, n, d, lanes; p < end; p += lanes) {
        lanes = DT_NAME(rows_run_at)(t, p, end, &n, &d);
        sum += DT_NAME(ce_columns)(t, capped, mode, n, d, lanes);
    }
    return sum;
}

OK_INLINE double DT_NAME(ce_run)(const ok_rows_task *t, const int capped, const int mode, size_t begin, size_t end,
                                 real_t *scratch) {
    return t->inner == 1 ? DT_NAME(ce_rows)(t, capped, mode, begin, end, scratch)
                         : DT_NAME(ce_column_runs)(t, capped, mode, begin, end);
}

/* ce_run with capped and mode as constants. */
OK_INLINE double DT_NAME(ce_dispatch)(const ok_rows_task *t, const int capped, const int mode, size_t begin, size_t end,
                                      real_t *scratch) {
#define OK_CE_CASE(cap, md) \
    if (capped == cap && mode == md) return DT_NAME(ce_run)(t, cap, md, begin, end, scratch);
    OK_CE_CASE(0, OK_CE_CLASS)
    OK_CE_CASE(0, OK_CE_CLASS_SMOOTH)
    OK_CE_CASE(0, OK_CE_PROBS)
    OK_CE_CASE(1, OK_CE_CLASS)
    OK_CE_CASE(1, OK_CE_CLASS_SMOOTH)
#undef OK_CE_CASE
    return DT_NAME(ce_run)(t, 1, OK_CE_PROBS, begin, end, scratch);
}

/* Samples [begin, end) of a cross-entropy task: their loss sum. Where the
 * gradient is not real_t, rows (of more than one vector) keep pass 2's
 * values in float32 scratch of this block's own, a group of rows' worth;
 * where that allocation fails they are recomputed instead, the same bits. */
OK_BODY double DT_NAME(cross_entropy_block)(const void *task, size_t begin, size_t end) {
    const ok_rows_task k = *(const ok_rows_task *)task, *t = &k; /* a local copy: no reloads */
    const int capped = t->softcap > 0;
    const int mode = t->target_kind == OK_LABELS_PROBS ? OK_CE_PROBS
                     : t->eps_over_c > 0               ? OK_CE_CLASS_SMOOTH
                                                       : OK_CE_CLASS;
    real_t *scratch = NULL;
    if (!OK_DATA_IS_REAL && t->inner == 1 && t->c > (size_t)LANES)
        scratch = (real_t *)malloc(DT_NAME(ce_group)(t) * t->c * sizeof(real_t));
    double sum = DT_NAME(ce_dispatch)(t, capped, mode, begin, end, scratch);
    free(scratch);
    return sum;
}
