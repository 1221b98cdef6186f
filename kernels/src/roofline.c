/* The memory roofline entry point; see bench_api.h. */
#include "bench_api.h"

#include "kernel_table.h"

ok_status ok_roofline(size_t elem_size, int n_inplace, int n_writeonly, int n_readonly, size_t count,
                      const size_t *numel, void **const *streams) {
    if (n_inplace < 0 || n_writeonly < 0 || n_readonly < 0) return OK_ERR_INDEX;
    int n = n_inplace + n_writeonly + n_readonly;
    if (n > OK_MT_MAX_STREAMS || (elem_size != 4 && elem_size != 8)) return OK_ERR_UNSUPPORTED;
    if (count == 0) return OK_SUCCESS;
    if (!numel || !streams) return OK_ERR_NULL_POINTER;
    ok_roofline_coeffs c = {n_inplace, n_writeonly, n_readonly};
    ok_mt_task task = {count, numel, NULL, elem_size == 8 ? OK_FLOAT64 : OK_FLOAT32, {0}, &c, sizeof c, NULL};
    for (int s = 0; s < n; s++) {
        if (!streams[s]) return OK_ERR_NULL_POINTER;
        task.stream[s] = streams[s];
    }
    ok_mt_run(&task, ok_active_kernels()->roofline);
    return OK_SUCCESS;
}
