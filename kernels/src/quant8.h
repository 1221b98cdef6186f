/*
 * The format of the 8-bit optimizer states (docs/precision.md#8-bit-states):
 * a state of n elements is n uint8 codes and one float32 scale (absmax) per
 * block of OK_Q8_BLOCK elements. Code c of a block with scale a stands for
 * map[c] * a, map being the signed dynamic map (first states) or the
 * unsigned one (second states) of quant8_maps.h. A block is quantised with
 * a = max |x| over it (NaN if one x is NaN) and each x's code the nearest
 * map entry of x * (1/a) (ties to the lower code; a = 0: x * 0); the search
 * walks the map's thresholds in heap order: k <- 2k + (x >= heap[k]) eight
 * times from k = 1, code k - 256, which every target does the same way
 * (target/simd.h, vf32_q8_encode).
 */
#ifndef OPTKERN_QUANT8_H
#define OPTKERN_QUANT8_H

#include <stddef.h>
#include <stdint.h>

#include "quant8_maps.h"

#define OK_Q8_BLOCK 256

/* The scales of a state of n elements. */
static inline size_t ok_q8_blocks(size_t n) { return (n + OK_Q8_BLOCK - 1) / OK_Q8_BLOCK; }

/* The code of x: the heap search above, one element. */
static inline uint8_t ok_q8_nearest(const float *heap, float x) {
    unsigned k = 1;
    for (int level = 0; level < 8; level++) k = 2 * k + (x >= heap[k]);
    return (uint8_t)(k - 256);
}

/* The map of state k of an 8-bit optimizer (0: state1, signed; 1: state2,
 * unsigned) and its heap. */
static inline const float *ok_q8_codes(int unsigned_map) { return unsigned_map ? ok_q8_unsigned_codes : ok_q8_signed_codes; }
static inline const float *ok_q8_heap(int unsigned_map) { return unsigned_map ? ok_q8_unsigned_heap : ok_q8_signed_heap; }

#endif /* OPTKERN_QUANT8_H */
