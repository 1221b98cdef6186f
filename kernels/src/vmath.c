/* The vector math test hook; see vmath_api.h. */
#include "vmath_api.h"

#include "kernel_table.h"

ok_status ok_vmath(int op, size_t elem_size, size_t n, const void *x, void *y) {
    if (op < 0 || op >= OK_VMATH_COUNT || (elem_size != 4 && elem_size != 8)) return OK_ERR_UNSUPPORTED;
    if (n == 0) return OK_SUCCESS;
    if (!x || !y) return OK_ERR_NULL_POINTER;
    ok_active_kernels()->vmath[elem_size == 8 ? OK_F64 : OK_F32](op, n, x, y);
    return OK_SUCCESS;
}
