/*
 * The vector math functions of the loss kernels, for tests (not part of the
 * public C API): see vmath.h. y[i] = f(x[i]) with the selected instruction
 * set's implementation, single-threaded.
 */
#ifndef OPTKERN_VMATH_API_H
#define OPTKERN_VMATH_API_H

#include <stddef.h>

#include "optkern/common.h"

enum { OK_VMATH_EXP = 0, OK_VMATH_LOG = 1, OK_VMATH_LOG1P = 2, OK_VMATH_TANH = 3, OK_VMATH_COUNT = 4 };

/* elem_size 4 (float32) or 8 (float64); x and y may be the same array. */
ok_status ok_vmath(int op, size_t elem_size, size_t n, const void *x, void *y);

#endif /* OPTKERN_VMATH_API_H */
