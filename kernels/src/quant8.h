/*
 * The format of the 8-bit optimizer states (docs/precision.md#8-bit-states):
 * a state of n elements is n uint8 codes and one float32 scale (absmax) per
 * block of OK_Q8_BLOCK elements. Code c of a block with scale a stands for
 * map[c] * a, map being the signed dynamic map (first states) or the
 * unsigned one (second states) of quant8_maps.h. A block is quantised with
 * a = max |x| over it (NaN if one x is NaN) and each x's code the nearest
 * map entry of x * (1/a) (ties to the lower code; a = 0: x * 0). The format
 * defines that code by a search of the map's thresholds in heap order:
 * k <- 2k + (x >= heap[k]) eight times from k = 1, code k - 256
 * (ok_q8_nearest). The kernels find the same code through a bucket table
 * (ok_q8_code, and target/simd.h's vf32_q8_encode on every target), which
 * testing.c checks against the search over every float32 in [-1, 1].
 */
#ifndef OPTKERN_QUANT8_H
#define OPTKERN_QUANT8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quant8_maps.h"
#include "portable.h"

#define OK_Q8_BLOCK 256

/* The scales of a state of n elements. */
OK_FN size_t ok_q8_blocks(size_t n) { return (n + OK_Q8_BLOCK - 1) / OK_Q8_BLOCK; }

/* The code of x by the format's definition: the heap search above. */
OK_FN uint8_t ok_q8_nearest(const float *heap, float x) {
    unsigned k = 1;
    for (int level = 0; level < 8; level++) k = 2 * k + (x >= heap[k]);
    return (uint8_t)(k - 256);
}

/* A map's bucket table (tools/gen_quant8_maps.py, buckets). x is clamped to
 * [lo, 1] (lo = -1 signed, 0 unsigned; NaN to lo: code 0, as the search
 * gives it); the clamped y's magnitude bits above 2^-23 (none of the map's
 * thresholds is smaller), mag, pick an entry: mag >> shift, plus `half` when
 * y is negative. A bucket holds at most one threshold; its entry is
 * (b << 9) | (c + 1), c its lowest code and b where that threshold lies
 * among the bucket's low bits (read upwards in y: complemented when y is
 * negative), 2^shift when it holds none. */
typedef struct ok_q8_table {
    const uint32_t *entry;
    float lo;
    int shift;
    uint32_t half;
} ok_q8_table;

/* The table of state k of an 8-bit optimizer (0: state1, signed; 1:
 * state2, unsigned). */
OK_INLINE ok_q8_table ok_q8_table_of(int unsigned_map) {
    ok_q8_table t = {ok_q8_signed_buckets, -1.0f, OK_Q8_SIGNED_SHIFT, OK_Q8_SIGNED_HALF};
    ok_q8_table u = {ok_q8_unsigned_buckets, 0.0f, OK_Q8_UNSIGNED_SHIFT, OK_Q8_UNSIGNED_HALF};
    return unsigned_map ? u : t;
}

/* The code of x by the bucket table, one element: ok_q8_nearest's code. */
OK_FN uint8_t ok_q8_code(const ok_q8_table *t, float x) {
    const float clamped = x > t->lo ? x : t->lo, y = clamped < 1.0f ? clamped : 1.0f;
    uint32_t u;
    memcpy(&u, &y, sizeof u);
    const uint32_t neg = 0u - (u >> 31), mask = (1u << t->shift) - 1u;
    const uint32_t mag = ((u & 0x7fffffffu) > OK_Q8_BUCKET_MIN ? u & 0x7fffffffu : OK_Q8_BUCKET_MIN) - OK_Q8_BUCKET_MIN;
    const uint32_t entry = t->entry[(mag >> t->shift) + (neg & t->half)];
    return (uint8_t)((entry & 0x1ffu) - (((mag ^ neg) & mask) < entry >> 9));
}

/* The map and the heap of state k of an 8-bit optimizer. */
OK_INLINE const float *ok_q8_codes(int unsigned_map) { return unsigned_map ? ok_q8_unsigned_codes : ok_q8_signed_codes; }
OK_INLINE const float *ok_q8_heap(int unsigned_map) { return unsigned_map ? ok_q8_unsigned_heap : ok_q8_signed_heap; }

#endif /* OPTKERN_QUANT8_H */
