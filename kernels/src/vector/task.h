/*
 * What vector.c (the host side of optkern/vector.h) hands the vector
 * kernels (vector/vector-inl.h): the arrays of one call, a list taken as one
 * vector, and for y <- alpha x + beta y its two scalars and the form of the
 * update chosen from them.
 */
#ifndef OPTKERN_VECTOR_TASK_H
#define OPTKERN_VECTOR_TASK_H

#include <stddef.h>

#include "portable.h"

/* A reduction over the concatenation of x[0 .. count) (and of y, for a dot
 * product): the items of the reduction driver are its elements. */
typedef struct ok_vec_task {
    size_t count;
    const size_t *numel;
    const void *const *x;
    const void *const *y; /* NULL for one-operand reductions */
} ok_vec_task;

/* A walk over the pieces of a block [begin, end) of the concatenation, one
 * piece per (non-empty) tensor it spans:
 *     ok_vec_walk w = ok_vec_start(t, begin, end);
 *     for (size_t i, off, n; (n = ok_vec_next(t, &w, &i, &off));) ...
 * gives each piece's tensor i, its offset off in that tensor and its length n. */
typedef struct ok_vec_walk {
    size_t i, off, left;
} ok_vec_walk;

OK_FN ok_vec_walk ok_vec_start(const ok_vec_task *t, size_t begin, size_t end) {
    ok_vec_walk w = {0, begin, end - begin};
    while (w.i < t->count && w.off >= t->numel[w.i]) w.off -= t->numel[w.i++];
    return w;
}

OK_FN size_t ok_vec_next(const ok_vec_task *t, ok_vec_walk *w, size_t *i, size_t *off) {
    while (w->left) {
        size_t n = t->numel[w->i] - w->off < w->left ? t->numel[w->i] - w->off : w->left;
        *i = w->i++;
        *off = w->off;
        w->off = 0;
        w->left -= n;
        if (n) return n;
    }
    return 0;
}

/* The forms of y <- alpha x + beta y, each with as few roundings as the
 * scalars allow (optkern/vector.h). */
enum {
    OK_AXPBY_SCALE = 0,   /* beta == 0:  y <- alpha x (y not read) */
    OK_AXPBY_AXPY = 1,    /* beta == 1:  y <- fma(alpha, x, y) */
    OK_AXPBY_XPBY = 2,    /* alpha == 1: y <- fma(beta, y, x) */
    OK_AXPBY_GENERAL = 3  /* otherwise:  y <- fma(alpha, x, beta y) */
};

/* The coefficients of an axpby task of the multi-tensor driver (stream 0
 * is y, written; stream 1 is x, read). */
typedef struct ok_axpby_coeffs {
    double alpha, beta;
    int form;
} ok_axpby_coeffs;

#endif /* OPTKERN_VECTOR_TASK_H */
