/*
 * LARS, one span of one tensor (a kernel body: included once per variant
 * through optim/optimizers.h, after SGD's). docs/optimizers.md#lars:
 *
 *   g <- -g if maximize
 *   unless excluded:  g <- (g + wd p) r,  r its tensor's trust ratio (the runner's, optim/lars.h)
 *   b <- mu b + (1 - dampening) g  (b starts at 0);  g <- g + mu b if nesterov, else g <- b
 *   p <- p - lr g
 *
 * which is torch's SGD step (optim/sgd-inl.h) of the scaled gradient: its
 * weight decay is LARS's, 0 where the set excludes it.
 */
OK_BODY void DT_NAME(lars_span)(const ok_mt_task *task, size_t i, size_t begin, size_t end) {
    const ok_lars_coeffs *c = (const ok_lars_coeffs *)ok_mt_coeffs(task, i);
    const ok_sgd_coeffs k = c->sgd; /* a local copy: no reloads */
    if (c->adapt)
        DT_NAME(sgd_loop)(task, i, begin, end, &k, 1, vset1((real_t)((const ok_norm_task *)task)->tensors[i].scale));
    else
        DT_NAME(sgd_loop)(task, i, begin, end, &k, 0, vzero());
}
