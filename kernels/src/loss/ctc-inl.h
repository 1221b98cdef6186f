/*
 * ctc_loss with its gradient (a kernel body: target/bodies-inl.h includes
 * it for the float64 variant only, whose vec_t and vmath are double's; the
 * one kernel reads float32 and float64 log-probabilities alike, converting
 * as it loads and stores). The recursion and the gradient are
 * docs/losses.md#ctc_loss:
 *   alpha_t(s) = lp_t(l'_s) + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [skip s] alpha_{t-1}(s-2))
 *   beta_t(s)  = lse over s' in {s, s+1, [skip s+2] s+2} of lp_{t+1}(l'_{s'}) + beta_{t+1}(s')
 *   nll = -lse(alpha_{T-1}(L-1), alpha_{T-1}(L-2))
 *   grad_{t,c} = r (exp(lp_t(c)) - sum_{s: l'_s = c} exp(alpha_t(s) + beta_t(s) + nll))
 * (beta here leaves lp_t out: alpha + beta counts it once).
 *
 * Each sequence is computed wholly by one call, in double, in its own
 * host-allocated scratch (ok_ctc_work): every alpha row, then beta from the
 * last row down with the gradient rows as it goes. The recursion over the
 * 2 S + 1 states is vectorised (each state reads only the previous row);
 * so are the posteriors and the gradient over the C classes. The gathers of
 * lp_t(l'_s) and the posteriors' sums per label are scalar.
 *
 * Rows are padded so that whole vectors never need a tail: alpha rows have
 * two -inf entries before state 0 (alpha(s - 2), alpha(s - 1) of state 0),
 * beta rows keep -inf after state L - 1, and every lane past L computes
 * -inf (its gathered log-probability is -inf).
 *
 * The gradient of a row is read (lp_t) before it is written, and rows
 * t >= the input length are only written (zeros): out = input is safe.
 */
#include <math.h>

/* The element i of the log-probabilities, as double. */
OK_INLINE double ctc_lp(const ok_ctc_task *t, size_t i) {
    return t->f64 ? ((const double *)t->lp)[i] : (double)((const float *)t->lp)[i];
}

/* log(e^x + e^y + e^z) lane by lane: -inf where all three are -inf. With
 * m the largest, the others are min(max(x, y), z) and min(x, y), and the
 * sum is 1 + e^(others - m): two exponentials, not three (the recursion's
 * cost is its exponentials). NaN propagates (vmaxn). */
OK_INLINE vec_t DT_NAME(ctc_lse3)(vec_t x, vec_t y, vec_t z) {
    const vec_t minus_inf = vset1(-INFINITY);
    vec_t high = vmaxn(x, y), low = vselect(vlt(x, y), x, y);
    vec_t m = vmaxn(high, z), mid = vselect(vlt(high, z), high, z);
    const mask_t none = veq(m, minus_inf);
    m = vselect(none, vzero(), m);
    vec_t s = vadd(vadd(vset1(1.0), DT_NAME(vexp_flush)(vsub(mid, m))), DT_NAME(vexp_flush)(vsub(low, m)));
    return vselect(none, minus_inf, vadd(DT_NAME(vlog)(s), m));
}

/* Fill n doubles at p with v. */
OK_INLINE void ctc_fill(double *p, size_t n, double v) {
    for (size_t i = 0; i < n; i++) p[i] = v;
}

/* e[s] = lp_time(l'_s) for the L states (the other entries stay -inf). */
OK_INLINE void ctc_gather(const ok_ctc_task *t, size_t b, const int64_t *labels, size_t length, size_t time,
                          double *e) {
    const size_t at = (time * t->n + b) * t->c;
    const double blank = ctc_lp(t, at + (size_t)t->blank);
    for (size_t k = 0; k < length; k++) {
        e[2 * k] = blank;
        e[2 * k + 1] = ctc_lp(t, at + (size_t)labels[k]);
    }
    e[2 * length] = blank;
}

/* -lse(a, b): the negative log-likelihood from the last row's two final states. */
OK_INLINE double ctc_nll(double a, double b) {
    double m = a > b ? a : b;
    if (m == -INFINITY) m = 0.0;
    return -(log(exp(a - m) + exp(b - m)) + m);
}

/* Gradient row `time` of sequence b: r (exp(lp) - acc) over the c classes,
 * acc zeroed again after; conv: c (rounded up) doubles of scratch. */
OK_INLINE void DT_NAME(ctc_grad_row)(const ok_ctc_task *t, size_t b, size_t time, double r, double *acc,
                                     double *conv) {
    const size_t c = t->c, at = (time * t->n + b) * c;
    const double *x = conv;
    if (t->f64)
        x = (const double *)t->lp + at;
    else
        for (size_t k = 0; k < c; k++) conv[k] = (double)((const float *)t->lp)[at + k];
    double *g = t->f64 ? (double *)t->grad + at : conv;
    for (size_t k = 0; k < c; k += LANES) {
        const size_t lanes = c - k < (size_t)LANES ? c - k : (size_t)LANES;
        vec_t v = vmul(vsub(DT_NAME(vexp)(vld(x + k, lanes)), vload(acc + k)), vset1(r));
        vst(g + k, v, lanes);
        vstore(acc + k, vzero());
    }
    if (!t->f64)
        for (size_t k = 0; k < c; k++) ((float *)t->grad)[at + k] = (float)conv[k];
}

/* Fill gradient row `time` of sequence b with v. */
OK_INLINE void ctc_set_row(const ok_ctc_task *t, size_t b, size_t time, double v) {
    const size_t c = t->c, at = (time * t->n + b) * c;
    for (size_t k = 0; k < c; k++) {
        if (t->f64)
            ((double *)t->grad)[at + k] = v;
        else
            ((float *)t->grad)[at + k] = (float)v;
    }
}

/* Sequence b: its gradient rows written, its loss (after zero_infinity) returned. */
OK_INLINE double DT_NAME(ctc_sequence)(const ok_ctc_task *t, size_t b) {
    const size_t steps = (size_t)t->input_lengths[b], length = (size_t)t->target_lengths[b];
    const size_t states = 2 * length + 1, row = ok_ctc_row(states), crow = (t->c + 7) / 8 * 8;
    const int64_t *labels = t->targets + t->target_at[b];
    double *alpha = t->work + t->work_at[b];
    double *beta = alpha + steps * row, *y = beta + row, *skip = y + row, *e = skip + row, *post = e + row;
    double *acc = post + row, *conv = acc + crow;

    double nll = length ? INFINITY : -0.0; /* no input: the empty alignment, if the target is empty */
    if (steps) {
        ctc_fill(skip, 2 * row, -INFINITY); /* skip and e */
        for (size_t s = 3; s < states; s += 2)
            if (labels[s / 2] != labels[s / 2 - 1]) skip[s] = 0.0;
        ctc_fill(alpha, row, -INFINITY);
        ctc_gather(t, b, labels, length, 0, e);
        alpha[2] = e[0];
        if (states > 1) alpha[3] = e[1];
        for (size_t time = 1; time < steps; time++) {
            const double *prev = alpha + (time - 1) * row;
            double *cur = alpha + time * row;
            ctc_gather(t, b, labels, length, time, e);
            cur[0] = cur[1] = -INFINITY;
            for (size_t s = 0; s < states; s += LANES) {
                vec_t stay = vload(prev + s + 2), step = vload(prev + s + 1);
                vec_t jump = vadd(vload(prev + s), vload(skip + s));
                vstore(cur + s + 2, vadd(DT_NAME(ctc_lse3)(stay, step, jump), vload(e + s)));
            }
        }
        const double *last = alpha + (steps - 1) * row + 2;
        nll = ctc_nll(last[states - 1], states > 1 ? last[states - 2] : -INFINITY);
    }

    const int zeroed = t->zero_infinity && nll == INFINITY;
    const double loss = zeroed ? 0.0 : nll;
    const double per = t->mean ? 1.0 / (double)(length ? length : 1) : 1.0;
    for (size_t time = steps; time < t->t_max; time++) ctc_set_row(t, b, time, 0.0);
    if (zeroed || !isfinite(nll)) {
        /* torch's: zero_infinity zeroes the gradient of an impossible
         * alignment; otherwise its posteriors are NaN (-inf + inf) */
        for (size_t time = 0; time < steps; time++) ctc_set_row(t, b, time, zeroed ? 0.0 : NAN);
    } else if (steps) {
        const double r = t->scale * per;
        const vec_t vnll = vset1(nll);
        ctc_fill(beta, 2 * row, -INFINITY); /* beta and y */
        ctc_fill(acc, 2 * crow, 0.0);       /* acc and conv */
        beta[states - 1] = 0.0;
        if (states > 1) beta[states - 2] = 0.0;
        for (size_t time = steps; time-- > 0;) {
            const double *a = alpha + time * row + 2;
            ctc_gather(t, b, labels, length, time, e);
            for (size_t s = 0; s < states; s += LANES)
                vstore(post + s, DT_NAME(vexp)(vadd(vadd(vload(a + s), vload(beta + s)), vnll)));
            for (size_t k = 0; k < length; k++) {
                acc[t->blank] += post[2 * k];
                acc[labels[k]] += post[2 * k + 1];
            }
            acc[t->blank] += post[2 * length];
            DT_NAME(ctc_grad_row)(t, b, time, r, acc, conv);
            if (time == 0) break;
            for (size_t s = 0; s < states; s += LANES) vstore(y + s, vadd(vload(beta + s), vload(e + s)));
            for (size_t s = 0; s < states; s += LANES) {
                vec_t jump = vadd(vload(y + s + 2), vload(skip + s + 2));
                vstore(beta + s, DT_NAME(ctc_lse3)(vload(y + s), vload(y + s + 1), jump));
            }
        }
    }
    if (t->loss) {
        if (t->f64)
            ((double *)t->loss)[b] = loss;
        else
            ((float *)t->loss)[b] = (float)loss;
    }
    return loss * per;
}

OK_BODY double DT_NAME(ctc_block)(const void *task, size_t begin, size_t end) {
    const ok_ctc_task *t = (const ok_ctc_task *)task;
    double sum = 0.0;
    for (size_t b = begin; b < end; b++) sum += DT_NAME(ctc_sequence)(t, b);
    return sum;
}
